"""Property tests of the notebook layer: masking keeps every line and column, the script maps every
line back to its cell, splicing changes exactly the sources asked for, and `--fix` on notebooks
built from real training code never breaks a notebook."""

from __future__ import annotations

import json
import random

from conftest import ROOT, cell_sources, notebook_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainlint.cells import Script, mask
from trainlint.engine import parses
from trainlint.fixes import fix_notebook
from trainlint.ipynb import read
from trainlint.pages import load_pages
from trainlint.settings import default_settings

# Characters that make IPython syntax, strings, brackets, continuations and line breaks.
_PIECES = list("%!?ab =()[]'\"#\\\t\r\n.;:é😀") + ["\r\n", "    ", "%%time\n", "%%bash\n", "%time ", "x = !"]
CELL_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)
STYLES = [{}, {"ensure_ascii": True}, {"indent": 2, "sort_keys": False}, {"as_string": True}, {"end": ""}]


@settings(max_examples=300, deadline=None)
@given(CELL_TEXT)
def test_masking_keeps_every_line_break_and_unmasked_character(text):
    masked = mask(text)
    assert len(masked.text) == len(text)
    inside = {i for start, end in masked.spans for i in range(start, end)}
    for i, (before, after) in enumerate(zip(text, masked.text, strict=True)):
        if before in "\r\n" or i not in inside:
            assert before == after, (text, masked)


@settings(max_examples=200, deadline=None)
@given(st.lists(CELL_TEXT, max_size=6))
def test_the_script_maps_every_line_back_to_its_cell(texts):
    script = Script(enumerate(texts, start=1))
    source_lines = script.source.splitlines()
    for cell in script.cells:
        lines = cell.text.splitlines()
        for i, line in enumerate(lines):
            assert script.locate(cell.line + i, 0) == (cell.number, i + 1, 0)
            assert source_lines[cell.line + i - 1] == line
        assert script.text[cell.offset : cell.end] == mask(cell.text).text + "\n" * cell.added_newline


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(CELL_TEXT, CELL_TEXT), min_size=1, max_size=5), st.sampled_from(range(len(STYLES))))
def test_splicing_changes_exactly_the_sources_asked_for(pairs, style):
    raw = notebook_json(*[old for old, _ in pairs], ("markdown", "notes"), **STYLES[style])
    notebook = read(raw)
    assert notebook.with_sources({i: old for i, (old, _) in enumerate(pairs, start=1)}) == raw
    spliced = notebook.with_sources({i: new for i, (_, new) in enumerate(pairs, start=1)})
    assert cell_sources(spliced) == [new for _, new in pairs] + ["notes"]
    before, after = json.loads(raw), json.loads(spliced)
    for cell in before["cells"] + after["cells"]:
        cell.pop("source")
    assert before == after
    assert [cell.text for cell in read(spliced).code_cells] == [new for _, new in pairs]


def _notebooks(count: int) -> list[str]:
    """Notebooks made from the rule pages' bad examples and examples/: code split into cells at
    blank lines, with IPython lines and markdown cells put in, as a course notebook has them."""
    seeds = [block for page in load_pages().values() for block in page.examples.get("bad", [])]
    seeds += [path.read_text() for path in sorted((ROOT / "examples").rglob("*.py"))]
    rng = random.Random(11)
    out = []
    for _ in range(count):
        code = rng.choice(seeds)
        cells: list = []
        for chunk in code.split("\n\n"):
            if rng.random() < 0.2:
                cells.append(("markdown", "## Step\nexplained"))
            if rng.random() < 0.2:
                chunk = rng.choice(["%matplotlib inline\n", "!nvidia-smi\n", "%%time\n"]) + chunk
            cells.append(chunk if rng.random() < 0.5 else chunk.rstrip("\n"))
        out.append(notebook_json(*cells, **rng.choice(STYLES)))
    return out


def test_fix_never_breaks_a_notebook():
    applied = 0
    for raw in _notebooks(100):  # enough of them that some 20 fixes apply, whatever the seeds hold
        outcome = fix_notebook(raw, "nb.ipynb", default_settings(["ALL"]), unsafe=True)
        applied += len(outcome.applied)
        fixed = read(outcome.text)  # still a notebook
        before, after = json.loads(raw), json.loads(outcome.text)
        for cell in before["cells"] + after["cells"]:
            cell.pop("source")
        assert before == after, "only sources change"
        if parses(read(raw).script.text):
            assert parses(fixed.script.text)
        again = fix_notebook(outcome.text, "nb.ipynb", default_settings(["ALL"]), unsafe=True)
        assert again.text == outcome.text or again.applied, "a fixed point, or more to do"
    assert applied > 20, applied
