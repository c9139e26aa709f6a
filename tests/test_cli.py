"""The command line: formats, selection, exit codes, stdin, statistics, rule pages."""

import argparse
import json
import re

import pytest
from conftest import ROOT, run_cli

from trainlint import __version__
from trainlint.registry import all_rules

BAD = "import torch\nmodel = torch.nn.Linear(2, 2)\nopt = torch.optim.SGD(model.parameters(), lr=10)\n"
ADAM_WD = "import torch\nopt = torch.optim.Adam(p, weight_decay=1e-4)\n"
CLEAN = "import torch\nopt = torch.optim.SGD(p, lr=0.1)\n"


def test_examples_exit_1_and_show_tl101_with_value_and_origin():
    run = run_cli("check", "--no-cache", str(ROOT / "examples"))
    assert run.returncode == 1
    assert run.stdout.startswith("warning[TL101]: SGD learning rate 10.0 (default of --lr, line 18) is at or above 1.0")
    assert re.search(r"^  --> .*cifar_argparse_lr\.py:53:47$", run.stdout, re.MULTILINE)
    assert "clean/" not in run.stdout


def test_the_example_notebook_and_its_readme_excerpt():
    run = run_cli("check", "--no-cache", "--output-format", "concise", str(ROOT / "examples" / "buggy" / "fashion_mnist.ipynb"))
    found = [line.split(": warning: ")[1][:5] + line.split(".ipynb:")[1].split(": ")[0] for line in run.stdout.splitlines()[:-2]]
    assert found == ["TL101cell 8:3:50", "TL201cell 8:4:13", "TL611cell 10:9:9"], run.stdout
    full = run_cli("check", "--no-cache", "examples/buggy/fashion_mnist.ipynb", cwd=ROOT).stdout
    excerpt = (ROOT / "README.md").read_text().split("## Jupyter notebooks", 1)[1].split("```\n", 2)[1].splitlines()
    assert full.startswith(excerpt[0].removesuffix("..."))
    assert "\n".join(excerpt[1:]) + "\n" in full


def test_clean_examples_have_no_findings():
    run = run_cli("check", "--no-cache", str(ROOT / "examples" / "clean"))
    assert run.returncode == 0 and "All checks passed!" in run.stdout


def test_default_format_is_full_and_text_is_its_alias(project):
    project.write("a.py", BAD)
    run = project.run("check", "--no-cache", "a.py")
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[0].startswith("warning[TL101]: SGD learning rate 10.0 is at or above 1.0")
    assert lines[1] == " --> a.py:3:43"
    assert "Found 1 finding (1 warning)." in run.stdout
    assert project.run("check", "--no-cache", "--output-format", "text", "a.py").stdout == run.stdout
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option." in run.stdout


def test_safe_fix_marker_in_text(project):
    project.write("a.py", "x = 1  # noqa: TL101\n")
    run = project.run("check", "--no-cache", "a.py")
    assert "warning[TL003] [*]: Unused suppression" in run.stdout
    assert "help: Remove unused suppression of TL101\n" in run.stdout
    assert "[*] 1 fixable with the `--fix` option." in run.stdout


def test_json_format_exact_keys_and_unicode_columns(project):
    line4 = "x = 'ü'; opt2 = torch.optim.SGD(p, lr=10)"
    project.write("a.py", "import torch\n# é\nopt = torch.optim.SGD(p, lr=10)  # ünïcödé\n" + line4 + "\n")
    run = project.run("check", "--no-cache", "--output-format", "json", "a.py")
    data = json.loads(run.stdout)
    assert [list(item) for item in data] == [
        ["path", "cell", "line", "column", "end_line", "end_column", "code", "name", "message", "severity", "fix"]
    ] * 2
    first, second = data
    assert first["path"] == "a.py" and first["cell"] is None, "a cell only in a notebook"
    assert (first["line"], first["column"], first["end_column"]) == (3, 26, 31)
    # Columns count code points (1-based, end exclusive): `ü` is one column although it is two bytes.
    start = line4.index("lr=10") + 1
    assert start == 36
    assert (second["line"], second["column"], second["end_column"]) == (4, start, start + 5)
    assert second["severity"] == "warning" and second["fix"]["applicability"] == "unsafe"
    assert second["fix"]["edits"] == [
        {"cell": None, "line": 4, "column": start + 3, "end_line": 4, "end_column": start + 5, "content": "0.1"}
    ]


