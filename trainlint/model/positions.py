"""Source ranges for just the nodes a run reports.

libcst's PositionProvider records a range for every node of the module and
costs about 2.5 times the parse. Lint results need ranges for a handful of
nodes, so this code-generation pass tracks the line and column as usual but
records only the requested nodes (and the child nodes their syntactic range is
taken from). It gives the same ranges as PositionProvider (tests compare them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress

import libcst as cst
from libcst._nodes.internal import CodegenState

from trainlint.diagnostics import Span

_NOTHING = nullcontext()


class _Done(Exception):
    """Every requested range is known: the rest of the module need not be generated."""


class _TargetedState(CodegenState):
    def __init__(self, module: cst.Module, targets: set[cst.CSTNode]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = targets
        self.line = 1
        self.column = 0
        self.starts: list[tuple[int, int]] = []
        self.ranges: dict[cst.CSTNode, Span] = {}

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.column += len(token)

    def add_token(self, value: str) -> None:
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

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self._wanted: set[cst.CSTNode] = set()
        self._ranges: dict[cst.CSTNode, Span] = {}

    def want(self, nodes: Iterable[cst.CSTNode | None]) -> None:
        self._wanted.update(n for n in nodes if n is not None and n not in self._ranges)

    def span(self, node: cst.CSTNode) -> Span:
        if node not in self._ranges:
            self._wanted.add(node)
            self._compute()
        return self._ranges[node]

    def line(self, node: cst.CSTNode) -> int:
        return self.span(node).line

    def _compute(self) -> None:
        state = _TargetedState(self.module, set(self._wanted))
        with suppress(_Done):
            self.module._codegen(state)
        self._ranges.update(state.ranges)
        self._wanted.clear()
