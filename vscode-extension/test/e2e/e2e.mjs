// End to end in a real VS Code: code-server with the built .vsix installed offline, driven by
// Debian's headless Chromium through playwright-core.
//
//   node test/e2e/e2e.mjs --code-server PATH --vsix FILE [--server PATH/TO/trainlint]
//
// code-server is started from a folder that holds a `trainlint/` source checkout (a link to this
// repository's package), as a developer would start it: that folder must never pass for an
// installed trainlint.
//
// Scenario: open a training script with a too-high learning rate, wait for trainlint's squiggle,
// its hover (short: the rule's card, with "Quick Fix..." in view) and its row in the Problems
// panel, apply the quick fix "Set the learning rate to 0.1", and check the editor text and that
// the warning goes away. Then run "trainlint: Fix All" on a file with an unused suppression, and
// save another with source.fixAll.trainlint in editor.codeActionsOnSave. Open a file under a
// pyproject.toml with [tool.trainlint] while trainlint.ignore is set: one notification names the
// file that replaces the setting. With --install-python: point trainlint.interpreter at a Python
// without trainlint (a settings change, so the server restarts), expect one "not found"
// notification, press "Install trainlint" (pip installs the wheel bundled in the .vsix) and see
// diagnostics come back from the newly installed server; then, with no setting at all and no
// virtualenv on PATH, the workspace's own .venv (that Python) is found and the log says why.
// A Jupyter notebook in VS Code's own notebook editor (no kernel needed): the squiggle is in the
// cell that uses the learning rate, not in the cell that sets it; the quick fix edits that other
// cell; after saving, the cells' sources on disk (VS Code's serializer rewrites the file) are the
// old ones with only that cell changed. "trainlint: Explain this training script" on a real
// training script opens its report (verdicts, findings, SVG learning-rate curves) in a webview
// beside the code (a screenshot; TRAINLINT_UPDATE_SCREENSHOTS=1 makes it the README's); an edit changes
// the report only once the file is saved. Last, a server that cannot start gives one notification
// and its error in the log (Show Logs), not a restart loop; and the server's log never has
// pygls's warning about cancelled requests.
//
// Every wait is on a condition, with generous timeouts (CI is a loaded 2-core machine). On failure
// the screenshot is kept and the server's log, the extension host's log and code-server's output
// are printed and copied to test-artifacts/.

import { spawn } from "child_process";
import {
    copyFileSync,
    createWriteStream,
    existsSync,
    mkdirSync,
    readFileSync,
    readdirSync,
    rmSync,
    statSync,
    symlinkSync,
    writeFileSync,
} from "fs";
import { createServer } from "net";
import path from "path";
import { fileURLToPath } from "url";
import { parseArgs } from "util";
import { chromium } from "playwright-core";

const EXT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const REPO = path.resolve(EXT, "..");

const { values: opts } = parseArgs({
    options: {
        "code-server": { type: "string" },
        vsix: { type: "string" },
        server: { type: "string", default: path.join(REPO, ".venv", "bin", "trainlint") },
        chromium: { type: "string", default: process.env.CHROMIUM ?? "/usr/bin/chromium" },
        work: { type: "string", default: path.join(EXT, ".e2e", "run") },
        artifacts: { type: "string", default: path.join(EXT, "test-artifacts") },
        headed: { type: "boolean", default: false },
        // A Python without trainlint (but with its dependencies): enables the "not found, install
        // the bundled wheel" part of the scenario.
        "install-python": { type: "string" },
    },
});
if (opts["install-python"]) opts["install-python"] = path.resolve(opts["install-python"]);
if (!opts["code-server"] || !opts.vsix) {
    console.error("usage: e2e.mjs --code-server PATH --vsix FILE [--server TRAINLINT]");
    process.exit(2);
}

// Timeouts: generous, since a loaded CI machine can be many times slower than a quiet one.
const LONG = Number(process.env.E2E_LONG_MS ?? 180_000); // code-server start, workbench load, first diagnostics (server start-up)
const MEDIUM = 60_000; // UI reactions that involve the server
const WHOLE_RUN = 8 * 60_000; // a hard stop, so that a hang can never block CI

const SCRIPT = `import torch
import torch.nn as nn
import torch.optim as optim

model = nn.Linear(10, 2)
optimizer = optim.SGD(model.parameters(), lr=10.0)
`;

// An unused suppression (TL003), whose safe fix "fix all" applies.
const STALE = `import torch

model = torch.nn.Linear(10, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa: TL101
`;

// A notebook: the learning rate is set in cell 3 and used in cell 4 (cell 2 is markdown).
const NOTEBOOK_CELLS = [
    ["code", "import torch\nfrom torch import nn"],
    ["markdown", "# Training\nA linear model, trained with SGD."],
    ["code", "LR = 10.0"],
    ["code", "model = nn.Linear(10, 2)\noptimizer = torch.optim.SGD(model.parameters(), lr=LR)"],
];

function notebookJson(cells) {
    const document = {
        cells: cells.map(([kind, text], i) => ({
            cell_type: kind,
            id: `cell-${i + 1}`,
            metadata: {},
            source: text.split(/(?<=\n)/),
            ...(kind === "code" ? { execution_count: null, outputs: [] } : {}),
        })),
        metadata: {
            kernelspec: { display_name: "Python 3", language: "python", name: "python3" },
            language_info: { name: "python" },
        },
        nbformat: 4,
        nbformat_minor: 5,
    };
    return JSON.stringify(document, null, 1) + "\n";
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
function log(message) {
    console.log(`[e2e ${elapsed().padStart(6)}] ${message}`);
}

async function step(name, fn) {
    const t0 = Date.now();
    log(`${name} ...`);
    const result = await fn();
    log(`${name}: ok (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    return result;
}

function freePort() {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

/** Polls `check` until it returns a truthy value; `what` names the condition in the error. */
async function waitFor(what, check, timeout = LONG, interval = 250) {
    const deadline = Date.now() + timeout;
    let lastError;
    for (;;) {
        try {
            const value = await check();
            if (value) return value;
        } catch (error) {
            lastError = error;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeout / 1000}s waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`);
        }
        await new Promise((r) => setTimeout(r, interval));
    }
}

