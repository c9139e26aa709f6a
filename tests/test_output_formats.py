"""The output formats, each read the way its consumer reads it: people (full, concise, grouped), a
terminal (colours), problem matchers and Neovim's quickfix list (concise), Jenkins' Warnings plugin
(pylint), junitparser (JUnit XML), GitLab's documented Code Quality schema (gitlab), JSON readers."""

import json
import os
import pty
import re
import shutil
import subprocess
import sys

import jsonschema
import junitparser
import pytest
from conftest import ROOT

from trainlint.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, Span
from trainlint.output.full import render_diagnostic
from trainlint.output.style import Style
from trainlint.source import split_lines

ARGPARSE = """\
import argparse
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=10.0)
args = parser.parse_args()

model = torch.nn.Linear(2, 2)
opt = torch.optim.SGD(model.parameters(), lr=args.lr)
"""
TWO_FILES = {
    "train.py": ARGPARSE,
    "pkg/momentum.py": "import torch\nopt = torch.optim.SGD(p, lr=0.1, momentum=1.5)  # noqa: TL101\nclean = 1\n",
    "pkg/clean.py": "import torch\nopt = torch.optim.SGD(p, lr=0.1)\n",
}
GITLAB_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "gitlab-code-quality.schema.json").read_text())


def write_all(project, files=TWO_FILES):
    for name, text in files.items():
        project.write(name, text)


def check(project, *args, **kwargs):
    return project.run("check", "--no-cache", *args, **kwargs)


# -- full --------------------------------------------------------------------------------------


def test_full_shows_severity_code_caret_cited_line_and_fix(project):
    project.write("train.py", ARGPARSE)
    run = check(project, "train.py")
    assert run.returncode == 1
    assert run.stdout == (
        "warning[TL101]: SGD learning rate 10.0 (default of --lr, line 5) is at or above 1.0, about ten times common "
        "practice: steps this large make the loss oscillate or diverge instead of going down. Use about 0.1\n"
        " --> train.py:9:43\n"
        "  |\n"
        "4 | parser = argparse.ArgumentParser()\n"
        '5 | parser.add_argument("--lr", type=float, default=10.0)\n'
        "  |                                         ------------ default of --lr\n"
        "6 | args = parser.parse_args()\n"
        "7 |\n"
        "8 | model = torch.nn.Linear(2, 2)\n"
        "9 | opt = torch.optim.SGD(model.parameters(), lr=args.lr)\n"
        "  |                                           ^^^^^^^^^^\n"
        "  |\n"
        "help: Set the learning rate to 0.1 (unsafe fix: `--unsafe-fixes`)\n"
        "\n"
        "Found 1 finding (1 warning).\n"
        "1 hidden fix can be enabled with the `--unsafe-fixes` option.\n"
    )
    assert "(unsafe fix" not in check(project, "--unsafe-fixes", "train.py").stdout
    assert check(project, "--unsafe-fixes", "train.py").stdout.startswith("warning[TL101] [*]: SGD")


def test_full_answered_from_the_cache_is_the_same(project):
    project.write("train.py", ARGPARSE)
    cold = project.run("check", "train.py")
    warm = project.run("check", "train.py")
    assert cold.stdout == warm.stdout and "------------ default of --lr" in warm.stdout


def lines_of(text):
    return split_lines(text)


def diagnostic(span, related=(), fix=None, severity=Severity.WARNING):
    return Diagnostic("TL101", "learning-rate-too-high", "Too high", severity, span, fix, related=tuple(related))


