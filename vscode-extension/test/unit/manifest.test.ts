// package.json (the extension manifest) agrees with the code that reads the settings.
import { strict as assert } from "assert";
import { existsSync, readFileSync } from "fs";
import { describe, it } from "node:test";
import * as path from "path";
import { NOTEBOOK_TYPE } from "../../src/selector";
import { DEFAULTS, RESTART_KEYS, SERVER_KEYS, readSettings } from "../../src/settings";

// Compiled to out/test/: the extension's folder is two levels up.
const root = path.resolve(__dirname, "..", "..");
const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const properties: Record<string, { default: unknown; enum?: string[]; type: unknown }> =
    manifest.contributes.configuration.properties;

const settingKey = (field: string) => (field === "traceServer" ? "trace.server" : field);

describe("package.json", () => {
    it("declares every setting the extension reads, with the same default", () => {
        const declared = Object.keys(properties).sort();
        const read = Object.keys(DEFAULTS).map((f) => `trainlint.${settingKey(f)}`).sort();
        assert.deepEqual(declared, read);
        for (const [field, value] of Object.entries(DEFAULTS)) {
            assert.deepEqual(properties[`trainlint.${settingKey(field)}`].default, value, field);
        }
    });

    it("has the settings the issue asks for, and the server's", () => {
        for (const key of ["enable", "path", "interpreter", "args", "run", "select", "ignore", "severity", "showNotifications", "trace.server", ...SERVER_KEYS, ...RESTART_KEYS]) {
            assert.ok(properties[`trainlint.${key}`], key);
        }
    });

    it("offers only enum values the extension accepts", () => {
        for (const [key, schema] of Object.entries(properties)) {
            for (const value of schema.enum ?? []) {
                const short = key.slice("trainlint.".length);
                const field = short === "trace.server" ? "traceServer" : short;
                const read = readSettings((k) => (k === short ? value : undefined)) as unknown as Record<string, unknown>;
                assert.equal(read[field], value, `${key}: ${value}`);
            }
        }
    });

    it("contributes the commands, none clashing with the server's own command ids", () => {
        const ids = manifest.contributes.commands.map((c: { command: string }) => c.command);
        for (const id of ["trainlint.restart", "trainlint.fixAll", "trainlint.showLogs"]) {
            assert.ok(ids.includes(id), id);
        }
        assert.ok(!ids.some((id: string) => id.startsWith("trainlint.server.")));
    });

    it("is publishable: publisher, license, engines, entry point, activation", () => {
        assert.equal(manifest.publisher, "trainlint");
        assert.equal(manifest.license, "MIT");
        assert.ok(existsSync(path.join(root, "LICENSE")));
        assert.equal(manifest.main, "./out/extension.js");
        assert.deepEqual(manifest.activationEvents, ["onLanguage:python", `onNotebook:${NOTEBOOK_TYPE}`]);
        assert.equal(manifest.engines.vscode, `^${manifest.devDependencies["@types/vscode"]}`);
    });

    it("keeps the project's LICENSE", () => {
        const top = path.join(root, "..", "LICENSE");
        if (existsSync(top)) {
            assert.equal(readFileSync(path.join(root, "LICENSE"), "utf8"), readFileSync(top, "utf8"));
        }
    });

    it("asks for at least the VS Code that vscode-languageclient needs", () => {
        const lc = path.join(root, "node_modules", "vscode-languageclient", "package.json");
        const needed = JSON.parse(readFileSync(lc, "utf8")).engines.vscode as string;
        const version = (range: string) => range.replace(/^[\^~>=]+/, "").split(".").map(Number);
        const [a, b] = [version(manifest.engines.vscode), version(needed)];
        assert.ok(a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]), `${manifest.engines.vscode} < ${needed}`);
    });

    it("restricts the settings that choose a program in untrusted workspaces", () => {
        const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
        assert.deepEqual([...restricted].sort(), ["trainlint.args", "trainlint.interpreter", "trainlint.path"]);
    });
});
