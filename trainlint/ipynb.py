"""Jupyter notebook files (nbformat 4): their code cells, where each cell's source sits in the JSON
text, and edits spliced back into it.

Read with the standard `json` module's own scanner (`raw_decode`, `scanstring`) walking the
document, so that each `source` string's position in the file is known; nbformat would cost
about 150 ms to import and re-serialise the whole file. Writing changes only the JSON strings of
an edited cell's `source`: outputs, metadata, cell ids, key order, indentation and the final line
break stay byte for byte.
"""

from __future__ import annotations

import json
import json.decoder
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from trainlint.diagnostics import Span
from trainlint.source import LineIndex

if TYPE_CHECKING:
    from trainlint.cells import Script

SUFFIX = ".ipynb"
CONVERT = "convert it with `jupyter nbconvert --to notebook --nbformat 4`"

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def is_notebook(path: str) -> bool:
    return path.lower().endswith(SUFFIX)


class NotebookError(Exception):
    """Not a notebook trainlint can read; `offset` is where in the text."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Piece:
    """One JSON string of a cell's source (a line, when the source is a list)."""

    start: int  # offset of its opening quote in the file's text
    end: int  # offset after its closing quote
    text: str  # decoded


@dataclass(frozen=True)
class CodeCell:
    number: int  # 1-based position among all cells
    pieces: tuple[Piece, ...]
    start: int  # the `source` value's offsets in the file's text
    end: int
    is_list: bool
    key_column: int  # the column of the `"source"` key (to indent a list written from nothing)
    python: bool  # False for a cell VS Code marks as another language

    @property
    def text(self) -> str:
        return "".join(piece.text for piece in self.pieces)


class Notebook:
    def __init__(self, raw: str, cells: list[CodeCell], python: bool, indent: int) -> None:
        self.raw = raw
        self.code_cells = cells
        self.python = python  # the kernel's language is Python (or unknown)
        self._indent = indent
        self._ascii = raw.isascii()  # written with \\u escapes: new text is escaped the same way
        self._by_number = {cell.number: cell for cell in cells}

    @cached_property
    def script(self) -> Script:
        from trainlint.cells import Script

        return Script((cell.number, cell.text) for cell in self.code_cells if cell.python)

    @cached_property
    def _raw_index(self) -> LineIndex:
        return LineIndex(self.raw)

    # -- positions in the file ------------------------------------------------------------

    def _piece_at(self, line: int, column: int) -> tuple[CodeCell, int, int] | None:
        """The cell, the index of its source string and the offset in that string of a script position."""
        script = self.script
        cell = script.cell_at(line)
        if cell is None:
            return None
        code = self._by_number[cell.number]
        _, line_in_cell, column = script.locate(line, column)
        local = LineIndex(cell.text).offset(line_in_cell, column) if cell.text else 0
        for i, piece in enumerate(code.pieces):
            if local < len(piece.text):
                return code, i, local
            local -= len(piece.text)
        if not code.pieces:
            return code, -1, 0
        return code, len(code.pieces) - 1, len(code.pieces[-1].text)  # the end of the source

    def raw_offset(self, line: int, column: int) -> int:
        """The offset in the file's text of a script position (inside the JSON string holding it)."""
        found = self._piece_at(line, column)
        if found is None:
            return 0
        cell, i, local = found
        return cell.start if i < 0 else self._in_piece(cell.pieces[i], local)

    def raw_position(self, line: int, column: int) -> tuple[int, int]:
        """(1-based line, 0-based column) in the file's text of a script position."""
        return self._raw_index.position(self.raw_offset(line, column))

    def _in_piece(self, piece: Piece, local: int) -> int:
        """The file offset of a character of a JSON string (escapes take more than one)."""
        raw, i = self.raw, piece.start + 1
        for _ in range(local):
            if raw[i] != "\\":
                i += 1
            elif raw[i + 1] != "u":
                i += 2
            elif 0xD800 <= int(raw[i + 2 : i + 6], 16) < 0xDC00 and raw.startswith("\\u", i + 6):
                i += 12  # a surrogate pair: one character
            else:
                i += 6
        return i

    def raw_edit(self, span: Span, content: str) -> tuple[Span, str] | None:
        """A script edit as an edit of the file's text (its range there, the content JSON-escaped)
        when it lies within one JSON string; None when it spans two (lines of a source list)."""
        start, end = self._piece_at(span.line, span.column), self._piece_at(span.end_line, span.end_column)
        if start is None or end is None or start[:2] != end[:2] or start[1] < 0:
            return None
        cell, i, _ = start
        piece = cell.pieces[i]
        first = self._raw_index.position(self._in_piece(piece, start[2]))
        last = self._raw_index.position(self._in_piece(piece, end[2]))
        return Span(*first, *last), json.dumps(content, ensure_ascii=self._ascii)[1:-1]

    # -- writing ---------------------------------------------------------------------------

    def with_sources(self, sources: dict[int, str]) -> str:
        """The file's text with these cells' sources replaced (keyed by cell number)."""
        replacements: list[tuple[int, int, str]] = []
        for number, text in sources.items():
            cell = self._by_number[number]
            if text != cell.text:
                replacements.extend(self._replace(cell, text))
        out = self.raw
        for start, end, content in sorted(replacements, reverse=True):
            out = out[:start] + content + out[end:]
        return out

    def _encode(self, text: str) -> str:
        return json.dumps(text, ensure_ascii=self._ascii)

    def _replace(self, cell: CodeCell, text: str) -> list[tuple[int, int, str]]:
        """Replacements of the JSON text that make the cell's source `text`, keeping every string
        of the source that does not change."""
        if not cell.is_list:
            return [(cell.start, cell.end, self._encode(text))]
        old = [piece.text for piece in cell.pieces]
        new = _items(text)
        prefix = 0
        while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
            prefix += 1
        suffix = 0
        while suffix < min(len(old), len(new)) - prefix and old[-1 - suffix] == new[-1 - suffix]:
            suffix += 1
        pieces = cell.pieces
        changed = pieces[prefix : len(old) - suffix]
        added = [self._encode(item) for item in new[prefix : len(new) - suffix]]
        separator = self._separator(cell)
        if changed and added:
            return [(changed[0].start, changed[-1].end, separator.join(added))]
        if changed:  # lines removed
            if prefix:
                return [(pieces[prefix - 1].end, changed[-1].end, "")]
            if suffix:
                return [(changed[0].start, pieces[len(old) - suffix].start, "")]
            return [(cell.start, cell.end, "[]")]
        # lines added
        if prefix:
            return [(pieces[prefix - 1].end, pieces[prefix - 1].end, separator + separator.join(added))]
        if pieces:
            return [(pieces[0].start, pieces[0].start, separator.join(added) + separator)]
        inner = " " * (cell.key_column + self._indent)
        items = f",\n{inner}".join(added)
        return [(cell.start, cell.end, f"[\n{inner}{items}\n{' ' * cell.key_column}]")]

    def _separator(self, cell: CodeCell) -> str:
        """What separates two strings of the cell's source list (`,\\n    ` as nbformat writes it)."""
        pieces = cell.pieces
        if len(pieces) >= 2:
            return self.raw[pieces[0].end : pieces[1].start]
        if pieces:
            return "," + self.raw[cell.start + 1 : pieces[0].start]
        return ",\n" + " " * (cell.key_column + self._indent)


