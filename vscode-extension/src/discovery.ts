// Finding the trainlint language server, and the bundled wheel that installs it.
// No `vscode` import: the order of the search is unit-tested in plain Node with fake file systems.

import * as path from "path";

export type Source =
    | "trainlint.path"
    | "trainlint.interpreter"
    | "Python extension"
    | "workspace virtualenv"
    | "PATH"
    | "python on PATH";

export interface ServerCommand {
    command: string;
    args: string[];
    source: Source;
    /** For the log: "trainlint.path: /x/bin/trainlint". */
    description: string;
    /** For the log: why this one, e.g. "the workspace's .venv has trainlint installed". */
    reason: string;
    /** The places looked at before, and why each was passed over. */
    skipped: string[];
}

export interface NotFound {
    /** One line per place looked at, for the log and the notification. */
    tried: string[];
    /** The interpreter that "Install trainlint" would install into, if there is one. */
    installTarget?: string;
}

export type DiscoveryResult = { found: true; server: ServerCommand } | { found: false; notFound: NotFound };

export interface DiscoveryInput {
    /** `trainlint.path`, variables already resolved: executables, the first that exists wins. */
    path: string[];
    /** `trainlint.interpreter`, variables already resolved: Python interpreters, paths or names on PATH. */
    interpreter: string[];
    /** The interpreter selected in the Python extension, when it is installed and has one. */
    pythonExtension?: string;
    /** The workspace folders, whose own `.venv` or `venv` is looked in. */
    workspaceFolders: string[];
    /** `process.platform`: where a virtualenv keeps its interpreter. */
    platform: string;
    /** `trainlint.args`: extra arguments after `server`. */
    args: string[];
}

export interface DiscoveryDeps {
    /** A file that exists and may be executed. */
    isExecutable(file: string): Promise<boolean>;
    /** Whether `python` can import trainlint. */
    hasTrainlint(python: string): Promise<boolean>;
    /** An executable's full path from PATH, as a shell would find it. */
    which(name: string): Promise<string | undefined>;
}

function looksLikePath(value: string): boolean {
    return value.includes("/") || value.includes("\\");
}

/** An interpreter setting may be a path or a bare name such as "python3". */
async function locateInterpreter(value: string, deps: DiscoveryDeps): Promise<string | undefined> {
    if (looksLikePath(value)) {
        return (await deps.isExecutable(value)) ? value : undefined;
    }
    return deps.which(value);
}

function moduleCommand(python: string, args: string[], source: Source, reason: string, skipped: string[]): ServerCommand {
    return {
        command: python,
        args: ["-m", "trainlint", "server", ...args],
        source,
        description: `${source}: ${python} -m trainlint server`,
        reason,
        skipped,
    };
}

/** The interpreters of the workspace folders' own virtualenvs (`.venv`, then `venv`), as the Python extension finds them. */
export function workspaceVirtualenvs(folders: string[], platform: string): string[] {
    const windows = platform === "win32";
    const p = windows ? path.win32 : path.posix;
    const python = windows ? ["Scripts", "python.exe"] : ["bin", "python"];
    return folders.flatMap((folder) => [".venv", "venv"].map((name) => p.join(folder, name, ...python)));
}

/**
 * The search order:
 *  1. `trainlint.path`: the first entry that is an executable file;
 *  2. `python -m trainlint` with each `trainlint.interpreter` that has trainlint installed;
 *  3. the interpreter selected in the Python extension, if it has trainlint installed;
 *  4. the workspace's own virtualenv (`.venv` or `venv` in a workspace folder), if it has trainlint
 *     installed: found without the Python extension, and whatever PATH the editor was started with;
 *  5. `trainlint` on PATH;
 *  6. `python3 -m trainlint` (or `python`) from PATH, if that interpreter has trainlint installed.
 * When nothing is found, the install target is the first interpreter that exists from 2, 3, 4 or 6.
 */
