"""Jupyter notebooks through the real command line: reading, IPython syntax, positions in every
output format, fixes written back byte for byte, configuration, cache."""

import base64
import json
import re
import zlib

import jsonschema
import junitparser
import pytest
from conftest import ROOT, cell_sources, notebook_json

from trainlint.cells import Script, mask
from trainlint.ipynb import NotebookError, read

IMPORTS = "import torch\nfrom torch import nn\n"
LR_CELL = "LR = 10"
SGD_CELL = "model = nn.Linear(4, 2)\noptimizer = torch.optim.SGD(model.parameters(), lr=LR)"
LOOP_CELL = """\
running = 0
for x, y in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    running += loss"""
GITLAB_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "gitlab-code-quality.schema.json").read_text())


def png(width: int = 64) -> str:
    """A real (tiny, grey) PNG, base64-encoded as Jupyter stores image outputs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = width.to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    pixels = zlib.compress(b"".join(b"\0" + bytes([128]) * width for _ in range(width)))
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return base64.b64encode(data).decode()


def with_outputs(source: str, n: int) -> dict:
    """A code cell as Jupyter saves it after running: an execution count, a stream and an image."""
    return {
        "cell_type": "code",
        "execution_count": n,
        "id": f"run-{n}",
        "metadata": {"tags": ["train"]},
        "outputs": [
            {"name": "stdout", "output_type": "stream", "text": ["epoch 0: 2.31\n", "epoch 1: 2.29\n"]},
            {
                "data": {"image/png": png(), "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                "metadata": {"needs_background": "light"},
                "output_type": "display_data",
            },
        ],
        "source": source.splitlines(keepends=True),
    }


def check(project, *args):
    return project.run("check", "--no-cache", *args)


def concise(project, *args):
    return check(project, "--output-format", "concise", *args)


# -- reading: one script, in order -------------------------------------------------------------


def test_a_value_set_in_one_cell_is_known_in_a_later_one(project):
    project.write("train.ipynb", notebook_json(IMPORTS, ("markdown", "# Train\nwith a *high* rate"), LR_CELL, SGD_CELL))
    run = concise(project, "train.ipynb")
    assert run.returncode == 1
    assert run.stdout.splitlines()[0] == (
        "train.ipynb:cell 4:2:49: warning: TL101 SGD learning rate 10.0 (LR, line 1 of cell 3) is at or above 1.0, "
        "about ten times common practice: steps this large make the loss oscillate or diverge instead of going down. "
        "Use about 0.1"
    )


def test_ipython_syntax_is_not_a_syntax_error(project):
    cells = [
        "%matplotlib inline\n%load_ext autoreload\n!pip install torch \\\n    torchvision\n" + IMPORTS,
        "files = !ls data/\n%env CUDA_VISIBLE_DEVICES=0\ntorch.nn.Linear?\n?torch.optim.SGD\nmodel = nn.Linear(4, 2)",
        "pip install tqdm",  # automagic: IPython runs a one-line `pip ...` as %pip
        "%%bash\nfor f in *.png; do echo $f; done",  # not Python: left out
        "%%writefile train.py\nimport torch\nopt = torch.optim.SGD(p, lr=50)",  # a file's text, not this notebook's code
        "%%capture out\nopt_a = torch.optim.SGD(model.parameters(), lr=20)",  # Python body: linted
        "for lr in (0.1, 0.01):\n    !echo {lr}\n    %time opt_b = torch.optim.SGD(model.parameters(), lr=30)",
        "%timeit torch.optim.SGD(model.parameters(), lr=40)",  # run many times in a scope of its own: masked
        '    doc = """\n%not a magic\n!nor a shell line\n"""\n    x = 1',  # indented: IPython dedents the cell
    ]
    project.write("nb.ipynb", notebook_json(*cells))
    run = concise(project, "nb.ipynb")
    found = [line.split(": warning: ")[0] + " " + line.split("learning rate ")[1][:4] for line in run.stdout.splitlines()[:-2]]
    assert found == ["nb.ipynb:cell 6:2:45 20.0", "nb.ipynb:cell 7:3:55 30.0"], run.stdout
    assert "TL001" not in run.stdout


def test_masking_keeps_every_line_and_column():
    text = "for i in range(2):\n    !echo $i\n    %time y = f(i)\nx = !ls\nobj??\n"
    masked = mask(text)
    assert masked.text == "for i in range(2):\n    ...     \n    ...;  y = f(i)\nx = ...\n...  \n"
    assert [len(line) for line in masked.text.split("\n")] == [len(line) for line in text.split("\n")]
    # Inside a string, a line that looks like IPython syntax is left alone.
    assert mask('s = """\n%time\n!ls\n"""\n').text == 's = """\n%time\n!ls\n"""\n'


def test_cells_without_final_line_break_crlf_empty_cells_and_non_ascii(project):
    cells = [
        "import torch\r\nfrom torch import nn\r\n",  # CRLF inside a source, with a final line break
        "",  # empty
        "\n\n",  # blank
        "note = 'é😀'; opt = torch.optim.SGD(p, lr=10)",  # no final line break; columns in code points
    ]
    project.write("u.ipynb", notebook_json(*cells, ensure_ascii=True))
    data = json.loads(check(project, "--output-format", "json", "u.ipynb").stdout)
    (d,) = data
    column = cells[3].index("lr=10") + 1
    assert (d["cell"], d["line"], d["column"], d["end_line"], d["end_column"]) == (4, 1, column, 1, column + 5)


def test_a_cell_of_another_language_and_a_notebook_of_another_kernel_are_not_linted(project):
    sql = {
        "cell_type": "code",
        "execution_count": None,
        "id": "q",
        "metadata": {"vscode": {"languageId": "sql"}},
        "outputs": [],
        "source": ["SELECT lr = 10 FROM runs"],
    }
    project.write("sql.ipynb", notebook_json(IMPORTS, sql, "opt = torch.optim.SGD(p, lr=0.1)"))
    project.write("r.ipynb", notebook_json("opt <- optim(lr = 10)", language="R"))
    run = concise(project, "sql.ipynb", "r.ipynb")
    assert run.returncode == 0 and "All checks passed!" in run.stdout, run.stdout


def test_a_300_cell_notebook(project):
    cells = [IMPORTS, LR_CELL] + [f"x{i} = {i}\ny{i} = x{i} * 2" for i in range(296)] + [SGD_CELL, LOOP_CELL]
    project.write("long.ipynb", notebook_json(*cells))
    data = json.loads(check(project, "--output-format", "json", "long.ipynb").stdout)
    assert [(d["code"], d["cell"], d["line"]) for d in data] == [("TL101", 299, 2), ("TL611", 300, 7)]
    assert "(LR, line 1 of cell 2)" in data[0]["message"]


def test_a_syntax_error_in_a_cell(project):
    project.write("broken.ipynb", notebook_json(IMPORTS, "x = 1", "model = nn.Linear(4,\nopt = 2"))
    run = concise(project, "broken.ipynb")
    assert run.returncode == 1
    assert run.stdout.startswith("broken.ipynb:cell 3:1:18: error: TL001 Syntax error: '(' was never closed")


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ('{\n "cells": [\n  {"cell_type": "code" "source": []}\n ]\n}\n', "3:24", "not valid JSON (Expecting ',' delimiter)"),
        ("", "1:1", "not valid JSON (Expecting value)"),
        ('{"cells": [], "nbformat": 4}\n{}', "2:1", "not valid JSON (Extra data)"),
        ('[{"cell_type": "code"}]', "1:1", "not a notebook (the JSON is not an object)"),
        ('{\n "nbformat": 3,\n "worksheets": [{"cells": []}]\n}\n', "2:14", "nbformat 3 is not supported; convert it with"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "1:1", "not an nbformat 4 notebook (no cells)"),
        (
            '{"cells": [{"cell_type": "code", "source": 3}], "nbformat": 4}',
            "1:44",
            "not an nbformat 4 notebook (the source of cell 1 is not text)",
        ),
    ],
)
def test_an_invalid_notebook_is_tl001_and_never_written(project, text, position, message):
    path = project.write("bad.ipynb", text)
    run = concise(project, "bad.ipynb")
    assert run.returncode == 1
    assert run.stdout.startswith(f"bad.ipynb:{position}: error: TL001 Invalid notebook: {message}"), run.stdout
    fix = check(project, "--fix", "--unsafe-fixes", "bad.ipynb")
    assert fix.returncode == 1 and path.read_text() == text


# -- fixes ---------------------------------------------------------------------------------------


def raw_outside(before: str, after: str) -> tuple[str, str]:
    """The common prefix and suffix of two texts (what did not change)."""
    prefix = 0
    while prefix < min(len(before), len(after)) and before[prefix] == after[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(before), len(after)) - prefix and before[-1 - suffix] == after[-1 - suffix]:
        suffix += 1
    return before[:prefix], before[len(before) - suffix :]


STYLES = {
    "jupyter": {},  # nbformat's own: indent 1, sorted keys, non-ASCII as is
    "ascii-escaped": {"ensure_ascii": True},
    "indent-2-unsorted": {"indent": 2, "sort_keys": False},
    "one-string-sources": {"as_string": True},
    "no-final-line-break": {"end": ""},
}


@pytest.mark.parametrize("style", STYLES)
def test_fix_edits_only_the_changed_source_string_byte_for_byte(project, style):
    loop = LOOP_CELL.replace("running = 0", "running = 0  # é ✓")
    cells = [IMPORTS, with_outputs(SGD_CELL.replace("lr=LR", "lr=0.1"), 1), ("markdown", "Ünïcode *notes*"), loop]
    if style == "one-string-sources":
        cells[1]["source"] = "".join(cells[1]["source"])
    text = notebook_json(*cells, **STYLES[style])
    path = project.write("fix.ipynb", text)
    run = check(project, "--fix", "--unsafe-fixes", "fix.ipynb")
    assert run.returncode == 0 and "1 fixed, 0 remaining" in run.stdout, run.stdout
    after = path.read_bytes().decode("utf-8")
    prefix, suffix = raw_outside(text, after)
    assert prefix.endswith("running += loss") and suffix.startswith('"')
    assert text == prefix + suffix and after == prefix + ".item()" + suffix, "only `loss` became `loss.item()`"
    assert cell_sources(after)[3] == loop.replace("running += loss", "running += loss.item()")
    before_doc, after_doc = json.loads(text), json.loads(after)
    after_doc["cells"][3]["source"] = before_doc["cells"][3]["source"]
    assert after_doc == before_doc, "outputs, metadata, ids and every other cell as they were"
    again = check(project, "--fix", "--unsafe-fixes", "fix.ipynb")
    assert again.returncode == 0 and path.read_bytes().decode() == after, "a second --fix changes nothing"


def test_fixes_that_add_and_remove_lines_keep_the_list_of_lines(project):
    uncleared = (
        "for x, y in loader:\n    loss = nn.functional.cross_entropy(model(x), y)\n    loss.backward()\n    optimizer.step()"
    )
    cells = [IMPORTS, "model = nn.Linear(4, 2)", "optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # noqa: TL101"]
    text = notebook_json(*cells, uncleared)
    path = project.write("lines.ipynb", text)
    run = check(project, "--fix", "--unsafe-fixes", "lines.ipynb")
    assert run.returncode == 0, run.stdout
    document = json.loads(path.read_text())
    assert document["cells"][2]["source"] == ["optimizer = torch.optim.SGD(model.parameters(), lr=0.1)"]
    assert document["cells"][3]["source"] == [
        "for x, y in loader:\n",
        "    loss = nn.functional.cross_entropy(model(x), y)\n",
        "    optimizer.zero_grad()\n",
        "    loss.backward()\n",
        "    optimizer.step()",
    ]


def test_a_fix_in_another_cell_than_its_finding(project):
    """`lr=LR` in cell 3, the constant in cell 2: the fix edits cell 2."""
    constants = "EPOCHS = 3\nLR = 10  # from the paper"
    cells = [IMPORTS, constants, "optimizer = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=LR)"]
    path = project.write("constants.ipynb", notebook_json(*cells))
    data = json.loads(check(project, "--output-format", "json", "constants.ipynb").stdout)
    (d,) = data
    assert (d["cell"], d["line"]) == (3, 1) and "(LR, line 2 of cell 2)" in d["message"]
    assert [(e["cell"], e["line"], e["content"]) for e in d["fix"]["edits"]] == [(2, 2, "0.1")]
    diff = check(project, "--diff", "--unsafe-fixes", "constants.ipynb")
    assert diff.returncode == 1
    assert diff.stdout == (
        "--- constants.ipynb:cell 2\n+++ constants.ipynb:cell 2\n@@ -1,2 +1,2 @@\n EPOCHS = 3\n"
        "-LR = 10  # from the paper\n+LR = 0.1  # from the paper\n"
    )
    check(project, "--fix", "--unsafe-fixes", "constants.ipynb")
    assert cell_sources(path.read_text())[1] == constants.replace("10", "0.1")


def test_a_fix_never_touches_masked_ipython_syntax(project):
    # The noqa is on a masked line (a shell command's comment): nothing is suppressed, nothing removed.
    cells = [IMPORTS, "!echo hi  # noqa: TL101", "opt = torch.optim.SGD(p, lr=10)"]
    path = project.write("masked.ipynb", notebook_json(*cells))
    before = path.read_text()
    run = concise(project, "--fix", "--unsafe-fixes", "masked.ipynb")
    assert run.returncode == 0 and "1 fixed" in run.stdout
    assert cell_sources(path.read_text()) == [IMPORTS, "!echo hi  # noqa: TL101", "opt = torch.optim.SGD(p, lr=0.1)"]
    assert before.count("!echo hi  # noqa: TL101") == 1


def test_fix_from_stdin_writes_the_notebook_to_stdout(project):
    text = notebook_json(IMPORTS, "opt = torch.optim.SGD(p, lr=10)")
    run = project.run("check", "--fix", "--unsafe-fixes", "--stdin-filename", "nb.ipynb", stdin=text.encode())
    assert cell_sources(run.stdout) == [IMPORTS, "opt = torch.optim.SGD(p, lr=0.1)"]
    lint = project.run("check", "--output-format", "concise", "--stdin-filename", "nb.ipynb", stdin=text.encode())
    assert lint.stdout.startswith("nb.ipynb:cell 2:1:26: warning: TL101")


# -- suppressions, configuration, discovery, cache -------------------------------------------------


def test_noqa_in_a_cell_and_per_file_ignores_by_notebook_path(project):
    project.write("a.ipynb", notebook_json(IMPORTS, "opt = torch.optim.SGD(p, lr=10)  # noqa: TL101", "x = 1  # noqa: TL102"))
    run = concise(project, "a.ipynb")
    assert run.stdout.startswith("a.ipynb:cell 3:1:8: warning: TL003 [*] Unused suppression"), run.stdout
    project.write("experiments/b.ipynb", notebook_json(IMPORTS, "opt = torch.optim.SGD(p, lr=10)"))
    project.write("pyproject.toml", '[tool.trainlint.per-file-ignores]\n"experiments/*.ipynb" = ["TL101"]\n')
    assert concise(project, "experiments").returncode == 0


def test_discovery_include_and_exclude(project):
    bad = notebook_json(IMPORTS, "opt = torch.optim.SGD(p, lr=10)")
    project.write("nb/train.ipynb", bad)
    project.write("nb/.ipynb_checkpoints/train-checkpoint.ipynb", bad)  # Jupyter's autosaves: excluded by default
    project.write("nb/other.ipynb", bad)
    project.write("nb/script.py", "import torch\nopt = torch.optim.SGD(p, lr=10)\n")
    paths = lambda run: sorted({line.split(":")[0] for line in run.stdout.splitlines()[:-2]})  # noqa: E731
    assert paths(concise(project, "nb")) == ["nb/other.ipynb", "nb/script.py", "nb/train.ipynb"]
    assert paths(concise(project, "nb", "--extend-exclude", "other.ipynb")) == ["nb/script.py", "nb/train.ipynb"]
    project.write("pyproject.toml", '[tool.trainlint]\ninclude = ["*.py"]\n')
    assert paths(concise(project, "nb")) == ["nb/script.py"], "notebooks turned off"
    assert paths(concise(project, "nb/train.ipynb", "--force-exclude")) == [], "also as pre-commit names them"
    assert paths(concise(project, "nb/train.ipynb")) == ["nb/train.ipynb"], "a notebook named on its own is linted"
    project.write("pyproject.toml", '[tool.trainlint]\nextend-include = ["*.pyw"]\n')
    project.write("nb/gui.pyw", "import torch\nopt = torch.optim.SGD(p, lr=10)\n")
    assert "nb/gui.pyw" in paths(concise(project, "nb"))
    settings = json.loads(project.run("check", "--show-settings", "nb/train.ipynb").stdout)
    assert settings["include"] == ["*.py", "*.ipynb", "*.pyw"]


def test_cached_by_content(project):
    path = project.write("c.ipynb", notebook_json(IMPORTS, LR_CELL, SGD_CELL))
    cold = project.run("check", "c.ipynb")
    warm = project.run("check", "c.ipynb")
    assert cold.returncode == warm.returncode == 1 and cold.stdout == warm.stdout and "cell 3:2:49" in warm.stdout
    assert len(list((project.root / ".trainlint_cache").rglob("*.json"))) == 1
    path.write_text(notebook_json(IMPORTS, "LR = 0.1", SGD_CELL))
    assert project.run("check", "c.ipynb").returncode == 0


# -- positions, format by format ------------------------------------------------------------------

# TL101 in cell 4 (`lr=LR`) citing the constant in cell 3; TL611 in cell 5 with a fix.
FORMAT_CELLS = [
    IMPORTS,
    ("markdown", "## Setup"),
    "BATCH = 64\nEPOCHS = 3\nLR = 10.0  # as in the paper\nSEED = 0",
    "model = nn.Linear(4, 2)\noptimizer = torch.optim.SGD(model.parameters(), lr=LR)",
    LOOP_CELL,
]


@pytest.fixture
def formats(project):
    text = notebook_json(*FORMAT_CELLS[:3], with_outputs(FORMAT_CELLS[3], 3), FORMAT_CELLS[4])
    project.write("nb.ipynb", text)
    project.text = text
    return project


def raw_at(text: str, line: int, column: int, end_column: int) -> str:
    """The characters of a notebook's JSON text at a 1-based line and 1-based columns."""
    return text.split("\n")[line - 1][column - 1 : end_column - 1]


