"""Notebook cells as one script: IPython syntax masked, every line mapped back to its cell.

A notebook's code cells run in one namespace, in order, so they are linted as one script: a value
set in cell 2 is known in cell 7. Each cell keeps its own lines (a final line break is added when
it has none), so a script line is its cell's first line plus the line in the cell, minus one.
IPython syntax is replaced by Python of the same length, so columns do not move either:

- `%matplotlib inline`, `!pip install x`, `?obj`, `obj??` and `pip install x` alone in a cell
  (IPython's automagic) become `...` (a statement, valid inside an indented block too); the lines
  a trailing backslash continues become blank;
- `files = !ls` keeps the assignment: `files = ...`;
- `%time x = f()` becomes `...;   x = f()`: `%time` runs its statement once, in the notebook's
  namespace, so it is linted (`%timeit` runs it many times in a scope of its own: masked whole);
- a cell magic whose body is Python run once in the notebook's namespace (PYTHON_CELL_MAGICS)
  masks its first line and keeps its body; any other (`%%bash`, `%%writefile`, `%%html`,
  `%%timeit`, ...) leaves the cell out;
- a cell whose first code line is indented (IPython removes that indentation) is preceded by a
  line `if 1:` of its own, which belongs to no cell.

Edits (fixes) are allowed inside one cell's own text, never on masked characters.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from trainlint.diagnostics import Span
from trainlint.source import split_lines

# Cell magics whose body is Python that runs once, in the notebook's namespace.
PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun", "debug"})
# Line magics (and IPython's default shell aliases) that IPython runs without `%` when a cell holds
# nothing else (automagic applies to one-line cells only).
AUTOMAGICS = frozenset(
    {"pip", "conda", "mamba", "cd", "ls", "ll", "pwd", "env", "set_env", "matplotlib", "load_ext", "reload_ext"}
    | {"unload_ext", "mkdir", "rmdir", "rm", "cp", "mv", "cat", "who", "whos", "who_ls", "reset", "xdel", "history"}
    | {"run", "load", "sx", "system", "pinfo", "pinfo2", "psource", "pdoc", "pdef", "config"}
)
WRAPPER = "if 1:\n"  # before a cell that IPython would dedent

_CELL_MAGIC = re.compile(r"[ \t]*%%([A-Za-z_]\w*)")
_MAGIC_ASSIGN = re.compile(r"[ \t]*[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*=[ \t]*(?=[!%])")
_TIME = re.compile(r"%time(?=[ \t])")
_AUTOMAGIC = re.compile(r"[ \t]*([A-Za-z_]\w*)(?:[ \t]+(?![ \t=,])|[ \t]*$)")
_HELP = re.compile(r"\?{1,2}[A-Za-z_*][\w.*]*|[A-Za-z_*][\w.*]*(?:\(\))?\?{1,2}")
_LINE = re.compile(r"(?<![\w-])line (\d+)\b")


def _filler(length: int) -> str:
    """A statement of exactly `length` characters."""
    return "..." + " " * (length - 3) if length >= 3 else "0" + " " * (length - 1)


@dataclass
class _State:
    """Where a line starts: inside a string (its quote), inside brackets, after a backslash."""

    quote: str | None = None
    depth: int = 0
    continued: bool = False

    @property
    def at_statement(self) -> bool:
        return self.quote is None and self.depth == 0 and not self.continued

    def scan(self, line: str) -> None:
        """Advance past one line (without its line break)."""
        quote, depth, i, n = self.quote, self.depth, 0, len(line)
        while i < n:
            char = line[i]
            if quote is not None:
                if char == "\\":
                    i += 2
                    continue
                if line.startswith(quote, i):
                    i += len(quote)
                    quote = None
                    continue
                i += 1
                continue
            if char == "#":
                break
            if char in "\"'":
                quote = char * 3 if line.startswith(char * 3, i) else char
                i += len(quote)
                continue
            if char in "([{":
                depth += 1
            elif char in ")]}":
                depth = max(0, depth - 1)
            i += 1
        backslash = i >= n and line.endswith("\\") and (quote is None or len(quote) == 1)
        if quote is not None and len(quote) == 1 and not backslash:
            quote = None  # an unterminated one-line string: a syntax error Python reports
        self.quote, self.depth, self.continued = quote, depth, backslash and quote is None


@dataclass(frozen=True)
class Masked:
    text: str  # the cell as Python
    spans: tuple[tuple[int, int], ...]  # masked offsets in the cell's text
    skip: bool  # a cell magic with a body that is not Python
    wrap: bool  # the first code line is indented: a WRAPPER line goes before the cell


def mask(text: str) -> Masked:
    """The cell's text with its IPython syntax replaced by Python of the same length."""
    lines = _lines(text)
    first = next((i for i, (content, _) in enumerate(lines) if content.strip()), None)
    if first is None:
        return Masked(text, (), False, False)
    out = [content for content, _ in lines]
    spans: list[tuple[int, int]] = []
    starts = [0]
    for content, ending in lines:
        starts.append(starts[-1] + len(content) + len(ending))

    def blank(i: int, start: int, filler: bool = True) -> None:
        content = lines[i][0]
        if start < len(content):
            out[i] = content[:start] + (_filler(len(content) - start) if filler else " " * (len(content) - start))
            spans.append((starts[i] + start, starts[i] + len(content)))

    skip, wrap = layout(text)
    if skip:
        return Masked(text, (), True, False)
    body_start = first
    if _CELL_MAGIC.match(lines[first][0]):
        blank(first, 0)
        body_start = first + 1
    code_lines = sum(1 for content, _ in lines if content.strip())
    state = _State()
    masking = False  # inside a masked magic continued by backslashes
    for i in range(body_start, len(lines)):
        content = lines[i][0]
        if masking:
            blank(i, 0, filler=False)
            masking = content.endswith("\\")
            continue
        if not state.at_statement:
            state.scan(content)
            continue
        start = _masked_from(content, code_lines == 1)
        if start is None:
            state.scan(content)
            continue
        stripped = content.lstrip(" \t")
        if _TIME.match(stripped) and _simple_statement(stripped[5:]):
            column = len(content) - len(stripped)
            out[i] = content[:column] + "...; " + content[column + 5 :]
            spans.append((starts[i] + column, starts[i] + column + 5))
            continue
        blank(i, start)
        masking = content.endswith("\\")
    masked = "".join(o + ending for o, (_, ending) in zip(out, lines, strict=True))
    return Masked(masked, tuple(spans), False, wrap)


