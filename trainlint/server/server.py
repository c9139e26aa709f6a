"""The trainlint language server (pygls 2): the CLI's engine, rules, configuration and pages, live."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from trainlint import __version__, suppress
from trainlint.config import Resolver
from trainlint.diagnostics import Diagnostic, Span
from trainlint.engine import LintResult, lint_script, lint_source
from trainlint.fixes import fix_cells, fix_text
from trainlint.ipynb import is_notebook
from trainlint.pages import RulePage, get_page, lead_paragraph
from trainlint.server import convert
from trainlint.server.documents import LspWorkspace
from trainlint.server.editor_settings import EditorSettings, parse
from trainlint.server.explain import EXPLAIN_COMMAND, explain_document, uri_argument
from trainlint.server.notebooks import NOTEBOOK_SYNC, CellMap
from trainlint.server.protocol import TrainlintProtocol
from trainlint.settings import LintSettings
from trainlint.source import LineIndex

if TYPE_CHECKING:
    from trainlint.insights import Insight, ShapeHint

log = logging.getLogger("trainlint.server")

DEBOUNCE_SECONDS = 0.2
FIX_ALL_KIND = "source.fixAll.trainlint"
FIX_ALL_COMMAND = "trainlint.server.fixAll"
CONFIG_GLOBS = ("**/pyproject.toml", "**/trainlint.toml", "**/.trainlint.toml")
# Modules and configuration files a script may read values from: their changes on disk re-lint the
# scripts that read them.
DEPENDENCY_GLOBS = ("**/*.py", "**/*.yaml", "**/*.yml", "**/*.json", "**/*.toml")
WATCHED_GLOBS = (*CONFIG_GLOBS, *DEPENDENCY_GLOBS)
_CONFIG_NAMES = frozenset(g.rsplit("/", 1)[-1] for g in CONFIG_GLOBS)


SYNC_KIND = types.TextDocumentSyncKind.Incremental  # Full would turn the ranged changes of notebook cells into whole texts


@dataclass
class Linted:
    """The last lint of one text document version, or of a notebook's code cells as one script."""

    version: int | None
    text: str  # what was linted: the document's text, or the notebook's script
    result: LintResult
    diagnostics: dict[str, list[types.Diagnostic]]  # by document: a notebook's by cell
    result_id: str
    place: convert.Place  # a range of `text` -> the document it is in, and the range there
    cells: CellMap | None = None  # a notebook's
    insights: list[Insight] | None = field(default=None, repr=False)
    shape_hints: list[ShapeHint] | None = field(default=None, repr=False)

    def relabel(self, text: str, line: int) -> str:
        """Markdown about script line `line`: its `line N` as the notebook numbers lines."""
        return self.cells.script.relabel(text, line) if self.cells is not None else text

    def position(self, uri: str, position: types.Position, encoding: str) -> tuple[int, int] | None:
        """A document position as a (line, column) of the linted text."""
        if self.cells is None:
            return convert.from_position(LineIndex(self.text), position, encoding)
        if uri not in self.cells.texts:
            return None
        line, column = convert.from_position(self.cells.index(uri), position, encoding)
        return self.cells.script_position(uri, line, column)


