"""Applying fixes: non-overlapping edits, a re-parse check, repeated to a fixed point."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from trainlint.diagnostics import Applicability, Diagnostic
from trainlint.settings import LintSettings
from trainlint.source import LineIndex

Ranges = list[tuple[int, int, str]]  # (start, end, content) in string offsets

MAX_ROUNDS = 10


def is_applicable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    fix = diagnostic.fix
    return fix is not None and (fix.applicability is Applicability.SAFE or unsafe)


def choose_edits(
    text: str,
    diagnostics: list[Diagnostic],
    unsafe: bool,
    allowed: Callable[[Sequence[tuple[int, int, str]]], bool] | None = None,
) -> tuple[Ranges, list[Diagnostic]]:
    """The edits of every applicable fix that overlaps no fix chosen before it (and that `allowed`
    accepts: a notebook takes edits inside one cell only), and the diagnostics they fix."""
    index = LineIndex(text)
    taken: list[tuple[int, int]] = []
    chosen: Ranges = []
    applied = []
    for diagnostic in diagnostics:
        fix = diagnostic.fix
        if fix is None or not is_applicable(diagnostic, unsafe):
            continue
        ranges = [
            (index.offset(e.span.line, e.span.column), index.offset(e.span.end_line, e.span.end_column), e.content)
            for e in fix.edits
        ]
        if any(_overlaps(start, end, other) for start, end, _ in ranges for other in taken):
            continue  # applied in a later round, against the updated text
        if allowed is not None and not allowed(ranges):
            continue
        taken.extend((start, end) for start, end, _ in ranges)
        chosen.extend(ranges)
        applied.append(diagnostic)
    return chosen, applied


def apply_edits(text: str, diagnostics: list[Diagnostic], unsafe: bool) -> tuple[str, list[Diagnostic]]:
    """Apply every applicable fix whose edits overlap no fix applied before it."""
    chosen, applied = choose_edits(text, diagnostics, unsafe)
    for start, end, content in sorted(chosen, key=lambda r: (r[0], r[1]), reverse=True):
        text = text[:start] + content + text[end:]
    return text, applied


def _overlaps(start: int, end: int, other: tuple[int, int]) -> bool:
    o_start, o_end = other
    if start == end == o_start == o_end:
        return True  # two insertions at one point: order would be arbitrary
    return start < o_end and o_start < end


@dataclass
class FixOutcome:
    text: str
    applied: list[Diagnostic] = field(default_factory=list)
    remaining: list[Diagnostic] = field(default_factory=list)
    error: str | None = None  # a fix that broke the code: the text is left as it was
    internal_errors: int = 0
    dependencies: dict[str, str] = field(default_factory=dict)  # of the last lint (LintResult.dependencies)


def fix_text(text: str, path: str, settings: LintSettings, unsafe: bool) -> FixOutcome:
    """Lint and fix until nothing applicable remains; never returns text that does not parse."""
    from trainlint.engine import lint_source, parses

    outcome = FixOutcome(text)
    for _ in range(MAX_ROUNDS):
        result = lint_source(outcome.text, path, settings)
        outcome.remaining = result.diagnostics
        outcome.internal_errors, outcome.dependencies = result.internal_errors, result.dependencies
        if not result.parsed:
            break  # never touch a file with a syntax error
        new_text, applied = apply_edits(outcome.text, result.diagnostics, unsafe)
        if not applied or new_text == outcome.text:
            break
        if not parses(new_text):
            codes = ", ".join(sorted({d.code for d in applied}))
            outcome.error = f"fixes for {codes} would produce code that does not parse; left unchanged"
            break
        outcome.text = new_text
        outcome.applied.extend(applied)
    else:
        result = lint_source(outcome.text, path, settings)
        outcome.remaining, outcome.internal_errors = result.diagnostics, result.internal_errors
        outcome.dependencies = result.dependencies
    return outcome


def fix_cells(cells: list[tuple[int, str]], path: str, settings: LintSettings, unsafe: bool) -> tuple[dict[int, str], FixOutcome]:
    """fix_text for notebook cells ((number, text) of each code cell), linted as one script: an
    edit that would span two cells or touch masked IPython syntax is not applied. Returns the new
    text of each cell that changed, and the outcome (its text: the last script)."""
    from trainlint.cells import Script
    from trainlint.engine import lint_script, parses

    texts = dict(cells)
    outcome = FixOutcome("")
    for _ in range(MAX_ROUNDS):
        script = Script(texts.items())
        outcome.text = script.text
        result = lint_script(script, path, settings)
        outcome.remaining, outcome.internal_errors = result.diagnostics, result.internal_errors
        outcome.dependencies = result.dependencies
        if not result.parsed:
            break
        chosen, applied = choose_edits(script.text, result.diagnostics, unsafe, script.editable)
        changes = {number: text for number, text in script.apply(chosen).items() if text != texts[number]}
        if not applied or not changes:
            break
        fixed = Script((texts | changes).items())
        if not parses(fixed.text):
            codes = ", ".join(sorted({d.code for d in applied}))
            outcome.error = f"fixes for {codes} would produce code that does not parse; left unchanged"
            break
        texts |= changes
        outcome.applied.extend(applied)
    else:
        script = Script(texts.items())
        result = lint_script(script, path, settings)
        outcome.text, outcome.remaining, outcome.internal_errors = script.text, result.diagnostics, result.internal_errors
        outcome.dependencies = result.dependencies
    original = dict(cells)
    return {number: text for number, text in texts.items() if text != original[number]}, outcome


def fix_notebook(raw: str, path: str, settings: LintSettings, unsafe: bool) -> FixOutcome:
    """fix_text for a notebook's JSON text: the fixes of its cells (fix_cells), written into only
    the JSON strings of the sources they change. Never returns a notebook whose cells do not parse."""
    from trainlint.engine import lint_notebook
    from trainlint.ipynb import NotebookError, read

    try:
        notebook = read(raw)
    except NotebookError:
        result = lint_notebook(raw, path, settings)  # the TL001 that says why
        return FixOutcome(raw, remaining=result.diagnostics)
    if not notebook.python:
        return FixOutcome(raw)
    changed, outcome = fix_cells([(c.number, c.text) for c in notebook.code_cells if c.python], path, settings, unsafe)
    outcome.text = notebook.with_sources(changed)
    return outcome
