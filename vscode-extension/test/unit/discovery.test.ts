import { strict as assert } from "assert";
import { describe, it } from "node:test";
import {
    DiscoveryDeps,
    DiscoveryInput,
    findServer,
    installCommand,
    pickBundledWheel,
    pickInstallTarget,
    which,
    workspaceVirtualenvs,
} from "../../src/discovery";

/** A fake machine: executables that exist, interpreters that have trainlint, and PATH. */
function fakeMachine(opts: { executables?: string[]; withTrainlint?: string[]; path?: string[] }) {
    const executables = new Set(opts.executables ?? []);
    const withTrainlint = new Set(opts.withTrainlint ?? []);
    const probed: string[] = [];
    const deps: DiscoveryDeps = {
        isExecutable: async (file) => executables.has(file),
        hasTrainlint: async (python) => {
            probed.push(python);
            return withTrainlint.has(python);
        },
        which: (name) => which(name, { PATH: (opts.path ?? []).join(":") }, "linux", async (f) => executables.has(f)),
    };
    return { deps, probed };
}

const input = (over: Partial<DiscoveryInput> = {}): DiscoveryInput => ({
    path: [],
    interpreter: [],
    workspaceFolders: [],
    platform: "linux",
    args: [],
    ...over,
});

describe("findServer: the search order", () => {
    const everything = fakeMachine({
        executables: ["/set/trainlint", "/venv/bin/python", "/ext/python", "/usr/bin/trainlint", "/usr/bin/python3"],
        withTrainlint: ["/venv/bin/python", "/ext/python", "/usr/bin/python3"],
        path: ["/usr/bin"],
    });

    it("1. trainlint.path wins over everything", async () => {
        const r = await findServer(
            input({ path: ["/set/trainlint"], interpreter: ["/venv/bin/python"], pythonExtension: "/ext/python", args: ["--x"] }),
            everything.deps,
        );
        assert.ok(r.found);
        assert.equal(r.server.source, "trainlint.path");
        assert.equal(r.server.command, "/set/trainlint");
        assert.deepEqual(r.server.args, ["server", "--x"]);
    });

    it("1. the first trainlint.path entry that exists is used, and the log says why", async () => {
        const r = await findServer(input({ path: ["/missing/trainlint", "/set/trainlint"] }), everything.deps);
        assert.ok(r.found);
        assert.equal(r.server.command, "/set/trainlint");
        assert.equal(r.server.reason, "the first executable in trainlint.path that exists");
        assert.deepEqual(r.server.skipped, ["trainlint.path: /missing/trainlint is not an executable file"]);
    });

    it("2. trainlint.interpreter runs python -m trainlint server", async () => {
        const r = await findServer(
            input({ path: ["/missing"], interpreter: ["/venv/bin/python"], pythonExtension: "/ext/python", args: ["-v"] }),
            everything.deps,
        );
        assert.ok(r.found);
        assert.equal(r.server.source, "trainlint.interpreter");
        assert.equal(r.server.command, "/venv/bin/python");
        assert.deepEqual(r.server.args, ["-m", "trainlint", "server", "-v"]);
    });

    it("2. a bare interpreter name is looked up on PATH", async () => {
        const r = await findServer(input({ interpreter: ["python3"] }), everything.deps);
        assert.ok(r.found);
        assert.equal(r.server.source, "trainlint.interpreter");
        assert.equal(r.server.command, "/usr/bin/python3");
    });

    it("3. the Python extension's interpreter comes after the settings", async () => {
        const r = await findServer(input({ pythonExtension: "/ext/python" }), everything.deps);
        assert.ok(r.found);
        assert.equal(r.server.source, "Python extension");
        assert.deepEqual([r.server.command, ...r.server.args], ["/ext/python", "-m", "trainlint", "server"]);
    });

    it("3. an interpreter setting without trainlint falls through to the Python extension", async () => {
        const m = fakeMachine({
            executables: ["/bare/python", "/ext/python"],
            withTrainlint: ["/ext/python"],
        });
        const r = await findServer(input({ interpreter: ["/bare/python"], pythonExtension: "/ext/python" }), m.deps);
        assert.ok(r.found);
        assert.equal(r.server.source, "Python extension");
        assert.deepEqual(m.probed, ["/bare/python", "/ext/python"]);
    });

    it("4. the workspace's own .venv is found without PATH and without the Python extension", async () => {
        const m = fakeMachine({
            executables: ["/proj/.venv/bin/python", "/usr/bin/trainlint", "/usr/bin/python3"],
            withTrainlint: ["/proj/.venv/bin/python", "/usr/bin/python3"],
            path: [], // code-server rebuilds PATH from the login shell: the venv is not on it
        });
        const r = await findServer(input({ workspaceFolders: ["/proj"] }), m.deps);
        assert.ok(r.found);
        assert.equal(r.server.source, "workspace virtualenv");
        assert.deepEqual([r.server.command, ...r.server.args], ["/proj/.venv/bin/python", "-m", "trainlint", "server"]);
        assert.equal(r.server.reason, "the workspace's own virtualenv has trainlint installed");
        assert.deepEqual(r.server.skipped, ["Python extension: not installed, or no interpreter selected"]);
    });

    it("4. the workspace venv comes after the Python extension's interpreter and before PATH", async () => {
        const m = fakeMachine({
            executables: ["/ext/python", "/proj/venv/bin/python", "/usr/bin/trainlint"],
            withTrainlint: ["/proj/venv/bin/python"],
            path: ["/usr/bin"],
        });
        const r = await findServer(input({ pythonExtension: "/ext/python", workspaceFolders: ["/proj"] }), m.deps);
        assert.ok(r.found);
        assert.equal(r.server.command, "/proj/venv/bin/python");
        assert.deepEqual(r.server.skipped, ["Python extension: trainlint is not installed in the selected interpreter /ext/python"]);
        const withExtension = fakeMachine({
            executables: ["/ext/python", "/proj/.venv/bin/python"],
            withTrainlint: ["/ext/python", "/proj/.venv/bin/python"],
        });
        const chosen = await findServer(input({ pythonExtension: "/ext/python", workspaceFolders: ["/proj"] }), withExtension.deps);
        assert.ok(chosen.found);
        assert.equal(chosen.server.source, "Python extension");
    });

    it("4. .venv before venv, folder by folder; a venv without trainlint is where to install", async () => {
        const m = fakeMachine({ executables: ["/a/venv/bin/python", "/b/.venv/bin/python"], withTrainlint: ["/b/.venv/bin/python"] });
        const r = await findServer(input({ workspaceFolders: ["/a", "/b"] }), m.deps);
        assert.ok(r.found);
        assert.equal(r.server.command, "/b/.venv/bin/python");
        assert.deepEqual(m.probed, ["/a/venv/bin/python", "/b/.venv/bin/python"]);

        const bare = fakeMachine({ executables: ["/a/.venv/bin/python", "/usr/bin/python3"], path: ["/usr/bin"] });
        const none = await findServer(input({ workspaceFolders: ["/a"] }), bare.deps);
        assert.ok(!none.found);
        assert.equal(none.notFound.installTarget, "/a/.venv/bin/python");
        assert.ok(none.notFound.tried.includes("workspace virtualenv: trainlint is not installed in /a/.venv/bin/python"));
        assert.equal(await pickInstallTarget(input({ workspaceFolders: ["/a"] }), bare.deps), "/a/.venv/bin/python");
    });

    it("4. a virtualenv keeps its interpreter in Scripts\\python.exe on Windows", () => {
        assert.deepEqual(workspaceVirtualenvs(["C:\\proj"], "win32"), ["C:\\proj\\.venv\\Scripts\\python.exe", "C:\\proj\\venv\\Scripts\\python.exe"]);
        assert.deepEqual(workspaceVirtualenvs(["/p", "/q"], "darwin"), ["/p/.venv/bin/python", "/p/venv/bin/python", "/q/.venv/bin/python", "/q/venv/bin/python"]);
    });

    it("5. trainlint on PATH comes after the Python extension", async () => {
        const m = fakeMachine({
            executables: ["/ext/python", "/home/u/.local/bin/trainlint"],
            path: ["/nothing", "/home/u/.local/bin"],
        });
        const r = await findServer(input({ pythonExtension: "/ext/python" }), m.deps);
        assert.ok(r.found);
        assert.equal(r.server.source, "PATH");
        assert.equal(r.server.command, "/home/u/.local/bin/trainlint");
        assert.deepEqual(r.server.args, ["server"]);
    });

    it("6. python3 from PATH with trainlint installed is the last resort", async () => {
        const m = fakeMachine({ executables: ["/usr/bin/python3"], withTrainlint: ["/usr/bin/python3"], path: ["/usr/bin"] });
        const r = await findServer(input(), m.deps);
        assert.ok(r.found);
        assert.equal(r.server.source, "python on PATH");
        assert.deepEqual([r.server.command, ...r.server.args], ["/usr/bin/python3", "-m", "trainlint", "server"]);
    });

    it("never probes further once found", async () => {
        const m = fakeMachine({
            executables: ["/venv/bin/python", "/usr/bin/trainlint"],
            withTrainlint: ["/venv/bin/python"],
            path: ["/usr/bin"],
        });
        await findServer(input({ interpreter: ["/venv/bin/python"], pythonExtension: "/ext/python" }), m.deps);
        assert.deepEqual(m.probed, ["/venv/bin/python"]);
    });
});