def test_full_elides_distant_lines_and_hangs_labels_that_share_a_line():
    text = "".join(f"x{i} = {i}\n" for i in range(1, 30)) + "opt = SGD(p, lr=LR, momentum=M)\n"
    d = diagnostic(Span(30, 13, 30, 18), related=[(Span(2, 0, 2, 2), "LR"), (Span(30, 20, 30, 30), "momentum here")])
    out = render_diagnostic("a.py", d, lines_of(text), Style(False), False)
    assert out.splitlines() == [
        "warning[TL101]: Too high",
        "  --> a.py:30:14",
        "   |",
        " 1 | x1 = 1",
        " 2 | x2 = 2",
        "   | -- LR",
        " 3 | x3 = 3",
        "...",
        "29 | x29 = 29",
        "30 | opt = SGD(p, lr=LR, momentum=M)",
        "   |              ^^^^^  ---------- momentum here",
        "   |",
    ]
    # Two labels on one line: the rightmost beside its marks, the other hanging below, rustc-style.
    d = diagnostic(Span(30, 20, 30, 30), related=[(Span(30, 13, 30, 18), "the rate"), (Span(30, 0, 30, 3), "the optimizer")])
    rows = render_diagnostic("a.py", d, lines_of(text), Style(False), False).splitlines()
    assert rows[rows.index("30 | opt = SGD(p, lr=LR, momentum=M)") :] == [
        "30 | opt = SGD(p, lr=LR, momentum=M)",
        "   | ---          -----  ^^^^^^^^^^",
        "   | |            |",
        "   | |            the rate",
        "   | |",
        "   | the optimizer",
        "   |",
    ]


def test_full_underlines_every_line_of_a_multi_line_range_and_shortens_long_ones():
    text = "opt = SGD(\n    p,\n    lr=(\n        10.0\n    ),\n)\n"
    out = render_diagnostic("a.py", diagnostic(Span(3, 4, 5, 5)), lines_of(text), Style(False), False)
    assert out.splitlines()[3:10] == [
        "2 |     p,",
        "3 |     lr=(",
        "  |     ^^^^",
        "4 |         10.0",
        "  |         ^^^^",
        "5 |     ),",
        "  |     ^",
    ]
    long = "x = f(\n" + "".join(f"    {i},\n" for i in range(20)) + ")\n"
    out = render_diagnostic("a.py", diagnostic(Span(1, 4, 22, 1)), lines_of(long), Style(False), False)
    numbers = [int(line.split("|")[0]) for line in out.splitlines() if re.match(r"^\s*\d+ \|", line)]
    assert numbers == [1, 2, 3, 20, 21, 22] and "..." in out


def test_full_aligns_carets_after_tabs_and_wide_characters_and_shows_control_characters():
    line = "\tx = '日本'; opt = SGD(p, lr=10)  # \x1b[31m\x00"
    start = line.index("lr=10")
    out = render_diagnostic("a.py", diagnostic(Span(1, start, 1, start + 5)), lines_of(line + "\n"), Style(False), False)
    source_row, caret_row = out.splitlines()[3:5]
    assert source_row == "1 |     x = '日本'; opt = SGD(p, lr=10)  # ␛[31m␀"
    # Display columns: the tab shows as 4 spaces, each of 日本 takes two.
    assert caret_row.index("^") - len("  | ") == 4 + len("x = '") + 4 + len("'; opt = SGD(p, ")
    assert caret_row.endswith("^^^^^") and "\x1b" not in out and "\x00" not in out


def test_full_without_lines_to_quote(project):
    """A file-level finding (a broken symbolic link) has nothing to underline; a syntax error has."""
    os.symlink(project.root / "missing.py", project.root / "gone.py")
    project.write("broken.py", "def f(:\n    pass\n")
    run = check(project, "gone.py", "broken.py")
    blocks = run.stdout.split("\n\n")
    assert blocks[0].startswith("error[TL001]: Syntax error: invalid syntax")
    assert "1 | def f(:\n  |       ^" in blocks[0]
    assert blocks[1] == "error[TL004]: Cannot read gone.py: broken symbolic link; trainlint skipped it\n --> gone.py:1:1"


def test_full_quotes_the_code_read_from_stdin_not_the_file_on_disk(project):
    project.write("train.py", "# a different version on disk\n")
    run = check(project, "-", "--stdin-filename", "train.py", stdin=ARGPARSE.encode())
    assert "9 | opt = torch.optim.SGD(model.parameters(), lr=args.lr)" in run.stdout


def test_full_marks_the_end_of_the_file():
    """CPython reports some syntax errors after the last line break; the caret is shown there."""
    d = Diagnostic("TL001", "syntax-error", "Syntax error", Severity.ERROR, Span(2, 0, 2, 0))
    assert render_diagnostic("a.py", d, lines_of("if x:\n"), Style(False), False).splitlines()[3:6] == [
        "1 | if x:",
        "2 |",
        "  | ^",
    ]


