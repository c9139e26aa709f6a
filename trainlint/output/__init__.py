"""Output formats. Each takes the run's reports and returns the text to print.

Every format lives in its own module with a `render(reports, options)` function,
imported only when that format is asked for.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trainlint.diagnostics import Diagnostic, Span

if TYPE_CHECKING:
    from trainlint.ipynb import Notebook

FILE_LEVEL = Span(1, 0, 1, 0)  # an empty range at the very start: about the whole file

# Module and function of each format, in the order `--help` lists them (ruff's names).
_RENDERERS = {
    "full": ("full", "render"),
    "concise": ("concise", "render"),
    "grouped": ("concise", "render_grouped"),
    "json": ("json", "render"),
    "json-lines": ("json", "render_lines"),
    "junit": ("junit", "render"),
    "github": ("github", "render"),
    "gitlab": ("gitlab", "render"),
    "pylint": ("concise", "render_pylint"),
    "sarif": ("sarif", "render"),
}
FORMATS = tuple(_RENDERERS)
ALIASES = {"text": "full"}  # the default format's name before `full` and `concise` existed
# Formats people read: the summary follows them and `--statistics` replaces their list of findings.
HUMAN = frozenset({"full", "concise", "grouped"})
# Formats that quote or fingerprint the flagged lines, so the run keeps each flagged file's text.
NEEDS_SOURCE = frozenset({"full", "junit", "gitlab", "sarif"})


@dataclass
class FileReport:
    display: str  # the path as shown to the user (relative, as given)
    diagnostics: list[Diagnostic]
    source: str | None = None  # the text, when known (quoted by `full` and `junit`, fingerprinted by `sarif` and `gitlab`)
    # A notebook's: the diagnostics' ranges are in its script, `source` is the script's text.
    notebook: Notebook | None = None

    def position(self, span: Span) -> tuple[int | None, Span]:
        """The cell (None outside a notebook) and the range as the user sees it: in that cell."""
        if self.notebook is None or span == FILE_LEVEL:
            return None, span
        return self.notebook.script.local(span)

    def where(self, span: Span) -> str:
        """`3:9`, or `cell 4:3:9` in a notebook (as ruff writes it)."""
        cell, local = self.position(span)
        return f"{'' if cell is None else f'cell {cell}:'}{local.line}:{local.column + 1}"

    def label(self, span: Span) -> str:
        """`cell 4, line 3: `, for formats that point at the notebook's JSON text; empty for a Python file."""
        cell, local = self.position(span)
        return "" if cell is None else f"cell {cell}, line {local.line}: "

    def raw(self, span: Span) -> Span:
        """The range in the file's own text: for a notebook, inside the JSON strings of the cell's source."""
        if self.notebook is None or span == FILE_LEVEL:
            return span
        line, column = self.notebook.raw_position(span.line, span.column)
        end_line, end_column = self.notebook.raw_position(span.end_line, span.end_column)
        return Span(line, column, end_line, end_column)


@dataclass(frozen=True)
class Options:
    color: bool = False
    unsafe_fixes: bool = False  # unsafe fixes count as applicable: `[*]` marks them too
    root: Path | None = None  # paths are made relative to this in SARIF and GitLab reports (default: the current directory)


Renderer = Callable[[list[FileReport], Options], str]


def render(fmt: str, reports: list[FileReport], options: Options | None = None) -> str:
    module_name, function_name = _RENDERERS[ALIASES.get(fmt, fmt)]
    module = importlib.import_module(f"trainlint.output.{module_name}")
    renderer: Renderer = getattr(module, function_name)
    return renderer(reports, options or Options())


def relative_path(display: str, root: Path) -> Path:
    """The path below `root` when it is there (normalized), else as given."""
    path = Path(display)
    if path.is_absolute():
        try:
            path = path.relative_to(root)
        except ValueError:
            return path
    return Path(os.path.normpath(path))


class Fingerprints:
    """Fingerprints that stay the same while the flagged line is unchanged, even when lines above it
    move; repeated findings on equal lines are told apart by their order in the file."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def of(self, d: Diagnostic, path: str, line_text: str) -> str:
        base = hashlib.sha256(f"{d.code}\0{path}\0{' '.join(line_text.split())}".encode()).hexdigest()[:32]
        occurrence = self._seen.get(base, 0)
        self._seen[base] = occurrence + 1
        return f"{base}:{occurrence}"
