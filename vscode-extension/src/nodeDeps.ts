// The real file system and process calls behind discovery (no `vscode` import).

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

/** Runs `python -c "find_spec('trainlint')"`; a missing or hanging interpreter counts as "no". */
export function hasTrainlint(python: string, timeoutMs = 30_000): Promise<boolean> {
    return new Promise((resolve) => {
        try {
            execFile(python, ["-c", HAS_TRAINLINT_SCRIPT], { timeout: timeoutMs, windowsHide: true }, (error) =>
                resolve(error === null),
            );
        } catch {
            resolve(false);
        }
    });
}

export function nodeDiscoveryDeps(env: NodeJS.ProcessEnv = process.env): DiscoveryDeps {
    return {
        isExecutable,
        hasTrainlint: (python) => hasTrainlint(python),
        which: (name) => which(name, { PATH: env.PATH ?? env.Path, PATHEXT: env.PATHEXT }, process.platform, isExecutable),
    };
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
