"""The language server's notebook support (LSP 3.17 notebook document sync) and its incremental
sync, through pytest-lsp's real client over stdio: diagnostics per cell (also when another cell's
edit changes them), ranged changes applied in place in cells and plain files, structure changes,
quick fixes, "disable for this line" and fix-all across cells, hover and inlay hints in cells,
save and close."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types
from test_server import actions_for, apply, cli_json, codes, diagnostics_until, explain, lsp, open_doc, start, until

__all__ = ["lsp"]  # the fixture, shared with test_server

IMPORTS = "import torch\nfrom torch import nn\n"
NOTEBOOK_CAPABILITIES = types.NotebookDocumentClientCapabilities(
    synchronization=types.NotebookDocumentSyncClientCapabilities(dynamic_registration=True, execution_summary_support=True)
)


class Notebook:
    """A notebook as VS Code syncs it: a notebook document and one text document per cell."""

    def __init__(self, client, path: Path, cells: list) -> None:
        self.client = client
        self.uri = path.as_uri()
        self.version = 1
        self.cells: list[types.NotebookCell] = []
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.counter = 0
        items = [self._cell(cell) for cell in cells]
        client.notebook_document_did_open(
            types.DidOpenNotebookDocumentParams(
                notebook_document=types.NotebookDocument(
                    uri=self.uri, notebook_type="jupyter-notebook", version=1, cells=list(self.cells)
                ),
                cell_text_documents=items,
            )
        )

    def _cell(self, cell) -> types.TextDocumentItem:
        kind, language, text = ("code", "python", cell) if isinstance(cell, str) else cell
        self.counter += 1
        uri = f"vscode-notebook-cell:{Path(self.uri[7:]).as_posix()}#W{self.counter}sZmlsZQ%3D%3D"
        cell_kind = types.NotebookCellKind.Code if kind == "code" else types.NotebookCellKind.Markup
        self.cells.append(types.NotebookCell(kind=cell_kind, document=uri))
        self.texts[uri] = text
        self.versions[uri] = 1
        return types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)

    def uri_of(self, number: int) -> str:
        return self.cells[number - 1].document

    def edit(self, number: int, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """A ranged change of one cell, as VS Code sends every edit of a cell."""
        uri = self.uri_of(number)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(*start), types.Position(*end)), text=text
        )
        self.texts[uri] = apply(self.texts[uri], [types.TextEdit(change.range, text)])
        self.versions[uri] += 1
        self._change(
            types.NotebookDocumentCellChanges(
                text_content=[
                    types.NotebookDocumentCellContentChanges(
                        document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), changes=[change]
                    )
                ]
            )
        )

    def insert(self, index: int, cell) -> str:
        item = self._cell(cell)
        new = self.cells.pop()
        self.cells.insert(index, new)
        array = types.NotebookCellArrayChange(start=index, delete_count=0, cells=[new])
        self._change(
            types.NotebookDocumentCellChanges(structure=types.NotebookDocumentCellChangeStructure(array, did_open=[item]))
        )
        return item.uri

    def delete(self, number: int) -> str:
        cell = self.cells.pop(number - 1)
        array = types.NotebookCellArrayChange(start=number - 1, delete_count=1, cells=[])
        closed = [types.TextDocumentIdentifier(cell.document)]
        self._change(
            types.NotebookDocumentCellChanges(structure=types.NotebookDocumentCellChangeStructure(array, did_close=closed))
        )
        return cell.document

    def _change(self, cells: types.NotebookDocumentCellChanges) -> None:
        self.version += 1
        self.client.notebook_document_did_change(
            types.DidChangeNotebookDocumentParams(
                notebook_document=types.VersionedNotebookDocumentIdentifier(version=self.version, uri=self.uri),
                change=types.NotebookDocumentChangeEvent(cells=cells),
            )
        )

    def save(self) -> None:
        self.client.notebook_document_did_save(types.DidSaveNotebookDocumentParams(types.NotebookDocumentIdentifier(self.uri)))

    def close(self) -> None:
        self.client.notebook_document_did_close(
            types.DidCloseNotebookDocumentParams(
                notebook_document=types.NotebookDocumentIdentifier(self.uri),
                cell_text_documents=[types.TextDocumentIdentifier(c.document) for c in self.cells],
            )
        )


async def start_notebooks(client, root: Path, **kwargs):
    original = client.initialize_session

    async def with_notebooks(params: types.InitializeParams):
        params.capabilities.notebook_document = NOTEBOOK_CAPABILITIES
        return await original(params)

    client.initialize_session = with_notebooks
    return await start(client, root, **kwargs)


async def published(client, uri: str, predicate) -> list[types.Diagnostic]:
    """The diagnostics last published for `uri`, once they satisfy `predicate` (a notebook's cells
    are published in a burst, which waiting for the next notification would miss)."""
    await until(lambda: uri in client.diagnostics and predicate(list(client.diagnostics[uri])))
    return list(client.diagnostics[uri])


def positions(diagnostics) -> list[tuple[str, int, int, int]]:
    return [(d.code, d.range.start.line, d.range.start.character, d.range.end.character) for d in diagnostics]


CELLS = [IMPORTS, ("markdown", "markdown", "# Training\nwith *high* rates"), "LR = 10", "opt = torch.optim.SGD(p, lr=LR)"]


async def test_capabilities_notebook_sync_with_save_and_incremental_text_sync(lsp, tmp_path):
    result = await start_notebooks(lsp, tmp_path)
    sync = result.capabilities.notebook_document_sync
    assert sync.save is True
    (selector,) = sync.notebook_selector
    assert selector.notebook == "jupyter-notebook" and [c.language for c in selector.cells] == ["*"]
    assert result.capabilities.text_document_sync.change == types.TextDocumentSyncKind.Incremental


async def test_diagnostics_per_cell_and_an_edit_in_one_cell_changes_another(lsp, tmp_path):
    await start_notebooks(lsp, tmp_path)
    notebook = Notebook(lsp, tmp_path / "train.ipynb", CELLS)
    (d,) = await published(lsp, notebook.uri_of(4), lambda ds: len(ds) == 1)
    assert positions([d]) == [("TL101", 0, 25, 30)], "in the cell's own lines and columns"
    assert d.message.startswith("SGD learning rate 10.0 (LR, line 1 of cell 3) is at or above 1.0")
    assert list(lsp.diagnostics.get(notebook.uri_of(3), [])) == []
    notebook.edit(3, (0, 5), (0, 7), "0.1")  # a ranged change of cell 3: `LR = 0.1`
    await published(lsp, notebook.uri_of(4), lambda ds: ds == [])
    notebook.edit(3, (0, 5), (0, 8), "5")
    await published(lsp, notebook.uri_of(4), lambda ds: codes(ds) == ["TL101"])


async def test_ranged_changes_in_a_cell_are_applied_in_place(lsp, tmp_path):
    """The trap of Full sync: VS Code sends cell edits as ranged changes whatever the server asks,
    and pygls applied them as whole-text replacements (the cell became "10")."""
    await start_notebooks(lsp, tmp_path)
    notebook = Notebook(lsp, tmp_path / "nb.ipynb", [IMPORTS, "note = '😀'\nopt = torch.optim.SGD(p, lr=0.1)"])
    await published(lsp, notebook.uri_of(2), lambda ds: ds == [])
    notebook.edit(2, (1, 28), (1, 31), "10")  # after an emoji on the line above: UTF-16 units
    notebook.edit(2, (0, 0), (0, 0), "# set below\n")  # a line inserted before
    notebook.edit(2, (1, 8), (1, 10), "é")  # 😀 is two UTF-16 units
    (d,) = await published(lsp, notebook.uri_of(2), lambda ds: len(ds) == 1)
    assert notebook.texts[notebook.uri_of(2)] == "# set below\nnote = 'é'\nopt = torch.optim.SGD(p, lr=10)"
    assert positions([d]) == [("TL101", 2, 25, 30)]


async def test_ranged_changes_in_a_text_document_below_a_form_feed(lsp, tmp_path):
    """pygls split lines with str.splitlines, which breaks at a form feed (and \\x1c, \\u2028, ...):
    LSP and VS Code do not, so an edit below one landed on the wrong line."""
    await start(lsp, tmp_path)
    text = "import torch\n\x0c\nx = 1  # \x1c \u2028 not line breaks\nopt = torch.optim.SGD(p, lr=0.1)\n"
    uri = open_doc(lsp, tmp_path / "ff.py", text)
    await diagnostics_until(lsp, uri, lambda ds: ds == [])
    change = types.TextDocumentContentChangePartial(range=types.Range(types.Position(3, 28), types.Position(3, 31)), text="10")
    lsp.text_document_did_change(
        types.DidChangeTextDocumentParams(types.VersionedTextDocumentIdentifier(uri=uri, version=2), content_changes=[change])
    )
    (d,) = await diagnostics_until(lsp, uri, lambda ds: len(ds) == 1)
    assert positions([d]) == [("TL101", 3, 25, 30)]
    on_lr = await lsp.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(3, 26)))
    assert on_lr.contents.value.startswith("**TL101 learning-rate-too-high**")


async def test_cells_added_and_removed(lsp, tmp_path):
    await start_notebooks(lsp, tmp_path)
    notebook = Notebook(lsp, tmp_path / "nb.ipynb", CELLS)
    await published(lsp, notebook.uri_of(4), lambda ds: codes(ds) == ["TL101"])
    added = notebook.insert(4, "opt2 = torch.optim.SGD(p, lr=LR, momentum=1.5)")
    (d101, d102) = await published(lsp, added, lambda ds: len(ds) == 2)
    assert d101.message.startswith("SGD learning rate 10.0 (LR, line 1 of cell 3)") and d102.code == "TL102"
    removed = notebook.delete(3)  # LR is gone: both optimizers' learning rates are unknown
    await published(lsp, added, lambda ds: codes(ds) == ["TL102"])
    await published(lsp, notebook.uri_of(3), lambda ds: ds == [])
    assert removed not in [c.document for c in notebook.cells]


async def test_magics_and_shell_lines_in_cells(lsp, tmp_path):
    await start_notebooks(lsp, tmp_path)
    cells = [
        "%matplotlib inline\n!pip install torch\n" + IMPORTS,
        "%%bash\nls -la",
        "for i in range(2):\n    !echo $i\n    opt = torch.optim.SGD(p, lr=10)",
    ]
    notebook = Notebook(lsp, tmp_path / "nb.ipynb", cells)
    (d,) = await published(lsp, notebook.uri_of(3), lambda ds: len(ds) == 1)
    assert positions([d]) == [("TL101", 2, 29, 34)]
    assert list(lsp.diagnostics.get(notebook.uri_of(1), [])) == list(lsp.diagnostics.get(notebook.uri_of(2), [])) == []


async def test_quick_fix_and_disable_in_a_cell(lsp, tmp_path):
    await start_notebooks(lsp, tmp_path)
    notebook = Notebook(lsp, tmp_path / "nb.ipynb", CELLS)
    (d,) = await published(lsp, notebook.uri_of(4), lambda ds: len(ds) == 1)
    actions = await actions_for(lsp, notebook.uri_of(4), [d])
    fix = next(a for a in actions if a.title.startswith("Set the learning rate"))
    assert fix.title == "Set the learning rate to 0.1 (line 1 of cell 3) (unsafe: changes behaviour) (TL101)"
    (change,) = fix.edit.document_changes
    assert change.text_document.uri == notebook.uri_of(3), "the fix edits the cell where LR is set"
    assert apply(notebook.texts[notebook.uri_of(3)], list(change.edits)) == "LR = 0.1"
    disable = next(a for a in actions if a.title == "Disable TL101 for this line")
    (change,) = disable.edit.document_changes
    assert change.text_document.uri == notebook.uri_of(4)
    assert apply(CELLS[3], list(change.edits)) == "opt = torch.optim.SGD(p, lr=LR)  # noqa: TL101"


async def test_fix_all_across_the_notebook(lsp, tmp_path):
    await start_notebooks(lsp, tmp_path)
    cells = [IMPORTS, "opt = torch.optim.SGD(p, lr=0.1)  # noqa: TL101", "x = 1\ny = 2  # noqa: TL102, TL101"]
    notebook = Notebook(lsp, tmp_path / "nb.ipynb", cells)
    diagnostics = await published(lsp, notebook.uri_of(3), lambda ds: len(ds) == 1)
    (fix_all,) = await actions_for(lsp, notebook.uri_of(3), diagnostics, only=["source.fixAll.trainlint"])
    by_cell = {change.text_document.uri: list(change.edits) for change in fix_all.edit.document_changes}
    assert sorted(by_cell) == sorted([notebook.uri_of(2), notebook.uri_of(3)])
    assert apply(cells[1], by_cell[notebook.uri_of(2)]) == "opt = torch.optim.SGD(p, lr=0.1)"
    assert apply(cells[2], by_cell[notebook.uri_of(3)]) == "x = 1\ny = 2"
    await lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(command="trainlint.server.fixAll", arguments=[{"uri": notebook.uri_of(1)}])
    )
    (edit,) = lsp.applied_edits
    assert len(edit.document_changes) == 2


async def test_hover_and_inlay_hints_in_a_cell(lsp, tmp_path):
    await start_notebooks(lsp, tmp_path, options={"settings": {"inlayHints": True}})
    notebook = Notebook(lsp, tmp_path / "nb.ipynb", CELLS)
    await published(lsp, notebook.uri_of(4), lambda ds: len(ds) == 1)
    cell = types.TextDocumentIdentifier(notebook.uri_of(4))
    on_lr = await lsp.text_document_hover_async(types.HoverParams(cell, types.Position(0, 27)))
    assert on_lr.contents.value.startswith("**TL101 learning-rate-too-high**")
    on_call = await lsp.text_document_hover_async(types.HoverParams(cell, types.Position(0, 15)))
    assert "| `lr` | `10.0` | LR, line 1 of cell 3 |" in on_call.contents.value
    (hint,) = await lsp.text_document_inlay_hint_async(
        types.InlayHintParams(cell, types.Range(types.Position(0, 0), types.Position(1, 0)))
    )
    assert hint.label == "10.0" and hint.position == types.Position(0, 30) and hint.tooltip == "LR, line 1 of cell 3"
    other = await lsp.text_document_inlay_hint_async(
        types.InlayHintParams(
            types.TextDocumentIdentifier(notebook.uri_of(3)), types.Range(types.Position(0, 0), types.Position(1, 0))
        )
    )
    assert list(other) == [], "hints of another cell stay there"


EXPLAINED_CELLS = [
    IMPORTS,
    ("markdown", "markdown", "# Training"),
    "LR = 10.0\nEPOCHS = 30",
    (
        "model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 2))\n"
        "optimizer = torch.optim.SGD(model.parameters(), lr=LR)\n"
        "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10)"
    ),
    (
        "for epoch in range(EPOCHS):\n"
        "    for x, y in loader:\n"
        "        optimizer.zero_grad()\n"
        "        nn.functional.cross_entropy(model(x), y).backward()\n"
        "        optimizer.step()\n"
        "    scheduler.step()"
    ),
]


def ipynb(cells: list) -> str:
    """The notebook file of `cells` (as Notebook takes them)."""
    out = []
    for cell in cells:
        kind, _, text = ("code", "python", cell) if isinstance(cell, str) else cell
        out.append({"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)})
        if kind == "code":
            out[-1].update(execution_count=None, outputs=[])
    return json.dumps({"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


async def test_explain_cites_cells_as_the_cli_does(lsp, tmp_path):
    await start_notebooks(lsp, tmp_path)
    notebook = Notebook(lsp, tmp_path / "train.ipynb", EXPLAINED_CELLS)
    await published(lsp, notebook.uri_of(4), lambda ds: codes(ds) == ["TL101"])
    # Asked from any cell, the answer is about the whole notebook.
    answer = await explain(lsp, notebook.uri_of(5))
    assert (answer["uri"], answer["version"]) == (notebook.uri, 1)
    lr = answer["report"]["stages"][0]
    assert [(f["code"], f["cell"], f["line"]) for f in lr["findings"]] == [("TL101", 4, 2)]
    (curve,) = lr["curves"]
    assert (curve["scheduler"], curve["cell"], curve["line"], curve["per"], len(curve["learning_rates"])) == (
        "StepLR",
        4,
        3,
        "epoch",
        30,
    )
    assert lr["facts"][0] == "SGD (line 2 of cell 4): lr 10.0 (LR, line 1 of cell 3)"
    assert "per batch (the batch loop on line 2 of cell 5, in the epoch loop on line 1 of cell 5)" in lr["facts"][1]
    assert "**TL101** (warning, line 2 of cell 4)" in answer["markdown"]
    assert "Learning rate of StepLR (line 3 of cell 4), stepped per epoch" in answer["html"]
    assert answer["report"] == cli_json(tmp_path, "train.ipynb", ipynb(EXPLAINED_CELLS))

    # An edit of a cell, not saved: explained as the editor holds it.
    notebook.edit(3, (0, 5), (0, 9), "0.1")
    answer = await explain(lsp, notebook.uri)
    assert answer["version"] == 2 and answer["report"]["stages"][0]["verdict"] == "ok"
    assert answer["report"]["stages"][0]["curves"][0]["learning_rates"][:11] == [0.1] * 10 + [pytest.approx(0.01)]


async def test_lint_on_save_and_close(lsp, tmp_path):
    await start_notebooks(lsp, tmp_path, options={"settings": {"run": "onSave"}})
    notebook = Notebook(lsp, tmp_path / "nb.ipynb", [IMPORTS, "opt = torch.optim.SGD(p, lr=0.1)"])
    await published(lsp, notebook.uri_of(2), lambda ds: ds == [])  # linted when opened
    notebook.edit(2, (0, 28), (0, 31), "10")
    hover = await lsp.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(notebook.uri_of(2)), types.Position(0, 27))
    )
    assert "`0.1`" in hover.contents.value, "the hover is of the saved text"
    assert list(lsp.diagnostics[notebook.uri_of(2)]) == [], "no lint while typing"
    notebook.save()
    await published(lsp, notebook.uri_of(2), lambda ds: codes(ds) == ["TL101"])
    notebook.close()
    await published(lsp, notebook.uri_of(2), lambda ds: ds == [])


async def test_a_pulling_client_gets_cell_diagnostics_pushed_once(lsp, tmp_path):
    """vscode-languageclient pulls for text editors only: a notebook's cells are pushed, and a pull
    for a cell answers nothing (so that no client shows them twice)."""
    await start_notebooks(lsp, tmp_path, pull=True)
    notebook = Notebook(lsp, tmp_path / "nb.ipynb", CELLS)
    await published(lsp, notebook.uri_of(4), lambda ds: codes(ds) == ["TL101"])
    report = await lsp.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(notebook.uri_of(4)))
    )
    assert list(report.items) == []


async def test_include_turns_notebooks_off(lsp, tmp_path):
    (tmp_path / "off").mkdir()
    (tmp_path / "off" / "pyproject.toml").write_text('[tool.trainlint]\ninclude = ["*.py"]\n')
    await start_notebooks(lsp, tmp_path)
    off = Notebook(lsp, tmp_path / "off" / "nb.ipynb", CELLS)
    on = Notebook(lsp, tmp_path / "nb.ipynb", CELLS)
    await published(lsp, on.uri_of(4), lambda ds: codes(ds) == ["TL101"])
    uri = open_doc(lsp, tmp_path / "off" / "script.py", "import torch\nopt = torch.optim.SGD(p, lr=10)\n")
    await diagnostics_until(lsp, uri, lambda ds: codes(ds) == ["TL101"])  # Python files there are linted
    assert list(lsp.diagnostics[off.uri_of(4)]) == []
