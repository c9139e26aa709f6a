"""Fixes that move a statement: delete its line, re-insert it after another statement (imported only
when a fix is computed: it needs libcst)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from trainlint.diagnostics import Applicability, Edit, Fix, Span

if TYPE_CHECKING:
    from trainlint.model import ScriptModel


def move_after(
    model: ScriptModel, statement: cst.CSTNode | None, anchor: cst.CSTNode | None, title: str, out_of: bool = False
) -> Fix | None:
    """Delete the line `statement` stands on and re-insert it after `anchor`: a statement of the
    same block, or (`out_of`) the loop whose body holds it, at the loop's indentation. Only when the statement
    is alone on its line and leaves its block non-empty."""
    if anchor is None or statement is None:
        return None
    located, anchor_located = model.tables.statement_block(statement), model.tables.statement_block(anchor)
    if located is None or anchor_located is None:
        return None
    block, line_node = located
    if not isinstance(line_node, cst.SimpleStatementLine) or len(line_node.body) != 1:
        return None  # `scheduler.step(); log()`: not the statement's own line
    if out_of:
        if not isinstance(anchor, (cst.For, cst.While)) or anchor.body is not block or anchor.orelse is not None:
            return None
    elif anchor_located[0] is not block or anchor_located[1] is line_node:
        return None
    if len(block.body) < 2:
        return None
    lines = model.lines
    span, anchor_span = model.span(statement), model.span(anchor_located[1])
    own = lines[span.line - 1]
    rest = own.strip()[len(model.code(statement).strip()) :].strip()
    if span.line != span.end_line or not own.strip().startswith(model.code(statement).strip()) or not own.endswith(("\n", "\r")):
        return None  # the statement spans lines, or does not start its line
    if rest and not rest.startswith("#"):
        return None  # a second statement on the line (a trailing comment moves with it)
    if not out_of and anchor_span.line < span.line:
        return None  # already after it
    indent_source = lines[anchor_span.line - 1] if out_of else own
    indent = indent_source[: len(indent_source) - len(indent_source.lstrip())]
    end_column = len(lines[anchor_span.end_line - 1].rstrip("\r\n"))
    newline = model.tables.module.default_newline
    return Fix(
        Applicability.UNSAFE,
        title,
        (
            Edit(Span(span.line, 0, span.line + 1, 0), ""),
            Edit(Span(anchor_span.end_line, end_column, anchor_span.end_line, end_column), newline + indent + own.strip()),
        ),
    )
