"""Source ranges for just the nodes a run reports.

libcst's PositionProvider records a range for every node of the module and
costs about 2.5 times the parse. Lint results need ranges for a handful of
nodes, so this code-generation pass tracks the line and column as usual but
records only the requested nodes (and the child nodes their syntactic range is
taken from). It gives the same ranges as PositionProvider (tests compare them).

Even that pass generates the module's code up to the last node asked for, a
fifth of the parse. With the file's text at hand, most nodes need far less: an
expression's code is the same wherever it stands, so when it occurs once in the
text, that is where it is; when it occurs more often, only the top-level
statements holding an occurrence are generated, each from the line it starts
on (from Python's own parse), and checked against the text.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress

import libcst as cst
from libcst._nodes.base import CSTCodegenError
from libcst._nodes.internal import CodegenState

from trainlint.diagnostics import Span
from trainlint.parsing import python_parse

_NOTHING = nullcontext()
# Nodes whose code does not depend on where they stand: no indentation or line of their own.
_PLACE_FREE = (cst.BaseExpression, cst.Arg, cst.Param, cst.BaseSmallStatement, cst.WithItem, cst.ImportAlias)
_MAX_OCCURRENCES = 32  # a node's code found more often than this: one pass over the module instead


class InAnotherFile(LookupError):
    """A node of another file linked into the model (`from models import Net`): it has no range in
    this one. A finding placed there, or citing a line there, is left to that file's own lint."""


class LineElsewhere(int):
    """A line of another file, which messages show with the file: `(line 8 of engine.py)`."""

    file: str

    def __new__(cls, line: int, file: str) -> LineElsewhere:
        self = super().__new__(cls, line)
        self.file = file
        return self

    def __format__(self, spec: str) -> str:
        return f"{int(self):{spec}} of {self.file}"

    __str__ = __repr__ = lambda self: format(self, "")


class _Done(Exception):
    """Every requested range is known: the rest of the module need not be generated."""


class _TargetedState(CodegenState):
    def __init__(self, module: cst.Module, targets: set[cst.CSTNode], line: int = 1, keep: bool = False) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = targets
        self.keep = keep  # keep the generated code too, not just count it
        self.line = line
        self.column = 0
        self.starts: list[tuple[int, int]] = []
        self.ranges: dict[cst.CSTNode, Span] = {}

    def add_indent_tokens(self) -> None:
        if self.keep:
            self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self.column += len(token)

    def add_token(self, value: str) -> None:
        if self.keep:
            self.tokens.append(value)
        if "\n" in value or "\r" in value:
            lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            self.line += len(lines) - 1
            self.column = len(lines[-1])
        else:
            self.column += len(value)

    def pop_trailing_newline(self) -> None:
        pass  # nothing is kept, and the end of the module is never a target

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node in self.targets:
            self.starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if node in self.targets:
            start = self.starts.pop()
            if node not in self.ranges:
                self.ranges[node] = Span(start[0], start[1], self.line, self.column)
            if not self.starts and len(self.ranges) >= len(self.targets) and self.targets.issubset(self.ranges):
                raise _Done  # code generation runs in source order: nothing after this is asked for

    # libcst declares a generator context manager; untracked nodes (nearly all) share one nullcontext instead.
    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> AbstractContextManager[None]:
        if node not in self.targets:
            return _NOTHING
        return self._record(node, start_node, end_node)

    @contextmanager
    def _record(self, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None) -> Iterator[None]:
        for child in (start_node, end_node):
            if child is not None:
                self.targets.add(child)
        line, column = self.line, self.column
        yield
        start = self.ranges[start_node] if start_node is not None else None
        end = self.ranges[end_node] if end_node is not None else None
        self.ranges[node] = Span(
            start.line if start else line,
            start.column if start else column,
            end.end_line if end else self.line,
            end.end_column if end else self.column,
        )


