// The explain view: what the server answers, the webview page made of its HTML report (with the
// real server's report, from the repository's .venv), and which document the command explains.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { readFileSync } from "fs";
import { describe, it } from "node:test";
import * as path from "path";
import {
    EXPLAIN_COMMAND,
    SERVER_EXPLAIN,
    explainTarget,
    messageHtml,
    parseExplainAnswer,
    summary,
    webviewHtml,
} from "../../src/explainView";
import { NOTEBOOK_TYPE } from "../../src/selector";

const root = path.resolve(__dirname, "..", "..");
const repo = path.resolve(root, "..");
const python = process.env.PYTHON || path.join(repo, ".venv", "bin", "python");
const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));

function serverReport(file: string): string {
    return execFileSync(python, ["-m", "trainlint", "explain", "--output-format", "html", file], { cwd: repo, timeout: 60_000 }).toString();
}

/** The Content-Security-Policy of a page, from its meta element. */
function csp(page: string): string {
    const match = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page);
    assert.ok(match, "no Content-Security-Policy");
    return match[1];
}

describe("the explain webview page", () => {
    const report = serverReport("examples/buggy/scheduler_steps.py");

    it("keeps the server's report, its SVG curves included", () => {
        const page = webviewHtml(report, "abc123");
        assert.ok(page.includes("<h1>trainlint explain <code>examples/buggy/scheduler_steps.py</code></h1>"));
        const curves = (s: string) => (s.match(/<polyline /g) ?? []).length;
        assert.ok(curves(report) >= 2);
        assert.equal(curves(page), curves(report));
        assert.ok(page.includes('<span class="problem">problem</span>'));
    });

    it("allows nothing but its own style elements, each with the nonce", () => {
        const page = webviewHtml(report, "abc123");
        const policy = csp(page);
        assert.match(policy, /^default-src 'none'; /);
        assert.match(policy, /style-src 'nonce-abc123'/);
        assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|script-src/);
        // The policy comes before the first style element, and every style element carries the nonce.
        assert.ok(page.indexOf("Content-Security-Policy") < page.indexOf("<style"));
        const styles = page.match(/<style[^>]*>/g) ?? [];
        assert.ok(styles.length >= 2, "the report's style and the theme's");
        for (const tag of styles) assert.equal(tag, '<style nonce="abc123">');
        assert.doesNotMatch(page, /<script/i);
        assert.doesNotMatch(page.replaceAll('xmlns="http://www.w3.org/2000/svg"', ""), /https?:/, "nothing to load");
    });

    it("drops any script, and escapes the note", () => {
        const page = webviewHtml('<html><head></head><body><h1>x</h1><script>alert(1)</script><script src="a.js"></script></body></html>', "n", "<b>now</b>");
        assert.doesNotMatch(page, /<script|alert/);
        assert.ok(page.includes('<h1>x</h1><p class="refreshed">&lt;b&gt;now&lt;/b&gt;</p>'));
    });

    it("says why when there is no report", () => {
        const page = messageHtml("trainlint explain", "No report: the server <is> not running", "n");
        assert.ok(page.includes("No report: the server &lt;is&gt; not running"));
        assert.match(csp(page), /style-src 'nonce-n'/);
    });
});

describe("the server's answer", () => {
    it("is read as the server sends it", () => {
        const report = { path: "train.py", error: null as string | null, stages: [{ key: "learning-rate", title: "Learning rate", verdict: "problem" as const }, { key: "data", title: "Data", verdict: "unknown" as const }] };
        const answer = parseExplainAnswer({ uri: "file:///w/train.py", version: 3, report, markdown: "# x", html: "<html>" });
        assert.ok(typeof answer !== "string");
        assert.equal(summary(answer), "learning-rate problem, data unknown");
        assert.equal(summary({ ...answer, report: { ...report, error: "Syntax error: ..." } }), "Syntax error: ...");
    });

    it("is refused when it is not a report", () => {
        for (const value of [null, undefined, "x", {}, { uri: "u", markdown: "", html: "" }, { uri: "u", markdown: "", html: "", report: {} }]) {
            assert.equal(typeof parseExplainAnswer(value), "string", JSON.stringify(value));
        }
    });
});

describe("the command", () => {
    it("is contributed under its own id, not the server's (which vscode-languageclient registers)", () => {
        const advertised: string[] = JSON.parse(
            execFileSync(python, ["-c", "import json; from trainlint.server.server import server; print(json.dumps(sorted(server.protocol.fm.commands)))"], {
                timeout: 60_000,
            }).toString(),
        );
        assert.ok(advertised.includes(SERVER_EXPLAIN));
        const contributed = manifest.contributes.commands.map((c: { command: string }) => c.command);
        const explain = manifest.contributes.commands.find((c: { command: string }) => c.command === EXPLAIN_COMMAND);
        assert.equal(`${explain.category}: ${explain.title}`, "trainlint: Explain this training script");
        for (const id of contributed) assert.ok(!advertised.includes(id), `${id} is also the server's`);
        const menus = manifest.contributes.menus;
        assert.ok(menus["editor/context"].some((m: { command: string }) => m.command === EXPLAIN_COMMAND));
        assert.ok(menus.commandPalette.some((m: { command: string; when: string }) => m.command === EXPLAIN_COMMAND && /editorLangId == python/.test(m.when)));
    });

    it("explains the Python file in front, or the notebook of a cell or in front", () => {
        const file = { uri: "file:///w/train.py", languageId: "python" };
        assert.equal(explainTarget({ document: file }, NOTEBOOK_TYPE), "file:///w/train.py");
        const cell = { uri: "vscode-notebook-cell:/w/nb.ipynb#W1", languageId: "python", notebookUri: "file:///w/nb.ipynb" };
        assert.equal(explainTarget({ document: cell }, NOTEBOOK_TYPE), "file:///w/nb.ipynb");
        const notebook = { uri: "file:///w/nb.ipynb", notebookType: NOTEBOOK_TYPE };
        assert.equal(explainTarget({ document: { uri: "file:///w/notes.md", languageId: "markdown" }, notebook }, NOTEBOOK_TYPE), "file:///w/nb.ipynb");
        assert.equal(explainTarget({ document: { uri: "file:///w/notes.md", languageId: "markdown" } }, NOTEBOOK_TYPE), undefined);
        assert.equal(explainTarget({ notebook: { uri: "file:///w/x.nb", notebookType: "other" } }, NOTEBOOK_TYPE), undefined);
    });
});
