"""One source text in, diagnostics out. The CLI, the fixer and the language server all call this."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import libcst as cst

from trainlint import suppress
from trainlint.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, Span
from trainlint.ipynb import NotebookError, is_notebook, read
from trainlint.parsing import parse, python_parse
from trainlint.registry import REGISTRY, Finding, Rule, all_rules
from trainlint.settings import LintSettings
from trainlint.source import DecodeError, LineIndex, decode

if TYPE_CHECKING:
    from trainlint.cells import Script
    from trainlint.model import ScriptModel
    from trainlint.project import ProjectModules

ISSUES_URL = "https://github.com/trainlint/trainlint/issues"


@dataclass
class LintResult:
    diagnostics: list[Diagnostic]
    parsed: bool = True  # False when the text does not parse: fixes must not touch it
    internal_errors: int = 0
    model: ScriptModel | None = field(default=None, repr=False)  # for hover and inlay hints
    # Other files and folders of the project the result depends on (see project.unchanged).
    dependencies: dict[str, str] = field(default_factory=dict)


def _diagnostic(
    code: str,
    message: str,
    span: Span,
    settings: LintSettings,
    fix: Fix | None = None,
    severity: Severity | None = None,
    suppression_lines: tuple[int, ...] = (),
    related: tuple[tuple[Span, str], ...] = (),
) -> Diagnostic:
    rule = REGISTRY[code]
    level = settings.severity(code, severity or rule.severity)
    return Diagnostic(code, rule.name, message, level, span, fix, suppression_lines, related)


def _line_span(index: LineIndex, line: int, column: int) -> Span:
    """From a position to the end of its line (at least one character when there is one)."""
    line = max(1, min(line, index.line_count))
    length = len(index.line_text(line))
    column = max(0, min(column, length))
    return Span(line, column, line, max(length, column))


def parses(text: str) -> bool:
    """Whether libcst parses the text (deeply nested code included)."""
    try:
        parse(text)
    except RecursionError:
        return in_deep_stack(parses, text)
    except Exception:  # noqa: BLE001 - any parser failure means: it does not parse
        return False
    return True


def _python_parse(text: str) -> BaseException | None:
    """CPython's verdict on the code (None: it parses), without its warnings about the linted code."""
    problem = python_parse(text).problem
    if isinstance(problem, RecursionError) and _compiles_as_a_script(text):
        # Building Python's tree counts the frames below this call against the recursion limit
        # (and CPython's counters can carry state from earlier deep parses): code nested just less
        # deeply than `python file.py` compiles failed here. The verdict is the script's.
        return None
    return problem


# Compiles stdin as `python file.py` does: with the frames of this program not counted against
# the recursion limit (measured by recursing to it; counting frames misses the C calls).
_COMPILE_AS_A_SCRIPT = """
import sys, warnings
def down(depth):
    try:
        return down(depth + 1)
    except RecursionError:
        return depth
sys.setrecursionlimit(2 * sys.getrecursionlimit() - down(0))
warnings.simplefilter("ignore")
try:
    compile(sys.stdin.buffer.read(), "<trainlint>", "exec", dont_inherit=True)
except (RecursionError, MemoryError):
    sys.exit(1)
except (SyntaxError, ValueError):
    pass
"""