class Positions:
    """Ranges of nodes of one module, computed in one pass for all nodes asked so far."""

    def __init__(self, module: cst.Module, text: str | None = None) -> None:
        self.module = module
        # The module's text, when known, for the shortcuts; they count lines at "\n" only, and libcst
        # drops a form feed that starts a line, so text with either is left to the full pass.
        self.text = text if text is not None and "\r" not in text and "\f" not in text else None
        self._wanted: set[cst.CSTNode] = set()
        self._ranges: dict[cst.CSTNode, Span] = {}
        self._starts: list[int] | None = None
        # The files linked into the model, each with its own positions, and (found on first use:
        # most files with links get no finding) the file of each of their nodes, by the node's id.
        self._others: dict[cst.Module, tuple[Positions, str]] = {}
        self._find_elsewhere: Callable[[], dict[int, cst.Module]] = dict
        self._elsewhere: dict[int, cst.Module] | None = None

    @property
    def elsewhere(self) -> dict[int, cst.Module]:
        if self._elsewhere is None:
            self._elsewhere = self._find_elsewhere()
        return self._elsewhere

    def want(self, nodes: Iterable[cst.CSTNode | None]) -> None:
        asked = [n for n in nodes if n is not None and n not in self._ranges]
        if asked:
            elsewhere = self.elsewhere
            self._wanted.update(n for n in asked if id(n) not in elsewhere)

    def here(self, node: cst.CSTNode) -> bool:
        """Whether the node is of this file, not of one linked into the model."""
        return id(node) not in self.elsewhere

    def span(self, node: cst.CSTNode) -> Span:
        if node not in self._ranges:
            if id(node) in self.elsewhere:
                raise InAnotherFile(node)
            self._wanted.add(node)
            self._compute()
        return self._ranges[node]

    def line(self, node: cst.CSTNode) -> int:
        """The node's line; for a node of a linked file, its line there, shown as `8 of engine.py`."""
        module = self.elsewhere.get(id(node))
        if module is not None:
            positions, shown = self._others[module]
            return LineElsewhere(positions.line(node), shown)
        return self.span(node).line

    def link(self, others: dict[cst.Module, tuple[str, str]], nodes: Callable[[], dict[int, cst.Module]]) -> None:
        """Other files whose nodes the model holds: (text, name as shown) of each, and how to find the
        file of each of their nodes."""
        self._find_elsewhere, self._elsewhere = nodes, None
        self._others = {module: (Positions(module, text), shown) for module, (text, shown) in others.items()}

    def _compute(self) -> None:
        wanted, self._wanted = self._wanted, set()
        if self.text is not None:
            wanted = self._from_text(wanted)
        if not wanted:
            return
        state = _TargetedState(self.module, wanted)
        with suppress(_Done):
            self.module._codegen(state)
        self._ranges.update(state.ranges)

    # -- the shortcuts ---------------------------------------------------------------------------

    def _from_text(self, wanted: set[cst.CSTNode]) -> set[cst.CSTNode]:
        """The ranges of the wanted nodes the text gives; the nodes left for the full pass."""
        assert self.text is not None
        left: set[cst.CSTNode] = set()
        by_statement: dict[int, set[cst.CSTNode]] = {}
        for node in wanted:
            alone = _TargetedState(self.module, {node}, keep=True)
            try:
                with suppress(_Done):
                    node._codegen(alone)
            except CSTCodegenError:  # a node only its parent can generate (a bare `*` parameter)
                left.add(node)
                continue
            code = "".join(alone.tokens)
            # Lines after the first, and a statement's own first line, may be indented by the block the
            # node stands in, which alone they are not: the first line with code on it is certainly in
            # the text (maybe after an indentation); only a one-line code of a node with no line of its
            # own is all of it.
            first = next((line for line in code.split("\n") if line.strip()), "")
            offsets = _occurrences(self.text, first)
            if len(offsets) == 1 and first == code and isinstance(node, _PLACE_FREE):  # the code occurs once: there
                line, column = self._line_column(offsets[0])
                self._ranges[node] = _moved(alone.ranges[node], line, column)
                continue
            starts = self._statement_starts() if offsets else None
            if not starts:
                left.add(node)
                continue
            for offset in offsets:
                line = self.text.count("\n", 0, offset) + 1
                by_statement.setdefault(bisect.bisect_right(starts, line) - 1, set()).add(node)
        for index, nodes in sorted(by_statement.items()):
            self._in_statement(index, nodes - self._ranges.keys())
        return left | {n for nodes in by_statement.values() for n in nodes if n not in self._ranges}

    def _in_statement(self, index: int, nodes: set[cst.CSTNode]) -> None:
        """Generate one top-level statement from the line it starts on, for the ranges of `nodes` in it,
        kept only if its code is the text's there."""
        if index < 0 or not nodes:
            return
        assert self.text is not None and self._starts is not None
        statement = self.module.body[index]
        state = _TargetedState(self.module, set(nodes), line=self._starts[index], keep=True)
        with suppress(_Done):
            statement._codegen(state)
        offset = _offset_of_line(self.text, self._starts[index])
        if offset is not None and self.text.startswith("".join(state.tokens), offset):
            self._ranges.update((n, r) for n, r in state.ranges.items() if n in nodes)

    def _statement_starts(self) -> list[int]:
        """The line each top-level statement's code starts on (its leading comments and blank lines
        included), from Python's parse of the text; empty when that parse does not line up with libcst's."""
        if self._starts is None:
            self._starts = _statement_starts(self.module, self.text or "")
        return self._starts

    def _line_column(self, offset: int) -> tuple[int, int]:
        assert self.text is not None
        return self.text.count("\n", 0, offset) + 1, offset - (self.text.rfind("\n", 0, offset) + 1)


def _occurrences(text: str, code: str) -> list[int]:
    """Where `code` occurs in `text` (overlapping ones too); empty when it is not there or is everywhere."""
    out: list[int] = []
    if not code:
        return out
    at = text.find(code)
    while at >= 0:
        if len(out) == _MAX_OCCURRENCES:
            return []
        out.append(at)
        at = text.find(code, at + 1)
    return out


def _moved(span: Span, line: int, column: int) -> Span:
    """A range generated from line 1, column 0, moved to start at `line`, `column`."""
    return Span(
        span.line + line - 1,
        span.column + column if span.line == 1 else span.column,
        span.end_line + line - 1,
        span.end_column + column if span.end_line == 1 else span.end_column,
    )


def _offset_of_line(text: str, line: int) -> int | None:
    offset = 0
    for _ in range(line - 1):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return None
    return offset


def _statement_starts(module: cst.Module, text: str) -> list[int]:
    parsed = python_parse(text)
    if parsed.problem is not None:
        return []
    body = parsed.statements
    starts: list[int] = []
    at = 0
    for statement in module.body:
        if at >= len(body):
            return []
        line, decorator = body[at]
        at += len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        decorators = getattr(statement, "decorators", ())
        if decorators and decorator is not None:
            line = decorator - len(decorators[0].leading_lines)
        starts.append(line - len(statement.leading_lines))
    return starts if at == len(body) else []