def test_full(formats):
    out = check(formats, "nb.ipynb").stdout
    first = out.split("\n\n")[0]
    assert first.splitlines()[1:] == [
        " --> nb.ipynb:cell 4:2:49",
        "  |",
        "1 | model = nn.Linear(4, 2)",
        "2 | optimizer = torch.optim.SGD(model.parameters(), lr=LR)",
        "  |                                                 ^^^^^",
        "  |",
        " ::: nb.ipynb:cell 3:3:1",
        "  |",
        "2 | EPOCHS = 3",
        "3 | LR = 10.0  # as in the paper",
        "  | -- LR",
        "4 | SEED = 0",
        "  |",
        "help: Set the learning rate to 0.1 (unsafe fix: `--unsafe-fixes`)",
    ]
    assert first.startswith("warning[TL101]: SGD learning rate 10.0 (LR, line 3 of cell 3) is at or above 1.0")
    assert "\n --> nb.ipynb:cell 5:7:5\n" in out and "\n7 |     running += loss\n" in out


def test_concise_grouped_and_pylint(formats):
    safe_only = concise(formats, "nb.ipynb").stdout.splitlines()
    assert safe_only[1].startswith("nb.ipynb:cell 5:7:5: warning: TL611 `running += loss`"), "no [*]: the fix is unsafe"
    lines = concise(formats, "--unsafe-fixes", "nb.ipynb").stdout.splitlines()
    assert lines[0].startswith("nb.ipynb:cell 4:2:49: warning: TL101 [*] SGD learning rate 10.0")
    assert lines[1].startswith("nb.ipynb:cell 5:7:5: warning: TL611 [*] `running += loss`")
    grouped = check(formats, "--output-format", "grouped", "nb.ipynb").stdout.splitlines()
    assert grouped[0] == "nb.ipynb:"
    assert grouped[1].startswith("  cell 4:2:49 warning TL101 SGD") and grouped[2].startswith("  cell 5:7:5  warning TL611")
    pylint = check(formats, "--output-format", "pylint", "nb.ipynb").stdout.splitlines()
    assert pylint[0].startswith("nb.ipynb:cell 4:2: [TL101] SGD") and pylint[1].startswith("nb.ipynb:cell 5:7: [TL611] `")