def layout(text: str) -> tuple[bool, bool]:
    """(skip, wrap) of a cell, without masking it: a cell magic whose body is not Python leaves the
    cell out; IPython removes the indentation of a cell's first non-blank line (and the same from
    the others), so a cell whose first line and first code line are indented needs a block."""
    lines = [content for content, _ in _lines(text)]
    first = next((i for i, content in enumerate(lines) if content.strip()), None)
    if first is None:
        return False, False
    magic = _CELL_MAGIC.match(lines[first])
    if magic:
        return magic.group(1) not in PYTHON_CELL_MAGICS, False
    code = next((line for line in lines[first:] if line.strip() and not line.lstrip().startswith("#")), None)
    return False, lines[first][:1] in (" ", "\t") and code is not None and code[:1] in (" ", "\t")


def _masked_from(content: str, only_line: bool) -> int | None:
    """The column IPython syntax starts at on a line that starts a statement, or None."""
    stripped = content.lstrip(" \t")
    column = len(content) - len(stripped)
    if stripped[:1] in ("!", "%"):
        return column
    assign = _MAGIC_ASSIGN.match(content)
    if assign:
        return assign.end()
    if _HELP.fullmatch(stripped.rstrip()):
        return column
    if only_line:
        auto = _AUTOMAGIC.match(content)
        if auto and auto.group(1) in AUTOMAGICS:
            return column
    return None


def _simple_statement(code: str) -> bool:
    """Whether `%time CODE` can keep CODE on its line, after `...;` (one simple statement)."""
    if code.rstrip().endswith("\\"):
        return False
    try:
        ast.parse("...;" + code)
    except (SyntaxError, ValueError):
        return False
    return True


def _lines(text: str) -> list[tuple[str, str]]:
    """(content, line break) of each line; the last has an empty break when the text ends without one."""
    contents = split_lines(text)
    out = []
    position = 0
    for content in contents:
        position += len(content)
        ending = text[position : position + 2] if text.startswith("\r\n", position) else text[position : position + 1]
        position += len(ending)
        out.append((content, ending))
    if out and out[-1] == ("", ""):
        out.pop()
    return out


@dataclass(frozen=True)
class Cell:
    """One linted cell: where its text sits in the script."""

    number: int  # 1-based position among all the notebook's cells (markdown ones too), as ruff counts
    text: str  # as written
    line: int  # the script line of its first line
    offset: int  # the script offset of its first character
    lines: int  # how many script lines it takes
    added_newline: bool  # its text does not end with "\n": the script adds one

    @property
    def end(self) -> int:
        """The script offset after its last character (and the line break added)."""
        return self.offset + len(self.text) + self.added_newline


