import { strict as assert } from "assert";
import { describe, it } from "node:test";
import * as path from "path";
import {
    DEFAULTS,
    classifyChange,
    didChangeConfigurationParams,
    initializationOptions,
    readSettings,
    resolvePathSetting,
    resolveVariables,
    shouldNotify,
    toServerSettings,
} from "../../src/settings";

const from = (values: Record<string, unknown>) => readSettings((key) => values[key]);

describe("readSettings", () => {
    it("fills in the defaults when nothing is set", () => {
        assert.deepEqual(from({}), DEFAULTS);
    });

    it("keeps well-typed values", () => {
        const s = from({
            enable: false,
            path: ["/x/trainlint"],
            interpreter: ["/venv/bin/python"],
            args: ["--log-level", "debug"],
            run: "onSave",
            select: ["TL1", "TL201"],
            extendSelect: ["TL3"],
            ignore: ["TL102"],
            severity: { TL101: "error", TL2: "info" },
            configurationPreference: "editorOnly",
            inlayHints: true,
            shapeHints: true,
            showNotifications: "always",
            "trace.server": "verbose",
        });
        assert.deepEqual(s, {
            enable: false,
            path: ["/x/trainlint"],
            interpreter: ["/venv/bin/python"],
            args: ["--log-level", "debug"],
            run: "onSave",
            select: ["TL1", "TL201"],
            extendSelect: ["TL3"],
            ignore: ["TL102"],
            severity: { TL101: "error", TL2: "info" },
            configurationPreference: "editorOnly",
            inlayHints: true,
            shapeHints: true,
            showNotifications: "always",
            traceServer: "verbose",
        });
    });

    it("replaces ill-typed values by the defaults instead of failing", () => {
        const s = from({
            enable: "yes",
            path: 42,
            run: "always",
            ignore: [1, "", " TL101 "],
            severity: ["TL101"],
            configurationPreference: "mine",
            shapeHints: "yes",
            showNotifications: true,
            "trace.server": 3,
        });
        assert.equal(s.enable, true);
        assert.deepEqual(s.path, []);
        assert.equal(s.run, "onType");
        assert.deepEqual(s.ignore, ["TL101"]);
        assert.deepEqual(s.severity, {});
        assert.equal(s.configurationPreference, "filesystemFirst");
        assert.equal(s.shapeHints, false);
        assert.equal(s.showNotifications, "onError");
        assert.equal(s.traceServer, "off");
    });

    it("takes a lone string where a list is expected", () => {
        const s = from({ path: " /x/trainlint ", interpreter: "python3", ignore: "TL101" });
        assert.deepEqual(s.path, ["/x/trainlint"]);
        assert.deepEqual(s.interpreter, ["python3"]);
        assert.deepEqual(s.ignore, ["TL101"]);
    });

    it("splits comma-separated rule selectors as the command line does", () => {
        assert.deepEqual(from({ select: ["TL101, TL2", "TL3"] }).select, ["TL101", "TL2", "TL3"]);
        assert.deepEqual(from({ ignore: ["TL101,,TL102"] }).ignore, ["TL101", "TL102"]);
    });

    it("keeps select null (the project's configuration) apart from an empty list (no rules)", () => {
        assert.equal(from({ select: null }).select, null);
        assert.equal(from({ select: undefined }).select, null);
        assert.deepEqual(from({ select: [] }).select, []);
    });

    it("normalizes severity names and drops unknown ones", () => {
        assert.deepEqual(
            from({ severity: { TL101: "Error", TL102: "information", TL103: "hint", TL104: "fatal", TL105: 2, " ": "info" } }).severity,
            { TL101: "error", TL102: "info", TL103: "info" },
        );
    });
});

describe("what the server receives", () => {
    const settings = from({
        path: ["/x/trainlint"],
        args: ["-v"],
        run: "onSave",
        select: ["TL1"],
        extendSelect: ["TL2, TL3"],
        ignore: ["TL102"],
        severity: { TL101: "error" },
        configurationPreference: "editorFirst",
        inlayHints: true,
        shapeHints: true,
        showNotifications: "off",
    });
    const expected = {
        enable: true,
        run: "onSave",
        select: ["TL1"],
        extendSelect: ["TL2", "TL3"],
        ignore: ["TL102"],
        severity: { TL101: "error" },
        configurationPreference: "editorFirst",
        inlayHints: true,
        shapeHints: true,
    };

    it("initializationOptions: {settings: {...camelCase keys}} without the client-only settings", () => {
        assert.deepEqual(initializationOptions(settings), { settings: expected });
    });

    it("didChangeConfiguration: {settings: {trainlint: {...same keys}}}", () => {
        assert.deepEqual(didChangeConfigurationParams(settings), { settings: { trainlint: expected } });
    });

    it("the defaults map to the server's defaults", () => {
        assert.deepEqual(toServerSettings(DEFAULTS), {
            enable: true,
            run: "onType",
            select: null,
            extendSelect: [],
            ignore: [],
            severity: {},
            configurationPreference: "filesystemFirst",
            inlayHints: false,
            shapeHints: false,
        });
    });

    it("is a copy: changing it does not change the settings", () => {
        const server = toServerSettings(settings);
        server.ignore.push("TL999");
        server.severity.TL999 = "info";
        assert.deepEqual(settings.ignore, ["TL102"]);
        assert.deepEqual(settings.severity, { TL101: "error" });
    });
});

