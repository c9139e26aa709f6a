// The VS Code side: starts `trainlint server` with vscode-languageclient, restarts it when the
// settings that choose it change, and offers to install trainlint when it cannot be found.
// The decisions (discovery order, settings mapping, restart policy) live in modules without
// `vscode` imports, which the unit tests exercise directly.

import * as os from "os";
import * as path from "path";
import { promises as fs } from "fs";
import * as vscode from "vscode";
import {
    CloseAction,
    DidChangeConfigurationNotification,
    ErrorAction,
    ExecuteCommandRequest,
    LanguageClient,
    LanguageClientOptions,
    MessageType,
    RevealOutputChannelOn,
    ServerOptions,
    ShowMessageNotification,
    ShowMessageParams,
    State,
} from "vscode-languageclient/node";
import { CrashPolicy, Serializer } from "./crashes";
import { ExplainPanels } from "./explainPanel";
import { EXPLAIN_COMMAND, SERVER_EXPLAIN, explainTarget } from "./explainView";
import {
    DiscoveryInput,
    DiscoveryResult,
    ServerCommand,
    findServer,
    installCommand,
    pickBundledWheel,
    pickInstallTarget,
} from "./discovery";
import { nodeDiscoveryDeps, runProcess, serverProcessOptions } from "./nodeDeps";
import { PythonExtensionApi, onInterpreterChange, selectedInterpreter } from "./pythonApi";
import { DOCUMENT_SELECTOR, NOTEBOOK_TYPE } from "./selector";
import { ServerMessages } from "./serverMessages";
import {
    ExtensionSettings,
    NotificationLevel,
    SECTION,
    classifyChange,
    didChangeConfigurationParams,
    initializationOptions,
    readSettings,
    resolvePathSetting,
    resolveVariables,
    shouldNotify,
    toServerSettings,
} from "./settings";

const CLIENT_ID = "trainlint";
const SERVER_FIX_ALL = "trainlint.server.fixAll";
const PYTHON_EXTENSION = "ms-python.python";

function settingsFor(scope?: vscode.ConfigurationScope): ExtensionSettings {
    const config = vscode.workspace.getConfiguration(SECTION, scope);
    return readSettings((key) => config.get(key));
}

function firstWorkspaceFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
}

/**
 * A client whose errors go to the log only: the extension itself shows one notification for a
 * server that cannot start or keeps crashing, instead of vscode-languageclient's several.
 */
class QuietLanguageClient extends LanguageClient {
    override error(message: string, data?: unknown, _showNotification?: boolean | "force"): void {
        super.error(message, data, false);
    }
}

class Extension {
    private client: LanguageClient | undefined;
    private server: ServerCommand | undefined;
    private readonly serializer = new Serializer();
    private readonly crashes = new CrashPolicy();
    private readonly serverMessages = new ServerMessages();
    private notFoundShown = false;
    private crashShown = false;
    private pythonApi: PythonExtensionApi | undefined;
    private pythonApiLoaded = false;
    /** Set from the moment a restart is asked for until it begins. */
    private restartPending = false;

    constructor(
        private readonly context: vscode.ExtensionContext,
        private readonly output: vscode.OutputChannel,
    ) {}

    log(level: "info" | "warn" | "error", message: string): void {
        this.output.appendLine(`[${level.padEnd(5)} - ${new Date().toLocaleTimeString()}] ${message}`);
    }

    private notify(level: NotificationLevel, message: string, ...buttons: string[]): Thenable<string | undefined> {
        if (!shouldNotify(settingsFor().showNotifications, level)) {
            return Promise.resolve(undefined);
        }
        const show =
            level === "error"
                ? vscode.window.showErrorMessage
                : level === "warning"
                  ? vscode.window.showWarningMessage
                  : vscode.window.showInformationMessage;
        return show(message, ...buttons);
    }