class TrainlintServer(LanguageServer):
    protocol: TrainlintProtocol

    def __init__(self) -> None:
        super().__init__(
            "trainlint",
            __version__,
            text_document_sync_kind=SYNC_KIND,
            notebook_document_sync=NOTEBOOK_SYNC,
            protocol_cls=TrainlintProtocol,
        )
        self.editor = EditorSettings()
        # The workspace root comes from `initialize`: the VS Code extension starts the server in a
        # neutral folder (so that a `trainlint/` folder there cannot shadow the installed package).
        # The working directory is only the fallback for a client that names no root.
        self.root = Path.cwd()
        self.resolver = self._resolver(None)
        self.linted: dict[str, Linted] = {}  # by text document or notebook uri
        self.pending: dict[str, asyncio.Task[None]] = {}
        # What each notebook's cells were last sent (notebook diagnostics are always pushed).
        self.published: dict[str, dict[str, list[types.Diagnostic]]] = {}
        self.pull = False  # the client pulls diagnostics (textDocument/diagnostic)
        self.refresh_support = False
        self.shown_errors: set[str] = set()
        self.told_set_aside: set[Path] = set()  # configuration files already named in the log (these settings)
        self.set_aside_shown = False  # the notification about them: once per workspace
        self._collection_scheduled = False

    # -- configuration ----------------------------------------------------------------

    def _resolver(self, previous: Resolver | None) -> Resolver:
        return Resolver(
            self.editor.overrides(),
            cwd=self.root,
            preference=self.editor.configuration_preference,
            tolerant=True,
            revalidate=True,
            last_good=previous.last_good_configs if previous else None,
        )

    def apply_editor_settings(self, raw: Any) -> bool:
        """Take the editor's settings; False when they are the ones already in force."""
        editor, problems = parse(raw)
        for problem in problems:
            self._report_problem(f"trainlint: ignoring an editor setting: {problem}")
        if editor == self.editor:
            return False
        self.editor = editor
        self.resolver = self._resolver(self.resolver)
        self.told_set_aside.clear()
        return True

    def _report_problem(self, message: str) -> None:
        log.warning(message)
        self.window_log_message(types.LogMessageParams(types.MessageType.Warning, message))
        if message not in self.shown_errors:
            self.shown_errors.add(message)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))

    def settings_for(self, path: Path) -> LintSettings:
        settings = self.resolver.settings_for(path)
        errors, self.resolver.errors = self.resolver.errors, []
        for error in errors:
            self._report_problem(f"trainlint: configuration error, using the last good configuration: {error}")
        if self.resolver.set_aside_by - self.told_set_aside:
            self._tell_set_aside()
        return settings

    def _tell_set_aside(self) -> None:
        """Say which configuration file replaces the editor's rule settings (filesystemFirst, as in ruff):
        in the log once per file and settings, in a notification once per workspace."""
        names = self.editor.rule_settings_set()
        settings = f"setting {names[0]} is" if len(names) == 1 else f"settings {', '.join(names[:-1])} and {names[-1]} are"
        root = self.root.resolve()
        for path in sorted(self.resolver.set_aside_by - self.told_set_aside):
            self.told_set_aside.add(path)
            shown = path.relative_to(root) if path.is_relative_to(root) else path
            message = (
                f"trainlint: the editor {settings} not used for the files {shown} covers: "
                'trainlint.configurationPreference is "filesystemFirst" (the default, as in ruff), so a configuration '
                'file replaces the editor\'s rule settings. Set it to "editorFirst" to apply them on top of the file, '
                "or move them into the file."
            )
            log.info(message)
            self.window_log_message(types.LogMessageParams(types.MessageType.Info, message))
            if not self.set_aside_shown:
                self.set_aside_shown = True
                self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, message))

    # -- linting ------------------------------------------------------------------------

    def path_of(self, uri: str) -> Path:
        parsed = urlparse(uri)
        if parsed.scheme == "file":
            return Path(unquote(parsed.path))
        return self.root / ("untitled.ipynb" if is_notebook(parsed.path) else "untitled.py")

    def encoding(self) -> str:
        return self.workspace.position_encoding or types.PositionEncodingKind.Utf16

    def notebook(self, uri: str) -> types.NotebookDocument | None:
        """The notebook `uri` names, or the one holding the cell `uri` names."""
        workspace = self.workspace
        return workspace.get_notebook_document(notebook_uri=uri) or workspace.get_notebook_document(cell_uri=uri)

    def lint_settings(self, path: Path) -> LintSettings | None:
        """The settings a document is linted with (the editor's and its configuration's); None when they fail."""
        try:
            settings = self.settings_for(path)
        except Exception:  # never let one document take the server down
            log.exception("the settings of %s failed", path)
            return None
        if not self.editor.enable:
            return LintSettings(frozenset())
        if is_notebook(path.name) and not self.resolver.config_for(path, is_dir=False).included(path):
            return LintSettings(frozenset())  # `include` turns notebooks off
        return settings

    def lint(self, uri: str) -> Linted | None:
        """Lint a text document, or the notebook `uri` names or holds (if it changed). Cyclic
        garbage is collected after the answer is sent, not in the middle of linting or answering:
        that pause was most of the latency's tail."""
        gc.disable()
        self._collect_later()
        notebook = self.notebook(uri)
        if notebook is not None:
            return self._lint_notebook(notebook)
        if uri not in self.workspace.text_documents:
            return None  # closed, or never opened: pygls would read (or fail to read) the file on disk
        document = self.workspace.get_text_document(uri)
        text = document.source
        previous = self.linted.get(uri)
        if previous is not None and previous.version == document.version and previous.text == text:
            return previous
        path = self.path_of(uri)
        settings = self.lint_settings(path)
        if settings is None:
            return previous
        try:
            result = lint_source(text, str(path), settings)
        except Exception:  # never let one document take the server down
            log.exception("linting %s failed", uri)
            return previous
        index = LineIndex(text)

        def place(span: Span) -> tuple[str, LineIndex, Span]:
            return uri, index, span

        linted = self._linted(uri, document.version, text, result, place)
        self.linted[uri] = linted
        return linted

    def _lint_notebook(self, notebook: types.NotebookDocument) -> Linted | None:
        uri = notebook.uri
        cells = CellMap.of(self.workspace, notebook)
        previous = self.linted.get(uri)
        if previous is not None and previous.cells is not None and previous.cells.key == cells.key:
            return previous
        path = self.path_of(uri)
        settings = self.lint_settings(path)
        if settings is None:
            return previous
        try:
            result = lint_script(cells.script, str(path), settings)
        except Exception:
            log.exception("linting %s failed", uri)
            return previous
        linted = self._linted(uri, notebook.version, cells.script.text, result, cells.place, cells)
        self.linted[uri] = linted
        return linted

    def _linted(
        self, uri: str, version: int | None, text: str, result: LintResult, place: convert.Place, cells: CellMap | None = None
    ) -> Linted:
        encoding = self.encoding()
        index = LineIndex(text)
        diagnostics: dict[str, list[types.Diagnostic]] = {cell: [] for cell in cells.texts} if cells else {uri: []}
        for d in result.diagnostics:
            fixable = cells is None or d.fix is None or _in_cells(cells, index, d)
            document, lsp = convert.to_lsp_diagnostic(d, place, encoding, fixable)
            diagnostics.setdefault(document, []).append(lsp)
        digest = hashlib.sha1(repr([(d.code, d.message, d.span) for d in result.diagnostics]).encode()).hexdigest()[:16]
        return Linted(version, text, result, diagnostics, digest, place, cells)

    def _collect_later(self) -> None:
        if not self._collection_scheduled:
            self._collection_scheduled = True
            asyncio.get_event_loop().call_soon(self._collect)

    def _collect(self) -> None:
        self._collection_scheduled = False
        gc.enable()
        # The young generations only: what the lint allocated. A full collection also walked every
        # open document's model, so opening a workspace was quadratic (2,000 files: hours); the
        # oldest generation is left to the collector's own schedule, which amortizes it.
        gc.collect(1)

    def publish(self, uri: str) -> None:
        if self.workspace.get_notebook_document(notebook_uri=uri) is not None:
            self.publish_notebook(uri)
            return
        linted = self.lint(uri)
        if linted is not None and not self.pull:
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=linted.diagnostics.get(uri, []), version=linted.version)
            )

    def publish_notebook(self, uri: str) -> None:
        """Send each cell of a notebook its diagnostics when they changed: editing one cell can
        change another's. Always pushed, even to a client that pulls: vscode-languageclient (9)
        never pulls for notebook cells (it pulls for documents in a text editor tab only)."""
        linted = self.lint(uri)
        if linted is None:
            return
        sent = self.published.setdefault(uri, {})
        for cell in sent.keys() - linted.diagnostics.keys():
            self._send(cell, [])  # a cell that is gone, or no longer a code cell
            del sent[cell]
        for cell, diagnostics in linted.diagnostics.items():
            if sent.get(cell, []) != diagnostics or cell not in sent:
                self._send(cell, diagnostics)
                sent[cell] = diagnostics

    def _send(self, uri: str, diagnostics: list[types.Diagnostic]) -> None:
        version = self.workspace.text_documents[uri].version if uri in self.workspace.text_documents else None
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))

    def close_notebook(self, uri: str) -> None:
        self.forget(uri)
        for cell, diagnostics in self.published.pop(uri, {}).items():
            if diagnostics:
                self._send(cell, [])

    def forget(self, uri: str) -> None:
        """Drop a document's pending and last lint."""
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.linted.pop(uri, None)

    def schedule(self, uri: str, delay: float) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()

        async def later() -> None:
            await asyncio.sleep(delay)
            self.pending.pop(uri, None)
            self.publish(uri)

        self.pending[uri] = asyncio.ensure_future(later())

    def relint_all(self) -> None:
        self.linted.clear()
        for notebook in list(self.workspace.notebook_documents):
            self.publish_notebook(notebook)
        if self.pull:
            if self.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        for uri in list(self.workspace.text_documents):
            if self.workspace.get_notebook_document(cell_uri=uri) is None:  # cells: their notebook's
                self.publish(uri)

    def relint_dependents(self, paths: set[str]) -> None:
        """Lint again the documents whose last result read one of these files of the project (a value
        imported from config.py), or searched the folder one of them was added to or removed from."""
        paths = {str(Path(p).resolve()) for p in paths}
        folders = {str(Path(p).parent) for p in paths}
        stale = [
            uri
            for uri, linted in self.linted.items()
            if any(key in paths or key in folders for key in linted.result.dependencies)
        ]
        if not stale:
            return
        for uri in stale:
            self.linted.pop(uri, None)
        if self.pull:
            if self.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        for uri in stale:
            self.publish(uri)  # a notebook's uri publishes its cells

    def current(self, uri: str) -> Linted | None:
        """The lint of the document (or of the notebook holding the cell) as it is now (as of the
        last save, when linting on save)."""
        notebook = self.notebook(uri)
        linted = self.linted.get(notebook.uri if notebook is not None else uri)
        if linted is not None and self.editor.run == "onSave":
            return linted
        return self.lint(uri)


