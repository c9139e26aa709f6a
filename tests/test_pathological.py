"""Problems benchmarks/pathological.py found, kept as regression tests."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

from trainlint.engine import lint_bytes
from trainlint.settings import default_settings

sys.path.insert(0, str(ROOT / "benchmarks"))
import pathological  # a script, not a package


def test_the_deepest_expression_python_compiles_is_linted(tmp_path):
    """ast.parse counts the linter's own frames against the recursion limit: a sum a few levels
    short of what `python file.py` compiles was a TL001 ("nested too deeply") that hid its findings."""
    depth = pathological.deepest_compiling(sys.executable)
    settings = default_settings(["ALL"])
    for extra, compiles in ((0, True), (1, False)):  # python compiles `depth`, not one more
        path = tmp_path / f"deep_{extra}.py"
        path.write_text(pathological.deep_expression_of(depth + extra), encoding="utf-8")
        # Linted here, under pytest's deep stack, and by the command line: the same verdict as python's.
        codes = [d.code for d in lint_bytes(path.read_bytes(), str(path), settings).diagnostics]
        check = subprocess.run(
            [sys.executable, "-m", "trainlint", "check", "--no-cache", "--output-format", "json", str(path)],
            capture_output=True,
            text=True,
        )
        assert [d["code"] for d in json.loads(check.stdout)] == codes
        assert codes == (["TL101"] if compiles else ["TL001"])