def _compiles_as_a_script(text: str) -> bool:
    """Whether `python file.py` compiles the code, asked of a fresh interpreter (isolated, no
    site): only for code nested deeply enough to reach the recursion limit here, which is rare."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _COMPILE_AS_A_SCRIPT],
            input=text.encode("utf-8", "surrogatepass"),
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False  # no interpreter to ask: keep this process's verdict
    return done.returncode == 0


def _fatal(problem: BaseException | None, text: str) -> bool:
    """Code CPython rejects that libcst must not even try, or would wrongly accept: too deep to
    parse (libcst's parser crashes, or takes minutes, on such input), or null bytes (CPython
    refuses them anywhere, even in a comment or a string; libcst parses them). Other syntax errors
    may be newer syntax than this interpreter knows, which libcst still parses."""
    if problem is None:
        return False
    return "\0" in text or not isinstance(problem, SyntaxError) or "too many nested" in str(problem)


def syntax_error(
    text: str, problem: BaseException | None, settings: LintSettings, parser_error: Exception | None = None
) -> Diagnostic:
    """TL001 with CPython's message and position when CPython rejects the code ("'(' was never
    closed" points at the real mistake), else libcst's."""
    index = LineIndex(text)
    line, column, detail = 1, 0, "the code could not be parsed"
    if isinstance(parser_error, cst.ParserSyntaxError):
        line, column, detail = parser_error.raw_line, parser_error.raw_column, parser_error.message
    if isinstance(problem, SyntaxError) and problem.lineno:
        line, column, detail = problem.lineno, max((problem.offset or 1) - 1, 0), problem.msg
    elif isinstance(problem, (RecursionError, MemoryError)) or isinstance(parser_error, (RecursionError, MemoryError)):
        detail = "the code is nested too deeply to parse"
    elif isinstance(problem, ValueError):
        detail = str(problem)
    span = _line_span(index, line, column)
    nul = text.find("\0") if problem is not None else -1
    if nul >= 0:  # CPython names no position for it
        line, column = index.position(nul)
        span, detail = Span(line, column, line, column + 1), "source code cannot contain null bytes (a NUL character)"
    message = f"Syntax error: {detail.strip().rstrip('.')}; trainlint checks nothing else in this file until it parses"
    return _diagnostic("TL001", message, span, settings)


def lint_bytes(data: bytes, path: str, settings: LintSettings) -> LintResult:
    try:
        text = decode(data).text
    except DecodeError as exc:
        diagnostic = _diagnostic("TL001", str(exc), Span(exc.line, exc.column, exc.line, exc.column + 1), settings)
        return LintResult(_enabled([diagnostic], settings), parsed=False)
    if is_notebook(path):
        return lint_notebook(text, path, settings)
    return lint_source(text, path, settings)


def lint_notebook(raw: str, path: str, settings: LintSettings) -> LintResult:
    """A notebook's text (JSON): its code cells linted as one script; TL001 when it cannot be read."""
    try:
        notebook = read(raw)
    except NotebookError as exc:
        return LintResult(_enabled([invalid_notebook(raw, exc, settings)], settings), parsed=False)
    if not notebook.python:
        return LintResult([])  # another kernel's language
    return lint_script(notebook.script, path, settings)


def invalid_notebook(raw: str, exc: NotebookError, settings: LintSettings) -> Diagnostic:
    line, column = LineIndex(raw).position(min(exc.offset, len(raw)))
    message = f"Invalid notebook: {exc}; trainlint checks nothing else in this file until it can be read"
    return _diagnostic("TL001", message, _line_span(LineIndex(raw), line, column), settings)


def lint_script(script: Script, path: str, settings: LintSettings) -> LintResult:
    """Notebook cells as one script. Positions stay the script's (the output formats and the server
    map them to cells); messages cite lines the way the notebook numbers them."""
    result = lint_source(script.text, path, settings)
    result.diagnostics = [_relabeled(d, script) for d in result.diagnostics]
    return result


def _relabeled(d: Diagnostic, script: Script) -> Diagnostic:
    home = d.span.line
    fix = d.fix and replace(d.fix, message=script.relabel(d.fix.message, home))
    return replace(d, message=script.relabel(d.message, home), fix=fix)


def _rules_that_could_fire(text: str, settings: LintSettings) -> list[type[Rule]]:
    """The enabled rules whose trigger words occur in the text (a rule with none always runs)."""
    out = []
    looked_up: dict[str, bool] = {}
    for rule in all_rules():
        if rule.engine or rule.code not in settings.enabled:
            continue
        if rule.could_fire(text, looked_up):
            out.append(rule)
    return out


class _TooDeep(Exception):
    """Python's recursion limit was hit: lint again with a deeper stack."""


DEEP_RECURSION_LIMIT = 200_000
DEEP_STACK_BYTES = 1024 * 1024 * 1024


def lint_source(text: str, path: str, settings: LintSettings) -> LintResult:
    # The parse allocates some 100,000 objects, none of them garbage yet: collecting cycles in the
    # middle of it only costs time (a third more, at the 95th percentile in the language server).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _lint_source(text, path, settings, deep=False)
    except _TooDeep:
        return in_deep_stack(_lint_source, text, path, settings, True)
    finally:
        if collecting:
            gc.enable()


T = TypeVar("T")


def in_deep_stack(function: Callable[..., T], *args: Any) -> T:
    """Run in a thread with a large stack and recursion limit: valid but deeply nested code
    (a 500-term sum, a long method chain) recurses in libcst and in the model's walks."""
    values: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(DEEP_RECURSION_LIMIT)
        try:
            values.append(function(*args))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)
        finally:
            sys.setrecursionlimit(limit)

    size = threading.stack_size(DEEP_STACK_BYTES)
    try:
        thread = threading.Thread(target=run, name="trainlint-deep")
        thread.start()
    finally:
        threading.stack_size(size)
    thread.join()
    if errors:
        raise errors[0]
    return values[0]