def _in_cells(cells: CellMap, index: LineIndex, d: Diagnostic) -> bool:
    """Whether a fix's edits stay inside the cells' own text (not across two, not on masked syntax)."""
    assert d.fix is not None
    ranges = [
        (index.offset(e.span.line, e.span.column), index.offset(e.span.end_line, e.span.end_column), e.content)
        for e in d.fix.edits
    ]
    return cells.script.editable(ranges)


server = TrainlintServer()


# -- lifecycle --------------------------------------------------------------------------------


@server.feature(types.INITIALIZE)
def initialize(ls: TrainlintServer, params: types.InitializeParams) -> None:
    if params.workspace_folders:
        ls.root = ls.path_of(params.workspace_folders[0].uri)
    elif params.root_uri:
        ls.root = ls.path_of(params.root_uri)
    elif params.root_path:
        ls.root = Path(params.root_path)
    ls.resolver = ls._resolver(None)  # relative to the root just set
    # pygls has just made the workspace, and no document is open yet: one whose documents count
    # lines as LSP does (see documents.py). pygls keeps it in this attribute (2.x).
    ls.protocol._workspace = LspWorkspace.like(ls.workspace, SYNC_KIND)
    capabilities = params.capabilities
    text = capabilities.text_document
    ls.pull = bool(text is not None and text.diagnostic is not None)
    workspace = capabilities.workspace
    ls.refresh_support = bool(workspace and workspace.diagnostics and workspace.diagnostics.refresh_support)
    ls.apply_editor_settings(params.initialization_options)
    log.info("initialized: root %s, %s diagnostics", ls.root, "pull" if ls.pull else "push")