describe("findServer: nothing found", () => {
    it("names every place it looked and installs into the interpreter setting first", async () => {
        const m = fakeMachine({ executables: ["/venv/bin/python", "/ext/python", "/usr/bin/python3"], path: ["/usr/bin"] });
        const r = await findServer(
            input({ path: ["/gone/trainlint"], interpreter: ["/venv/bin/python", "/nope/python"], pythonExtension: "/ext/python" }),
            m.deps,
        );
        assert.equal(r.found, false);
        assert.ok(!r.found);
        assert.equal(r.notFound.installTarget, "/venv/bin/python");
        assert.deepEqual(r.notFound.tried, [
            "trainlint.path: /gone/trainlint is not an executable file",
            "trainlint.interpreter: trainlint is not installed in /venv/bin/python",
            "trainlint.interpreter: /nope/python was not found",
            "Python extension: trainlint is not installed in the selected interpreter /ext/python",
            "PATH: no trainlint executable",
            "PATH: trainlint is not installed in /usr/bin/python3",
        ]);
    });

    it("installs into the Python extension's interpreter when no interpreter setting exists", async () => {
        const m = fakeMachine({ executables: ["/ext/python", "/usr/bin/python3"], path: ["/usr/bin"] });
        const r = await findServer(input({ interpreter: ["/nope/python"], pythonExtension: "/ext/python" }), m.deps);
        assert.ok(!r.found);
        assert.equal(r.notFound.installTarget, "/ext/python");
    });

    it("falls back to python3, then python, from PATH as the install target", async () => {
        const m1 = fakeMachine({ executables: ["/usr/bin/python3", "/usr/bin/python"], path: ["/usr/bin"] });
        const r1 = await findServer(input(), m1.deps);
        assert.ok(!r1.found);
        assert.equal(r1.notFound.installTarget, "/usr/bin/python3");

        const m2 = fakeMachine({ executables: ["/opt/py/python"], path: ["/usr/bin", "/opt/py"] });
        const r2 = await findServer(input(), m2.deps);
        assert.ok(!r2.found);
        assert.equal(r2.notFound.installTarget, "/opt/py/python");
    });

    it("has no install target on a machine without Python", async () => {
        const r = await findServer(input(), fakeMachine({ path: ["/usr/bin"] }).deps);
        assert.ok(!r.found);
        assert.equal(r.notFound.installTarget, undefined);
        assert.deepEqual(r.notFound.tried, ["Python extension: not installed, or no interpreter selected", "PATH: no trainlint executable"]);
    });
});

