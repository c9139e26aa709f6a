// The extension's settings: reading them from VS Code's configuration, checking their types,
// and mapping them to what the language server expects. No `vscode` import: unit-tested in Node.

export type RunMode = "onType" | "onSave";
export type SeverityName = "error" | "warning" | "info";
export type ConfigurationPreference = "filesystemFirst" | "editorFirst" | "editorOnly";
export type ShowNotifications = "off" | "onError" | "onWarning" | "always";
export type TraceServer = "off" | "messages" | "verbose";

/** Every `trainlint.*` setting, with types checked and defaults filled in. */
export interface ExtensionSettings {
    enable: boolean;
    path: string[];
    interpreter: string[];
    args: string[];
    run: RunMode;
    select: string[] | null;
    extendSelect: string[];
    ignore: string[];
    severity: Record<string, SeverityName>;
    configurationPreference: ConfigurationPreference;
    inlayHints: boolean;
    shapeHints: boolean;
    showNotifications: ShowNotifications;
    traceServer: TraceServer;
}

/** What the server receives as `initializationOptions.settings` and in `workspace/didChangeConfiguration`. */
export type ServerSettings = Pick<
    ExtensionSettings,
    "enable" | "run" | "select" | "extendSelect" | "ignore" | "severity" | "configurationPreference" | "inlayHints" | "shapeHints"
>;

export const SECTION = "trainlint";

/** Settings whose change needs a new server process; the others are sent to the running one. */
export const RESTART_KEYS = ["enable", "path", "interpreter", "args"] as const;

/** Settings the server reads; a change to one of them is sent with `workspace/didChangeConfiguration`. */
export const SERVER_KEYS = [
    "enable",
    "run",
    "select",
    "extendSelect",
    "ignore",
    "severity",
    "configurationPreference",
    "inlayHints",
    "shapeHints",
] as const;

export const DEFAULTS: ExtensionSettings = {
    enable: true,
    path: [],
    interpreter: [],
    args: [],
    run: "onType",
    select: null,
    extendSelect: [],
    ignore: [],
    severity: {},
    configurationPreference: "filesystemFirst",
    inlayHints: false,
    shapeHints: false,
    showNotifications: "onError",
    traceServer: "off",
};

/** Reads one setting by its key below `trainlint.` (e.g. "path", "trace.server"). */
export type SettingGetter = (key: string) => unknown;

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
    return typeof value === "string" && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

function bool(value: unknown, fallback: boolean): boolean {
    return typeof value === "boolean" ? value : fallback;
}

/** A list of non-empty strings; a lone string is taken as a list of one (a common hand-edit). */
export function stringList(value: unknown): string[] {
    if (typeof value === "string") {
        return value.trim() === "" ? [] : [value.trim()];
    }
    if (!Array.isArray(value)) {
        return [];
    }
    return value.filter((item): item is string => typeof item === "string" && item.trim() !== "").map((s) => s.trim());
}

/** Rule selectors: "TL101, TL2" in one entry is split as the command line splits it. */
export function selectorList(value: unknown): string[] {
    return stringList(value)
        .flatMap((entry) => entry.split(","))
        .map((s) => s.trim())
        .filter((s) => s !== "");
}

const SEVERITIES: readonly SeverityName[] = ["error", "warning", "info"];

/** `{"TL101": "error"}`; "information" and "hint" are accepted as "info", unknown values dropped. */
export function severityMap(value: unknown): Record<string, SeverityName> {
    const result: Record<string, SeverityName> = {};
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return result;
    }
    for (const [selector, level] of Object.entries(value as Record<string, unknown>)) {
        if (typeof level !== "string" || selector.trim() === "") {
            continue;
        }
        const normal = level.trim().toLowerCase();
        const mapped = normal === "information" || normal === "hint" ? "info" : normal;
        if ((SEVERITIES as readonly string[]).includes(mapped)) {
            result[selector.trim()] = mapped as SeverityName;
        }
    }
    return result;
}