def _lint_source(text: str, path: str, settings: LintSettings, deep: bool) -> LintResult:
    problem = _python_parse(text)
    if _fatal(problem, text):
        return LintResult(_enabled([syntax_error(text, problem, settings)], settings), parsed=False)
    rules = _rules_that_could_fire(text, settings)
    if not rules and problem is None:  # nothing to check: no need for the (costly) libcst parse
        return LintResult(_finish(text, [], settings, ran=set(settings.enabled)))
    try:
        module = parse(text)
    except RecursionError as exc:
        if not deep:
            raise _TooDeep from exc
        return LintResult(_enabled([syntax_error(text, problem, settings, exc)], settings), parsed=False)
    except (cst.ParserSyntaxError, MemoryError) as exc:
        return LintResult(_enabled([syntax_error(text, problem, settings, exc)], settings), parsed=False)
    if not rules:
        return LintResult(_finish(text, [], settings, ran=set(settings.enabled)))
    return _Run(text, path, settings, deep).check(module, rules)


class _Run:
    """The rules of one parsed file: each crash becomes a TL002 and the others still run."""

    def __init__(self, text: str, path: str, settings: LintSettings, deep: bool) -> None:
        self.text, self.path, self.settings, self.deep = text, path, settings, deep
        self.diagnostics: list[Diagnostic] = []
        self.internal = 0
        self._exact: bool | None = None

    def crashed(self, what: str, exc: Exception) -> None:
        """Record a crash; a recursion error first gets another try on a deeper stack."""
        if isinstance(exc, RecursionError) and not self.deep:
            raise _TooDeep from exc
        self.internal += 1
        self.diagnostics.append(_internal(self.text, what, self.path, exc, self.settings))

    def exact(self, model: ScriptModel) -> bool:
        """Whether positions in the tree are positions in the text. libcst drops a form feed that starts a
        line, so columns after it are one off: a fix there would edit the wrong characters."""
        if "\f" not in self.text:
            return True
        if self._exact is None:
            self._exact = model.module.code == self.text
        return self._exact

    def check(self, module: cst.Module, rules: list[type[Rule]]) -> LintResult:
        from trainlint.model import ScriptModel
        from trainlint.model.positions import InAnotherFile

        project = _project(self.path, self.settings)
        try:
            model = ScriptModel(module, self.path, project=project, text=self.text)
        except Exception as exc:  # noqa: BLE001 - a bug in the model is reported, never a crash of the run
            self.crashed("the script model", exc)
            return LintResult(_enabled(self.diagnostics, self.settings), internal_errors=self.internal)

        if model.links.files:  # the words a rule needs may be in the files linked in (Net's layers)
            rules = _rules_that_could_fire("\n".join([self.text, *(d.text for d in model.links.files.values())]), self.settings)
        ran = set(self.settings.enabled) - {r.code for r in rules}  # the others cannot fire here
        findings: list[tuple[type[Rule], Finding]] = []
        for rule in rules:
            try:
                findings.extend((rule, f) for f in rule().check(model, self.settings.options(rule)))
                ran.add(rule.code)
            except Exception as exc:  # noqa: BLE001 - one rule's bug must not hide the others' findings
                self.crashed(f"rule {rule.code} ({rule.name})", exc)

        model.positions.want(
            n for _, f in findings for n in (f.node, *f.refs, *f.suppressible_at, *(node for node, _ in f.related))
        )
        for rule, finding in findings:
            try:
                self.diagnostics.append(self.diagnostic(rule, finding, model))
            except InAnotherFile:
                pass  # placed in, or citing, a file this one imports from: that file's lint reports it
            except Exception as exc:  # noqa: BLE001 - as above, for the message and fix of one finding
                ran.discard(rule.code)
                self.crashed(f"rule {rule.code} ({rule.name})", exc)
        return LintResult(
            _finish(self.text, self.diagnostics, self.settings, ran),
            internal_errors=self.internal,
            model=model,
            dependencies=project.reads if project is not None else {},
        )

    def diagnostic(self, rule: type[Rule], finding: Finding, model: ScriptModel) -> Diagnostic:
        from trainlint.model.positions import InAnotherFile

        here = model.positions.here
        if not here(finding.node):
            return self._relocated(rule, finding, model)
        span = model.span(finding.node)
        message = finding.message()
        try:
            fix = finding.fix() if finding.fix is not None and self.exact(model) else None
        except InAnotherFile:
            fix = None  # it would edit another file
        suppression_lines = tuple(model.span(n).line for n in finding.suppressible_at if here(n))
        related = _related(model, span, finding.related)
        return _diagnostic(rule.code, message, span, self.settings, fix, finding.severity, suppression_lines, related)

    def _relocated(self, rule: type[Rule], finding: Finding, model: ScriptModel) -> Diagnostic:
        """A finding inside a function or class of another file this one calls (`train_one_epoch` in
        engine.py, `Net` in models.py), about this file's objects (its scheduler, the images of its
        loader): reported at the first call, saying where it happens. One that cites nothing of this
        file (`lr=5.0` written in the helper, a layer mismatch within Net) is that file's to report."""
        from trainlint.model.positions import InAnotherFile

        cited = (*finding.refs, *finding.suppressible_at, *(node for node, _ in finding.related))
        definition, callers = model.links.callers(finding.node)
        if definition is None or not callers or not any(node is not None and model.positions.here(node) for node in cited):
            raise InAnotherFile(finding.node)
        call = callers[0]
        where = f"in {definition.name}, line {model.positions.line(finding.node)}"
        message = f"{finding.message()} ({where})"
        span = model.span(call)
        related = _related(model, span, finding.related)
        return _diagnostic(rule.code, message, span, self.settings, None, finding.severity, (), related)