def test_json_and_json_lines(formats):
    data = json.loads(check(formats, "--output-format", "json", "nb.ipynb").stdout)
    tl101, tl611 = data
    assert (tl101["cell"], tl101["line"], tl101["column"], tl101["end_line"], tl101["end_column"]) == (4, 2, 49, 2, 54)
    assert [(e["cell"], e["line"], e["column"], e["end_column"], e["content"]) for e in tl101["fix"]["edits"]] == [
        (3, 3, 6, 10, "0.1")
    ]
    assert (tl611["cell"], tl611["line"], tl611["column"]) == (5, 7, 5)
    (edit,) = tl611["fix"]["edits"]
    line = FORMAT_CELLS[4].splitlines()[edit["line"] - 1]
    assert line[edit["column"] - 1 : edit["end_column"] - 1] == "loss", "the edit's range, in the cell's own text"
    lines = check(formats, "--output-format", "json-lines", "nb.ipynb").stdout.splitlines()
    assert [json.loads(line) for line in lines] == data


def test_junit(formats):
    report = junitparser.JUnitXml.fromstring(check(formats, "--output-format", "junit", "nb.ipynb").stdout.encode())
    (suite,) = list(report)
    cases = list(suite)
    assert [case.name for case in cases] == [
        "TL101 learning-rate-too-high at cell 4:2:49",
        "TL611 loss-accumulated-with-graph at cell 5:7:5",
    ]
    line = int(cases[0]._elem.get("line"))
    assert "lr=LR" in formats.text.split("\n")[line - 1], "the line attribute: the notebook file's line with the code"
    assert "\n --> nb.ipynb:cell 4:2:49\n  |\n1 | model = nn.Linear(4, 2)\n" in cases[0].result[0].text