@server.feature(types.INITIALIZED)
async def initialized(ls: TrainlintServer, params: types.InitializedParams) -> None:
    workspace = ls.client_capabilities.workspace
    watch = workspace and workspace.did_change_watched_files and workspace.did_change_watched_files.dynamic_registration
    if watch:
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=g) for g in WATCHED_GLOBS]
        )
        registration = types.Registration(
            id="trainlint-config", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options
        )
        try:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
        except Exception:  # noqa: BLE001 - the client may refuse: edits are still noticed on the next lint
            log.info("the client did not accept a file watcher for configuration files")


# -- document sync ------------------------------------------------------------------------------


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: TrainlintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: TrainlintServer, params: types.DidChangeTextDocumentParams) -> None:
    if ls.editor.run == "onType" and not ls.pull:
        ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: TrainlintServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.forget(uri)
    ls.publish(uri)
    ls.relint_dependents({str(ls.path_of(uri))})


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: TrainlintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.forget(uri)
    if not ls.pull:
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
def notebook_did_open(ls: TrainlintServer, params: types.DidOpenNotebookDocumentParams) -> None:
    ls.publish_notebook(params.notebook_document.uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
def notebook_did_change(ls: TrainlintServer, params: types.DidChangeNotebookDocumentParams) -> None:
    if ls.editor.run == "onType":
        ls.schedule(params.notebook_document.uri, DEBOUNCE_SECONDS)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
def notebook_did_save(ls: TrainlintServer, params: types.DidSaveNotebookDocumentParams) -> None:
    uri = params.notebook_document.uri
    ls.forget(uri)
    ls.publish_notebook(uri)


@server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
def notebook_did_close(ls: TrainlintServer, params: types.DidCloseNotebookDocumentParams) -> None:
    ls.close_notebook(params.notebook_document.uri)


@server.feature(
    types.TEXT_DOCUMENT_DIAGNOSTIC,
    types.DiagnosticOptions(identifier="trainlint", inter_file_dependencies=False, workspace_diagnostics=False),
)
def pull_diagnostics(ls: TrainlintServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
    uri = params.text_document.uri
    if ls.notebook(uri) is not None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])  # a cell's are pushed (publish_notebook), never twice
    linted = ls.current(uri)
    if linted is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    if params.previous_result_id == linted.result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=linted.result_id)
    return types.RelatedFullDocumentDiagnosticReport(items=linted.diagnostics.get(uri, []), result_id=linted.result_id)


