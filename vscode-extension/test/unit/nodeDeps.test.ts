// The real file-system and process calls behind discovery, on this machine.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { after, describe, it } from "node:test";
import * as os from "os";
import * as path from "path";
import { DiscoveryInput, findServer } from "../../src/discovery";
import { hasTrainlint, isExecutable, nodeDiscoveryDeps, runProcess, serverProcessOptions } from "../../src/nodeDeps";

const posix = process.platform !== "win32";
const tmp = mkdtempSync(path.join(os.tmpdir(), "trainlint-unit-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
// The extension's storage folder: where every Python it runs is started.
const neutral = path.join(tmp, "storage");
mkdirSync(neutral);

const input = (over: Partial<DiscoveryInput> = {}): DiscoveryInput => ({
    path: [],
    interpreter: [],
    workspaceFolders: [],
    platform: process.platform,
    args: [],
    ...over,
});

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
        assert.equal(await hasTrainlint(script("nopython", "exit 1"), neutral), false);
        assert.equal(await hasTrainlint(path.join(tmp, "missing-python"), neutral), false);
        const started = Date.now();
        assert.equal(await hasTrainlint(script("hanging", "sleep 30"), neutral, 500), false);
        assert.ok(Date.now() - started < 20_000);
    });

    it("is true for the repository's .venv, where trainlint is installed", { skip: !existsSync(repoPython) }, async () => {
        assert.equal(await hasTrainlint(repoPython, neutral), true);
    });

    it("finds the server through a trainlint.interpreter of the repository's .venv", { skip: !existsSync(repoPython) }, async () => {
        const r = await findServer(input({ interpreter: [repoPython] }), nodeDiscoveryDeps(neutral));
        assert.ok(r.found);
        assert.deepEqual([r.server.command, ...r.server.args], [repoPython, "-m", "trainlint", "server"]);
    });
});

describe("the editor started from a folder that holds a trainlint/ source checkout", { skip: !posix }, () => {
    // The extension host's working directory is where the editor (code-server, `code .`) was started.
    const startedHere = path.join(tmp, "checkout");
    mkdirSync(path.join(startedHere, "trainlint"), { recursive: true });
    writeFileSync(path.join(startedHere, "trainlint", "__init__.py"), "");
    writeFileSync(path.join(startedHere, "trainlint", "__main__.py"), "print('the trainlint/ folder of the working directory')\n");
    // A Python without trainlint: a fresh virtualenv (no pip, so it takes a moment).
    const bare = path.join(tmp, "bare");
    execFileSync("python3", ["-m", "venv", "--without-pip", bare]);
    const barePython = path.join(bare, "bin", "python");

    function fromThere<T>(run: () => Promise<T>): Promise<T> {
        const before = process.cwd();
        process.chdir(startedHere);
        return run().finally(() => process.chdir(before));
    }

    it("the folder would fool a probe run in the working directory (the trap is real)", async () => {
        assert.equal(await hasTrainlint(barePython, startedHere), true);
    });

    it("does not count as an installed trainlint", () =>
        fromThere(async () => {
            assert.equal(await hasTrainlint(barePython, neutral), false);
            const r = await findServer(input({ interpreter: [barePython] }), nodeDiscoveryDeps(neutral));
            assert.ok(!r.found);
            assert.equal(r.notFound.installTarget, barePython);
            assert.ok(r.notFound.tried.includes(`trainlint.interpreter: trainlint is not installed in ${barePython}`));
        }));

    it("does not shadow the installed trainlint the server runs", { skip: !existsSync(repoPython) }, () =>
        fromThere(async () => {
            const { cwd, env } = serverProcessOptions(neutral);
            assert.equal(cwd, neutral);
            const version = execFileSync(repoPython, ["-m", "trainlint", "--version"], { cwd, env }).toString();
            assert.match(version, /^trainlint \d/);
            const shadowed = execFileSync(repoPython, ["-m", "trainlint", "--version"], { cwd: startedHere }).toString();
            assert.match(shadowed, /the trainlint\/ folder of the working directory/, "the trap, again, for the server");
        }));
});

describe("the workspace's own virtualenv, with an empty PATH", { skip: !posix || !existsSync(repoPython) }, () => {
    it("is found (a .venv linked to the repository's, where trainlint is installed)", async () => {
        const workspace = path.join(tmp, "workspace");
        mkdirSync(workspace);
        symlinkSync(path.dirname(path.dirname(repoPython)), path.join(workspace, ".venv"));
        const r = await findServer(input({ workspaceFolders: [workspace] }), nodeDiscoveryDeps(neutral, { PATH: "" }));
        assert.ok(r.found);
        assert.equal(r.server.source, "workspace virtualenv");
        assert.equal(r.server.command, path.join(workspace, ".venv", "bin", "python"));
    });
});

describe("nodeDiscoveryDeps.which", { skip: !posix }, () => {
    it("searches the given PATH", async () => {
        const bin = path.join(tmp, "bin");
        mkdirSync(bin);
        writeFileSync(path.join(bin, "trainlint"), "#!/bin/sh\n");
        chmodSync(path.join(bin, "trainlint"), 0o755);
        const deps = nodeDiscoveryDeps(neutral, { PATH: `/nonexistent:${bin}` });
        assert.equal(await deps.which("trainlint"), path.join(bin, "trainlint"));
        assert.equal(await nodeDiscoveryDeps(neutral, { PATH: "/nonexistent" }).which("trainlint"), undefined);
        const r = await findServer(input({ args: ["--x"] }), deps);
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
