"""Notebook documents (LSP 3.17 notebook sync): a notebook's code cells as one script, and
positions between that script and each cell's own text document."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import Workspace

from trainlint.cells import Script
from trainlint.diagnostics import Span
from trainlint.source import LineIndex

# VS Code's Jupyter notebooks. Every cell is synced (markdown ones too), so that cell numbers in
# messages count cells as the notebook file does; only Python code cells are linted.
NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[
        types.NotebookDocumentFilterWithNotebook(notebook="jupyter-notebook", cells=[types.NotebookCellLanguage(language="*")])
    ],
    save=True,
)


class CellMap:
    """A notebook's script and its code cells' documents: `place` turns a script range into (the
    cell's uri, its text's line index, the range in the cell), `script_position` the other way."""

    def __init__(self, uri: str, version: int, cells: list[tuple[int, str, str]]) -> None:
        self.uri = uri
        self.version = version
        self.key = tuple(cells)  # what the lint depends on
        self.texts = {cell_uri: text for _, cell_uri, text in cells}  # every code cell, linted or not
        self.script = Script((number, text) for number, _, text in cells)
        self.uri_of = {number: cell_uri for number, cell_uri, _ in cells}
        self._number_of = {cell_uri: number for number, cell_uri, _ in cells}
        self._cells = {cell.number: cell for cell in self.script.cells}
        self._indexes: dict[str, LineIndex] = {}

    @classmethod
    def of(cls, workspace: Workspace, notebook: types.NotebookDocument) -> CellMap:
        cells = []
        for number, cell in enumerate(notebook.cells, start=1):
            if cell.kind != types.NotebookCellKind.Code:
                continue
            document = workspace.get_text_document(cell.document)
            if document.language_id in (None, "python"):
                cells.append((number, cell.document, document.source))
        return cls(notebook.uri, notebook.version, cells)

    def index(self, cell_uri: str) -> LineIndex:
        if cell_uri not in self._indexes:
            self._indexes[cell_uri] = LineIndex(self.texts[cell_uri])
        return self._indexes[cell_uri]

    def place(self, span: Span) -> tuple[str, LineIndex, Span]:
        number, local = self.script.local(span)
        cell_uri = self.uri_of[number]
        return cell_uri, self.index(cell_uri), local

    def script_position(self, cell_uri: str, line: int, column: int) -> tuple[int, int] | None:
        """A cell's (1-based line, column) in the script; None for a cell that is not linted."""
        cell = self._cells.get(self._number_of.get(cell_uri, 0))
        if cell is None:
            return None
        return cell.line + line - 1, column

    def cell_lines(self, cell_uri: str) -> tuple[int, int] | None:
        """The script lines of a cell (first, last)."""
        cell = self._cells.get(self._number_of.get(cell_uri, 0))
        return (cell.line, cell.line + max(cell.lines, 1) - 1) if cell is not None else None

    def number(self, cell_uri: str) -> int | None:
        return self._number_of.get(cell_uri)