def _project(path: str, settings: LintSettings) -> ProjectModules | None:
    """The project the file at `path` imports from; None for text with no file (standard input)."""
    from trainlint.project import ProjectModules, real_folder, repository_root

    if path in ("-", "<stdin>", "<string>"):
        return None
    head, name = os.path.split(os.path.abspath(path))
    folder = real_folder(head)
    if folder is None:
        return None
    root = Path(settings.root) if settings.root else repository_root(folder)
    return ProjectModules(
        folder / name, root, tuple(Path(s) for s in settings.sources), lambda text: bool(_rules_that_could_fire(text, settings))
    )


def _related(model: ScriptModel, primary: Span, cited: Sequence[tuple[Any, str]]) -> tuple[tuple[Span, str], ...]:
    """The cited places in file order, without the reported range itself or repeats."""
    out: dict[Span, str] = {}
    for node, label in cited:
        if not model.positions.here(node):
            continue
        span = model.span(node)
        if span != primary and span not in out:
            out[span] = label
    return tuple(sorted(out.items()))


def _internal(text: str, what: str, path: str, exc: BaseException, settings: LintSettings) -> Diagnostic:
    import traceback  # only for a crash: not at start-up

    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {where.filename.rsplit('/', 1)[-1]}:{where.lineno}" if where else ""
    message = (
        f"Internal error: {what} crashed on {path} ({type(exc).__name__}: {exc}{at}); "
        f"the other rules still ran. Please report it at {ISSUES_URL} with this file"
    )
    return _diagnostic("TL002", message, Span(1, 0, 1, 0), settings)


