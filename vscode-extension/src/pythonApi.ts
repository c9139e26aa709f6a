// The interpreter selected in the Python extension (ms-python.python), read through its public API.
// Only the shape of that API is used here, no `vscode` import: unit-tested with a fake API object.

export interface Disposable {
    dispose(): unknown;
}

/** The part of the Python extension's exported API this extension uses. */
export interface PythonExtensionApi {
    environments?: {
        getActiveEnvironmentPath(resource?: unknown): { id?: string; path?: string } | undefined;
        resolveEnvironment(
            environment: unknown,
        ): Promise<{ executable?: { uri?: { fsPath?: string } | undefined } } | undefined> | undefined;
        onDidChangeActiveEnvironmentPath?: (listener: (event: unknown) => unknown) => Disposable;
    };
    /** The older API, still exported. */
    settings?: {
        getExecutionDetails?(resource?: unknown): { execCommand?: string[] | undefined } | undefined;
    };
}

/**
 * The selected interpreter's executable, or undefined when the extension has none selected or its
 * API is not the one expected. Never throws: a broken API must not stop the server from starting.
 */
export async function selectedInterpreter(api: PythonExtensionApi | undefined, resource?: unknown): Promise<string | undefined> {
    if (!api) {
        return undefined;
    }
    try {
        const environments = api.environments;
        if (environments && typeof environments.getActiveEnvironmentPath === "function") {
            const active = environments.getActiveEnvironmentPath(resource);
            if (active) {
                const resolved = await environments.resolveEnvironment(active);
                const fsPath = resolved?.executable?.uri?.fsPath;
                if (fsPath) {
                    return fsPath;
                }
            }
        }
        const details = api.settings?.getExecutionDetails?.(resource);
        // A conda or pipenv command line (several words) is not an interpreter path.
        if (details?.execCommand && details.execCommand.length === 1 && details.execCommand[0]) {
            return details.execCommand[0];
        }
    } catch {
        return undefined;
    }
    return undefined;
}

/** Subscribes to interpreter changes when the API offers it; a no-op otherwise. */
export function onInterpreterChange(api: PythonExtensionApi | undefined, listener: () => void): Disposable | undefined {
    const subscribe = api?.environments?.onDidChangeActiveEnvironmentPath;
    if (typeof subscribe !== "function") {
        return undefined;
    }
    try {
        return subscribe.call(api!.environments, () => listener());
    } catch {
        return undefined;
    }
}