export async function findServer(input: DiscoveryInput, deps: DiscoveryDeps): Promise<DiscoveryResult> {
    const tried: string[] = [];
    let installTarget: string | undefined;

    for (const entry of input.path) {
        if (await deps.isExecutable(entry)) {
            return {
                found: true,
                server: {
                    command: entry,
                    args: ["server", ...input.args],
                    source: "trainlint.path",
                    description: `trainlint.path: ${entry} server`,
                    reason: "the first executable in trainlint.path that exists",
                    skipped: tried,
                },
            };
        }
        tried.push(`trainlint.path: ${entry} is not an executable file`);
    }

    for (const entry of input.interpreter) {
        const python = await locateInterpreter(entry, deps);
        if (python === undefined) {
            tried.push(`trainlint.interpreter: ${entry} was not found`);
            continue;
        }
        if (await deps.hasTrainlint(python)) {
            const reason = "the first interpreter in trainlint.interpreter that has trainlint installed";
            return { found: true, server: moduleCommand(python, input.args, "trainlint.interpreter", reason, tried) };
        }
        tried.push(`trainlint.interpreter: trainlint is not installed in ${python}`);
        installTarget ??= python;
    }

    if (input.pythonExtension) {
        const python = input.pythonExtension;
        if (await deps.hasTrainlint(python)) {
            const reason = "the interpreter selected in the Python extension has trainlint installed";
            return { found: true, server: moduleCommand(python, input.args, "Python extension", reason, tried) };
        }
        tried.push(`Python extension: trainlint is not installed in the selected interpreter ${python}`);
        installTarget ??= python;
    } else {
        tried.push("Python extension: not installed, or no interpreter selected");
    }

    for (const python of workspaceVirtualenvs(input.workspaceFolders, input.platform)) {
        if (!(await deps.isExecutable(python))) {
            continue;
        }
        if (await deps.hasTrainlint(python)) {
            const reason = "the workspace's own virtualenv has trainlint installed";
            return { found: true, server: moduleCommand(python, input.args, "workspace virtualenv", reason, tried) };
        }
        tried.push(`workspace virtualenv: trainlint is not installed in ${python}`);
        installTarget ??= python;
    }

    const onPath = await deps.which("trainlint");
    if (onPath !== undefined) {
        return {
            found: true,
            server: {
                command: onPath,
                args: ["server", ...input.args],
                source: "PATH",
                description: `PATH: ${onPath} server`,
                reason: "the trainlint executable on PATH",
                skipped: tried,
            },
        };
    }
    tried.push("PATH: no trainlint executable");

    for (const name of ["python3", "python"]) {
        const python = await deps.which(name);
        if (python === undefined) {
            continue;
        }
        if (await deps.hasTrainlint(python)) {
            const reason = `${name} on PATH has trainlint installed`;
            return { found: true, server: moduleCommand(python, input.args, "python on PATH", reason, tried) };
        }
        tried.push(`PATH: trainlint is not installed in ${python}`);
        installTarget ??= python;
        break;
    }

    return { found: false, notFound: { tried, installTarget } };
}

/**
 * Where "Install trainlint" installs: the first `trainlint.interpreter` that exists, else the
 * Python extension's interpreter, else the workspace's virtualenv, else python3 (or python) from PATH.
 */
export async function pickInstallTarget(input: DiscoveryInput, deps: DiscoveryDeps): Promise<string | undefined> {
    for (const entry of input.interpreter) {
        const python = await locateInterpreter(entry, deps);
        if (python !== undefined) {
            return python;
        }
    }
    if (input.pythonExtension) {
        return input.pythonExtension;
    }
    for (const python of workspaceVirtualenvs(input.workspaceFolders, input.platform)) {
        if (await deps.isExecutable(python)) {
            return python;
        }
    }
    for (const name of ["python3", "python"]) {
        const python = await deps.which(name);
        if (python !== undefined) {
            return python;
        }
    }
    return undefined;
}

export interface WhichEnv {
    PATH?: string;
    PATHEXT?: string;
}

/** `which`: the first PATH entry holding an executable `name` (with PATHEXT's extensions on Windows). */
export async function which(
    name: string,
    env: WhichEnv,
    platform: string,
    isExecutable: (file: string) => Promise<boolean>,
): Promise<string | undefined> {
    const windows = platform === "win32";
    const p = windows ? path.win32 : path.posix;
    const dirs = (env.PATH ?? "").split(windows ? ";" : ":").filter((d) => d !== "");
    const extensions = windows
        ? ["", ...(env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter((e) => e !== "")]
        : [""];
    for (const dir of dirs) {
        for (const ext of extensions) {
            const candidate = p.join(dir, name + ext.toLowerCase());
            if (await isExecutable(candidate)) {
                return candidate;
            }
        }
    }
    return undefined;
}

/** Wheel file names look like `trainlint-0.1.0-py3-none-any.whl`. */
const WHEEL = /^trainlint-(\d+(?:\.\d+)*)[^-]*-.*\.whl$/;

function compareVersions(a: string, b: string): number {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) {
            return d;
        }
    }
    return 0;
}

/** The newest trainlint wheel among the file names of the extension's `bundled/` folder. */
export function pickBundledWheel(fileNames: string[]): string | undefined {
    const wheels = fileNames
        .map((name) => ({ name, match: WHEEL.exec(name) }))
        .filter((w): w is { name: string; match: RegExpExecArray } => w.match !== null);
    wheels.sort((a, b) => compareVersions(a.match[1], b.match[1]));
    return wheels.length ? wheels[wheels.length - 1].name : undefined;
}

/** `python -m pip install <wheel>`: trainlint from the wheel, its dependencies from the user's index. */
export function installCommand(python: string, wheel: string): { command: string; args: string[] } {
    return {
        command: python,
        args: ["-m", "pip", "install", "--disable-pip-version-check", "--upgrade", wheel],
    };
}

/**
 * The Python that `hasTrainlint` runs: looks trainlint up without importing it. `python -c` puts
 * the working directory first on sys.path, so it must run in a neutral folder (see nodeDeps.ts).
 */
export const HAS_TRAINLINT_SCRIPT =
    "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('trainlint') else 1)";
