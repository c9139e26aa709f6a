"""trainlint reads code, it never runs it: linting a project whose every file would have side
effects if imported or executed (write a marker file, run a shell command, sys.exit, loop forever)
runs none of them, through the console script, `python -m trainlint` (which puts the working
directory on sys.path, where the project's json.py would shadow the standard library's),
`--fix --unsafe-fixes`, `explain` and the language server, and each gives its normal answer fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import notebook_json
from lspclient import StdioClient

TRAINLINT = Path(sys.executable).with_name("trainlint")  # the console script, as pre-commit and CI run it


def hostile(markers: Path, name: str) -> str:
    """Code that leaves markers/NAME-* behind if anything executes it, then exits or never ends."""
    return f"""\
import os, sys
open({str(markers / (name + "-open"))!r}, "w").write("ran")
__import__("os").system("touch {markers / (name + "-system")}")
exec("open({str(markers / (name + "-exec"))!r}, 'w')")
"""


def project(root: Path) -> Path:
    markers = root / "markers"
    markers.mkdir(parents=True)
    code = root / "proj"
    (code / "pkg").mkdir(parents=True)
    train = hostile(markers, "train") + (
        "import torch\n"
        "model = torch.nn.Linear(4, 2)\n"
        "opt = torch.optim.SGD(model.parameters(), lr=10)  # noqa: TL102\n"
        "sys.exit(3)\n"
        "while True:\n    pass\n"
        "if __name__ == '__main__':\n    " + hostile(markers, "main").replace("\n", "\n    ") + "\n"
    )
    (code / "train.py").write_text(train)
    cells = [hostile(markers, "cell"), "import torch\nLR = 10", "opt = torch.optim.SGD(p, lr=LR)\nwhile True:\n    pass"]
    (code / "notebook.ipynb").write_text(notebook_json(*cells))
    # Modules a process would import from the working directory or at start-up if they were on its path.
    for module in ("json", "enum", "argparse", "dataclasses", "typing", "tomllib", "libcst", "torch", "sitecustomize"):
        (code / f"{module}.py").write_text(hostile(markers, module) + "while True:\n    pass\n")
    for name in ("setup.py", "conftest.py", "pkg/__init__.py", "pkg/__main__.py", "noxfile.py"):
        (code / name).write_text(hostile(markers, name.replace("/", "_")) + "sys.exit(4)\n")
    (code / "hook.pth").write_text(f"import os; os.system('touch {markers / 'pth'}')\n")
    # Configuration: TOML is data, but a build backend, a setup.cfg and a nested config are there to be tempted by.
    (code / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "setup"\nbackend-path = ["."]\n\n'
        '[tool.trainlint]\nextend-select = ["ALL"]\n'
    )
    (code / "setup.cfg").write_text("[options]\nsetup_requires = os\n")
    (code / "pkg" / ".trainlint.toml").write_text('extend-select = ["TL1"]\n')
    return code


def assert_nothing_ran(root: Path) -> None:
    assert sorted(p.name for p in (root / "markers").iterdir()) == []


def timed(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    return proc, time.monotonic() - start


def codes_by_file(stdout: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in json.loads(stdout):
        out.setdefault(Path(d["path"]).name, []).append(d["code"])
    return out


@pytest.mark.parametrize("command", ["console-script", "python-m"])
def test_check_runs_nothing(tmp_path, command):
    code = project(tmp_path)
    prefix = [str(TRAINLINT)] if command == "console-script" else [sys.executable, "-m", "trainlint"]
    proc, seconds = timed([*prefix, "check", "--no-cache", "--output-format", "json", "."], code)
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
    found = codes_by_file(proc.stdout)
    assert "TL101" in found["train.py"] and "TL003" in found["train.py"]  # the finding, and the stale noqa
    assert "TL101" in found["notebook.ipynb"]
    assert_nothing_ran(tmp_path)
    assert seconds < 60  # the infinite loops did not run either (generous: the machine is shared)


def test_fix_and_explain_run_nothing(tmp_path):
    code = project(tmp_path)
    before = (code / "train.py").read_text()
    proc, _ = timed([sys.executable, "-m", "trainlint", "check", "--fix", "--unsafe-fixes", "--no-cache", "."], code)
    assert proc.returncode in (0, 1) and proc.stderr == "", proc.stderr
    after = (code / "train.py").read_text()
    assert after == before.replace("lr=10)  # noqa: TL102", "lr=0.1)")  # both fixes, nothing else
    assert "lr=LR" in (code / "notebook.ipynb").read_text() and "LR = 0.1" in (code / "notebook.ipynb").read_text()
    for target in ("train.py", "notebook.ipynb"):
        proc, _ = timed([sys.executable, "-m", "trainlint", "explain", target], code)
        assert proc.returncode == 0 and proc.stderr == "" and "Learning rate" in proc.stdout, proc.stderr
    assert_nothing_ran(tmp_path)


def test_the_server_runs_nothing(tmp_path):
    """Started in the project (as Neovim's lspconfig starts it), opening the files lints them."""
    code = project(tmp_path)
    client = StdioClient(cwd=code)
    try:
        client.initialize(code)
        uri = client.open(code / "train.py", (code / "train.py").read_text())
        diagnostics = client.wait_diagnostics(uri, lambda ds: bool(ds))
        assert {"TL101", "TL003"} <= {d["code"] for d in diagnostics}
        for module in ("json.py", "setup.py", "pkg/__main__.py"):
            other = client.open(code / module, (code / module).read_text())
            client.wait_diagnostics(other)
        hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": {"line": 5, "character": 1}})
        assert hover is None or "contents" in hover
    finally:
        assert client.close() == 0, client.stderr_text()
    assert_nothing_ran(tmp_path)
