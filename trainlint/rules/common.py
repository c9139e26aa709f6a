"""Small helpers the rule families share: wording values and origins, building edits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from trainlint.diagnostics import Edit, Span

if TYPE_CHECKING:
    from trainlint.model import ScriptModel
    from trainlint.model.values import Origin


def fmt_number(value: Any, as_float: bool = False) -> str:
    """`10.0`, `0.0005`, `3e-05`: Python's shortest repr, as a float when the value is a rate."""
    if as_float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return repr(value)


def line_of(model: ScriptModel, node: Any) -> int:
    """The line a node starts on (its range is computed with the finding's others)."""
    return model.positions.line(node)


def one_line(model: ScriptModel, node: Any) -> str:
    """A node's code with its whitespace runs (line breaks included) made single spaces, for a message."""
    return " ".join(model.code(node).split())


def describe(model: ScriptModel, trail: Sequence[Origin]) -> str:
    """`default of --lr, line 12; passed to Trainer(), line 40`."""
    return "; ".join(
        f"{origin.label} in {origin.elsewhere}"
        if origin.elsewhere
        else f"{origin.label}, line {model.positions.line(origin.node)}"
        for origin in trail
    )


def cited(trail: Sequence[Origin]) -> list[tuple[Any, str]]:
    """A value's trail as a Finding's `related` places: `default of --lr` beside that default."""
    return [(origin.node, f"{origin.label} in {origin.elsewhere}" if origin.elsewhere else origin.label) for origin in trail]


def with_origin(model: ScriptModel, text: str, trail: Sequence[Origin]) -> str:
    return f"{text} ({describe(model, trail)})" if trail else text


def replace(model: ScriptModel, node: Any, content: str) -> Edit:
    return Edit(model.span(node), content)


def insert_after(model: ScriptModel, node: Any, content: str) -> Edit:
    end = model.span(node)
    return Edit(Span(end.end_line, end.end_column, end.end_line, end.end_column), content)


def insert_before(model: ScriptModel, node: Any, content: str) -> Edit:
    start = model.span(node)
    return Edit(Span(start.line, start.column, start.line, start.column), content)