    async loadPythonApi(): Promise<PythonExtensionApi | undefined> {
        if (this.pythonApiLoaded) {
            return this.pythonApi;
        }
        this.pythonApiLoaded = true;
        const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION);
        if (!extension) {
            return undefined;
        }
        try {
            this.pythonApi = extension.isActive ? extension.exports : await extension.activate();
        } catch (error) {
            this.log("warn", `The Python extension did not activate: ${String(error)}`);
            return undefined;
        }
        const subscription = onInterpreterChange(this.pythonApi, () => {
            // A newly selected interpreter matters unless a trainlint setting chose the server.
            const source = this.server?.source;
            if (source === undefined || !["trainlint.path", "trainlint.interpreter"].includes(source)) {
                this.log("info", "The Python extension's interpreter changed: restarting");
                void this.restart(false);
            }
        });
        if (subscription) {
            this.context.subscriptions.push(subscription);
        }
        return this.pythonApi;
    }

    private async discoveryInput(settings: ExtensionSettings): Promise<DiscoveryInput> {
        const folder = firstWorkspaceFolder();
        const ctx = { workspaceFolder: folder?.uri.fsPath, userHome: os.homedir(), env: process.env };
        const resolve = (values: string[]) =>
            values.map((v) => resolvePathSetting(v, ctx, (p) => path.isAbsolute(p), (...parts) => path.join(...parts)));
        return {
            path: resolve(settings.path),
            interpreter: resolve(settings.interpreter),
            pythonExtension: await selectedInterpreter(await this.loadPythonApi(), folder?.uri),
            workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === "file").map((f) => f.uri.fsPath),
            platform: process.platform,
            args: settings.args.map((v) => resolveVariables(v, ctx)),
        };
    }

    /**
     * The working directory of every Python this extension runs: its own storage folder, where no
     * `trainlint/` (or other package) can shadow what is installed (see nodeDeps.ts for why).
     */
    private async neutralFolder(): Promise<string> {
        const folder = this.context.globalStorageUri.fsPath;
        try {
            await fs.mkdir(folder, { recursive: true });
            return folder;
        } catch (error) {
            this.log("warn", `Cannot create ${folder} (${String(error)}): running Python in the extension's folder`);
            return this.context.extensionPath;
        }
    }

    private async discover(settings: ExtensionSettings): Promise<DiscoveryResult> {
        return findServer(await this.discoveryInput(settings), nodeDiscoveryDeps(await this.neutralFolder()));
    }

    restart(userInitiated: boolean): Promise<void> {
        this.restartPending = true;
        return this.serializer.run(async () => {
            this.restartPending = false;
            await this.stopClient();
            await this.startClient(userInitiated);
        });
    }

    stop(): Promise<void> {
        return this.serializer.run(() => this.stopClient());
    }

    private async stopClient(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.server = undefined;
        if (client) {
            try {
                await client.stop(10_000);
            } catch (error) {
                this.log("warn", `Stopping the server: ${String(error)}`);
            }
            try {
                await client.dispose();
            } catch {
                // already stopped
            }
        }
    }

    private async startClient(userInitiated: boolean): Promise<void> {
        const settings = settingsFor();
        if (!settings.enable) {
            this.log("info", "trainlint.enable is false: the server is not started");
            return;
        }
        const result = await this.discover(settings);
        if (!result.found) {
            this.log("warn", "The trainlint language server was not found. Looked at:");
            for (const line of result.notFound.tried) {
                this.log("warn", `  ${line}`);
            }
            if (userInitiated || !this.notFoundShown) {
                this.notFoundShown = true;
                void this.offerInstall(result.notFound.installTarget);
            }
            return;
        }
        const server = result.server;
        for (const line of server.skipped) {
            this.log("info", `Passed over: ${line}`);
        }
        this.log("info", `Chose ${server.command}: ${server.reason}`);
        this.log("info", `Starting the server: ${server.description} (${server.command} ${server.args.join(" ")})`);
        this.crashes.reset();
        this.crashShown = false;

        const serverOptions: ServerOptions = {
            command: server.command,
            args: server.args,
            // The workspace root reaches the server through `initialize` (rootUri, workspaceFolders).
            options: serverProcessOptions(await this.neutralFolder()),
        };
        let client: LanguageClient | undefined = undefined;
        let running = false;
        const clientOptions: LanguageClientOptions = {
            documentSelector: DOCUMENT_SELECTOR,
            outputChannel: this.output,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: initializationOptions(settings),
            synchronize: { configurationSection: SECTION },
            middleware: {
                workspace: {
                    // The server gets the same checked settings at every change as at start.
                    didChangeConfiguration: async () => {
                        // Not to a server that a restart is about to replace, nor to a stopping one.
                        if (!client || client !== this.client || this.restartPending || client.state !== State.Running) {
                            return;
                        }
                        try {
                            await client.sendNotification(
                                DidChangeConfigurationNotification.type,
                                didChangeConfigurationParams(settingsFor()),
                            );
                        } catch (error) {
                            this.log("warn", `Sending the new settings failed: ${String(error)}`);
                        }
                    },
                    configuration: async (params, token, next) => {
                        const answer: unknown = await next(params, token);
                        if (!Array.isArray(answer)) {
                            return answer as ReturnType<typeof next>;
                        }
                        return params.items.map((item, i) =>
                            item.section === SECTION
                                ? toServerSettings(settingsFor(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined))
                                : (answer as unknown[])[i],
                        );
                    },
                },
            },
            errorHandler: {
                error: () => ({ action: ErrorAction.Continue, handled: true }),
                closed: () => {
                    if (!running) {
                        // It never started: reported once by the start below, not retried in a loop.
                        return { action: CloseAction.DoNotRestart, handled: true };
                    }
                    if (this.crashes.crashed()) {
                        this.log("warn", "The server stopped unexpectedly: restarting it");
                        return { action: CloseAction.Restart, handled: true };
                    }
                    this.log("error", "The server stopped unexpectedly too often: not restarting it");
                    if (!this.crashShown) {
                        this.crashShown = true;
                        void this.notify(
                            "error",
                            "The trainlint server stopped unexpectedly several times and was not restarted. Its log has the details.",
                            "Show Logs",
                            "Restart",
                        ).then((choice) => this.onButton(choice));
                    }
                    return { action: CloseAction.DoNotRestart, handled: true };
                },
            },
            initializationFailedHandler: (error) => {
                this.log("error", `The server failed to initialize: ${String(error)}`);
                return false;
            },
        };
        client = new QuietLanguageClient(CLIENT_ID, "trainlint", serverOptions, clientOptions);
        // Replaces vscode-languageclient's handler, which shows every message of every server.
        client.onNotification(ShowMessageNotification.type, (message) => this.showServerMessage(message));
        this.client = client;
        this.server = server;
        try {
            await client.start();
            // start() can resolve although the server died during initialize (the connection
            // closed first): only a client in the Running state has a server.
            if (client.state !== State.Running) {
                throw new Error("the server exited while starting");
            }
            running = true;
            this.log("info", `The server is running (${server.source})`);
            if (userInitiated) {
                void this.notify("info", `trainlint server restarted (${server.source}).`);
            }
        } catch (error) {
            this.log("error", `The server did not start: ${String(error)}`);
            // An old trainlint without the server, say: the bundled one can replace it.
            const canInstall = server.args[0] === "-m" && (await this.bundledWheel()) !== undefined;
            const buttons = canInstall ? ["Show Logs", "Install trainlint"] : ["Show Logs"];
            void this.notify(
                "error",
                `The trainlint server (${server.description}) did not start. Its log has the details.`,
                ...buttons,
            ).then(async (choice) => {
                const wheel = await this.bundledWheel();
                if (choice === "Install trainlint" && wheel) {
                    await this.install(server.command, wheel);
                } else {
                    this.onButton(choice);
                }
            });
        }
    }

    /** The server's notification; what it shows, it also writes to the log (window/logMessage). */
    private showServerMessage(message: ShowMessageParams): void {
        if (!this.serverMessages.shouldShow(message.type, message.message)) {
            return;
        }
        const show =
            message.type === MessageType.Error
                ? vscode.window.showErrorMessage
                : message.type === MessageType.Warning
                  ? vscode.window.showWarningMessage
                  : vscode.window.showInformationMessage;
        void show(message.message);
    }

    private onButton(choice: string | undefined): void {
        if (choice === "Show Logs") {
            this.output.show(true);
        } else if (choice === "Restart") {
            void this.restart(true);
        } else if (choice === "Open Settings") {
            void vscode.commands.executeCommand("workbench.action.openSettings", "trainlint.");
        }
    }

    private async bundledWheel(): Promise<string | undefined> {
        const dir = path.join(this.context.extensionPath, "bundled");
        try {
            const name = pickBundledWheel(await fs.readdir(dir));
            return name ? path.join(dir, name) : undefined;
        } catch {
            return undefined;
        }
    }

    private async offerInstall(target: string | undefined): Promise<void> {
        const wheel = await this.bundledWheel();
        if (target === undefined) {
            const choice = await this.notify(
                "error",
                "trainlint needs Python: no Python interpreter was found. Install Python, select an interpreter in the Python extension, or set trainlint.interpreter or trainlint.path.",
                "Open Settings",
                "Show Logs",
            );
            return this.onButton(choice);
        }
        const buttons = wheel ? ["Install trainlint", "Open Settings"] : ["Open Settings", "Show Logs"];
        const choice = await this.notify(
            "error",
            `The trainlint language server was not found. Install trainlint into ${target}?`,
            ...buttons,
        );
        if (choice === "Install trainlint") {
            await this.install(target, wheel!);
        } else {
            this.onButton(choice);
        }
    }

    /** `python -m pip install <bundled wheel>`, then a restart. */
    async install(target: string, wheel: string): Promise<boolean> {
        const { command, args } = installCommand(target, wheel);
        const folder = await this.neutralFolder();
        this.log("info", `Installing trainlint: ${command} ${args.join(" ")}`);
        let code: number;
        try {
            code = await vscode.window.withProgress(
                { location: vscode.ProgressLocation.Notification, title: `Installing trainlint into ${target}…` },
                () =>
                    runProcess(command, args, (text) => this.output.append(text), { cwd: folder }),
            );
        } catch (error) {
            this.log("error", `pip did not run: ${String(error)}`);
            code = -1;
        }
        if (code !== 0) {
            this.log("error", `pip exited with ${code}`);
            const choice = await vscode.window.showErrorMessage(
                `Installing trainlint into ${target} failed (pip exited with ${code}). The log has pip's output.`,
                "Show Logs",
            );
            this.onButton(choice);
            return false;
        }
        this.log("info", "trainlint installed");
        void this.notify("info", `trainlint installed into ${target}.`);
        await this.restart(false);
        return true;
    }

    async installCommand(): Promise<void> {
        const wheel = await this.bundledWheel();
        if (!wheel) {
            void vscode.window.showErrorMessage("This build of the trainlint extension has no bundled wheel.");
            return;
        }
        const target = await pickInstallTarget(await this.discoveryInput(settingsFor()), nodeDiscoveryDeps(await this.neutralFolder()));
        if (!target) {
            void vscode.window.showErrorMessage(
                "No Python interpreter to install trainlint into: set trainlint.interpreter or select one in the Python extension.",
            );
            return;
        }
        await this.install(target, wheel);
    }

    async fixAll(): Promise<void> {
        // A Python file or cell in a text editor; else the notebook in front (the server fixes every cell).
        const editor = vscode.window.activeTextEditor;
        const notebook = vscode.window.activeNotebookEditor?.notebook;
        const uri =
            editor?.document.languageId === "python"
                ? editor.document.uri
                : notebook?.notebookType === NOTEBOOK_TYPE
                  ? notebook.uri
                  : undefined;
        if (!uri) {
            void vscode.window.showInformationMessage("trainlint: open a Python file or a Jupyter notebook to fix.");
            return;
        }
        const client = this.client;
        if (!client || client.state !== State.Running) {
            void vscode.window.showWarningMessage("The trainlint server is not running.", "Show Logs").then((c) => this.onButton(c));
            return;
        }
        try {
            await client.sendRequest(ExecuteCommandRequest.type, {
                command: SERVER_FIX_ALL,
                arguments: [{ uri: client.code2ProtocolConverter.asUri(uri) }],
            });
        } catch (error) {
            this.log("error", `Fix all failed: ${String(error)}`);
            void vscode.window.showErrorMessage(`trainlint: fix all failed: ${String(error)}`, "Show Logs").then((c) => this.onButton(c));
        }
    }

    /** `trainlint.explain` of the server for a document, as the editor holds it now. */
    async askExplain(uri: vscode.Uri): Promise<unknown> {
        const client = this.client;
        if (!client || client.state !== State.Running) {
            throw new Error("the trainlint server is not running (trainlint: Show Logs says why)");
        }
        return client.sendRequest(ExecuteCommandRequest.type, {
            command: SERVER_EXPLAIN,
            arguments: [{ uri: client.code2ProtocolConverter.asUri(uri) }],
        });
    }

    /** The file a menu passed (its editor's context menu), else the one in front; a cell's notebook. */
    explainUri(passed?: unknown): vscode.Uri | undefined {
        const uri = passed instanceof vscode.Uri ? passed : vscode.window.activeTextEditor?.document.uri;
        const key = uri?.toString();
        const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
        const notebook = vscode.workspace.notebookDocuments.find((n) => n.getCells().some((c) => c.document.uri.toString() === key));
        const front = passed instanceof vscode.Uri ? undefined : vscode.window.activeNotebookEditor?.notebook;
        const target = explainTarget(
            {
                document: uri && document && { uri: uri.toString(), languageId: document.languageId, notebookUri: notebook?.uri.toString() },
                notebook: front && { uri: front.uri.toString(), notebookType: front.notebookType },
            },
            NOTEBOOK_TYPE,
        );
        return target ? vscode.Uri.parse(target) : undefined;
    }

    onConfigurationChange(event: vscode.ConfigurationChangeEvent): void {
        if (classifyChange((key) => event.affectsConfiguration(key)) === "restart") {
            this.log("info", "A setting that chooses the server changed: restarting");
            void this.restart(false);
        }
        // Other trainlint.* changes reach the running server through the client's
        // configuration synchronization (see the middleware above).
    }
}