# -- configuration changes ------------------------------------------------------------------------


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: TrainlintServer, params: types.DidChangeConfigurationParams) -> None:
    # VS Code sends its settings once right after start, the same as initializationOptions: nothing
    # to redo then. (Relinting anyway asked a pulling client to refresh, and VS Code cancelled the
    # pull requests already answered, which pygls logged as warnings.)
    if params.settings and not ls.apply_editor_settings(params.settings):
        return
    ls.relint_all()
    if _inlay_refresh(ls):
        ls.workspace_inlay_hint_refresh(None)


def _inlay_refresh(ls: TrainlintServer) -> bool:
    workspace = ls.client_capabilities.workspace
    return bool(workspace and workspace.inlay_hint and workspace.inlay_hint.refresh_support)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: TrainlintServer, params: types.DidChangeWatchedFilesParams) -> None:
    paths = {str(ls.path_of(change.uri)) for change in params.changes}
    if not any(Path(path).name in _CONFIG_NAMES for path in paths):  # a module or config file a script reads
        ls.relint_dependents(paths)
        return
    ls.shown_errors.clear()
    ls.resolver.forget()  # re-read every configuration file
    ls.relint_all()


# -- code actions ----------------------------------------------------------------------------------

Edits = list[tuple[str, types.TextEdit]]  # (document uri, edit): a notebook's fix can edit several cells