def test_github(formats):
    lines = check(formats, "--output-format", "github", "nb.ipynb").stdout.splitlines()
    for line, flagged in zip(lines, ["lr=LR", "running += loss"], strict=True):
        props = dict(re.findall(r"(\w+)=([^,:]+)", line.split("::")[1]))
        assert props["line"] == props["endLine"]
        assert raw_at(formats.text, int(props["line"]), int(props["col"]), int(props["endColumn"])) == flagged
    assert lines[0].endswith(
        "::cell 4, line 2: TL101 SGD learning rate 10.0 (LR, line 3 of cell 3) is at or above 1.0, about ten times common "
        "practice: steps this large make the loss oscillate or diverge instead of going down. Use about 0.1"
    )


def test_gitlab(formats):
    issues = json.loads(check(formats, "--output-format", "gitlab", "nb.ipynb").stdout)
    jsonschema.validate(issues, GITLAB_SCHEMA)
    for issue, flagged in zip(issues, ["lr=LR", "running += loss"], strict=True):
        begin, end = issue["location"]["positions"]["begin"], issue["location"]["positions"]["end"]
        assert raw_at(formats.text, begin["line"], begin["column"], end["column"]) == flagged
    assert issues[0]["description"].startswith("cell 4, line 2: TL101 SGD learning rate")