let extension: Extension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
    const output = vscode.window.createOutputChannel("trainlint");
    context.subscriptions.push(output);
    const ext = new Extension(context, output);
    extension = ext;
    const explainPanels = new ExplainPanels(
        (uri) => ext.askExplain(uri),
        (level, message) => ext.log(level, message),
    );
    context.subscriptions.push(
        vscode.commands.registerCommand("trainlint.restart", () => ext.restart(true)),
        vscode.commands.registerCommand("trainlint.fixAll", () => ext.fixAll()),
        vscode.commands.registerCommand("trainlint.showLogs", () => output.show(true)),
        vscode.commands.registerCommand("trainlint.installBundled", () => ext.installCommand()),
        explainPanels,
        vscode.commands.registerCommand(EXPLAIN_COMMAND, async (passed?: unknown) => {
            const uri = ext.explainUri(passed);
            if (!uri) {
                void vscode.window.showInformationMessage("trainlint: open a Python file or a Jupyter notebook to explain.");
                return;
            }
            await explainPanels.show(uri);
        }),
        vscode.workspace.onDidChangeConfiguration((event) => ext.onConfigurationChange(event)),
    );
    ext.log("info", `trainlint extension ${(context.extension.packageJSON as { version: string }).version} activated`);
    await ext.restart(false);
}

export async function deactivate(): Promise<void> {
    await extension?.stop();
    extension = undefined;
}