def _workspace_edit(ls: TrainlintServer, edits: Edits) -> types.WorkspaceEdit:
    by_document: dict[str, list[types.TextEdit]] = {}
    for uri, edit in edits:
        by_document.setdefault(uri, []).append(edit)
    changes = []
    for uri, document_edits in by_document.items():
        version = ls.workspace.get_text_document(uri).version
        identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
        changes.append(types.TextDocumentEdit(text_document=identifier, edits=document_edits))
    return types.WorkspaceEdit(document_changes=changes)


def fix_all_edits(ls: TrainlintServer, uri: str) -> Edits:
    """The safe fixes of a document, or of every cell of the notebook holding it, as minimal edits."""
    encoding = ls.encoding()
    notebook = ls.notebook(uri)
    if notebook is None:
        if uri not in ls.workspace.text_documents:
            return []
        document = ls.workspace.get_text_document(uri)
        path = ls.path_of(uri)
        settings = ls.lint_settings(path)
        if settings is None:
            return []
        outcome = fix_text(document.source, str(path), settings, unsafe=False)
        if outcome.text == document.source:
            return []
        return [(uri, edit) for edit in convert.minimal_edits(document.source, outcome.text, encoding)]
    cells = CellMap.of(ls.workspace, notebook)
    path = ls.path_of(notebook.uri)
    settings = ls.lint_settings(path)
    if settings is None:
        return []
    changed, _ = fix_cells([(number, text) for number, _, text in cells.key], str(path), settings, unsafe=False)
    edits: Edits = []
    for number, text in changed.items():
        cell = cells.uri_of[number]
        edits.extend((cell, edit) for edit in convert.minimal_edits(cells.texts[cell], text, encoding))
    return edits