def _items(text: str) -> list[str]:
    """A source as nbformat stores it in a list: each line with its line break."""
    items, start = [], 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        items.append(text[start:end])
        start = end
    return items


# -- reading -----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, raw: str) -> None:
        self.raw = raw

    def ws(self, i: int) -> int:
        match = _WHITESPACE.match(self.raw, i)
        return match.end() if match else i

    def char(self, i: int) -> str:
        return self.raw[i : i + 1]

    def value(self, i: int) -> tuple[Any, int]:
        try:
            return _DECODER.raw_decode(self.raw, i)
        except json.JSONDecodeError as exc:
            raise NotebookError(f"not valid JSON ({exc.msg})", exc.pos) from None

    def string(self, i: int) -> tuple[str, int]:
        if self.char(i) != '"':
            raise NotebookError("not valid JSON (Expecting property name enclosed in double quotes)", i)
        try:
            return _scanstring(self.raw, i + 1)
        except json.JSONDecodeError as exc:
            raise NotebookError(f"not valid JSON ({exc.msg})", exc.pos) from None

    def container(self, i: int, opening: str, item: Any) -> int:
        """Walk an object (`item(key, key_offset, value_offset) -> value end`) or an array
        (`item(None, 0, value_offset)`); returns the offset after it."""
        closing = "}" if opening == "{" else "]"
        if self.char(i) != opening:
            raise NotebookError(f"not valid JSON (Expecting '{opening}')", i)
        i = self.ws(i + 1)
        if self.char(i) == closing:
            return i + 1
        while True:
            key = None
            key_offset = i
            if opening == "{":
                key, i = self.string(i)
                i = self.ws(i)
                if self.char(i) != ":":
                    raise NotebookError("not valid JSON (Expecting ':' delimiter)", i)
                i = self.ws(i + 1)
            i = self.ws(item(key, key_offset, i))
            if self.char(i) == ",":
                i = self.ws(i + 1)
            elif self.char(i) == closing:
                return i + 1
            else:
                raise NotebookError("not valid JSON (Expecting ',' delimiter)", i)


