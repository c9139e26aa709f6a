"""A small run of benchmarks/pathological.py (the full-size figures are in RELIABILITY.md), and the
problems it found, kept as regression tests."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

from trainlint.engine import lint_bytes
from trainlint.settings import default_settings

sys.path.insert(0, str(ROOT / "benchmarks"))
import pathological  # a script, not a package


class _Evaluations:
    """Counts the evaluator's evaluations (`Evaluator.eval` calls) while the test runs: work measured
    in steps, not seconds."""

    def __init__(self, monkeypatch) -> None:
        from trainlint.model.evaluator import Evaluator

        self.count = 0
        evaluate = Evaluator.eval

        def counted(evaluator, *args, **kwargs):
            self.count += 1
            return evaluate(evaluator, *args, **kwargs)

        monkeypatch.setattr(Evaluator, "eval", counted)


def test_a_small_pathological_run(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pathological.py"), "--scale", "0.01", "--time-limit", "240"]
        + ["--python", sys.executable, "--json", "-", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    reports = {r["name"]: r for r in json.loads(proc.stdout)}
    assert proc.returncode == 0, {name: r["problems"] for name, r in reports.items() if r["problems"]}
    assert reports.keys() == {c.name for c in pathological.CASES}
    assert all(r["check_status"] in (0, 1) and r["explain_status"] == 0 for r in reports.values())
    assert "TL001" not in reports["deepest_expression"]["codes"] and "TL101" in reports["deepest_expression"]["codes"]
    assert reports["deeper_expression"]["codes"] == {"TL001": 1}
    assert reports["single_line_5mb"]["lines"] == 1
    assert "TL601" in reports["long_training_loop"]["codes"]  # its 100 statements fit in a trace (not 10,000)


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


def test_explain_a_deeply_nested_file(tmp_path):
    """check lints a 1,500-term sum on a deep stack; explain crashed with a RecursionError (a
    traceback) computing the positions of its report on the ordinary one."""
    path = tmp_path / "deep.py"
    path.write_text(pathological.deep_expression_of(1500), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", "explain", "--output-format", "json", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["error"] is None
    rate = next(s for s in report["stages"] if s["key"] == "learning-rate")
    assert [f["code"] for f in rate["findings"]] == ["TL101"]


def test_work_on_many_classes_grows_linearly(tmp_path, monkeypatch):
    """A thousand nn.Module classes, each storing `self.fc` and `self.next` and calling
    `super().__init__()`, took minutes: every class's `self.next` checked every other class's
    stores, and every __init__ every `super().__init__()` call (2 s now). Counted in evaluations,
    not seconds: four times the classes may cost at most four times the evaluations."""
    evaluations = _Evaluations(monkeypatch)
    settings = default_settings(["ALL"])
    counts = []
    for scale in (0.1, 0.4):
        path = tmp_path / f"classes_{scale}.py"
        path.write_text(pathological.recursive_classes(scale, sys.executable), encoding="utf-8")
        evaluations.count = 0
        codes = [d.code for d in lint_bytes(path.read_bytes(), str(path), settings).diagnostics]
        assert codes == ["TL101"]
        counts.append(evaluations.count)
    assert counts[1] <= 4 * counts[0], counts


def test_explain_a_long_training_loop_in_few_passes(tmp_path, monkeypatch):
    """explain found each loss's line with its own pass over the code: a loop of 1,000 statements,
    half of them feeding the loss, took 27 s (1 s now). Counted in passes, not seconds."""
    from trainlint.explain import explain_path
    from trainlint.model.positions import Positions

    passes = 0
    compute = Positions._compute

    def counted(self):
        nonlocal passes
        passes += 1
        compute(self)

    monkeypatch.setattr(Positions, "_compute", counted)
    path = tmp_path / "loop.py"
    path.write_text(pathological.long_training_loop(0.05, sys.executable), encoding="utf-8")
    report = explain_path(str(path))
    architecture = next(s for s in report.stages if s.key == "architecture")
    assert sum("the loss on line" in fact for fact in architecture.facts) == 250
    assert passes <= 5, passes


def test_a_branching_recursion_is_not_followed(monkeypatch):
    """A method that calls itself twice on parts of its argument (Lightning's example trainer parses
    `configure_optimizers()` output so) made each call a new frame, to the evaluator's depth limit:
    minutes and gigabytes on one file. A call of a function already being called is unknown. Counted
    in evaluations, against the same file with the recursion replaced by a plain return."""
    evaluations = _Evaluations(monkeypatch)
    settings = default_settings(["ALL"])

    def source(otherwise: str) -> str:
        return (
            "import torch\n\n"
            "def parse(out):\n"
            "    if isinstance(out, torch.optim.Optimizer):\n"
            "        return out, None\n"
            f"    return {otherwise}\n\n"
            "model = torch.nn.Linear(4, 2)\n"
            "optimizer, scheduler = parse(torch.optim.SGD(model.parameters(), lr=5.0))\n"
            "for x in torch.utils.data.DataLoader(range(8)):\n"
            "    optimizer.zero_grad()\n"
            "    model(x).sum().backward()\n"
            "    optimizer.step()\n"
            "    scheduler.step()\n"
        )

    counts = []
    for otherwise in ("out[0], out[1]", "parse(out[0])[0], parse(out[1])[1]"):
        evaluations.count = 0
        codes = [d.code for d in lint_bytes(source(otherwise).encode(), "recursive.py", settings).diagnostics]
        assert codes == ["TL101"]  # the direct return is still known
        counts.append(evaluations.count)
    assert counts[1] < 2 * counts[0], counts