function run(command, args, options = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
        let output = "";
        child.stdout.on("data", (d) => (output += d));
        child.stderr.on("data", (d) => (output += d));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(" ")} exited ${code}:\n${output}`))));
    });
}

// ---------------------------------------------------------------------------------------------
// The machine side: a fresh user-data dir, extensions dir and workspace for every run.

const work = opts.work;
const dirs = {
    userData: path.join(work, "user-data"),
    extensions: path.join(work, "extensions"),
    workspace: path.join(work, "workspace"),
    startedFrom: path.join(work, "started-from"),
};
rmSync(work, { recursive: true, force: true });
for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });
// code-server's (and so the extension host's) working directory holds a trainlint source checkout.
symlinkSync(path.join(REPO, "trainlint"), path.join(dirs.startedFrom, "trainlint"));
mkdirSync(opts.artifacts, { recursive: true });
for (const old of readdirSync(opts.artifacts)) {
    if (old.startsWith("vscode-e2e")) rmSync(path.join(opts.artifacts, old), { force: true });
}
writeFileSync(path.join(dirs.workspace, "train.py"), SCRIPT);
writeFileSync(path.join(dirs.workspace, "stale.py"), STALE);
writeFileSync(path.join(dirs.workspace, "saved.py"), STALE.replace("Linear(10, 2)", "Linear(30, 6)"));
writeFileSync(path.join(dirs.workspace, "train2.py"), SCRIPT.replace("nn.Linear(10, 2)", "nn.Linear(20, 4)"));
writeFileSync(path.join(dirs.workspace, "notebook.ipynb"), notebookJson(NOTEBOOK_CELLS));
// A real training script for the explain view (the README's example).
writeFileSync(path.join(dirs.workspace, "cifar_schedules.py"), readFileSync(path.join(REPO, "examples", "buggy", "scheduler_steps.py"), "utf8"));
// A project with its own configuration, which replaces the editor's trainlint.ignore (filesystemFirst).
mkdirSync(path.join(dirs.workspace, "configured"));
writeFileSync(path.join(dirs.workspace, "configured", "pyproject.toml"), '[tool.trainlint]\nselect = ["TL1"]\n');
writeFileSync(path.join(dirs.workspace, "configured", "train3.py"), SCRIPT.replace("lr=10.0", "lr=1e-3, weight_decay=1e-4").replace("SGD", "Adam"));
mkdirSync(path.join(dirs.userData, "User"), { recursive: true });
const userSettings = path.join(dirs.userData, "User", "settings.json");
function writeUserSettings(trainlintSettings) {
    const settings = {
        ...trainlintSettings,
        "trainlint.trace.server": "messages",
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": false,
        "workbench.welcomePage.walkthroughs.openOnInstall": false,
        "workbench.enableExperiments": false,
        "security.workspace.trust.enabled": false,
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "extensions.ignoreRecommendations": true,
        "telemetry.telemetryLevel": "off",
        "update.mode": "none",
        "files.autoSave": "off",
        "editor.minimap.enabled": false,
        "editor.hover.delay": 300,
        "window.commandCenter": false,
        "chat.commandCenter.enabled": false,
        "workbench.reduceMotion": "on",
        "git.enabled": false,
        "git.openRepositoryInParentFolders": "never",
        // source.fixAll.trainlint on save, as the README suggests.
        "editor.codeActionsOnSave": { "source.fixAll.trainlint": "explicit" },
    };
    writeFileSync(userSettings, JSON.stringify(settings, null, 2));
}
// How the extension finds the server in this test: the repository's own trainlint. The rule
// setting is one a new user might set; only configured/pyproject.toml overrides it.
writeUserSettings({ "trainlint.path": [opts.server], "trainlint.ignore": ["TL103"] });
const codeServerConfig = path.join(work, "code-server.yaml");
writeFileSync(codeServerConfig, "auth: none\ncert: false\n");

const codeServerLog = path.join(work, "code-server.log");

/**
 * PATH for code-server (and so for the extension host): without directories that hold a trainlint
 * or belong to a virtual environment, so that only the settings under test can find the server.
 */
function cleanPath() {
    return (process.env.PATH ?? "")
        .split(":")
        .filter((dir) => dir && !existsSync(path.join(dir, "trainlint")) && !existsSync(path.join(dir, "..", "pyvenv.cfg")))
        .join(":");
}
let codeServer;
let browser;
let page;

function findFiles(dir, predicate, found = []) {
    if (!existsSync(dir)) return found;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) findFiles(full, predicate, found);
        else if (predicate(full)) found.push(full);
    }
    return found;
}

function tail(file, lines) {
    const text = readFileSync(file, "utf8").split("\n");
    return text.slice(-lines).join("\n");
}

/** The server's log is the extension's output channel, which VS Code writes to a file. */
function dumpLogs() {
    const logsDir = path.join(dirs.userData, "logs");
    const serverLogs = findFiles(logsDir, (f) => /trainlint/i.test(path.basename(f)) && f.endsWith(".log"));
    const hostLogs = findFiles(logsDir, (f) => /exthost\.log$/.test(path.basename(f)));
    const sections = [
        ...serverLogs.map((f) => ["trainlint output channel (server log)", f, 300]),
        ...hostLogs.map((f) => ["extension host log", f, 80]),
        ["code-server output", codeServerLog, 60],
    ];
    if (serverLogs.length === 0) console.error("e2e: no trainlint output channel log was found: did the extension activate?");
    for (const [title, file, lines] of sections) {
        if (!existsSync(file)) continue;
        console.error(`\n===== ${title}: ${file} (last ${lines} lines)\n${tail(file, lines)}`);
        try {
            copyFileSync(file, path.join(opts.artifacts, `vscode-e2e-${title.split(" ")[0].replace(/\W/g, "")}-${path.basename(file)}`));
        } catch {
            // best effort
        }
    }
}

async function screenshot(name) {
    if (!page) return;
    const file = path.join(opts.artifacts, name);
    try {
        await page.screenshot({ path: file, timeout: 30_000 });
        log(`screenshot: ${path.relative(process.cwd(), file)}`);
    } catch (error) {
        log(`screenshot ${name} failed: ${error.message}`);
    }
}

async function cleanUp() {
    try {
        await browser?.close();
    } catch {
        // already gone
    }
    if (codeServer && codeServer.exitCode === null) {
        // code-server, its extension host and the trainlint server share one process group.
        try {
            process.kill(-codeServer.pid, "SIGTERM");
        } catch {
            // gone
        }
        const deadline = Date.now() + 10_000;
        while (codeServer.exitCode === null && codeServer.signalCode === null && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100));
        }
        try {
            process.kill(-codeServer.pid, "SIGKILL");
        } catch {
            // gone
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The browser side.

/** The text of the editor's visible lines (Monaco renders spaces as no-break spaces). */
async function editorText() {
    return page.locator(".monaco-editor .view-lines").first().evaluate((el) => el.innerText.replace(/\u00a0/g, " "));
}

async function openFile(name, contains) {
    // Quick Open (Ctrl+P); retried because a key press can land while the workbench is still busy.
    await waitFor(
        `${name} to open through Quick Open`,
        async () => {
            await page.keyboard.press("Escape");
            await page.keyboard.press("Control+P");
            const input = page.locator(".quick-input-widget input");
            await input.waitFor({ state: "visible", timeout: 15_000 });
            await input.fill(name);
            const row = page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first();
            await row.waitFor({ state: "visible", timeout: 30_000 });
            await page.keyboard.press("Enter");
            await page.locator(".tab.active", { hasText: name }).waitFor({ state: "visible", timeout: 15_000 });
            return (await editorText()).includes(contains);
        },
        LONG,
        1000,
    );
}

async function runCommand(title) {
    await waitFor(
        `the command "${title}" to run from the Command Palette`,
        async () => {
            await page.keyboard.press("Escape");
            await page.keyboard.press("Control+Shift+P");
            const input = page.locator(".quick-input-widget input");
            await input.waitFor({ state: "visible", timeout: 15_000 });
            await input.fill(`>${title}`);
            const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
            await row.waitFor({ state: "visible", timeout: 15_000 });
            await page.keyboard.press("Enter");
            await input.waitFor({ state: "hidden", timeout: 15_000 });
            return true;
        },
        MEDIUM,
        1000,
    );
}

async function goToPosition(line, column) {
    await waitFor(
        `the cursor to go to ${line}:${column}`,
        async () => {
            await page.keyboard.press("Escape");
            await page.keyboard.press("Control+G");
            const input = page.locator(".quick-input-widget input");
            await input.waitFor({ state: "visible", timeout: 15_000 });
            await input.fill(`:${line}:${column}`);
            await page.keyboard.press("Enter");
            const status = page.locator(".statusbar-item", { hasText: `Ln ${line}, Col ${column}` });
            await status.first().waitFor({ state: "visible", timeout: 15_000 });
            return true;
        },
        MEDIUM,
        1000,
    );
}

async function scenario() {
    const codeServerBin = opts["code-server"];
    const common = ["--config", codeServerConfig, "--user-data-dir", dirs.userData, "--extensions-dir", dirs.extensions];

    if (opts["install-python"]) {
        await step("make sure the Python for the install test has no trainlint", async () => {
            const python = opts["install-python"];
            await run(python, ["-m", "pip", "uninstall", "--quiet", "--disable-pip-version-check", "-y", "trainlint"]).catch(() => undefined);
            const still = await run(python, ["-c", "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('trainlint') else 1)"]).then(
                () => true,
                () => false,
            );
            if (still) throw new Error(`trainlint is still importable in ${python}`);
        });
    }

    await step("install the .vsix into code-server (offline)", async () => {
        const out = await run(codeServerBin, [...common, "--install-extension", opts.vsix]);
        if (!/successfully installed/i.test(out)) throw new Error(`unexpected output:\n${out}`);
    });

    let port;
    await step("start code-server on 127.0.0.1", async () => {
        // A free port can be taken between choosing it and binding it: try again on another.
        for (let attempt = 1; ; attempt++) {
            port = await freePort();
            const logStream = createWriteStream(codeServerLog, { flags: "a" });
            codeServer = spawn(
                codeServerBin,
                [
                    ...common,
                    "--bind-addr",
                    `127.0.0.1:${port}`,
                    "--auth",
                    "none",
                    "--disable-telemetry",
                    "--disable-update-check",
                    "--disable-workspace-trust",
                    "--disable-getting-started-override",
                    dirs.workspace,
                ],
                {
                    cwd: dirs.startedFrom,
                    detached: true,
                    stdio: ["ignore", "pipe", "pipe"],
                    env: { ...process.env, PATH: cleanPath(), XDG_CONFIG_HOME: path.join(work, "xdg-config"), XDG_DATA_HOME: path.join(work, "xdg-data") },
                },
            );
            codeServer.stdout.pipe(logStream);
            codeServer.stderr.pipe(logStream);
            const healthy = await waitFor("code-server to answer /healthz or exit", async () => {
                if (codeServer.exitCode !== null || codeServer.signalCode !== null) return "exited";
                const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
                return response.ok ? "up" : false;
            });
            if (healthy === "up") {
                log(`code-server is up on port ${port}`);
                return;
            }
            if (attempt === 3) throw new Error(`code-server exited with ${codeServer.exitCode ?? codeServer.signalCode} (see its output below)`);
            log(`code-server exited (attempt ${attempt}); trying another port`);
        }
    });
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}`;

    await step("launch Chromium and load the workbench", async () => {
        browser = await chromium.launch({
            executablePath: opts.chromium,
            headless: !opts.headed,
            timeout: LONG,
            args: [
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        });
        const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
        page = await context.newPage();
        page.setDefaultTimeout(MEDIUM);
        await page.goto(url, { timeout: LONG, waitUntil: "domcontentloaded" });
        await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: LONG });
        // The explorer lists the workspace once the folder is open.
        await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "train.py" }).first().waitFor({ state: "visible", timeout: LONG });
    });

    await step("open train.py", () => openFile("train.py", "optim.SGD"));

    await step("wait for trainlint's squiggle", async () => {
        await page.locator(".monaco-editor .squiggly-warning").first().waitFor({ state: "attached", timeout: LONG });
    });

    await step("hover: the diagnostic, the rule's short card, and Quick Fix... in view", async () => {
        const hover = page.locator(".monaco-hover", { hasText: "TL101" }).first();
        await waitFor(
            "a hover with TL101",
            async () => {
                await page.mouse.move(5, 5);
                await page.locator(".monaco-editor .squiggly-warning").first().hover({ force: true, timeout: 10_000 });
                await hover.waitFor({ state: "visible", timeout: 10_000 });
                const text = await hover.innerText();
                // The diagnostic's message (VS Code's part), and the server's card for the rule.
                return /learning rate 10\.0/.test(text) && /learning-rate-too-high/.test(text) && /Quick Fix/.test(text);
            },
            MEDIUM,
            500,
        );
        const text = await hover.innerText();
        for (const expected of ["The learning rate scales every update", "Full rule page", "trainlint rule TL101"]) {
            if (!text.includes(expected)) throw new Error(`the hover lacks ${JSON.stringify(expected)}:\n${text}`);
        }
        if (/Default limits|Fix safety/.test(text)) throw new Error(`the hover shows the whole rule page:\n${text}`);
        // "Quick Fix..." is on screen without scrolling the hover.
        const quickFix = hover.locator(".action", { hasText: "Quick Fix" }).first();
        const [box, hoverBox] = [await quickFix.boundingBox(), await hover.boundingBox()];
        const viewport = page.viewportSize();
        if (!box || !hoverBox || box.y < hoverBox.y || box.y + box.height > Math.min(hoverBox.y + hoverBox.height, viewport.height) + 1) {
            throw new Error(`"Quick Fix..." is out of view: ${JSON.stringify({ box, hoverBox, viewport })}`);
        }
        log(`hover: ${text.length} characters: ${text.replace(/\s+/g, " ").slice(0, 160)}...`);
        await screenshot("vscode-e2e-hover.png");
        await page.keyboard.press("Escape");
        await page.mouse.move(5, 5);
    });

    await step("the Problems panel lists TL101 from trainlint", async () => {
        await page.keyboard.press("Control+Shift+M");
        const row = page.locator(".markers-panel .monaco-list-row", { hasText: "TL101" }).first();
        await row.waitFor({ state: "visible", timeout: MEDIUM });
        const text = await row.innerText();
        for (const expected of ["trainlint", "TL101", "learning rate"]) {
            if (!text.includes(expected)) throw new Error(`Problems row lacks ${JSON.stringify(expected)}: ${text}`);
        }
        log(`Problems: ${text.replace(/\s+/g, " ").trim()}`);
    });

    await screenshot("vscode-e2e-diagnostics.png");

    await step("apply the quick fix 'Set the learning rate to 0.1'", async () => {
        // Put the cursor inside `10.0` (line 6, column 47) in the editor, then Ctrl+. for quick fixes.
        await page.locator(".monaco-editor .view-lines").first().click();
        await goToPosition(6, 47);
        const item = page.locator(".action-widget .monaco-list-row", { hasText: "Set the learning rate to 0.1" }).first();
        await waitFor(
            "the quick-fix menu with trainlint's fix",
            async () => {
                await page.keyboard.press("Escape");
                await page.keyboard.press("Control+.");
                await item.waitFor({ state: "visible", timeout: 15_000 });
                return true;
            },
            MEDIUM,
            1000,
        );
        const menu = (await page.locator(".action-widget").first().innerText()).replace(/\s+/g, " ");
        log(`quick fixes: ${menu}`);
        if (!/Disable TL101/.test(menu)) throw new Error(`no "Disable TL101 for this line" action in the menu: ${menu}`);
        // Chose with the keyboard: the menu's pointer block can intercept a synthetic click.
        await waitFor(
            "trainlint's fix to be the focused menu entry",
            async () => {
                const focused = page.locator(".action-widget .monaco-list-row.focused").first();
                if (/Set the learning rate to 0\.1/.test(await focused.innerText({ timeout: 5000 }))) return true;
                await page.keyboard.press("ArrowDown");
                return false;
            },
            MEDIUM,
            300,
        );
        await page.keyboard.press("Enter");
        await waitFor("the editor to read lr=0.1", async () => /lr=0\.1\)/.test(await editorText()), MEDIUM);
        const text = await editorText();
        if (!text.includes("optimizer = optim.SGD(model.parameters(), lr=0.1)")) throw new Error(`unexpected editor text:\n${text}`);
    });

    await step("the warning goes away", async () => {
        await waitFor(
            "no squiggle and no TL101 in the Problems panel",
            async () =>
                (await page.locator(".monaco-editor .squiggly-warning").count()) === 0 &&
                (await page.locator(".markers-panel .monaco-list-row", { hasText: "TL101" }).count()) === 0,
            MEDIUM,
        );
    });

    await screenshot("vscode-e2e-fixed.png");

    await step("open stale.py: an unused suppression (TL003)", async () => {
        await openFile("stale.py", "noqa: TL101");
        await page.locator(".markers-panel .monaco-list-row", { hasText: "TL003" }).first().waitFor({ state: "visible", timeout: LONG });
    });

    await step("the command 'trainlint: Fix All Auto-Fixable Problems' removes it", async () => {
        await page.locator(".monaco-editor .view-lines").first().click();
        await runCommand("trainlint: Fix All Auto-Fixable Problems");
        await waitFor("the editor text without the noqa comment", async () => {
            const text = await editorText();
            return text.includes("lr=0.1)") && !text.includes("noqa");
        }, MEDIUM);
        await waitFor("TL003 to leave the Problems panel", async () =>
            (await page.locator(".markers-panel .monaco-list-row", { hasText: "TL003" }).count()) === 0, MEDIUM);
    });

    await step("saving saved.py applies source.fixAll.trainlint (editor.codeActionsOnSave)", async () => {
        await openFile("saved.py", "Linear(30, 6)");
        await page.locator(".markers-panel .monaco-list-row", { hasText: "TL003" }).first().waitFor({ state: "visible", timeout: LONG });
        await page.locator(".monaco-editor .view-lines").first().click();
        await page.keyboard.press("Control+S");
        await waitFor("the saved file without the noqa comment", async () => {
            const onDisk = readFileSync(path.join(dirs.workspace, "saved.py"), "utf8");
            return onDisk.includes("lr=0.1)") && !onDisk.includes("noqa");
        }, MEDIUM);
    });

    await step("a configuration file that replaces trainlint.ignore: one notification names it", async () => {
        await openFile("train3.py", "weight_decay");
        // TL103 is reported although the user setting ignores it: configured/pyproject.toml applies instead.
        await page.locator(".markers-panel .monaco-list-row", { hasText: "TL103" }).first().waitFor({ state: "visible", timeout: LONG });
        const toast = page.locator(".notification-toast", { hasText: "is not used for the files" }).first();
        await toast.waitFor({ state: "visible", timeout: MEDIUM });
        const text = (await toast.innerText()).replace(/\s+/g, " ");
        log(`notification: ${text}`);
        for (const expected of ["trainlint.ignore is not used", "configured/pyproject.toml", "filesystemFirst", "editorFirst"]) {
            if (!text.includes(expected)) throw new Error(`the notification lacks ${JSON.stringify(expected)}: ${text}`);
        }
        // Expanded, so that the screenshot shows the whole message.
        await toast.hover();
        await toast.locator(".codicon-notifications-expand").first().click();
        await screenshot("vscode-e2e-settings-notice.png");
        await runCommand("Notifications: Show Notifications");
        const center = page.locator(".notifications-center .notification-list-item", { hasText: "is not used for the files" });
        await center.first().waitFor({ state: "visible", timeout: MEDIUM });
        if ((await center.count()) !== 1) throw new Error(`expected the notification once, saw it ${await center.count()} times`);
        await runCommand("Notifications: Clear All Notifications");
    });

    await notebookScenario();
    await explainScenario();

    if (!opts["install-python"]) {
        log("no --install-python: skipping the install-from-the-bundled-wheel part");
        await checkNoCancelWarnings();
        return;
    }

    await step("a settings change restarts the server; without trainlint: one notification", async () => {
        // Workspace settings (code-server does not notice a user settings.json changed on disk):
        // trainlint.path is emptied and trainlint.interpreter names a Python without trainlint.
        mkdirSync(path.join(dirs.workspace, ".vscode"), { recursive: true });
        writeFileSync(
            path.join(dirs.workspace, ".vscode", "settings.json"),
            JSON.stringify({ "trainlint.path": [], "trainlint.interpreter": [opts["install-python"]] }, null, 2),
        );
        const toast = page.locator(".notification-toast", { hasText: "trainlint language server was not found" });
        await toast.first().waitFor({ state: "visible", timeout: LONG });
        const text = (await toast.first().innerText()).replace(/\s+/g, " ");
        log(`notification: ${text}`);
        if (!text.includes(opts["install-python"])) throw new Error(`the notification does not name the interpreter: ${text}`);
        await toast.first().locator(".monaco-button", { hasText: "Install trainlint" }).first().waitFor({ state: "visible", timeout: MEDIUM });
        const count = await page.locator(".notification-toast", { hasText: "trainlint" }).count();
        if (count !== 1) throw new Error(`expected one trainlint notification, saw ${count}`);
    });

    await screenshot("vscode-e2e-not-found.png");

    await step("'Install trainlint' installs the bundled wheel and starts the server", async () => {
        await page
            .locator(".notification-toast", { hasText: "trainlint language server was not found" })
            .first()
            .locator(".monaco-button", { hasText: "Install trainlint" })
            .first()
            .click();
        await openFile("train2.py", "nn.Linear(20, 4)");
        await page.locator(".monaco-editor .squiggly-warning").first().waitFor({ state: "attached", timeout: LONG });
        await page.locator(".markers-panel .monaco-list-row", { hasText: "TL101" }).first().waitFor({ state: "visible", timeout: MEDIUM });
    });

    await screenshot("vscode-e2e-installed.png");

    await step("no setting and no virtualenv on PATH: the workspace's .venv is found, and the log says why", async () => {
        // The Python the previous step installed trainlint into becomes the workspace's .venv.
        const venv = path.join(dirs.workspace, ".venv");
        symlinkSync(path.dirname(path.dirname(opts["install-python"])), venv);
        writeFileSync(path.join(dirs.workspace, ".vscode", "settings.json"), JSON.stringify({ "trainlint.path": [] }, null, 2));
        const chosen = `Chose ${path.join(venv, "bin", "python")}: the workspace's own virtualenv has trainlint installed`;
        await waitFor("the log to name the workspace's .venv", () => serverLog().includes(chosen), LONG);
        await waitFor("the server from the .venv to run", () => serverLog().includes("The server is running (workspace virtualenv)"), LONG);
        await page.locator(".markers-panel .monaco-list-row", { hasText: "TL101" }).first().waitFor({ state: "visible", timeout: MEDIUM });
        const lines = serverLog().split("\n").filter((l) => /Passed over|Chose /.test(l));
        log(`log: ${lines.slice(-4).join(" | ")}`);
    });

    await step("a server that cannot start: one notification, no restart loop", async () => {
        const broken = path.join(work, "broken-trainlint");
        writeFileSync(broken, "#!/bin/sh\necho 'trainlint: error: no server here' >&2\nexit 2\n", { mode: 0o755 });
        writeFileSync(
            path.join(dirs.workspace, ".vscode", "settings.json"),
            JSON.stringify({ "trainlint.path": [broken], "trainlint.interpreter": [opts["install-python"]] }, null, 2),
        );
        const toast = page.locator(".notification-toast", { hasText: "did not start" }).first();
        await toast.waitFor({ state: "visible", timeout: LONG });
        // The log shows the whole story once the client has given up on this server.
        await runCommand("trainlint: Show Logs");
        const output = page.locator('[id="workbench.panel.output"] .view-lines').first();
        await waitFor("the log to show the server's error and no restart", async () => {
            const text = (await output.innerText()).replace(/\u00a0/g, " ");
            return text.includes("no server here") && text.includes("will not be restarted");
        }, MEDIUM);
        // Toasts hide themselves; the notification center keeps every notification.
        await runCommand("Notifications: Show Notifications");
        const center = page.locator(".notifications-center .notification-list-item");
        await center.first().waitFor({ state: "visible", timeout: MEDIUM });
        const texts = (await center.allInnerTexts()).map((t) => t.replace(/\s+/g, " ")).filter((t) => t.includes("trainlint"));
        log(`notifications: ${JSON.stringify(texts)}`);
        if (texts.length !== 1 || !texts[0].includes("did not start")) {
            throw new Error(`expected one trainlint notification (did not start), saw ${texts.length}`);
        }
    });

    await screenshot("vscode-e2e-broken-server.png");
    await checkNoCancelWarnings();
}

