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


def _same(span, want) -> bool:
    """A targeted range equals PositionProvider's."""
    return (span.line, span.column, span.end_line, span.end_column) == (
        want.start.line,
        want.start.column,
        want.end.line,
        want.end.column,
    )


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
        assert _same(span, want), (name, type(node).__name__, module.code_for_node(node)[:40])


@pytest.mark.parametrize("name,source", list(sources()), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_ranges_found_in_the_text_match_position_provider(name, source):
    """With the text at hand, a node whose code occurs once is found there and one whose code occurs
    more often in the top-level statements holding it: the same ranges as PositionProvider's, each
    node asked alone (a spread of some 200 nodes; all of them at once in the next test)."""
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = [n for n in walk(module) if not isinstance(n, cst.Module)]
    for node in nodes[:: max(1, len(nodes) // 200)]:
        span, want = Positions(module, source).span(node), expected[node]
        assert _same(span, want), (name, type(node).__name__, module.code_for_node(node)[:40])


@pytest.mark.parametrize("name,source", list(sources()), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_all_ranges_at_once_with_the_text_match_position_provider(name, source):
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = [n for n in walk(module) if not isinstance(n, cst.Module)]
    positions = Positions(module, source)
    positions.want(nodes)
    for node in nodes:
        span, want = positions.span(node), expected[node]
        assert _same(span, want), (name, type(node).__name__, module.code_for_node(node)[:40])


def test_a_once_occurring_node_needs_no_pass_over_the_module(monkeypatch):
    """The shortcut's point: the module's code is not generated for a node found in the text."""
    source = (ROOT / "examples" / "buggy" / "loop_and_loss.py").read_text()
    module = cst.parse_module(source)
    calls = [n for n in walk(module) if isinstance(n, cst.Call)]
    positions = Positions(module, source)
    unique = [c for c in calls if "\n" not in module.code_for_node(c) and source.count(module.code_for_node(c)) == 1]
    assert unique
    monkeypatch.setattr(cst.Module, "_codegen", lambda *a, **k: pytest.fail("the module was generated"))
    for call in unique:
        assert positions.span(call).line >= 1


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
        assert _same(span, want)


@pytest.mark.parametrize("name,source", list(sources()), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_the_unchecked_parse_builds_the_same_tree(name, source):
    """trainlint's parse skips libcst's check of each node it constructs: the tree is the same."""
    from trainlint.parsing import parse

    module = parse(source)
    assert module.deep_equals(cst.parse_module(source)) and module.code == source


def test_nodes_built_outside_the_parse_are_still_checked():
    """Only the parsing thread skips the check: a node built in another thread during a parse (or
    after one) is still checked."""
    import threading

    from trainlint.parsing import parse

    source = (ROOT / "examples" / "buggy" / "loop_and_loss.py").read_text()
    stop = threading.Event()
    parsed = []

    def parse_until_stopped():
        while not stop.is_set():
            parsed.append(parse(source))

    thread = threading.Thread(target=parse_until_stopped)
    thread.start()
    rejected = 0
    try:
        while len(parsed) < 3 or rejected < 1000:
            try:
                cst.Name("")
            except cst.CSTValidationError:
                rejected += 1
            else:
                raise AssertionError("an invalid node was built unchecked")
    finally:
        stop.set()
        thread.join()
    assert rejected >= 1000 and parsed
