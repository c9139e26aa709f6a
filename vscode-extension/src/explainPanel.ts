// The webview beside a file that shows its `trainlint explain` report: one per file (or notebook),
// asked of the server again each time that file is saved.

import { randomBytes } from "crypto";
import * as path from "path";
import * as vscode from "vscode";
import { ExplainAnswer, messageHtml, panelTitle, parseExplainAnswer, summary, webviewHtml } from "./explainView";

/** Sends `trainlint.explain` for a document: the server's raw answer, or throws. */
export type AskServer = (uri: vscode.Uri) => Promise<unknown>;

const VIEW_TYPE = "trainlint.explain";

export class ExplainPanels implements vscode.Disposable {
    private readonly panels = new Map<string, vscode.WebviewPanel>();
    /** The last request for each panel: an older answer arriving after it is dropped. */
    private readonly latest = new Map<vscode.WebviewPanel, number>();
    private requests = 0;
    private readonly subscriptions: vscode.Disposable[];

    constructor(
        private readonly ask: AskServer,
        private readonly log: (level: "info" | "warn" | "error", message: string) => void,
    ) {
        this.subscriptions = [
            vscode.workspace.onDidSaveTextDocument((document) => this.refresh(document.uri)),
            vscode.workspace.onDidSaveNotebookDocument((notebook) => this.refresh(notebook.uri)),
        ];
    }

    /** Opens (or reveals) the file's panel beside it, and fills it with a new report. */
    async show(uri: vscode.Uri): Promise<void> {
        const key = uri.toString();
        let panel = this.panels.get(key);
        if (panel) {
            panel.reveal(undefined, true);
        } else {
            panel = vscode.window.createWebviewPanel(
                VIEW_TYPE,
                panelTitle(path.basename(uri.path)),
                { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
                // The report is one self-contained page: no script, no local file.
                { enableScripts: false, enableFindWidget: true, localResourceRoots: [] },
            );
            this.panels.set(key, panel);
            const opened = panel;
            panel.onDidDispose(() => {
                this.panels.delete(key);
                this.latest.delete(opened);
            });
        }
        await this.fill(panel, uri);
    }

    private refresh(uri: vscode.Uri): void {
        const panel = this.panels.get(uri.toString());
        if (panel) {
            void this.fill(panel, uri);
        }
    }

    private async fill(panel: vscode.WebviewPanel, uri: vscode.Uri): Promise<void> {
        const request = ++this.requests;
        this.latest.set(panel, request);
        const nonce = randomBytes(16).toString("base64");
        let answer: ExplainAnswer | string;
        try {
            answer = parseExplainAnswer(await this.ask(uri));
        } catch (error) {
            answer = error instanceof Error ? error.message : String(error);
        }
        if (this.latest.get(panel) !== request) {
            return; // a newer request (a save since) will fill it, or the panel is closed
        }
        if (typeof answer === "string") {
            this.log("error", `Explain ${uri.toString(true)}: ${answer}`);
            panel.webview.html = messageHtml("trainlint explain", `No report: ${answer}`, nonce);
            return;
        }
        this.log("info", `Explained ${uri.toString(true)}: ${summary(answer)}`);
        const note = `Explained at ${new Date().toLocaleTimeString()}; refreshed when the file is saved.`;
        panel.webview.html = webviewHtml(answer.html, nonce, note);
    }

    dispose(): void {
        for (const panel of this.panels.values()) {
            panel.dispose();
        }
        this.panels.clear();
        for (const subscription of this.subscriptions) {
            subscription.dispose();
        }
    }
}