/** The notebook editor's code cells, in order: each one's row and the text of its editor. */
async function notebookCells() {
    const rows = page.locator(".notebook-editor .cell-list-container .monaco-list-row.code-cell-row");
    const out = [];
    for (let i = 0; i < (await rows.count()); i++) {
        const row = rows.nth(i);
        const text = (await row.locator(".cell-editor-container .view-lines").first().innerText()).replace(/\u00a0/g, " ");
        out.push({ row, text, squiggles: await row.locator(".squiggly-warning").count() });
    }
    return out;
}

async function notebookScenario() {
    const file = path.join(dirs.workspace, "notebook.ipynb");
    const sources = () => JSON.parse(readFileSync(file, "utf8")).cells.map((c) => [c.cell_type, [].concat(c.source).join("")]);

    await step("open notebook.ipynb in VS Code's notebook editor", async () => {
        await waitFor(
            "notebook.ipynb to open through Quick Open",
            async () => {
                await page.keyboard.press("Escape");
                await page.keyboard.press("Control+P");
                const input = page.locator(".quick-input-widget input");
                await input.waitFor({ state: "visible", timeout: 15_000 });
                await input.fill("notebook.ipynb");
                const row = page.locator(".quick-input-list .monaco-list-row", { hasText: "notebook.ipynb" }).first();
                await row.waitFor({ state: "visible", timeout: 30_000 });
                await page.keyboard.press("Enter");
                await page.locator(".tab.active", { hasText: "notebook.ipynb" }).waitFor({ state: "visible", timeout: 15_000 });
                const cells = await notebookCells();
                return cells.length === 3 && cells[2].text.includes("optimizer = torch.optim.SGD");
            },
            LONG,
            1000,
        );
    });

    await step("the squiggle is in the cell that uses the learning rate (cell 4), its message names cell 3", async () => {
        await waitFor("a squiggle in the notebook", async () => (await notebookCells()).some((c) => c.squiggles > 0), LONG);
        const cells = await notebookCells();
        const marked = cells.map((c) => c.squiggles > 0);
        if (JSON.stringify(marked) !== JSON.stringify([false, false, true])) {
            throw new Error(`squiggles in the wrong cells: ${JSON.stringify(cells.map((c) => [c.text, c.squiggles]))}`);
        }
        await page.keyboard.press("Control+Shift+M");
        const problem = page.locator(".markers-panel .monaco-list-row", { hasText: "line 1 of cell 3" }).first();
        await problem.waitFor({ state: "visible", timeout: MEDIUM });
        log(`Problems: ${(await problem.innerText()).replace(/\s+/g, " ").trim()}`);
    });

    await screenshot("vscode-e2e-notebook.png");

    await step("the quick fix in cell 4 edits cell 3", async () => {
        const cells = await notebookCells();
        const squiggle = cells[2].row.locator(".squiggly-warning").first();
        const box = await squiggle.boundingBox();
        if (!box) throw new Error("the squiggle has no box");
        const item = page.locator(".action-widget .monaco-list-row", { hasText: "Set the learning rate to 0.1" }).first();
        await waitFor(
            "the quick-fix menu with trainlint's fix",
            async () => {
                await page.keyboard.press("Escape");
                await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
                await page.keyboard.press("Control+.");
                await item.waitFor({ state: "visible", timeout: 15_000 });
                return true;
            },
            MEDIUM,
            1000,
        );
        const menu = (await page.locator(".action-widget").first().innerText()).replace(/\s+/g, " ");
        log(`quick fixes: ${menu}`);
        if (!/line 1 of cell 3/.test(menu) || !/Disable TL101/.test(menu)) throw new Error(`unexpected quick fixes: ${menu}`);
        await waitFor(
            "trainlint's fix to be the focused menu entry",
            async () => {
                const focused = page.locator(".action-widget .monaco-list-row.focused").first();
                if (/Set the learning rate to 0\.1/.test(await focused.innerText({ timeout: 5000 }))) return true;
                await page.keyboard.press("ArrowDown");
                return false;
            },
            MEDIUM,
            300,
        );
        await page.keyboard.press("Enter");
        await waitFor("cell 3 to read LR = 0.1 and no squiggle left", async () => {
            const after = await notebookCells();
            return after[1].text.trim() === "LR = 0.1" && after.every((c) => c.squiggles === 0);
        }, MEDIUM);
    });

    await screenshot("vscode-e2e-notebook-fixed.png");

    await step("save: on disk, only cell 3's source changed", async () => {
        await page.keyboard.press("Control+S");
        const expected = NOTEBOOK_CELLS.map(([kind, text]) => [kind, text === "LR = 10.0" ? "LR = 0.1" : text]);
        await waitFor("the saved notebook", async () => JSON.stringify(sources()) === JSON.stringify(expected), MEDIUM);
        await page.keyboard.press("Escape");
    });
}