describe("classifyChange", () => {
    const changed = (...keys: string[]) => (key: string) =>
        keys.some((k) => k === key || k.startsWith(key + "."));

    for (const key of ["enable", "path", "interpreter", "args"]) {
        it(`trainlint.${key} restarts the server`, () => {
            assert.equal(classifyChange(changed(`trainlint.${key}`)), "restart");
        });
    }
    for (const key of ["run", "select", "extendSelect", "ignore", "severity", "configurationPreference", "inlayHints", "shapeHints", "showNotifications", "trace.server"]) {
        it(`trainlint.${key} is sent to the running server`, () => {
            assert.equal(classifyChange(changed(`trainlint.${key}`)), "notify");
        });
    }
    it("other sections are ignored", () => {
        assert.equal(classifyChange(changed("python.defaultInterpreterPath", "editor.fontSize")), "none");
    });
    it("a restart wins when both kinds change at once", () => {
        assert.equal(classifyChange(changed("trainlint.run", "trainlint.path")), "restart");
    });
});

describe("shouldNotify", () => {
    it("follows trainlint.showNotifications", () => {
        const table: Record<string, [boolean, boolean, boolean]> = {
            off: [false, false, false],
            onError: [true, false, false],
            onWarning: [true, true, false],
            always: [true, true, true],
        };
        for (const [setting, [error, warning, info]] of Object.entries(table)) {
            const s = setting as "off" | "onError" | "onWarning" | "always";
            assert.deepEqual([shouldNotify(s, "error"), shouldNotify(s, "warning"), shouldNotify(s, "info")], [error, warning, info], setting);
        }
    });
});

describe("resolveVariables", () => {
    const ctx = { workspaceFolder: "/proj", userHome: "/home/u", env: { VENV: "/venvs/a" } };

    it("expands workspaceFolder, userHome, env and ~", () => {
        assert.equal(resolveVariables("${workspaceFolder}/.venv/bin/trainlint", ctx), "/proj/.venv/bin/trainlint");
        assert.equal(resolveVariables("${userHome}/bin/trainlint", ctx), "/home/u/bin/trainlint");
        assert.equal(resolveVariables("${env:VENV}/bin/python", ctx), "/venvs/a/bin/python");
        assert.equal(resolveVariables("~/venv/bin/python", ctx), "/home/u/venv/bin/python");
    });

    it("leaves plain paths and unknown variables alone", () => {
        assert.equal(resolveVariables("/usr/bin/trainlint", ctx), "/usr/bin/trainlint");
        assert.equal(resolveVariables("${config:python.x}/py", ctx), "${config:python.x}/py");
        assert.equal(resolveVariables("a~b", ctx), "a~b");
    });

    it("expands an unset environment variable to nothing and keeps workspaceFolder without a folder", () => {
        assert.equal(resolveVariables("${env:MISSING}/x", ctx), "/x");
        assert.equal(resolveVariables("${workspaceFolder}/x", { env: {} }), "${workspaceFolder}/x");
    });
});

describe("resolvePathSetting", () => {
    const ctx = { workspaceFolder: "/proj", userHome: "/home/u", env: {} };
    const resolve = (value: string, c: typeof ctx | { env: Record<string, string> } = ctx) => resolvePathSetting(value, c, path.posix.isAbsolute, path.posix.join);

    it("takes a relative path with a directory from the workspace folder", () => {
        assert.equal(resolve(".venv/bin/python"), "/proj/.venv/bin/python");
        assert.equal(resolve("./tools/trainlint"), "/proj/tools/trainlint");
    });

    it("leaves absolute paths, expanded variables and bare names alone", () => {
        assert.equal(resolve("/usr/bin/python3"), "/usr/bin/python3");
        assert.equal(resolve("~/venv/bin/python"), "/home/u/venv/bin/python");
        assert.equal(resolve("${workspaceFolder}/.venv/bin/python"), "/proj/.venv/bin/python");
        assert.equal(resolve("python3"), "python3");
    });

    it("leaves a relative path as written without a workspace folder", () => {
        assert.equal(resolve(".venv/bin/python", { env: {} }), ".venv/bin/python");
    });
});