def test_help_line_of_a_safe_fix():
    fix = Fix(Applicability.SAFE, "Remove it", (Edit(Span(1, 0, 1, 1), ""),))
    out = render_diagnostic("a.py", diagnostic(Span(1, 0, 1, 1), fix=fix), lines_of("x\n"), Style(False), False)
    assert out.startswith("warning[TL101] [*]: Too high\n") and out.endswith("help: Remove it\n")


# -- colour ------------------------------------------------------------------------------------


def on_a_terminal(args, cwd, env=None):
    """Run trainlint with its output on a pseudo-terminal, as in an interactive shell."""
    main, child = pty.openpty()
    full_env = {**os.environ, **(env or {})}
    for name in ("NO_COLOR", "FORCE_COLOR"):
        if name not in (env or {}):
            full_env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "trainlint", *args], cwd=cwd, stdout=child, stderr=child, env=full_env)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    proc.wait(timeout=60)
    return out.decode()


def test_colour_on_a_terminal_only(project):
    project.write("train.py", ARGPARSE)
    args = ["check", "--no-cache", "train.py"]
    coloured = on_a_terminal(args, project.root)
    assert "\x1b[1;93mwarning[TL101]\x1b[0m" in coloured  # bright bold yellow, as rustc shows a warning
    assert "\x1b[1;94m------------\x1b[0m" in coloured  # the cited place in blue
    assert "\x1b[1;93m^^^^^^^^^^\x1b[0m" in coloured  # the reported range in the severity's colour
    assert "\x1b[" not in on_a_terminal(args, project.root, {"NO_COLOR": "1"})
    assert "\x1b[" not in on_a_terminal([*args, "--no-color"], project.root)
    assert "\x1b[" not in check(project, "train.py").stdout  # piped
    assert "\x1b[1;93m" in check(project, "train.py", env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in check(project, "train.py", env={"FORCE_COLOR": "0"}).stdout
    on_a_terminal([*args, "-o", "report.txt"], project.root)
    assert "\x1b[" not in (project.root / "report.txt").read_text()
    concise = on_a_terminal([*args, "--output-format", "concise"], project.root)
    assert "\x1b[1;93mwarning\x1b[0m" in concise


# -- concise, grouped, pylint -------------------------------------------------------------------

# VS Code's `$gcc` problem matcher (from ms-vscode.cpptools' package.json).
GCC_MATCHER = re.compile(r"^(.*?):(\d+):(\d*):?\s+(?:fatal\s+)?(warning|error):\s+(.*)$")
# Jenkins' Warnings NG plugin, PyLintParser of analysis-model (the default, parseable pattern).
PYLINT_PARSER = re.compile(
    r"(?P<path>(?:[A-Z]:\\)?[^:]*)(?:\:(?P<module>.*))?:(?P<line>\d+): \[(?P<type>(?P<category>[A-Z])\d*)?"
    r"(?:\((?P<symbol>.*)\), )?.*?\] (?P<message>.*)"
)


def test_concise_one_line_each_with_severity(project):
    write_all(project)
    run = check(project, "--output-format", "concise", ".")
    lines = run.stdout.splitlines()
    assert lines[0] == (
        "pkg/momentum.py:2:34: error: TL102 SGD momentum is 1.5; it must be in [0, 1): momentum of 1 or more makes "
        "updates grow without bound, and a negative one is rejected by torch"
    )
    assert lines[1].startswith("pkg/momentum.py:2:49: warning: TL003 [*] Unused suppression: `# noqa` for TL101")
    assert lines[2].startswith("train.py:9:43: warning: TL101 SGD learning rate 10.0 (default of --lr, line 5)")
    assert lines[3:] == [
        "Found 3 findings (1 error, 2 warnings).",
        "[*] 1 fixable with the `--fix` option.",
        "1 hidden fix can be enabled with the `--unsafe-fixes` option.",
    ]
    matched = [GCC_MATCHER.match(line) for line in lines]
    assert [(m[1], m[2], m[3], m[4]) for m in matched if m] == [
        ("pkg/momentum.py", "2", "34", "error"),
        ("pkg/momentum.py", "2", "49", "warning"),
        ("train.py", "9", "43", "warning"),
    ]


def test_concise_in_neovims_quickfix_list(project, tmp_path):
    """Neovim reads the lines with its default 'errorformat': file, line and column of each finding."""
    write_all(project)
    report = project.root / "report.txt"
    report.write_text(check(project, "--output-format", "concise", ".").stdout)
    nvim = shutil.which("nvim")
    assert nvim, "Neovim is needed: tests/run-all.sh installs Debian's neovim"
    script = tmp_path / "quickfix.lua"
    script.write_text(
        "vim.cmd('cgetfile ' .. vim.fn.fnameescape(os.getenv('REPORT')))\n"
        "local out = {}\n"
        "for _, e in ipairs(vim.fn.getqflist()) do\n"
        "  if e.valid == 1 then table.insert(out, {vim.fn.bufname(e.bufnr), e.lnum, e.col, e.text}) end\n"
        "end\n"
        "io.stdout:write(vim.fn.json_encode(out))\n"
        "vim.cmd('qa!')\n"
    )
    proc = subprocess.run(
        [nvim, "--headless", "--clean", "-u", str(script)],
        cwd=project.root,
        env={**os.environ, "REPORT": str(report)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    entries = json.loads(proc.stdout)
    assert [e[:3] for e in entries] == [["pkg/momentum.py", 2, 34], ["pkg/momentum.py", 2, 49], ["train.py", 9, 43]]
    assert entries[2][3].startswith(" warning: TL101 SGD learning rate 10.0")


def test_grouped(project):
    write_all(project)
    run = check(project, "--output-format", "grouped", ".")
    lines = run.stdout.splitlines()
    assert lines[0] == "pkg/momentum.py:"
    assert lines[1].startswith("  2:34 error   TL102 SGD momentum is 1.5; it must be in [0, 1)")
    assert lines[2].startswith("  2:49 warning TL003 [*] Unused suppression")
    assert lines[3:5] == ["", "train.py:"]
    assert lines[5].startswith("  9:43 warning TL101 SGD learning rate 10.0")
    assert lines[6:8] == ["", "Found 3 findings (1 error, 2 warnings)."]


def test_pylint_as_jenkins_warnings_plugin_reads_it(project):
    write_all(project)
    run = check(project, "--output-format", "pylint", ".")
    assert run.returncode == 1
    found = [PYLINT_PARSER.fullmatch(line) for line in run.stdout.splitlines()]
    assert all(found), run.stdout
    assert [(m["path"], m["line"], m["message"][:22]) for m in found if m] == [
        ("pkg/momentum.py", "2", "SGD momentum is 1.5; i"),
        ("pkg/momentum.py", "2", "Unused suppression: `#"),
        ("train.py", "9", "SGD learning rate 10.0"),
    ]
    assert run.stdout.splitlines()[2].startswith("train.py:9: [TL101] SGD learning rate")


# -- machine formats -----------------------------------------------------------------------------


def test_json_lines_holds_the_json_objects_one_per_line(project):
    write_all(project)
    lines = check(project, "--output-format", "json-lines", ".").stdout.splitlines()
    assert [json.loads(line) for line in lines] == json.loads(check(project, "--output-format", "json", ".").stdout)
    assert len(lines) == 3


def test_junit_through_junitparser(project):
    write_all(project)
    project.write("broken.py", "def f(:\n  x = '\x1b\x0c'\n")
    run = check(project, "--output-format", "junit", "-o", "report.xml", ".")
    assert run.returncode == 1
    xml = junitparser.JUnitXml.fromfile(str(project.root / "report.xml"))
    suites = {suite.name: suite for suite in xml}
    assert sorted(suites) == ["broken.py", "pkg/clean.py", "pkg/momentum.py", "train.py"]
    assert (xml.tests, xml.failures, xml.errors) == (5, 4, 0)
    clean = suites["pkg/clean.py"]
    assert clean.tests == 1 and [case.is_passed for case in clean] == [True]
    (case,) = list(suites["train.py"])
    assert case.name == "TL101 learning-rate-too-high at 9:43" and case.classname == "train"
    assert case._elem.get("file") == "train.py" and case._elem.get("line") == "9"
    (failure,) = case.result
    assert isinstance(failure, junitparser.Failure) and failure.type == "warning"
    assert failure.message.startswith("SGD learning rate 10.0 (default of --lr, line 5)")
    assert " --> train.py:9:43\n" in failure.text and "------------ default of --lr" in failure.text
    (broken,) = list(suites["broken.py"])
    assert broken.result[0].type == "error" and broken.result[0].message.startswith("Syntax error")


def test_junit_with_no_findings(project):
    project.write("clean.py", "x = 1\n")
    run = check(project, "--output-format", "junit", "clean.py")
    xml = junitparser.JUnitXml.fromstring(run.stdout.encode())
    assert run.returncode == 0 and (xml.tests, xml.failures, xml.errors) == (1, 0, 0)


def gitlab_report(project, *args, env=None):
    run = check(project, "--output-format", "gitlab", *args, env=env)
    assert not run.stdout.startswith("\ufeff"), "GitLab's parser refuses a byte order mark"
    report = json.loads(run.stdout)
    jsonschema.validate(report, GITLAB_SCHEMA)
    fingerprints = [issue["fingerprint"] for issue in report]
    assert len(set(fingerprints)) == len(fingerprints), "GitLab shows findings with equal fingerprints once"
    return report


def test_gitlab_code_quality_matches_the_documented_schema(project):
    write_all(project)
    project.write(
        "twice.py", "import torch\na = torch.optim.SGD(p, lr=10)\nb = torch.optim.SGD(p, lr=10)\na = torch.optim.SGD(p, lr=10)\n"
    )
    report = gitlab_report(project, ".")
    assert [(i["location"]["path"], i["check_name"], i["severity"]) for i in report] == [
        ("pkg/momentum.py", "TL102", "major"),
        ("pkg/momentum.py", "TL003", "minor"),
        ("train.py", "TL101", "minor"),
        ("twice.py", "TL101", "minor"),
        ("twice.py", "TL101", "minor"),
        ("twice.py", "TL101", "minor"),
    ]
    assert report[2]["location"]["positions"] == {"begin": {"line": 9, "column": 43}, "end": {"line": 9, "column": 53}}
    assert report[2]["description"].startswith("TL101 SGD learning rate 10.0")


def test_gitlab_fingerprints_survive_lines_moving_and_paths_are_relative_to_the_project(project):
    project.write("src/train.py", ARGPARSE)
    (first,) = gitlab_report(project, "src")
    project.write("src/train.py", "# a comment\n\n" + ARGPARSE)
    (moved,) = gitlab_report(project, "src")
    assert first["fingerprint"] == moved["fingerprint"] and moved["location"]["positions"]["begin"]["line"] == 11
    # Run from a sub-directory of the checkout: paths stay relative to $CI_PROJECT_DIR.
    run = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--no-cache", "--output-format", "gitlab", "train.py"],
        cwd=project.root / "src",
        capture_output=True,
        text=True,
        env={**os.environ, "CI_PROJECT_DIR": str(project.root)},
    )
    (issue,) = json.loads(run.stdout)
    assert issue["location"]["path"] == "src/train.py" and issue["fingerprint"] == moved["fingerprint"]


@pytest.mark.parametrize(
    "fmt", ["full", "concise", "grouped", "json", "json-lines", "junit", "github", "gitlab", "pylint", "sarif"]
)
def test_every_format_on_a_clean_run(project, fmt):
    project.write("clean.py", "x = 1\n")
    run = check(project, "--output-format", fmt, "clean.py")
    assert run.returncode == 0 and run.stderr == ""
    if fmt in ("full", "concise", "grouped"):
        assert run.stdout == "All checks passed!\n"
    elif fmt in ("json", "gitlab"):
        assert json.loads(run.stdout) == []


def test_help_lists_every_format():
    out = subprocess.run([sys.executable, "-m", "trainlint", "check", "--help"], capture_output=True, text=True).stdout
    text = " ".join(out.split())
    for fmt in ("full", "concise", "grouped", "json", "json-lines", "junit", "github", "gitlab", "pylint", "sarif"):
        assert re.search(rf"\b{re.escape(fmt)}\b", text), fmt
    assert "`text` is an alias" in text


def test_readme_lists_every_format():
    from trainlint.output import FORMATS

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("**Output formats**") : readme.index("**Exit codes.**")]
    assert all(f"- `{fmt}`" in section for fmt in FORMATS), section