def test_github_format(project):
    project.write("dir/a, b.py", BAD + ADAM_WD.replace("import torch\n", ""))
    run = project.run("check", "--no-cache", "--extend-select", "TL103", "--output-format", "github", "dir")
    lines = run.stdout.splitlines()
    assert lines[0].startswith(
        "::warning file=dir/a%2C b.py,line=3,col=43,endLine=3,endColumn=48,title=TL101 (learning-rate-too-high)::TL101 SGD learning rate 10.0"
    )
    assert lines[1].startswith("::notice file=dir/a%2C b.py,line=4,") and "TL103" in lines[1]
    assert run.returncode == 1


def test_exit_codes(project):
    project.write("clean.py", CLEAN)
    project.write("bad.py", BAD)
    project.write("info.py", ADAM_WD)
    assert project.run("check", "--no-cache", "clean.py").returncode == 0
    assert project.run("check", "--no-cache", "bad.py").returncode == 1
    assert project.run("check", "--no-cache", "--select", "ALL", "info.py").returncode == 1, "any finding, whatever its severity"
    assert project.run("check", "--no-cache", "--exit-zero", "bad.py").returncode == 0
    project.write("broken.py", "def f(:\n")
    assert project.run("check", "--no-cache", "broken.py").returncode == 1, "TL001 is a finding"
    assert project.run("check", "--select", "TL9", "clean.py").returncode == 2
    assert project.run("check", "--no-such-flag").returncode == 2
    assert project.run("check", "--jobs", "0", "clean.py").returncode == 2


@pytest.mark.parametrize(
    "args,expected",
    [
        ([], ["TL101"]),  # TL103 is opt-in
        (["--extend-select", "TL1"], ["TL101", "TL103"]),  # a prefix selects opt-in rules too
        (["--select", "TL101"], ["TL101"]),
        (["--select", "learning-rate-too-high"], ["TL101"]),
        (["--select", "TL1", "--ignore", "TL103"], ["TL101"]),
        (["--ignore", "TL1"], []),
        (["--ignore", "TL1", "--select", "TL103"], ["TL103"]),
        (["--select", "TL0", "--extend-select", "adam-coupled-weight-decay"], ["TL103"]),
        (["--select", "ALL", "--ignore", "TL101,TL103"], []),
        (["--extend-select", "TL103", "--per-file-ignores", "a.py:TL101"], ["TL103"]),
        (["--per-file-ignores", "*.py:TL1"], []),
    ],
)
def test_selection(project, args, expected):
    project.write("a.py", BAD + "opt2 = torch.optim.Adam(p, weight_decay=1e-4)\n")
    run = project.run("check", "--no-cache", "--output-format", "json", *args, "a.py")
    assert [d["code"] for d in json.loads(run.stdout)] == expected


def test_statistics(project):
    project.write("a.py", BAD + "opt2 = torch.optim.SGD(p, lr=5)\nx = 1  # noqa: TL102\n")
    run = project.run("check", "--no-cache", "--statistics", "a.py")
    lines = run.stdout.splitlines()
    assert lines[0] == "2\tTL101\t    learning-rate-too-high"
    assert lines[1] == "1\tTL003\t[*] unused-suppression"


def test_stdin(project):
    run = project.run("check", "-", "--stdin-filename", "train.py", stdin=BAD.encode())
    assert run.returncode == 1 and run.stdout.startswith("warning[TL101]: SGD learning rate 10.0")
    assert " --> train.py:3:43\n" in run.stdout
    fixed = project.run("check", "-", "--fix", "--unsafe-fixes", "--stdin-filename", "train.py", stdin=BAD.encode())
    assert fixed.stdout == BAD.replace("lr=10", "lr=0.1")
    assert "1 fixed" in fixed.stderr