class Script:
    """The script the model sees (`text`), the same with each cell's own text (`source`, for
    quoting), and the map between the two coordinate systems. The masking is done when `text` is
    first asked for: showing a cached result's positions needs the map only."""

    def __init__(self, cells: Iterable[tuple[int, str]]) -> None:
        source: list[str] = []
        self.cells: list[Cell] = []
        self._wrapped: set[int] = set()
        line, offset = 1, 0
        for number, cell_text in cells:
            skip, wrap = layout(cell_text)
            if skip:
                continue
            if wrap:
                self._wrapped.add(number)
                source.append(WRAPPER)
                line, offset = line + 1, offset + len(WRAPPER)
            # A line break ends every cell's text: "\n" is added after a lone "\r" too, so that the next
            # cell's text cannot make one "\r\n" of it.
            added = bool(cell_text) and not cell_text.endswith("\n")
            count = len(_lines(cell_text))
            self.cells.append(Cell(number, cell_text, line, offset, count, added))
            source.append(cell_text + "\n" * added)
            line += count
            offset += len(cell_text) + added
        self.source = "".join(source)
        self._lines = [cell.line for cell in self.cells]
        self._offsets = [cell.offset for cell in self.cells]

    @cached_property
    def _masked(self) -> tuple[str, dict[int, tuple[tuple[int, int], ...]]]:
        text: list[str] = []
        spans: dict[int, tuple[tuple[int, int], ...]] = {}
        for cell in self.cells:
            masked = mask(cell.text)
            if cell.number in self._wrapped:
                text.append(WRAPPER)
            text.append(masked.text + "\n" * cell.added_newline)
            spans[cell.number] = tuple((cell.offset + start, cell.offset + end) for start, end in masked.spans)
        return "".join(text), spans

    @property
    def text(self) -> str:
        return self._masked[0]

    def cell_at(self, line: int) -> Cell | None:
        """The cell a script line belongs to (a WRAPPER line: the cell it opens; past the end: the last)."""
        if not self.cells:
            return None
        i = bisect.bisect_right(self._lines, line) - 1
        if i < 0 or (i + 1 < len(self.cells) and line >= self.cells[i].line + self.cells[i].lines):
            i += 1  # a WRAPPER line
        return self.cells[i]

    def locate(self, line: int, column: int) -> tuple[int, int, int]:
        """(cell number, line in the cell, column) of a script position; (0, line, column) without cells."""
        cell = self.cell_at(line)
        if cell is None:
            return 0, line, column
        if line < cell.line:
            return cell.number, 1, 0
        return cell.number, min(line - cell.line + 1, max(cell.lines, 1)), column

    def local(self, span: Span) -> tuple[int, Span]:
        """A script range as (cell number, range in that cell): the end counts from the same cell's
        first line, so a range ending where the next line starts keeps that meaning."""
        number, line, column = self.locate(span.line, span.column)
        cell = self.cell_at(span.line)
        first = cell.line if cell is not None else 1
        end_line = max(span.end_line - first + 1, line)
        end_column = span.end_column if (end_line, span.end_column) >= (line, column) else column
        return number, Span(line, column, end_line, end_column)

    # -- edits --------------------------------------------------------------------------

    def _cell_of_range(self, start: int, end: int) -> Cell | None:
        i = bisect.bisect_right(self._offsets, start) - 1
        if i < 0:
            return None
        cell = self.cells[i]
        if end > cell.end or any(start < m_end and m_start < end for m_start, m_end in self._masked[1][cell.number]):
            return None
        return cell

    def editable(self, ranges: Sequence[tuple[int, int, str]]) -> bool:
        """Whether each edit (script offsets) lies in one cell's own text, off its masked characters."""
        return all(self._cell_of_range(start, end) is not None for start, end, _ in ranges)

    def apply(self, ranges: Iterable[tuple[int, int, str]]) -> dict[int, str]:
        """The new text of each cell the (editable, non-overlapping) edits change."""
        by_cell: dict[int, list[tuple[int, int, str]]] = {}
        cells: dict[int, Cell] = {}
        for start, end, content in ranges:
            cell = self._cell_of_range(start, end)
            assert cell is not None, "edits are checked by editable() first"
            cells[cell.number] = cell
            by_cell.setdefault(cell.number, []).append((start - cell.offset, end - cell.offset, content))
        out = {}
        for number, edits in by_cell.items():
            cell = cells[number]
            text = cell.text + "\n" * cell.added_newline
            for start, end, content in sorted(edits, reverse=True):
                text = text[:start] + content + text[end:]
            if cell.added_newline and text.endswith("\n"):
                text = text[:-1]
            out[number] = text
        return out

    # -- messages -------------------------------------------------------------------------

    def relabel(self, message: str, home: int | None) -> str:
        """A message's `line N` (script lines) as the notebook's `line M of cell C`, or `line M` in
        the cell the message is about (`home`, a script line). Code quoted in backticks is left alone."""
        if "line " not in message or not self.cells:
            return message
        home_cell = self.locate(home, 0)[0] if home is not None else None

        def replace(match: re.Match[str]) -> str:
            number, line, _ = self.locate(int(match.group(1)), 0)
            return f"line {line}" if number == home_cell else f"line {line} of cell {number}"

        parts = message.split("`")
        return "`".join(_LINE.sub(replace, part) if i % 2 == 0 else part for i, part in enumerate(parts))