describe("which", () => {
    it("takes the first PATH entry that has the executable", async () => {
        const exes = new Set(["/b/tool", "/c/tool"]);
        assert.equal(await which("tool", { PATH: "/a:/b:/c" }, "linux", async (f) => exes.has(f)), "/b/tool");
        assert.equal(await which("other", { PATH: "/a:/b:/c" }, "linux", async (f) => exes.has(f)), undefined);
        assert.equal(await which("tool", {}, "linux", async () => true), undefined);
    });

    it("tries PATHEXT's extensions on Windows", async () => {
        const exes = new Set(["C:\\Py\\Scripts\\trainlint.exe"]);
        const found = await which(
            "trainlint",
            { PATH: "C:\\Windows;C:\\Py\\Scripts", PATHEXT: ".COM;.EXE" },
            "win32",
            async (f) => exes.has(f),
        );
        assert.equal(found, "C:\\Py\\Scripts\\trainlint.exe");
    });
});

describe("the bundled wheel", () => {
    it("is the newest trainlint wheel in bundled/", () => {
        assert.equal(
            pickBundledWheel([
                "README",
                "trainlint-0.1.0-py3-none-any.whl",
                "trainlint-0.10.0-py3-none-any.whl",
                "trainlint-0.9.2-py3-none-any.whl",
                "other-9.0-py3-none-any.whl",
            ]),
            "trainlint-0.10.0-py3-none-any.whl",
        );
        assert.equal(pickBundledWheel(["notes.txt"]), undefined);
        assert.equal(pickBundledWheel([]), undefined);
    });

    it("is installed with the interpreter's pip, dependencies from the user's index", () => {
        assert.deepEqual(installCommand("/venv/bin/python", "/ext/bundled/trainlint-0.1.0-py3-none-any.whl"), {
            command: "/venv/bin/python",
            args: [
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--upgrade",
                "/ext/bundled/trainlint-0.1.0-py3-none-any.whl",
            ],
        });
    });
});

describe("pickInstallTarget (the command 'Install Bundled trainlint')", () => {
    it("prefers an existing trainlint.interpreter, then the Python extension, then python3 on PATH", async () => {
        const m = fakeMachine({ executables: ["/venv/bin/python", "/usr/bin/python3"], withTrainlint: ["/venv/bin/python"], path: ["/usr/bin"] });
        assert.equal(await pickInstallTarget(input({ interpreter: ["/gone/python", "/venv/bin/python"], pythonExtension: "/ext/python" }), m.deps), "/venv/bin/python");
        assert.equal(await pickInstallTarget(input({ interpreter: ["/gone/python"], pythonExtension: "/ext/python" }), m.deps), "/ext/python");
        assert.equal(await pickInstallTarget(input(), m.deps), "/usr/bin/python3");
        assert.equal(await pickInstallTarget(input(), fakeMachine({}).deps), undefined);
    });
});