/** The text of the explain webview's page once it holds `contains` (the page is two iframes deep). */
async function explainReport(contains, timeout = MEDIUM) {
    return waitFor(
        `the explain view to show ${JSON.stringify(contains)}`,
        async () => {
            for (const frame of page.frames()) {
                const text = await frame.evaluate(() => document.body?.innerText ?? "").catch(() => "");
                if (text.startsWith("trainlint explain") && text.includes(contains)) return { frame, text };
            }
            return false;
        },
        timeout,
        500,
    );
}

/** Hides the part (the sidebar, the bottom panel) with the key that toggles it, if it is shown. */
async function hidePart(selector, key) {
    const part = page.locator(selector).first();
    if (await part.isVisible()) {
        await page.keyboard.press(key);
        await part.waitFor({ state: "hidden", timeout: MEDIUM });
    }
}

/** Closes the explain view's tab; its editor group goes with it. */
async function closeExplainTab(title) {
    const tab = page.locator(".editor-group-container .tab", { hasText: title }).first();
    await tab.hover();
    await tab.locator(".tab-actions .action-label").first().click();
    await waitFor("one editor group", async () => (await page.locator(".editor-group-container").count()) === 1, MEDIUM);
}

async function explainScenario() {
    const file = path.join(dirs.workspace, "cifar_schedules.py");
    await step("open cifar_schedules.py, with room for the code and its report", async () => {
        await openFile("cifar_schedules.py", "CIFAR-10 training");
        // Its findings are far down the file, out of view: the Problems panel lists them.
        await page.locator(".markers-panel .monaco-list-row", { hasText: "TL203" }).first().waitFor({ state: "visible", timeout: LONG });
        await page.locator(".monaco-editor .view-lines").first().click();
        await hidePart(".part.sidebar", "Control+B");
        await hidePart(".part.panel", "Control+J");
        await goToPosition(43, 1); // the optimizer and its schedulers in view
    });

    await step('"trainlint: Explain this training script" opens the report beside the code', async () => {
        await runCommand("trainlint: Explain this training script");
        const { frame, text } = await explainReport("1. Learning rate and optimizer steps: problem", LONG);
        for (const expected of [
            "SGD (line 42): lr 0.1",
            "TL203 (warning, line 56)",
            "Learning rate of CosineAnnealingLR (line 43), stepped per batch",
            "Explained at",
            "4. Architecture: ok",
        ]) {
            if (!text.includes(expected)) throw new Error(`the report lacks ${JSON.stringify(expected)}:\n${text}`);
        }
        const curves = await frame.locator("svg polyline").count();
        if (curves < 2) throw new Error(`expected the learning-rate curves as SVG, saw ${curves}`);

        // Beside: two editor groups, the code in the first, the report in the second.
        const groups = page.locator(".editor-group-container");
        await waitFor("two editor groups", async () => (await groups.count()) === 2, MEDIUM);
        await groups.nth(0).locator(".tab.active", { hasText: "cifar_schedules.py" }).waitFor({ state: "visible" });
        await groups.nth(1).locator(".tab.active", { hasText: "Explain cifar_schedules.py" }).waitFor({ state: "visible" });
        log(`report: ${text.replace(/\s+/g, " ").slice(0, 200)}...`);
    });

    // The screenshot goes to the test artifacts; the README's copy (docs/images/explain-in-vscode.png)
    // is replaced only when asked, so a test run leaves the checkout as it was.
    await step("screenshot of the report beside the code", async () => {
        await page.mouse.move(5, 5);
        // Tall enough for the report from its title to the first curve, under the findings.
        await page.setViewportSize({ width: 1400, height: 1150 });
        const { frame } = await explainReport("1. Learning rate and optimizer steps: problem");
        await waitFor("the first curve in view", async () => {
            await frame.evaluate(() => document.querySelector("svg")?.scrollIntoView({ block: "end" }));
            return frame.evaluate(() => {
                const box = document.querySelector("svg")?.getBoundingClientRect();
                return box !== undefined && box.bottom <= window.innerHeight + 1 && window.innerHeight > 900;
            });
        }, MEDIUM);
        const shot = path.join(opts.artifacts, "vscode-e2e-explain.png");
        await page.screenshot({ path: shot, timeout: 30_000 });
        await page.setViewportSize({ width: 1400, height: 900 });
        if (process.env.TRAINLINT_UPDATE_SCREENSHOTS === "1") {
            const docs = path.join(REPO, "docs", "images");
            mkdirSync(docs, { recursive: true });
            copyFileSync(shot, path.join(docs, "explain-in-vscode.png"));
        }
        log(`screenshot: ${shot}`);
    });

    await step("an edit changes the report only once saved", async () => {
        await goToPosition(16, 10); // EPOCHS = |200
        await page.keyboard.press("Shift+End");
        await page.keyboard.type("100");
        await waitFor("the edit in the editor", async () => (await editorText()).includes("EPOCHS = 100"), MEDIUM);
        await new Promise((r) => setTimeout(r, 3000)); // time enough for a refresh that should not happen
        await explainReport("T_max=200 (EPOCHS, line 16)");
        await page.keyboard.press("Control+S");
        await waitFor("the saved file", async () => readFileSync(file, "utf8").includes("EPOCHS = 100"), MEDIUM);
        const { text } = await explainReport("T_max=100 (EPOCHS, line 16)");
        if (text.includes("T_max=200")) throw new Error(`the old report is still shown:\n${text}`);
        await closeExplainTab("Explain cifar_schedules.py");
    });

    await step("in a notebook: the report of all its cells, lines cited in their cells", async () => {
        // Its tab is still open from the notebook scenario.
        let seen = "nothing";
        const cells = await waitFor(
            "notebook.ipynb in front, its cells shown",
            async () => {
                await page.locator(".tab", { hasText: "notebook.ipynb" }).first().click();
                const found = await notebookCells();
                seen = JSON.stringify(found.map((c) => c.text));
                return found.length === 3 && found[1].text.includes("LR = 0.1") && found;
            },
            MEDIUM,
            1000,
        ).catch((error) => {
            throw new Error(`${error.message} (cells seen: ${seen})`);
        });
        await cells[2].row.locator(".view-lines").first().click(); // a cell's editor in front
        await runCommand("trainlint: Explain this training script");
        const { text } = await explainReport("SGD (line 2 of cell 4): lr 0.1 (LR, line 1 of cell 3)", LONG);
        if (!text.includes("trainlint explain notebook.ipynb")) throw new Error(`not the notebook's report:\n${text}`);
        await closeExplainTab("Explain notebook.ipynb");
    });

    await step("put the workbench back: the sidebar and the Problems panel shown", async () => {
        await page.keyboard.press("Control+B");
        await page.locator(".part.sidebar").first().waitFor({ state: "visible", timeout: MEDIUM });
        await page.keyboard.press("Control+Shift+M");
        await page.locator(".markers-panel").first().waitFor({ state: "visible", timeout: MEDIUM });
    });
}

