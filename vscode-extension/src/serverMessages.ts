// The server's own notifications (window/showMessage). No `vscode` import: unit-tested in Node.

/** LSP's MessageType: Error 1, Warning 2, Info 3, Log 4. */
export const ERROR = 1;

/**
 * Whether a server message pops up or only goes to the log. The server is restarted whenever a
 * setting that chooses it changes, and a new server would repeat what the last one said (the
 * configuration file that replaces the editor's rule settings, for one): warnings and information
 * appear once per window; errors every time the server reports them.
 */
export class ServerMessages {
    private readonly shown = new Set<string>();

    shouldShow(type: number, text: string): boolean {
        if (type === ERROR) {
            return true;
        }
        if (this.shown.has(text)) {
            return false;
        }
        this.shown.add(text);
        return true;
    }
}
