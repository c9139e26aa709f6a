// The settings the extension sends are the ones the server parses: run the server's own parser
// (trainlint.server.editor_settings.parse) from the repository's .venv on what the client sends.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { existsSync } from "fs";
import { describe, it } from "node:test";
import * as path from "path";
import { DOCUMENT_SELECTOR, NOTEBOOK_TYPE } from "../../src/selector";
import { didChangeConfigurationParams, initializationOptions, readSettings } from "../../src/settings";

// The repository's .venv, which tests/run-all.sh creates; a missing one fails the test (never skips it).
const python = process.env.PYTHON || path.resolve(__dirname, "..", "..", "..", ".venv", "bin", "python");

const PARSE = `
import json, sys
from trainlint.server.editor_settings import parse
settings, problems = parse(json.load(sys.stdin))
print(json.dumps({"problems": problems, "enable": settings.enable, "run": settings.run, "select": settings.select,
    "extendSelect": settings.extend_select, "ignore": settings.ignore,
    "severity": {k: getattr(v, "value", v) for k, v in settings.severity.items()},
    "configurationPreference": settings.configuration_preference, "inlayHints": settings.inlay_hints,
    "shapeHints": settings.shape_hints}))
`;

function parse(payload: unknown): Record<string, unknown> {
    return JSON.parse(execFileSync(python, ["-c", PARSE], { input: JSON.stringify(payload), timeout: 60_000 }).toString());
}

describe("the server accepts the client's settings", () => {
    it("has the server's Python to ask", () => {
        assert.ok(existsSync(python), `${python} is missing: run tests/run-all.sh, which creates the .venv`);
    });

    const settings = readSettings(
        (key) =>
            ({
                enable: true,
                run: "onSave",
                select: ["TL1"],
                extendSelect: ["TL003"],
                ignore: ["TL102"],
                severity: { TL101: "error", TL103: "info" },
                configurationPreference: "editorFirst",
                inlayHints: true,
                shapeHints: true,
            })[key],
    );
    const expected = {
        problems: [],
        enable: true,
        run: "onSave",
        select: ["TL1"],
        extendSelect: ["TL003"],
        ignore: ["TL102"],
        severity: { TL101: "error", TL103: "info" },
        configurationPreference: "editorFirst",
        inlayHints: true,
        shapeHints: true,
    };

    it("as initializationOptions", () => {
        assert.deepEqual(parse(initializationOptions(settings)), expected);
    });

    it("as workspace/didChangeConfiguration settings", () => {
        assert.deepEqual(parse(didChangeConfigurationParams(settings).settings), expected);
    });

    it("with the defaults, without a problem", () => {
        const parsed = parse(initializationOptions(readSettings(() => undefined)));
        assert.deepEqual(parsed.problems, []);
        assert.equal(parsed.select, null);
    });
});

describe("the client's notebooks are the server's", () => {
    it("selects the Python cells of the notebook type whose sync the server declares", () => {
        const declared = JSON.parse(
            execFileSync(python, ["-c", "import json; from trainlint.server.notebooks import NOTEBOOK_SYNC as s; print(json.dumps([f.notebook for f in s.notebook_selector]))"], {
                timeout: 60_000,
            }).toString(),
        );
        assert.deepEqual(declared, [NOTEBOOK_TYPE]);
        assert.ok(DOCUMENT_SELECTOR.some((f) => "notebook" in f && f.notebook === NOTEBOOK_TYPE && f.language === "python"));
    });
});