/** The extension's output channel (the server's log), as VS Code writes it to disk. */
function serverLog() {
    const files = findFiles(path.join(dirs.userData, "logs"), (f) => /trainlint/i.test(path.basename(f)) && f.endsWith(".log"));
    return files.map((f) => readFileSync(f, "utf8")).join("\n");
}

/** Each start used to log pygls's "Cancel notification for unknown message id" (VS Code cancelling answered pulls). */
async function checkNoCancelWarnings() {
    await step("no server start logged a warning about cancelled requests", async () => {
        const lines = serverLog().split("\n");
        const starts = lines.filter((l) => l.includes("The server is running")).length;
        const cancels = lines.filter((l) => l.includes("'$/cancelRequest'")).length;
        const noise = lines.filter((l) => l.includes("Cancel notification for unknown message id"));
        log(`${starts} server starts, ${cancels} $/cancelRequest sent, ${noise.length} warnings about them`);
        if (starts === 0) throw new Error("no server start in the log: nothing was checked");
        if (noise.length) throw new Error(`pygls's cancel warnings are back:\n${noise.join("\n")}`);
    });
}

const watchdog = setTimeout(async () => {
    console.error(`e2e: the whole run took longer than ${WHOLE_RUN / 1000}s: giving up`);
    await screenshot("vscode-e2e-failure.png");
    dumpLogs();
    await cleanUp();
    process.exit(1);
}, WHOLE_RUN);

let failed = false;
try {
    await scenario();
    log("passed");
} catch (error) {
    failed = true;
    console.error(`\ne2e FAILED at ${elapsed()}: ${error.stack ?? error}`);
    await screenshot("vscode-e2e-failure.png");
    dumpLogs();
} finally {
    clearTimeout(watchdog);
    await cleanUp();
}
console.log(failed ? "e2e: 0 passed, 1 failed" : "e2e: 1 passed, 0 failed");
process.exit(failed ? 1 : 0);