def test_sarif_regions_and_fixes_apply_to_the_notebook_file(formats):
    log = json.loads(check(formats, "--output-format", "sarif", "nb.ipynb").stdout)
    tl101, tl611 = log["runs"][0]["results"]
    for result, flagged in ((tl101, "lr=LR"), (tl611, "running += loss")):
        region = result["locations"][0]["physicalLocation"]["region"]
        assert raw_at(formats.text, region["startLine"], region["startColumn"], region["endColumn"]) == flagged
    (related,) = tl101["relatedLocations"]
    region = related["physicalLocation"]["region"]
    assert raw_at(formats.text, region["startLine"], region["startColumn"], region["endColumn"]) == "LR"
    assert tl101["message"]["text"].startswith("cell 4, line 2: SGD learning rate 10.0")
    # Each fix, applied to the file's text as a SARIF viewer would, gives what --fix writes.
    text = formats.text
    lines = text.split("\n")
    for result in (tl101, tl611):
        for change in result["fixes"][0]["artifactChanges"]:
            for replacement in change["replacements"]:
                region = replacement["deletedRegion"]
                row = lines[region["startLine"] - 1]
                start, end = region["startColumn"] - 1, region["endColumn"] - 1
                lines[region["startLine"] - 1] = row[:start] + replacement["insertedContent"]["text"] + row[end:]
    by_sarif = "\n".join(lines)
    check(formats, "--fix", "--unsafe-fixes", "nb.ipynb")
    assert by_sarif == (formats.root / "nb.ipynb").read_text()