export function readSettings(get: SettingGetter): ExtensionSettings {
    const select = get("select");
    return {
        enable: bool(get("enable"), DEFAULTS.enable),
        path: stringList(get("path")),
        interpreter: stringList(get("interpreter")),
        args: stringList(get("args")),
        run: oneOf(get("run"), ["onType", "onSave"], DEFAULTS.run),
        select: select === null || select === undefined ? null : selectorList(select),
        extendSelect: selectorList(get("extendSelect")),
        ignore: selectorList(get("ignore")),
        severity: severityMap(get("severity")),
        configurationPreference: oneOf(
            get("configurationPreference"),
            ["filesystemFirst", "editorFirst", "editorOnly"],
            DEFAULTS.configurationPreference,
        ),
        inlayHints: bool(get("inlayHints"), DEFAULTS.inlayHints),
        shapeHints: bool(get("shapeHints"), DEFAULTS.shapeHints),
        showNotifications: oneOf(
            get("showNotifications"),
            ["off", "onError", "onWarning", "always"],
            DEFAULTS.showNotifications,
        ),
        traceServer: oneOf(get("trace.server"), ["off", "messages", "verbose"], DEFAULTS.traceServer),
    };
}

export function toServerSettings(settings: ExtensionSettings): ServerSettings {
    return {
        enable: settings.enable,
        run: settings.run,
        select: settings.select === null ? null : [...settings.select],
        extendSelect: [...settings.extendSelect],
        ignore: [...settings.ignore],
        severity: { ...settings.severity },
        configurationPreference: settings.configurationPreference,
        inlayHints: settings.inlayHints,
        shapeHints: settings.shapeHints,
    };
}

/** `initializationOptions` of the `initialize` request. */
export function initializationOptions(settings: ExtensionSettings): { settings: ServerSettings } {
    return { settings: toServerSettings(settings) };
}

/** The body of `workspace/didChangeConfiguration`. */
export function didChangeConfigurationParams(settings: ExtensionSettings): { settings: { trainlint: ServerSettings } } {
    return { settings: { trainlint: toServerSettings(settings) } };
}

/** What a configuration change means, given VS Code's `affectsConfiguration` for full keys. */
export function classifyChange(affects: (fullKey: string) => boolean): "restart" | "notify" | "none" {
    if (RESTART_KEYS.some((key) => affects(`${SECTION}.${key}`))) {
        return "restart";
    }
    if (affects(SECTION)) {
        return "notify";
    }
    return "none";
}

export type NotificationLevel = "error" | "warning" | "info";

/** Whether a notification of this level is shown under `trainlint.showNotifications`. */
export function shouldNotify(setting: ShowNotifications, level: NotificationLevel): boolean {
    switch (setting) {
        case "off":
            return false;
        case "onError":
            return level === "error";
        case "onWarning":
            return level === "error" || level === "warning";
        case "always":
            return true;
    }
}

export interface VariableContext {
    workspaceFolder?: string;
    userHome?: string;
    env: Record<string, string | undefined>;
}

/**
 * Expands `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and a leading `~` in a path setting,
 * as VS Code users expect from other extensions. Unknown variables are left as written.
 */
export function resolveVariables(value: string, ctx: VariableContext): string {
    let result = value.replace(/\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (whole: string, name: string, envName: string | undefined) => {
        if (envName !== undefined) {
            return ctx.env[envName] ?? "";
        }
        if (name === "workspaceFolder") {
            return ctx.workspaceFolder ?? whole;
        }
        return ctx.userHome ?? whole;
    });
    if (ctx.userHome && (result === "~" || result.startsWith("~/") || result.startsWith("~\\"))) {
        result = ctx.userHome + result.slice(1);
    }
    return result;
}

/**
 * A path setting after variable expansion: a relative path with a directory part
 * (".venv/bin/python") is taken from the workspace folder; a bare name ("python3") is left for
 * a PATH lookup.
 */
export function resolvePathSetting(value: string, ctx: VariableContext, isAbsolute: (p: string) => boolean, join: (...p: string[]) => string): string {
    const expanded = resolveVariables(value, ctx);
    const hasDirectory = expanded.includes("/") || expanded.includes("\\");
    if (!hasDirectory || isAbsolute(expanded) || ctx.workspaceFolder === undefined) {
        return expanded;
    }
    return join(ctx.workspaceFolder, expanded);
}
