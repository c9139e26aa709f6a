// "trainlint: Explain this training script": what the server's `trainlint.explain` command answers
// and the webview page made of it. No `vscode` import: unit-tested in Node.

/** The server's command (workspace/executeCommand). */
export const SERVER_EXPLAIN = "trainlint.explain";
/**
 * The extension's command. Not the server's id: vscode-languageclient registers a VS Code command
 * for every command the server advertises, and registering the same id twice throws.
 */
export const EXPLAIN_COMMAND = "trainlint.explainScript";

export type Verdict = "ok" | "problem" | "unknown";

/** What the server answers: the report as `trainlint explain --output-format json` prints it, rendered too. */
export interface ExplainAnswer {
    uri: string;
    version: number | null;
    report: { path: string; error: string | null; stages: { key: string; title: string; verdict: Verdict }[] };
    markdown: string;
    html: string;
}

/** The answer, or why it is not one (an older server, say). */
export function parseExplainAnswer(value: unknown): ExplainAnswer | string {
    if (typeof value !== "object" || value === null) {
        return "the server answered nothing (is it a trainlint older than the explain command?)";
    }
    const answer = value as Partial<ExplainAnswer>;
    if (typeof answer.html !== "string" || typeof answer.markdown !== "string" || typeof answer.uri !== "string") {
        return "the server's answer has no report";
    }
    const report = answer.report;
    if (typeof report !== "object" || report === null || !Array.isArray(report.stages)) {
        return "the server's answer has no report";
    }
    return answer as ExplainAnswer;
}

/** A one-line summary for the status message and the log: `learning-rate problem, overfitting ok, ...`. */
export function summary(answer: ExplainAnswer): string {
    if (answer.report.error) {
        return answer.report.error;
    }
    return answer.report.stages.map((s) => `${s.key} ${s.verdict}`).join(", ");
}

export function panelTitle(fileName: string): string {
    return `Explain ${fileName}`;
}

/**
 * Colours from the VS Code theme, over the report's own light ones; the curves keep their light
 * background, on which their colours were chosen.
 */
const THEME_CSS = `
body { color: var(--vscode-editor-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); }
code { background: var(--vscode-textCodeBlock-background); color: inherit; }
.ok { color: var(--vscode-testing-iconPassed, #1a7f37); }
.problem { color: var(--vscode-errorForeground, #cf222e); }
.unknown { color: var(--vscode-editorWarning-foreground, #9a6700); }
.refreshed { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
`;

/**
 * The webview page of the server's HTML report: a Content-Security-Policy that allows nothing but
 * the page's own style elements (marked with `nonce`); no script runs (the report has none and the
 * webview does not enable scripts). The report's curves are inline SVG elements, which the policy
 * does not need to allow. `note` goes under the title (when the report was made).
 */
export function webviewHtml(reportHtml: string, nonce: string, note?: string): string {
    const csp = `default-src 'none'; style-src 'nonce-${nonce}'; img-src data:;`;
    const head = `<meta http-equiv="Content-Security-Policy" content="${csp}">`;
    let page = withoutScripts(reportHtml).replace(/<style(\s[^>]*)?>/g, `<style nonce="${nonce}">`);
    page = insertAfter(page, /<head[^>]*>/i, head);
    page = insertBefore(page, /<\/head>/i, `<style nonce="${nonce}">${THEME_CSS}</style>`);
    if (note) {
        page = insertAfter(page, /<\/h1>/i, `<p class="refreshed">${escapeHtml(note)}</p>`);
    }
    return page;
}

/** Defence in depth: scripts would not run anyway. */
function withoutScripts(page: string): string {
    return page.replace(/<script\b[\s\S]*?<\/script\s*>/gi, "").replace(/<script\b[^>]*>/gi, "");
}

function insertAfter(page: string, pattern: RegExp, text: string): string {
    const match = pattern.exec(page);
    if (!match) {
        return text + page;
    }
    const at = match.index + match[0].length;
    return page.slice(0, at) + text + page.slice(at);
}

function insertBefore(page: string, pattern: RegExp, text: string): string {
    const match = pattern.exec(page);
    return match ? page.slice(0, match.index) + text + page.slice(match.index) : page + text;
}

export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A page that says why there is no report (the server is not running, the request failed). */
export function messageHtml(title: string, message: string, nonce: string): string {
    const page = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><style>body { font: 14px/1.5 sans-serif; margin: 2em; }</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
    return webviewHtml(page, nonce);
}

/** What the command explains, from what is in front (or what a menu passed). */
export interface Front {
    /** The document of the active text editor: a Python file, or a notebook cell. */
    document?: { uri: string; languageId: string; notebookUri?: string };
    /** The active notebook editor's notebook. */
    notebook?: { uri: string; notebookType: string };
}

/** The uri of the Python file or Jupyter notebook to explain (a cell: its notebook), or undefined. */
export function explainTarget(front: Front, notebookType: string): string | undefined {
    const document = front.document;
    if (document?.notebookUri) {
        return document.notebookUri;
    }
    if (document?.languageId === "python") {
        return document.uri;
    }
    if (front.notebook?.notebookType === notebookType) {
        return front.notebook.uri;
    }
    return undefined;
}
