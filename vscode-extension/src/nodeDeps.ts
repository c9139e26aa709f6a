// The real file system and process calls behind discovery (no `vscode` import).
//
// Every Python this extension runs (the probe, the server, pip) runs with its working directory
// in a neutral folder, the extension's own storage. `python -c` and `python -m` put the working
// directory first on sys.path, so a `trainlint/` folder there (say, a source checkout the editor
// was started from) would pass for an installed trainlint, and a `trainlint/`, `pygls/` or
// `json.py` in the workspace would shadow what the server imports. The alternatives lose more:
// `python -I` also drops user site-packages and PYTHONPATH (`pip install --user` would stop
// working), `-P` and PYTHONSAFEPATH need Python 3.11 while trainlint supports 3.10, and popping
// sys.path[0] in a `-c` wrapper makes every command line in the log unreadable. The server takes
// the workspace root from `initialize` instead of its working directory.

import { execFile, spawn } from "child_process";
import { constants, promises as fs } from "fs";
import { DiscoveryDeps, HAS_TRAINLINT_SCRIPT, which } from "./discovery";

export async function isExecutable(file: string): Promise<boolean> {
    try {
        const stat = await fs.stat(file);
        if (!stat.isFile()) {
            return false;
        }
        if (process.platform === "win32") {
            return true;
        }
        await fs.access(file, constants.X_OK);
        return true;
    } catch {
        return false;
    }
}

/**
 * Runs `python -c "find_spec('trainlint')"` in `cwd`, which must be a neutral folder (see above);
 * a missing or hanging interpreter counts as "no".
 */
export function hasTrainlint(python: string, cwd: string, timeoutMs = 30_000): Promise<boolean> {
    return new Promise((resolve) => {
        try {
            execFile(python, ["-c", HAS_TRAINLINT_SCRIPT], { cwd, timeout: timeoutMs, windowsHide: true }, (error) =>
                resolve(error === null),
            );
        } catch {
            resolve(false);
        }
    });
}

/** Discovery on this machine; interpreters are probed in `cwd`, a neutral folder. */
export function nodeDiscoveryDeps(cwd: string, env: NodeJS.ProcessEnv = process.env): DiscoveryDeps {
    return {
        isExecutable,
        hasTrainlint: (python) => hasTrainlint(python, cwd),
        which: (name) => which(name, { PATH: env.PATH ?? env.Path, PATHEXT: env.PATHEXT }, process.platform, isExecutable),
    };
}

/** How the server process is started: in the neutral folder, with unbuffered output for the log. */
export function serverProcessOptions(cwd: string, env: NodeJS.ProcessEnv = process.env): { cwd: string; env: NodeJS.ProcessEnv } {
    return { cwd, env: { ...env, PYTHONUNBUFFERED: "1" } };
}

/** Runs a command, passing each chunk of its output to `onOutput`; resolves with the exit code. */
export function runProcess(
    command: string,
    args: string[],
    onOutput: (text: string) => void,
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, windowsHide: true });
        child.stdout.on("data", (data: Buffer) => onOutput(data.toString()));
        child.stderr.on("data", (data: Buffer) => onOutput(data.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve(code ?? 1));
    });
}
