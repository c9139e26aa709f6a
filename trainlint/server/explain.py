"""`trainlint.explain` (workspace/executeCommand): the `trainlint explain` report of an open
document as the editor holds it (unsaved edits included), for a client to show beside the file.

The answer carries the report three ways: `report`, the object `trainlint explain --output-format
json` prints (same keys), and `markdown` and `html` renderings of it (the HTML is one
self-contained page, its curves inline SVG, no script). A file that is not a training script, or
does not parse, gets the report the CLI gives it, never an error.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainlint.engine import LintResult, lint_script, lint_source
from trainlint.explain import Report, explain_bytes, explain_result, failed_report
from trainlint.output.explain import html, markdown, to_json
from trainlint.server.notebooks import CellMap

if TYPE_CHECKING:
    from trainlint.server.server import TrainlintServer

log = logging.getLogger("trainlint.server")

EXPLAIN_COMMAND = "trainlint.explain"


def explain_document(ls: TrainlintServer, uri: str) -> dict[str, Any]:
    """The command's answer for the document `uri` names (a notebook, or a cell of one: the notebook)."""
    notebook = ls.notebook(uri)
    target = notebook.uri if notebook is not None else uri
    path = ls.path_of(target)
    shown = _shown(ls, path)
    try:
        report, version = _report(ls, target, path, shown)
    except Exception:  # a bug in a stage is an answer the user can read, not a failed request
        log.exception("explaining %s failed", target)
        report, version = (
            failed_report(shown, "trainlint could not explain this file: an internal error (see the server's log)"),
            None,
        )
    return {"uri": target, "version": version, "report": to_json(report), "markdown": markdown(report), "html": html(report)}


def _shown(ls: TrainlintServer, path: Path) -> str:
    """The file's name in the report: relative to the workspace root when it is inside it."""
    root = ls.root.resolve()
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


_NO_SETTINGS = "the settings of this file could not be read (see the server's log)"


def _report(ls: TrainlintServer, uri: str, path: Path, shown: str) -> tuple[Report, int | None]:
    notebook = ls.workspace.get_notebook_document(notebook_uri=uri)
    if notebook is not None:
        cells = CellMap.of(ls.workspace, notebook)
        result = _notebook_lint(ls, uri, path, cells)
        if result is None:
            return failed_report(shown, _NO_SETTINGS), notebook.version
        return explain_result(result, cells.script.text, shown, cells.script), notebook.version
    if uri not in ls.workspace.text_documents:
        # Not open in the editor: the file on disk, as `trainlint explain` reads it.
        if not path.is_file():
            return failed_report(shown, f"{uri} is neither an open document nor a file"), None
        return explain_bytes(path.read_bytes(), shown, ls.lint_settings(path)), None
    document = ls.workspace.get_text_document(uri)
    text = document.source
    result = _text_lint(ls, uri, path, text, document.version)
    if result is None:
        return failed_report(shown, _NO_SETTINGS), document.version
    return explain_result(result, text, shown), document.version


def _text_lint(ls: TrainlintServer, uri: str, path: Path, text: str, version: int | None) -> LintResult | None:
    """The lint of a document's text: the server's last one when it is of this text (the findings
    the editor shows), else a new one, not stored (linting on save keeps showing the saved state)."""
    linted = ls.linted.get(uri)
    if linted is not None and linted.cells is None and linted.version == version and linted.text == text:
        return linted.result
    settings = ls.lint_settings(path)
    return lint_source(text, str(path), settings) if settings is not None else None


def _notebook_lint(ls: TrainlintServer, uri: str, path: Path, cells: CellMap) -> LintResult | None:
    """The lint of the notebook's cells as they are now, the same way."""
    linted = ls.linted.get(uri)
    if linted is not None and linted.cells is not None and linted.cells.key == cells.key:
        return linted.result
    settings = ls.lint_settings(path)
    return lint_script(cells.script, str(path), settings) if settings is not None else None


def uri_argument(args: tuple[Any, ...]) -> str | None:
    """The document uri a client passes: `[{"uri": ...}]` (a TextDocumentIdentifier) or `["file:///..."]`."""
    for arg in args:
        uri = arg.get("uri") if isinstance(arg, dict) else getattr(arg, "uri", arg)
        if isinstance(uri, str) and uri:
            return uri
    return None
