import { strict as assert } from "assert";
import { describe, it } from "node:test";
import { PythonExtensionApi, onInterpreterChange, selectedInterpreter } from "../../src/pythonApi";

function environmentsApi(executable: string | undefined, seen: unknown[] = []): PythonExtensionApi {
    return {
        environments: {
            getActiveEnvironmentPath: (resource) => {
                seen.push(resource);
                return { id: "venv", path: "/proj/.venv" };
            },
            resolveEnvironment: async (env) => {
                assert.deepEqual(env, { id: "venv", path: "/proj/.venv" });
                return executable === undefined ? undefined : { executable: { uri: { fsPath: executable } } };
            },
        },
    };
}

describe("selectedInterpreter (the Python extension's public API)", () => {
    it("resolves the active environment of the resource to its executable", async () => {
        const seen: unknown[] = [];
        assert.equal(await selectedInterpreter(environmentsApi("/proj/.venv/bin/python", seen), "folder-uri"), "/proj/.venv/bin/python");
        assert.deepEqual(seen, ["folder-uri"]);
    });

    it("falls back to the older settings.getExecutionDetails API", async () => {
        const api: PythonExtensionApi = {
            ...environmentsApi(undefined),
            settings: { getExecutionDetails: () => ({ execCommand: ["/usr/bin/python3.11"] }) },
        };
        assert.equal(await selectedInterpreter(api), "/usr/bin/python3.11");
    });

    it("does not take a multi-word command line (conda run ...) for an interpreter", async () => {
        const api: PythonExtensionApi = { settings: { getExecutionDetails: () => ({ execCommand: ["conda", "run", "-n", "x", "python"] }) } };
        assert.equal(await selectedInterpreter(api), undefined);
    });

    it("is undefined without the extension, with an unexpected API, or when the API throws", async () => {
        assert.equal(await selectedInterpreter(undefined), undefined);
        assert.equal(await selectedInterpreter({}), undefined);
        const throwing: PythonExtensionApi = {
            environments: {
                getActiveEnvironmentPath: () => {
                    throw new Error("not ready");
                },
                resolveEnvironment: async () => undefined,
            },
        };
        assert.equal(await selectedInterpreter(throwing), undefined);
        const rejecting: PythonExtensionApi = {
            environments: {
                getActiveEnvironmentPath: () => ({ id: "x", path: "/x" }),
                resolveEnvironment: () => Promise.reject(new Error("boom")),
            },
        };
        assert.equal(await selectedInterpreter(rejecting), undefined);
    });
});

describe("onInterpreterChange", () => {
    it("subscribes when the API has the event, and does nothing otherwise", () => {
        let listener: ((e: unknown) => unknown) | undefined;
        let disposed = false;
        const api: PythonExtensionApi = {
            environments: {
                ...environmentsApi("/x").environments!,
                onDidChangeActiveEnvironmentPath: (l) => {
                    listener = l;
                    return { dispose: () => (disposed = true) };
                },
            },
        };
        let calls = 0;
        const sub = onInterpreterChange(api, () => calls++);
        listener!({ path: "/other" });
        assert.equal(calls, 1);
        sub!.dispose();
        assert.equal(disposed, true);
        assert.equal(onInterpreterChange(undefined, () => calls++), undefined);
        assert.equal(onInterpreterChange(environmentsApi("/x"), () => calls++), undefined);
    });
});
