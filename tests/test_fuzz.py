"""A small run of benchmarks/fuzz.py (the 10,000-program figures are in RELIABILITY.md), and the
programs fuzzing found, kept as regression tests."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, lint


def test_a_small_fuzz_run(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fuzz.py"), "--count", "200", "--seed", "7", "--time-limit", "60"]
        + ["--json", "-", "--save", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    stats = json.loads(proc.stdout)
    assert proc.returncode == 0, stats["failed"]
    assert stats["programs"] == 200 and stats["crashes"] == stats["hangs"] == stats["failures"] == 0
    assert stats["by_source"]["hypothesmith"] > 0 and stats["notebooks"] > 0
    assert stats["fix_rounds_checked"] > 0, "the mutations must exercise fixes"


MODEL = """\
import torch
from torch import nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.dropout = {layer}
    def forward(self, x):
        return self.fc1(x)
"""


@pytest.mark.parametrize("layer", ["nn.Dropout('5')", "nn.Dropout(p=(1,))", "nn.Dropout(p=None)"])
def test_dropout_probability_that_is_not_a_number(layer):
    """TL302 crashed comparing a string (a tuple) with 0 (found by fuzzing: a number swapped for '5')."""
    found = lint(MODEL.format(layer=layer), ["ALL"])
    assert "TL002" not in [d.code for d in found]
    assert "TL302" in [d.code for d in found]
