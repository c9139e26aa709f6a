"""A second, independent LSP client: headless Neovim receives diagnostics and applies a quick fix."""

import os
import shutil
import subprocess
import sys

from conftest import ROOT

SCRIPT = ROOT / "tests" / "neovim" / "quickfix.lua"
SOURCE = """\
import torch

LR = 10.0
model = torch.nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=LR)  # é in a comment: ranges stay right
"""


def run_neovim(target, action: str) -> list[str]:
    nvim = shutil.which("nvim")
    assert nvim, "Neovim is needed: tests/run-all.sh installs Debian's neovim"
    env = {
        **os.environ,
        "TRAINLINT_CMD": f"{sys.executable}\t-m\ttrainlint\tserver",
        "TARGET": str(target),
        "ACTION": action,
    }
    proc = subprocess.run(
        [nvim, "--headless", "--clean", "-u", str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=target.parent,
    )
    return (proc.stdout + proc.stderr).splitlines()


def test_neovim_receives_diagnostics_and_applies_a_quick_fix(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(SOURCE)
    lines = run_neovim(target, "Set the learning rate to 0.1")
    diagnostics = [line for line in lines if line.startswith("DIAGNOSTIC ")]
    assert diagnostics == [
        (
            "DIAGNOSTIC trainlint 4:48 TL101 SGD learning rate 10.0 (LR, line 3) is at or above 1.0, about ten times "
            "common practice: steps this large make the loss oscillate or diverge instead of going down. Use about 0.1"
        )
    ], lines
    assert "ACTION Disable TL101 for this line" in lines
    assert "APPLIED" in lines
    buffer = [line[len("BUFFER ") :] for line in lines if line.startswith("BUFFER ")]
    assert buffer == SOURCE.replace("LR = 10.0", "LR = 0.1").splitlines()


def test_neovim_disable_for_this_line(tmp_path):
    target = tmp_path / "train.py"
    target.write_text(SOURCE)
    lines = run_neovim(target, "Disable TL101 for this line")
    assert "APPLIED" in lines, lines
    buffer = [line[len("BUFFER ") :] for line in lines if line.startswith("BUFFER ")]
    expected = SOURCE.replace("lr=LR)  # é", "lr=LR)  # noqa: TL101  # é").splitlines()
    assert buffer == expected
