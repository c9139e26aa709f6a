"""Targeted positions give exactly libcst's PositionProvider ranges, for a fraction of the cost."""

import libcst as cst
import pytest
from conftest import ROOT
from libcst.metadata import MetadataWrapper, PositionProvider

from trainlint.model.positions import Positions
from trainlint.model.syntax import walk

TRICKY = '''\
# -*- coding: utf-8 -*-
"""Docstring with ünïcödé and a "# noqa" inside."""
import torch ;  import torch.optim as optim
x = ("é"  # comment
     + "ü") ; y = [1,
  2]
\tz = 1 if x else 2
@decorator(arg=1)
class Net(torch.nn.Module):
    def forward(self, x: "Tensor" = None, *, k=(1, 2)) -> None:
        return (yield from self.f(x))[0] @ x
lambda: (a := 1)
s = f"{x!r:>{width}} {'nested'}"
if True: pass
else:
    pass
'''


def sources():
    files = sorted((ROOT / "examples").rglob("*.py")) + sorted((ROOT / "trainlint").rglob("*.py"))[:12]
    yield from ((f.name, f.read_text()) for f in files)
    yield "tricky", TRICKY.replace("\t", "")
    yield "crlf", TRICKY.replace("\t", "").replace("\n", "\r\n")


@pytest.mark.parametrize("name,source", list(sources()), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_targeted_positions_match_position_provider(name, source):
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = [n for n in walk(module) if not isinstance(n, cst.Module)]
    positions = Positions(module)
    positions.want(nodes)
    for node in nodes:
        span = positions.span(node)
        want = expected[node]
        assert (span.line, span.column, span.end_line, span.end_column) == (
            want.start.line,
            want.start.column,
            want.end.line,
            want.end.column,
        ), (name, type(node).__name__, module.code_for_node(node)[:40])


def test_one_pass_for_all_wanted_nodes(monkeypatch):
    module = cst.parse_module(TRICKY.replace("\t", ""))
    calls = [n for n in walk(module) if isinstance(n, cst.Call)]
    positions = Positions(module)
    passes = []
    original = positions._compute
    monkeypatch.setattr(positions, "_compute", lambda: (passes.append(1), original())[1])
    positions.want(calls)
    for call in calls:
        positions.span(call)
    assert len(passes) == 1


@pytest.mark.parametrize("name,source", list(sources())[:6], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_a_pass_stops_after_the_last_wanted_node_and_later_ones_still_come_right(name, source):
    """Code generation stops once every wanted range is known; nodes asked for afterwards get a pass of
    their own, with the same ranges as libcst's PositionProvider."""
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = [n for n in walk(module) if not isinstance(n, cst.Module)]
    positions = Positions(module)
    for node in (nodes[len(nodes) // 3], nodes[0], nodes[len(nodes) // 2], nodes[-1]):  # out of order, one at a time
        span, want = positions.span(node), expected[node]
        assert (span.line, span.column, span.end_line, span.end_column) == (
            want.start.line,
            want.start.column,
            want.end.line,
            want.end.column,
        )