def _enabled(diagnostics: list[Diagnostic], settings: LintSettings) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code in settings.enabled or d.code == "TL002"]


def _finish(text: str, diagnostics: list[Diagnostic], settings: LintSettings, ran: set[str]) -> list[Diagnostic]:
    """Apply suppressions, then report the `# noqa` codes that suppressed nothing."""
    found = suppress.parse(text)
    kept = []
    for diagnostic in _enabled(diagnostics, settings):
        if diagnostic.code == "TL002":
            kept.append(diagnostic)  # never hide a crash
            continue
        if found.file_suppresses(diagnostic.code):
            continue
        noqa = found.match(diagnostic.code, diagnostic.span.line, diagnostic.span.end_line, diagnostic.suppression_lines)
        if noqa is None:
            kept.append(diagnostic)
        else:
            noqa.used.add(diagnostic.code)
    if "TL003" in settings.enabled and not found.file_suppresses("TL003"):
        kept.extend(_unused(text, found, settings, ran))
    kept.sort(key=lambda d: d.sort_key)
    return kept


def _unused(text: str, found: suppress.Suppressions, settings: LintSettings, ran: set[str]) -> list[Diagnostic]:
    index = LineIndex(text)
    out = []
    for noqa in (n for group in found.by_line.values() for n in group):
        if noqa.codes is None or any(code == "TL003" for code, _, _ in noqa.codes):
            continue
        unused = []
        for code, start, end in noqa.codes:
            if not code.startswith("TL") or code in noqa.used:
                continue
            if code in REGISTRY and code not in ran:
                continue  # the rule did not run here, so we cannot know
            unused.append((code, start, end))
        if not unused:
            continue
        names = ", ".join(code for code, _, _ in unused)
        unknown = [code for code, _, _ in unused if code not in REGISTRY]
        why = f" ({', '.join(unknown)}: no such rule)" if unknown else ""
        message = f"Unused suppression: `# noqa` for {names} suppresses nothing on this line{why}; remove it"
        span = Span(noqa.line, noqa.column, noqa.line, noqa.end_column)
        edits = _removal(index, noqa, {c for c, _, _ in unused})
        fix = Fix(Applicability.SAFE, f"Remove unused suppression of {names}", edits)
        out.append(_diagnostic("TL003", message, span, settings, fix))
    return out


def _removal(index: LineIndex, noqa: suppress.Noqa, unused: set[str]) -> tuple[Edit, ...]:
    """Edits that drop the unused codes, or the whole `# noqa: ...` when none stays."""
    assert noqa.codes is not None
    keep = [code for code, _, _ in noqa.codes if code not in unused]
    line_text = index.line_text(noqa.line)
    if keep:
        first, last = noqa.codes[0][1], noqa.codes[-1][2]
        return (Edit(Span(noqa.line, first, noqa.line, last), ", ".join(keep)),)
    start, end = noqa.column, noqa.end_column
    rest = line_text[end:]
    content = ""
    if not rest.strip():
        end = len(line_text)
        while start > 0 and line_text[start - 1] in " \t":
            start -= 1  # the spaces before the comment go too
    elif rest.lstrip().startswith("#"):
        end += len(rest) - len(rest.lstrip())  # `noqa: X  # why`: keep the second comment
    else:
        content = "#"  # `noqa: X why`: the rest stays a comment
    return (Edit(Span(noqa.line, start, noqa.line, end), content),)
