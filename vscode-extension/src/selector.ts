// The documents the client serves: Python files, and the Python cells of Jupyter notebooks in VS
// Code's own notebook editor (vscode-languageclient syncs those through LSP's notebook document
// sync when the server declares it). No `vscode` import: unit-tested in Node.

/** VS Code's notebook type for .ipynb files; the server's notebookDocumentSync names the same. */
export const NOTEBOOK_TYPE = "jupyter-notebook";

export const DOCUMENT_SELECTOR = [
    { scheme: "file", language: "python" },
    { scheme: "untitled", language: "python" },
    { notebook: NOTEBOOK_TYPE, language: "python" },
];
