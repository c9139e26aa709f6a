"""Applying fixes: non-overlapping edits, a re-parse check, repeated to a fixed point."""

from __future__ import annotations

from dataclasses import dataclass, field

from trainlint.diagnostics import Applicability, Diagnostic
from trainlint.settings import LintSettings
from trainlint.source import LineIndex

MAX_ROUNDS = 10


def is_applicable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    fix = diagnostic.fix
    return fix is not None and (fix.applicability is Applicability.SAFE or unsafe)


def apply_edits(text: str, diagnostics: list[Diagnostic], unsafe: bool) -> tuple[str, list[Diagnostic]]:
    """Apply every applicable fix whose edits overlap no fix applied before it."""
    index = LineIndex(text)
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, int, str]] = []
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
        taken.extend((start, end) for start, end, _ in ranges)
        chosen.extend(ranges)
        applied.append(diagnostic)
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


def fix_text(text: str, path: str, settings: LintSettings, unsafe: bool) -> FixOutcome:
    """Lint and fix until nothing applicable remains; never returns text that does not parse."""
    from trainlint.engine import lint_source, parses

    outcome = FixOutcome(text)
    for _ in range(MAX_ROUNDS):
        result = lint_source(outcome.text, path, settings)
        outcome.remaining = result.diagnostics
        outcome.internal_errors = result.internal_errors
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
    return outcome
