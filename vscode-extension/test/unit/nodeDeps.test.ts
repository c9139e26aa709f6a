// The real file-system and process calls behind discovery, on this machine.
import { strict as assert } from "assert";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { after, describe, it } from "node:test";
import * as os from "os";
import * as path from "path";
import { findServer } from "../../src/discovery";
import { hasTrainlint, isExecutable, nodeDiscoveryDeps, runProcess } from "../../src/nodeDeps";

const posix = process.platform !== "win32";
const tmp = mkdtempSync(path.join(os.tmpdir(), "trainlint-unit-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function script(name: string, body: string, mode = 0o755): string {
    const file = path.join(tmp, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, mode);
    return file;
}

// The repository's virtual environment, where trainlint is installed (out/test -> ../../..).
const repoPython = path.resolve(__dirname, "..", "..", "..", ".venv", "bin", "python");

describe("isExecutable", { skip: !posix }, () => {
    it("is true for an executable file only", async () => {
        assert.equal(await isExecutable(script("exe", "exit 0")), true);
        assert.equal(await isExecutable(script("plain", "exit 0", 0o644)), false);
        mkdirSync(path.join(tmp, "dir"));
        assert.equal(await isExecutable(path.join(tmp, "dir")), false);
        assert.equal(await isExecutable(path.join(tmp, "missing")), false);
    });
});

describe("hasTrainlint", { skip: !posix }, () => {
    it("is false for an interpreter that fails, does not exist or hangs", async () => {
        assert.equal(await hasTrainlint(script("nopython", "exit 1")), false);
        assert.equal(await hasTrainlint(path.join(tmp, "missing-python")), false);
        const started = Date.now();
        assert.equal(await hasTrainlint(script("hanging", "sleep 30"), 500), false);
        assert.ok(Date.now() - started < 20_000);
    });

    it("is true for the repository's .venv, where trainlint is installed", { skip: !existsSync(repoPython) }, async () => {
        assert.equal(await hasTrainlint(repoPython), true);
    });

    it("finds the server through a trainlint.interpreter of the repository's .venv", { skip: !existsSync(repoPython) }, async () => {
        const r = await findServer({ path: [], interpreter: [repoPython], args: [] }, nodeDiscoveryDeps());
        assert.ok(r.found);
        assert.deepEqual([r.server.command, ...r.server.args], [repoPython, "-m", "trainlint", "server"]);
    });
});

describe("nodeDiscoveryDeps.which", { skip: !posix }, () => {
    it("searches the given PATH", async () => {
        const bin = path.join(tmp, "bin");
        mkdirSync(bin);
        writeFileSync(path.join(bin, "trainlint"), "#!/bin/sh\n");
        chmodSync(path.join(bin, "trainlint"), 0o755);
        const deps = nodeDiscoveryDeps({ PATH: `/nonexistent:${bin}` });
        assert.equal(await deps.which("trainlint"), path.join(bin, "trainlint"));
        assert.equal(await nodeDiscoveryDeps({ PATH: "/nonexistent" }).which("trainlint"), undefined);
        const r = await findServer({ path: [], interpreter: [], args: ["--x"] }, deps);
        assert.ok(r.found);
        assert.equal(r.server.source, "PATH");
        assert.deepEqual(r.server.args, ["server", "--x"]);
    });
});

describe("runProcess", { skip: !posix }, () => {
    it("streams stdout and stderr and resolves with the exit code", async () => {
        let text = "";
        const code = await runProcess("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], (t) => (text += t));
        assert.equal(code, 3);
        assert.match(text, /out/);
        assert.match(text, /err/);
    });

    it("rejects when the program does not exist", async () => {
        await assert.rejects(runProcess(path.join(tmp, "no-such-pip"), [], () => undefined));
    });
});