def test_a_position_in_an_escaped_json_string_maps_to_its_characters():
    """Escapes (\\u00e9, \\", \\t, a surrogate pair) take several characters of the file's text."""
    cell = 'x = "é\\"\t😀"; opt = torch.optim.SGD(p, lr=10)'
    text = notebook_json(IMPORTS, cell, ensure_ascii=True)
    notebook = read(text)
    column = cell.index("lr=10")
    line, raw_column = notebook.raw_position(notebook.script.cells[1].line, column)
    assert text.split("\n")[line - 1][raw_column : raw_column + 5] == "lr=10"


# -- the script, directly ---------------------------------------------------------------------------


def test_script_lines_map_back_to_cells():
    script = Script([(1, "a = 1\nb = 2"), (2, ""), (3, "    c = 3\n    d = 4\n"), (5, "%%bash\nls"), (6, "e = 5")])
    assert script.text == "a = 1\nb = 2\nif 1:\n    c = 3\n    d = 4\ne = 5\n"
    assert [script.locate(line, 2) for line in range(1, 7)] == [(1, 1, 2), (1, 2, 2), (3, 1, 0), (3, 1, 2), (3, 2, 2), (6, 1, 2)]
    assert script.relabel("set on line 2, read on line 6 (`line 4`)", 6) == "set on line 2 of cell 1, read on line 1 (`line 4`)"


def test_reading_errors_carry_their_offset():
    with pytest.raises(NotebookError) as error:
        read('{"cells": [1], "nbformat": 4}')
    assert error.value.offset == 11 and "cell 1 is not an object" in str(error.value)
