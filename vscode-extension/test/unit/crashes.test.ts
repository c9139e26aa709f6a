import { strict as assert } from "assert";
import { describe, it } from "node:test";
import { CrashPolicy, Serializer } from "../../src/crashes";

describe("CrashPolicy", () => {
    it("restarts a crashed server at most N times within the window", () => {
        const now = 0;
        const policy = new CrashPolicy(3, 60_000, () => now);
        assert.deepEqual([policy.crashed(), policy.crashed(), policy.crashed(), policy.crashed()], [true, true, true, false]);
    });

    it("forgets crashes older than the window", () => {
        let now = 0;
        const policy = new CrashPolicy(2, 60_000, () => now);
        policy.crashed();
        policy.crashed();
        now = 61_000;
        assert.equal(policy.crashed(), true);
    });

    it("starts afresh after reset (a new server)", () => {
        const policy = new CrashPolicy(1, 60_000, () => 0);
        policy.crashed();
        assert.equal(policy.crashed(), false);
        policy.reset();
        assert.equal(policy.crashed(), true);
    });
});

describe("Serializer", () => {
    it("runs tasks one at a time in order, even when one fails", async () => {
        const serializer = new Serializer();
        const events: string[] = [];
        const task = (name: string, ms: number, fail = false) => () =>
            new Promise<string>((resolve, reject) => {
                events.push(`start ${name}`);
                setTimeout(() => {
                    events.push(`end ${name}`);
                    if (fail) {
                        reject(new Error(name));
                    } else {
                        resolve(name);
                    }
                }, ms);
            });
        const a = serializer.run(task("a", 30));
        const b = serializer.run(task("b", 5, true));
        const c = serializer.run(task("c", 1));
        assert.equal(await a, "a");
        await assert.rejects(b, /b/);
        assert.equal(await c, "c");
        assert.deepEqual(events, ["start a", "end a", "start b", "end b", "start c", "end c"]);
    });
});
