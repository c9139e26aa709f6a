"""`--output-format full` (the default): each finding with its source lines, as rustc and ruff show them.

    warning[TL101]: SGD learning rate 10.0 (default of --lr, line 18) is at or above 1.0, ...
      --> train.py:53:47
       |
    18 |     parser.add_argument("--lr", type=float, default=10.0, help="learning rate")
       |                                             ------------ default of --lr
    19 |     parser.add_argument("--seed", type=int, default=1)
    ...
    52 |     model = Net().to(device)
    53 |     optimizer = optim.SGD(model.parameters(), lr=args.lr)
       |                                               ^^^^^^^^^^
    54 |     scheduler = StepLR(optimizer, step_size=1)
       |
    help: Set the learning rate to 0.1 (unsafe fix: `--unsafe-fixes`)

`^` marks the reported range, `-` each place the message cites, with its label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainlint.diagnostics import Applicability, Diagnostic, Span
from trainlint.fixes import is_applicable
from trainlint.output import FileReport, Options
from trainlint.output.style import BOLD, GUTTER, HELP, SEVERITY_COLOR, Style, visible, width
from trainlint.source import split_lines

if TYPE_CHECKING:
    from trainlint.cells import Script

CONTEXT = 1  # lines shown around each marked line
LONG_SPAN = 6  # a range over more lines shows its first and last ones only
_EDGE = 2


class _Mark:
    """An underline on one line: display columns [start, end), primary (`^`) or cited (`-`).
    (A plain class: a dataclass or NamedTuple would cost more to import than the output takes.)"""

    __slots__ = ("end", "label", "primary", "start")

    def __init__(self, start: int, end: int, primary: bool, label: str) -> None:
        self.start, self.end, self.primary, self.label = start, end, primary, label


def render(reports: list[FileReport], options: Options) -> str:
    style = Style(options.color)
    out = []
    for report in reports:
        lines = split_lines(report.source) if report.source is not None and report.diagnostics else None
        script = report.notebook.script if report.notebook is not None else None
        for d in report.diagnostics:
            out.append(render_diagnostic(report.display, d, lines, style, options.unsafe_fixes, script))
            out.append("\n")
    return "".join(out)


def render_diagnostic(
    display: str, d: Diagnostic, lines: list[str] | None, style: Style, unsafe_fixes: bool, script: Script | None = None
) -> str:
    """One finding: the header, where it is, its lines (`split_lines` of the file) with their marks,
    and the fix on offer. In a notebook (`script`: the lines are its script's) positions and line
    numbers are the cells' own, context lines stay in the cell, and a cited place in another cell
    comes under a `:::` header of its own, as rustc shows a place in another file."""
    color = SEVERITY_COLOR[d.severity]
    mark = " [*]" if is_applicable(d, unsafe_fixes) else ""
    out = [f"{style(f'{d.severity.value}[{d.code}]{mark}', color)}{style(':', BOLD)} {style(visible(d.message), BOLD)}\n"]
    location = f"{visible(display)}:{_where(d.span, script)}"
    marks = _marks(d, lines) if lines is not None and not _file_level(d.span) else {}
    shown = _shown_lines(marks, lines, script) if lines is not None and marks else []

    def number_of(line: int) -> int:
        cell = script.cell_at(line) if script is not None else None
        return line if cell is None else line - cell.line + 1

    gutter = max((len(str(number_of(n))) for n in shown), default=1)
    out.append(f"{' ' * gutter}{style('-->', GUTTER)} {location}\n")
    if lines is not None and shown:
        bar = style("|", GUTTER)
        blank = f"{' ' * gutter} {bar}"
        for i, (cited, numbers) in enumerate(_groups(shown, d, script)):
            if i:
                out.append(f"{' ' * gutter}{style(':::', GUTTER)} {visible(display)}:{_where(cited, script)}\n")
            out.append(blank + "\n")
            previous = 0
            for number in numbers:
                if previous and number > previous + 1:
                    out.append(style("...", GUTTER) + "\n")
                text = visible(lines[number - 1])
                out.append(f"{style(str(number_of(number)).rjust(gutter), GUTTER)} {bar}{' ' + text if text else ''}\n")
                for row in _mark_rows(marks.get(number, []), style, color):
                    out.append(f"{blank} {row}\n")
                previous = number
            out.append(blank + "\n")
    if d.fix is not None:
        note = ""
        if d.fix.applicability is Applicability.UNSAFE and not unsafe_fixes:
            note = " (unsafe fix: `--unsafe-fixes`)"
        out.append(f"{style('help', HELP)}{style(':', BOLD)} {visible(d.fix.message)}{note}\n")
    return "".join(out)


def _where(span: Span, script: Script | None) -> str:
    """`line:column`, or `cell C:line:column` in a notebook."""
    if script is None or _file_level(span):
        return f"{span.line}:{span.column + 1}"
    cell, local = script.local(span)
    return f"cell {cell}:{local.line}:{local.column + 1}"


def _groups(shown: list[int], d: Diagnostic, script: Script | None) -> list[tuple[Span, list[int]]]:
    """The shown lines by cell, the reported one's first (each with the first place it marks); one
    group in a Python file."""
    if script is None:
        return [(d.span, shown)]
    by_cell: dict[int, list[int]] = {}
    for number in shown:
        by_cell.setdefault(script.locate(number, 0)[0], []).append(number)
    spans = [d.span] + sorted(span for span, _ in d.related)
    first: dict[int, Span] = {}
    for span in spans:
        first.setdefault(script.locate(span.line, 0)[0], span)
    home = script.locate(d.span.line, 0)[0]
    order = [home] + [cell for cell in by_cell if cell != home]
    return [(first.get(cell, d.span), by_cell[cell]) for cell in order if cell in by_cell]


def _file_level(span: Span) -> bool:
    """An empty range at the very start: about the whole file (an internal error, an unreadable file)."""
    return span == Span(1, 0, 1, 0)


def _marks(d: Diagnostic, lines: list[str]) -> dict[int, list[_Mark]]:
    """The underlines of each line: the reported range, then each cited place with its label."""
    out: dict[int, list[_Mark]] = {}
    for span, label, primary in [(d.span, "", True)] + [(s, label, False) for s, label in d.related]:
        for number, start, end, last in _pieces(span, lines):
            text = lines[number - 1]
            left = width(visible(text[:start]))
            right = max(left + width(visible(text[start:end])), left + 1)
            out.setdefault(number, []).append(_Mark(left, right, primary, label if last else ""))
    return out


def _pieces(span: Span, lines: list[str]) -> list[tuple[int, int, int, bool]]:
    """(line, start, end, is the last piece) of each line a range covers, in code points; the lines
    in the middle of a long range are left out."""
    last_line = min(span.end_line, len(lines))
    if last_line > span.line and span.end_column == 0:
        last_line -= 1  # the range ends where the next line begins
    numbers = list(range(span.line, last_line + 1))
    if len(numbers) > LONG_SPAN:
        numbers = numbers[:_EDGE] + numbers[-_EDGE:]
    out = []
    for number in numbers:
        text = lines[number - 1]
        start = span.column if number == span.line else len(text) - len(text.lstrip())
        end = span.end_column if number == span.end_line else len(text)
        out.append((number, min(start, len(text)), min(max(end, start), len(text)), number == numbers[-1]))
    return out


def _shown_lines(marks: dict[int, list[_Mark]], lines: list[str], script: Script | None = None) -> list[int]:
    """The marked lines with their context (in a notebook, from the same cell); a single line
    between two shown ones is shown too."""
    count = len(lines) - (len(lines) > 1 and lines[-1] == "")  # no line after the last line break
    count = max(count, *marks)  # unless a mark is there (the end of the file)

    def bounds(number: int) -> tuple[int, int]:
        cell = script.cell_at(number) if script is not None else None
        if cell is None:
            return 1, count
        return min(cell.line, number), max(cell.line + cell.lines - 1, number)

    shown: set[int] = set()
    for number in marks:
        low, high = bounds(number)
        shown.update(range(max(low, number - CONTEXT), min(high, number + CONTEXT) + 1))
    shown.update([n + 1 for n in shown if n + 2 in shown and n + 1 not in shown and bounds(n) == bounds(n + 2) == bounds(n + 1)])
    return sorted(shown)


def _mark_rows(marks: list[_Mark], style: Style, color: str) -> list[str]:
    """The rows under one source line: the underlines with the rightmost label beside them, then,
    rustc-style, a `|` down to each other label."""
    if not marks:
        return []
    marks = sorted(marks, key=lambda m: (m.start, not m.primary))
    first = _underlines(marks, style, color)
    rightmost = max(marks, key=lambda m: (m.end, m.start))
    if rightmost.label:
        first += " " + style(visible(rightmost.label), _color(rightmost, color))
    rows = [first]
    hanging = [m for m in marks if m.label and m is not rightmost]
    while hanging:
        rows.append(_bars(hanging, style, color))
        m = hanging.pop()
        rows.append(_bars(hanging, style, color, upto=m.start) + style(visible(m.label), _color(m, color)))
    return rows


def _color(mark: _Mark, color: str) -> str:
    return color if mark.primary else GUTTER


def _underlines(marks: list[_Mark], style: Style, color: str) -> str:
    """`^^^` under the reported range and `---` under cited places (marks sorted by start); where
    they overlap, the reported range is drawn."""
    primary = [(m.start, m.end) for m in marks if m.primary]
    pieces: list[tuple[int, int, _Mark]] = []
    for m in marks:
        spans = [(m.start, m.end)]
        if not m.primary:  # cut out the reported range
            for p_start, p_end in primary:
                spans = [part for a, b in spans for part in ((a, min(b, p_start)), (max(a, p_end), b)) if part[0] < part[1]]
        pieces.extend((a, b, m) for a, b in spans)
    out, position = [], 0
    for start, end, m in sorted(pieces, key=lambda piece: piece[0]):
        start = max(start, position)
        if start >= end:
            continue  # under a mark drawn already
        out.append(" " * (start - position) + style(("^" if m.primary else "-") * (end - start), _color(m, color)))
        position = end
    return "".join(out)


def _bars(marks: list[_Mark], style: Style, color: str, upto: int | None = None) -> str:
    """`|` under the start of each mark (sorted by start); `upto`: then spaces to that column."""
    out, position = [], 0
    for m in marks:
        if upto is not None and m.start >= upto:
            break
        if m.start < position:
            continue
        out.append(" " * (m.start - position) + style("|", _color(m, color)))
        position = m.start + 1
    if upto is not None:
        out.append(" " * (upto - position))
    return "".join(out)