def test_stdin_filename_alone_reads_stdin(project):
    """As in ruff: --stdin-filename means the code comes from stdin, even without `-`."""
    project.write("other.py", BAD)  # would be found if `.` were linted
    run = project.run("check", "--no-cache", "--output-format", "concise", "--stdin-filename", "train.py", stdin=CLEAN.encode())
    assert run.returncode == 0 and run.stdout == "All checks passed!\n"
    bad = project.run("check", "--no-cache", "--output-format", "concise", "--stdin-filename", "t.py", stdin=BAD.encode())
    assert bad.returncode == 1 and bad.stdout.startswith("t.py:3:43: warning: TL101")
    named = project.run("check", "--no-cache", "--stdin-filename", "t.py", "other.py", stdin=CLEAN.encode())
    assert named.returncode == 0 and "ignoring other.py: the code is read from standard input" in named.stderr


def test_stdin_respects_per_file_ignores(project):
    project.write("pyproject.toml", '[tool.trainlint]\nper-file-ignores = { "scripts/*" = ["TL101"] }\n')
    run = project.run("check", "-", "--stdin-filename", "scripts/train.py", stdin=BAD.encode())
    assert run.returncode == 0


def test_show_settings(project):
    project.write(
        "pyproject.toml", '[tool.trainlint]\nignore = ["TL103"]\n[tool.trainlint.rules.TL101]\nlimits = { SGD = 2.0 }\n'
    )
    project.write("a.py", BAD)
    run = project.run("check", "--show-settings", "a.py")
    data = json.loads(run.stdout)
    assert run.returncode == 0
    assert data["config_file"].endswith("pyproject.toml")
    assert "TL103" not in data["enabled"] and "TL101" in data["enabled"]
    assert data["rule_options"]["TL101"]["limits"]["SGD"] == 2.0
    assert data["rule_options"]["TL101"]["limits"]["Adam"] == 0.01


def test_output_file(project):
    project.write("a.py", BAD)
    run = project.run("check", "--no-cache", "--output-format", "json", "-o", "report.json", "a.py")
    assert run.returncode == 1 and run.stdout == ""
    assert json.loads((project.root / "report.json").read_text())[0]["code"] == "TL101"


def test_quiet(project):
    project.write("a.py", BAD)
    run = project.run("check", "--no-cache", "-q", "--output-format", "concise", "a.py")
    assert len(run.stdout.splitlines()) == 1
    full = project.run("check", "--no-cache", "-q", "a.py")
    assert full.stdout.startswith("warning[TL101]") and "Found" not in full.stdout


def test_rule_command():
    page = run_cli("rule", "TL101")
    assert page.returncode == 0 and page.stdout.startswith("# TL101 learning-rate-too-high")
    by_name = run_cli("rule", "adam-coupled-weight-decay", "--output-format", "json")
    assert json.loads(by_name.stdout)["code"] == "TL103"
    listing = run_cli("rule", "--all")
    rows, legend = listing.stdout.split("\n\n")
    assert "[*] a safe fix: `check --fix` applies it." in legend and "[!] an unsafe fix" in legend and "(opt-in)" in legend
    assert "TL101  [!]  warning  learning-rate-too-high" in rows and "TL003  [*]  warning  unused-suppression" in rows
    lines = rows.splitlines()
    assert [line.split()[0] for line in lines] == [rule.code for rule in all_rules()]
    assert [line.split()[0] for line in lines if "(opt-in)" in line] == [r.code for r in all_rules() if not r.default]
    assert json.loads(by_name.stdout)["default"] is False
    assert run_cli("rule", "TL999").returncode == 2


def test_every_option_has_help_text():
    from trainlint.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in [("trainlint", parser), *commands.choices.items()]:
        for action in sub._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.option_strings or action.dest)


def test_version():
    run = run_cli("--version")
    assert run.stdout.strip() == f"trainlint {__version__}"


def test_runs_without_torch_importable(project):
    """trainlint never imports torch: with torch made unimportable it still works."""
    import subprocess
    import sys

    project.write("a.py", BAD)
    code = (
        "import sys; sys.modules['torch'] = None; from trainlint.cli import main; sys.exit(main(['check', '--no-cache', 'a.py']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=project.root, capture_output=True, text=True)
    assert proc.returncode == 1 and "TL101" in proc.stdout, proc.stderr