def _noqa_edit(text: str, line: int, code: str) -> tuple[int, int, str] | None:
    """Add `code` to the `# noqa` of the statement holding `line`, or add one: (line, column, text to insert)."""
    index = LineIndex(text)
    comments, logical = suppress.scan(text)
    target = logical.get(line, (line, line))[1]
    line_text = index.line_text(target)
    found = suppress.parse(text).by_line.get(target, [])
    if found:
        noqa = found[0]
        if noqa.codes is None or any(c == code for c, _, _ in noqa.codes):
            return None  # already suppressed
        return target, noqa.codes[-1][2], f", {code}"
    on_line = [c for c in comments if c[0] == target]
    if on_line:  # keep the existing comment after the new one
        return target, on_line[0][1], f"# noqa: {code}  "
    return target, len(line_text.rstrip()), f"  # noqa: {code}"


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=False),
)
def code_action(ls: TrainlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    only = params.context.only
    actions: list[types.CodeAction] = []

    def wants(kind: str) -> bool:
        return not only or any(kind == k or kind.startswith(f"{k}.") for k in only)

    encoding = ls.encoding()
    notebook = ls.notebook(uri)
    if notebook is None and uri not in ls.workspace.text_documents:
        return []  # closed while the request was on its way
    cells = CellMap.of(ls.workspace, notebook) if notebook is not None else None
    text = cells.script.text if cells is not None else ls.workspace.get_text_document(uri).source

    def place(span: Span) -> tuple[str, LineIndex, Span]:
        return cells.place(span) if cells is not None else (uri, LineIndex(text), span)

    if wants(types.CodeActionKind.QuickFix):
        for diagnostic in params.context.diagnostics:
            if diagnostic.source != convert.SOURCE or not isinstance(diagnostic.data, dict):
                continue
            data = diagnostic.data
            fix = data.get("fix")
            if fix:
                edits = [
                    (e.get("uri", uri), types.TextEdit(range=convert.range_from_json(e["range"]), new_text=e["newText"]))
                    for e in fix["edits"]
                ]
                title = fix["title"] + _elsewhere(edits, uri, diagnostic.range, cells)
                if not fix["safe"]:
                    title += " (unsafe: changes behaviour)"
                actions.append(
                    types.CodeAction(
                        title=f"{title} ({data['code']})",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=fix["safe"],
                        edit=_workspace_edit(ls, edits),
                    )
                )
            code = str(diagnostic.code)
            if code in ("TL001", "TL002"):
                continue  # a syntax error or a crash is not hidden by a comment
            noqa = _noqa_edit(text, data["span"][0], code)
            if noqa is not None:
                line, column, insert = noqa
                document, index, local = place(Span(line, column, line, column))
                position = convert.to_position(index, local.line, local.column, encoding)
                edit = (document, types.TextEdit(range=types.Range(position, position), new_text=insert))
                elsewhere = _elsewhere([edit], uri, diagnostic.range, cells)
                actions.append(
                    types.CodeAction(
                        title=f"Disable {code} for this statement{elsewhere}" if elsewhere else f"Disable {code} for this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        edit=_workspace_edit(ls, [edit]),
                    )
                )
    if (only and wants(FIX_ALL_KIND)) or (not only and any(d.source == convert.SOURCE for d in params.context.diagnostics)):
        all_edits = fix_all_edits(ls, uri)
        if all_edits:
            actions.append(
                types.CodeAction(title="trainlint: fix all safe fixes", kind=FIX_ALL_KIND, edit=_workspace_edit(ls, all_edits))
            )
    return actions


def _elsewhere(edits: Edits, uri: str, squiggle: types.Range, cells: CellMap | None) -> str:
    """Where edits land, for a title, when outside the squiggled lines: " (line 26)" for a fix of
    `lr=args.lr` that edits the default of `--lr`, a noqa at the end of a multi-line statement, or
    " (line 2 of cell 3)" in another cell of a notebook."""
    here = sorted(
        {
            e.range.start.line + 1
            for d, e in edits
            if d == uri and not squiggle.start.line <= e.range.start.line <= squiggle.end.line
        }
    )
    there = sorted({(cells.number(d) or 0, e.range.start.line + 1) for d, e in edits if d != uri and cells is not None})
    if not there:
        if not here:
            return ""
        return f" (line {here[0]})" if len(here) == 1 else f" (lines {', '.join(map(str, here))})"
    places = [f"line {line}" for line in here] + [f"line {line} of cell {number}" for number, line in there]
    return f" ({', '.join(places)})"


@server.command(FIX_ALL_COMMAND)
async def fix_all_command(ls: TrainlintServer, *args: Any) -> None:
    for arg in args:
        uri = arg.get("uri") if isinstance(arg, dict) else getattr(arg, "uri", arg)
        if not isinstance(uri, str):
            continue
        edits = fix_all_edits(ls, uri)
        if edits:
            await ls.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=_workspace_edit(ls, edits), label="trainlint: fix all")
            )


# -- explain ------------------------------------------------------------------------------------


@server.command(EXPLAIN_COMMAND)
def explain_command(ls: TrainlintServer, *args: Any) -> dict[str, Any]:
    """`trainlint explain` on the document's current text: {uri, version, report, markdown, html}."""
    uri = uri_argument(args)
    if uri is None:
        raise JsonRpcInvalidParams(f'{EXPLAIN_COMMAND} takes the document: [{{"uri": "file:///..."}}]')
    return explain_document(ls, uri)


# -- hover and inlay hints -------------------------------------------------------------------------


def _insights(ls: TrainlintServer, linted: Linted) -> list[Insight]:
    if linted.insights is None:
        model = linted.result.model
        linted.insights = []
        if model is not None:
            from trainlint.insights import all_insights

            try:
                linted.insights = all_insights(model)
                model.positions.want(i.node for i in linted.insights)  # one pass for the hovers' ranges
                model.positions.want(f.node for i in linted.insights for f in i.facts)
            except Exception:
                log.exception("insights failed")
    return linted.insights