def read(raw: str) -> Notebook:
    """Read a notebook's text; NotebookError when it is not valid JSON or not nbformat 4."""
    reader = _Reader(raw)
    found: dict[str, tuple[Any, int]] = {}
    cells: list[CodeCell] = []

    def top(key: str | None, key_offset: int, i: int) -> int:
        if key == "cells":
            cells.clear()
            found["cells"] = (None, i)
            return _cells(reader, i, cells)
        value, end = reader.value(i)
        found[key or ""] = (value, i)
        return end

    start = reader.ws(0)
    if reader.char(start) != "{":
        reader.value(start)  # the reason it is not JSON, if it is not
        raise NotebookError("not a notebook (the JSON is not an object)", start)
    end = reader.ws(reader.container(start, "{", top))
    if end < len(raw):
        raise NotebookError("not valid JSON (Extra data)", end)
    version, at = found.get("nbformat", (None, start))
    if "worksheets" in found or (isinstance(version, int) and version < 4):
        raise NotebookError(f"nbformat {version if isinstance(version, int) else 3} is not supported; {CONVERT}", at)
    if version != 4:
        what = "no nbformat key" if version is None else f"nbformat {version!r}"
        raise NotebookError(f"not an nbformat 4 notebook ({what})", at)
    if "cells" not in found:
        raise NotebookError("not an nbformat 4 notebook (no cells)", start)
    metadata = found.get("metadata", ({}, 0))[0]
    return Notebook(raw, cells, _python_kernel(metadata), _indent_unit(raw, start))


def _cells(reader: _Reader, i: int, cells: list[CodeCell]) -> int:
    if reader.char(i) != "[":
        reader.value(i)
        raise NotebookError("not an nbformat 4 notebook (cells is not a list)", i)
    number = 0

    def cell(_: str | None, __: int, j: int) -> int:
        nonlocal number
        number += 1
        return _cell(reader, j, number, cells)

    return reader.container(i, "[", cell)


def _cell(reader: _Reader, i: int, number: int, cells: list[CodeCell]) -> int:
    if reader.char(i) != "{":
        reader.value(i)
        raise NotebookError(f"not an nbformat 4 notebook (cell {number} is not an object)", i)
    values: dict[str, Any] = {}
    source: list[Any] = []

    def member(key: str | None, key_offset: int, j: int) -> int:
        if key == "source":
            source[:] = [key_offset, j]
            return _source(reader, j, number, source)
        value, end = reader.value(j)
        values[key or ""] = value
        return end

    end = reader.container(i, "{", member)
    kind = values.get("cell_type")
    if not isinstance(kind, str):
        raise NotebookError(f"not an nbformat 4 notebook (cell {number} has no cell_type)", i)
    if kind != "code":
        return end
    if not source:
        raise NotebookError(f"not an nbformat 4 notebook (code cell {number} has no source)", i)
    key_offset, value_start, value_end, is_list, pieces = source
    metadata = values.get("metadata")
    vscode = metadata.get("vscode") if isinstance(metadata, dict) else None
    language = vscode.get("languageId") if isinstance(vscode, dict) else None
    key_column = key_offset - (reader.raw.rfind("\n", 0, key_offset) + 1)
    python = language in (None, "python")
    cells.append(CodeCell(number, tuple(pieces), value_start, value_end, is_list, key_column, python))
    return end


def _source(reader: _Reader, i: int, number: int, out: list[Any]) -> int:
    """Record a source value: [key offset, start, end, is a list, pieces]."""
    if reader.char(i) == '"':
        text, end = reader.string(i)
        out.extend([end, False, [Piece(i, end, text)]])
        return end
    if reader.char(i) != "[":
        reader.value(i)
        raise NotebookError(f"not an nbformat 4 notebook (the source of cell {number} is not text)", i)
    pieces: list[Piece] = []

    def item(_: str | None, __: int, j: int) -> int:
        if reader.char(j) != '"':
            reader.value(j)
            raise NotebookError(f"not an nbformat 4 notebook (the source of cell {number} is not text)", j)
        text, end = reader.string(j)
        pieces.append(Piece(j, end, text))
        return end

    end = reader.container(i, "[", item)
    out.extend([end, True, pieces])
    return end


def _python_kernel(metadata: Any) -> bool:
    """Whether the kernel runs Python (a notebook that does not say is taken to)."""
    if not isinstance(metadata, dict):
        return True
    for key, field in (("language_info", "name"), ("kernelspec", "language")):
        table = metadata.get(key)
        if isinstance(table, dict) and isinstance(table.get(field), str):
            return bool(table[field].lower() in ("python", "python3", "ipython"))
    return True


def _indent_unit(raw: str, start: int) -> int:
    """The indentation of the notebook's top-level keys (nbformat writes 1)."""
    line_start = raw.find("\n", start) + 1
    if not line_start:
        return 1
    indent = len(raw[line_start:]) - len(raw[line_start:].lstrip(" "))
    return indent or 1
