"""Between trainlint's ranges (1-based lines, code-point columns) and LSP's (0-based, negotiated units)."""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Callable
from typing import Any

from lsprotocol import types

from trainlint.diagnostics import Diagnostic, Severity, Span
from trainlint.pages import page_url
from trainlint.source import LineIndex

SOURCE = "trainlint"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def _units(text: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def to_position(index: LineIndex, line: int, column: int, encoding: str) -> types.Position:
    """trainlint (1-based line, code-point column) -> LSP position."""
    if line > index.line_count:
        last = index.line_count
        return types.Position(last - 1, _units(index.line_text(last), encoding))
    text = index.line_text(line)
    return types.Position(line - 1, _units(text[:column], encoding))


def to_range(index: LineIndex, span: Span, encoding: str) -> types.Range:
    return types.Range(
        to_position(index, span.line, span.column, encoding), to_position(index, span.end_line, span.end_column, encoding)
    )


def from_position(index: LineIndex, position: types.Position, encoding: str) -> tuple[int, int]:
    """LSP position -> trainlint (1-based line, code-point column), clamped to the text."""
    line = min(position.line + 1, index.line_count)
    text = index.line_text(line)
    if encoding == types.PositionEncodingKind.Utf32:
        return line, min(position.character, len(text))
    units = 0
    for column, char in enumerate(text):
        if units >= position.character:
            return line, column
        units += _units(char, encoding)
    return line, len(text)


def contains(span: Span, line: int, column: int) -> bool:
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


# Where a range of the linted text is: (the document's uri, its line index, the range in it). For a
# text document, the range itself; for a notebook's script, the range in a cell.
Place = Callable[[Span], tuple[str, LineIndex, Span]]


def to_lsp_diagnostic(d: Diagnostic, place: Place, encoding: str, fixable: bool = True) -> tuple[str, types.Diagnostic]:
    """The diagnostic for the document its range is in (`fixable`: offer its fix)."""
    uri, index, span = place(d.span)
    data: dict[str, Any] = {"code": d.code, "span": [d.span.line, d.span.column, d.span.end_line, d.span.end_column]}
    if d.fix is not None and fixable:
        edits = []
        for e in d.fix.edits:
            edit_uri, edit_index, edit_span = place(e.span)
            edits.append({"uri": edit_uri, "range": _range_json(to_range(edit_index, edit_span, encoding)), "newText": e.content})
        data["fix"] = {"title": d.fix.message, "safe": d.fix.applicability.value == "safe", "edits": edits}
    return uri, types.Diagnostic(
        range=to_range(index, span, encoding),
        message=d.message,
        severity=_SEVERITY[d.severity],
        code=d.code,
        code_description=types.CodeDescription(href=page_url(d.code, d.name)),
        source=SOURCE,
        data=data,
    )


def _range_json(r: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def range_from_json(data: dict[str, Any]) -> types.Range:
    return types.Range(
        types.Position(data["start"]["line"], data["start"]["character"]),
        types.Position(data["end"]["line"], data["end"]["character"]),
    )


def minimal_edits(old: str, new: str, encoding: str) -> list[types.TextEdit]:
    """Text edits that turn `old` into `new`, touching only the changed stretches."""
    index = LineIndex(old)
    old_lines = _split(old)
    new_lines = _split(new)
    edits = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        before = "".join(old_lines[i1:i2])
        after = "".join(new_lines[j1:j2])
        # Trim what the two stretches share at either end.
        prefix = 0
        while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
            suffix += 1
        start = sum(len(line) for line in old_lines[:i1]) + prefix
        end = sum(len(line) for line in old_lines[:i1]) + len(before) - suffix
        edits.append(
            types.TextEdit(
                range=types.Range(_offset_position(index, start, encoding), _offset_position(index, end, encoding)),
                new_text=after[prefix : len(after) - suffix],
            )
        )
    return edits


def _split(text: str) -> list[str]:
    """Lines with their endings, split only where LSP and libcst split (\\r\\n, \\r, \\n)."""
    index = LineIndex(text)
    starts = index.starts + [len(text)]
    return [text[starts[i] : starts[i + 1]] for i in range(len(starts) - 1) if starts[i] < starts[i + 1] or i == 0]


def _offset_position(index: LineIndex, offset: int, encoding: str) -> types.Position:
    line = bisect.bisect_right(index.starts, offset) - 1
    return to_position(index, line + 1, offset - index.starts[line], encoding)