def _shape_hints(linted: Linted) -> list[ShapeHint]:
    if linted.shape_hints is None:
        model = linted.result.model
        linted.shape_hints = []
        if model is not None:
            from trainlint.insights import shape_hints

            try:
                linted.shape_hints = shape_hints(model)
            except Exception:
                log.exception("shape hints failed")
    return linted.shape_hints


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: TrainlintServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    linted = ls.current(uri)
    position = linted.position(uri, params.position, ls.encoding()) if linted is not None else None
    if linted is None or position is None:
        return None
    line, column = position
    parts: list[str] = []
    # A code in a noqa comment is an explicit request: the whole rule page. A diagnostic gets a
    # short card and nothing else: VS Code shows the message above it and "Quick Fix..." below,
    # all in a hover at most 250 pixels tall. (The call's table of values, which repeats the
    # message's evidence, is on the rest of the call.)
    asked = [
        code
        for noqa in suppress.parse(linted.text).by_line.get(line, [])
        for code, start, end in noqa.codes or ()
        if start <= column <= end
    ]
    found = [d.code for d in linted.result.diagnostics if convert.contains(d.span, line, column)]
    for code in dict.fromkeys(asked + found):
        page = get_page(code)
        if page is not None:
            parts.append(page.text if code in asked else rule_card(page))
    model = linted.result.model
    if model is not None and not found:
        containing = [i for i in _insights(ls, linted) if convert.contains(model.span(i.node), line, column)]
        if containing:
            innermost = min(containing, key=lambda i: _size(model.span(i.node)))
            parts.insert(0, linted.relabel(innermost.markdown(), line))
    if not parts:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))


HOVER_WHY_CHARS = 400


def rule_card(page: RulePage) -> str:
    """A diagnostic's hover: the rule's summary, the start of why it hurts, where the full page is."""
    why = lead_paragraph(page.rationale, HOVER_WHY_CHARS)
    return f"**{page.code} {page.name}**: {page.summary}\n\n{why} [Full rule page]({page.url}) · `trainlint rule {page.code}`"


def _size(span: Span) -> tuple[int, int]:
    return (span.end_line - span.line, span.end_column - span.column)


@server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
def inlay_hints(ls: TrainlintServer, params: types.InlayHintParams) -> list[types.InlayHint]:
    """Resolved argument values (`trainlint.inlayHints`) and the tensor shape after each line of `forward`
    (`trainlint.shapeHints`), each behind its own setting."""
    if not ls.editor.inlay_hints and not ls.editor.shape_hints:
        return []
    uri = params.text_document.uri
    linted = ls.current(uri)
    if linted is None or linted.result.model is None:
        return []
    model = linted.result.model
    encoding = ls.encoding()
    start = linted.position(uri, params.range.start, encoding)
    end = linted.position(uri, params.range.end, encoding)
    if start is None or end is None:
        return []
    hints = []

    def hint(node: Any, label: str, tooltip: str, kind: types.InlayHintKind) -> None:
        """A hint after `node`, when it ends in the range asked for (and in this document: a notebook's cell)."""
        span = model.span(node)
        if not start[0] <= span.end_line <= end[0]:
            return
        document, index, local = linted.place(Span(span.end_line, span.end_column, span.end_line, span.end_column))
        if document != uri:
            return
        hints.append(
            types.InlayHint(
                position=convert.to_position(index, local.line, local.column, encoding),
                label=label,
                kind=kind,
                padding_left=True,
                tooltip=tooltip or None,
            )
        )

    if ls.editor.inlay_hints:
        for insight in _insights(ls, linted):
            for fact in insight.facts:
                if fact.literal or not fact.values:
                    continue
                line = model.span(fact.node).line
                tooltip = "; ".join(linted.relabel(o, line) for o in fact.origins if o)
                hint(fact.node, " | ".join(fact.values), tooltip, types.InlayHintKind.Parameter)
    if ls.editor.shape_hints:
        for shape in _shape_hints(linted):
            hint(shape.node, shape.label, linted.relabel(shape.tooltip, model.span(shape.node).line), types.InlayHintKind.Type)
    return hints
