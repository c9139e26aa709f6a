#!/usr/bin/env python3
"""Time `trainlint check` and `trainlint explain` on inputs made to work the parser, the evaluator
and the loop, model and pipeline models hard.

    python benchmarks/pathological.py [--scale 1.0] [--only NAME ...] [--time-limit 300] [--json FILE] [--keep DIR]

Each input is written to a temporary directory (--keep DIR to keep them) and linted in a fresh
process with --no-cache, `--select ALL`, under a time limit: the report gives the wall time, the
peak resident memory, the exit status and the result (the codes found; TL001 is a syntax error,
TL002 an internal error). --scale multiplies every count (a small run for CI: --scale 0.01); the
deepest-expression pair is found by asking this interpreter what it compiles, at any scale.
The exit status is 1 if a run crashed (a traceback, TL002), timed out, or a result differs from
what is expected of it (`expect` below), else 0. Standard library only; trainlint runs in
--python (default: the repository's .venv, else this interpreter).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

HEADER = "import torch\nfrom torch import nn\n"
TOO_HIGH = "optimizer = torch.optim.SGD(model.parameters(), lr={lr})\n"  # TL101 when lr >= 1.0


@dataclass
class Case:
    name: str
    describe: str
    make: Callable[[float, str], str]  # (scale, python) -> the file's text
    expect: set[str]  # codes that must be found (empty: no finding required)
    refuse: frozenset[str] = frozenset({"TL002"})  # codes that must not be found


def n(base: int, scale: float, least: int = 2) -> int:
    return max(least, int(base * scale))


# -- the inputs -----------------------------------------------------------------------------------


def flat_list(scale: float, python: str) -> str:
    items = ", ".join(str(i) for i in range(n(100_000, scale)))
    return HEADER + f"rates = [{items}]\nmodel = nn.Linear(4, 4)\n" + TOO_HIGH.format(lr="rates[-1]")


def _sum(depth: int) -> str:
    """`total = 1 + 1 + ... + 1`: a left-nested binary operation `depth` deep."""
    return "total = 1" + " + 1" * (depth - 1) + "\n"


def deepest_compiling(python: str) -> int:
    """The deepest `_sum` that `python FILE` compiles (and runs), by binary search."""

    def compiles(depth: int) -> bool:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "deep.py"
            path.write_text(_sum(depth), encoding="utf-8")
            return subprocess.run([python, str(path)], capture_output=True).returncode == 0

    low, high = 1, 1024
    while compiles(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if compiles(middle) else (low, middle)
    return low


def deep_expression_of(depth: int) -> str:
    """The sum, then a finding: it is reported when the file is linted (TL001 when it is not)."""
    return HEADER + _sum(depth) + "model = nn.Linear(4, 4)\n" + TOO_HIGH.format(lr="10.0")


def deep_expression(scale: float, python: str) -> str:
    return deep_expression_of(deepest_compiling(python))


def deeper_expression(scale: float, python: str) -> str:
    return deep_expression_of(deepest_compiling(python) + 1)


def chained_assignments(scale: float, python: str) -> str:
    """One name rebound 10,000 times, each from the one before: the evaluator follows the chain."""
    lines = ["lr = 10.0"] + ["lr = lr * 1" for _ in range(n(10_000, scale))]
    return HEADER + "\n".join(lines) + "\nmodel = nn.Linear(4, 4)\n" + TOO_HIGH.format(lr="lr")


def call_recursion(scale: float, python: str) -> str:
    """The learning rate and the model come through a chain of same-file calls, and through a
    function that calls itself and one pair that call each other."""
    count = n(5_000, scale)
    out = [HEADER]
    for i in range(count):
        out.append(f"def rate_{i}(x):\n    return rate_{i + 1}(x)\n")
        out.append(f"def build_{i}(width):\n    return build_{i + 1}(width)\n")
    out.append(f"def rate_{count}(x):\n    return x\n")
    out.append(f"def build_{count}(width):\n    return nn.Sequential(nn.Linear(width, width), nn.ReLU())\n")
    out.append("def forever(x):\n    return forever(x) * 2\n")
    out.append("def ping(x):\n    return pong(x)\n\ndef pong(x):\n    return ping(x)\n")
    out.append("model = build_0(8)\n" + TOO_HIGH.format(lr="rate_0(10.0)"))
    out.append("other = torch.optim.Adam(model.parameters(), lr=forever(1.0) + ping(2.0))\n")
    return "".join(out)


def recursive_classes(scale: float, python: str) -> str:
    """Modules that hold each other in a cycle, classes whose bases form a cycle, and a model made of them."""
    count = n(1_000, scale)
    out = [HEADER]
    for i in range(count):
        out.append(
            f"class Block{i}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            f"        self.fc = nn.Linear(16, 16)\n        self.next = Block{(i + 1) % count}()\n"
            f"    def forward(self, x):\n        return self.next(self.fc(x))\n"
        )
    out.append("class Left(Right):\n    pass\n\nclass Right(Left):\n    pass\n")
    out.append("class Net(Left, nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.body = Block0()\n")
    out.append("model = Net()\n" + TOO_HIGH.format(lr="10.0"))
    return "".join(out)


def single_line(scale: float, python: str) -> str:
    """5 MB on one line: statements joined by semicolons, the finding at its end."""
    size = n(5_000_000, scale, least=1_000)
    parts = ["import torch", "from torch import nn", "model = nn.Linear(4, 4)"]
    total, i = 0, 0
    while total < size:
        part = f"v{i} = [{i}, 'abc', {i}.5]"
        parts.append(part)
        total += len(part) + 2
        i += 1
    parts.append(TOO_HIGH.format(lr="10.0").strip())
    return "; ".join(parts) + "\n"


def many_functions(scale: float, python: str) -> str:
    """10,000 generated functions, each building an optimizer (one in a hundred too fast)."""
    out = [HEADER]
    for i in range(n(10_000, scale)):
        lr = "10.0" if i % 100 == 7 else f"0.{i % 9 + 1}"
        out.append(
            f"def setup_{i}(width={i % 64 + 1}):\n    model = nn.Linear(width, width)\n"
            f"    return torch.optim.SGD(model.parameters(), lr={lr}, momentum=0.9)\n\n"
        )
    return "".join(out)


def long_training_loop(scale: float, python: str) -> str:
    """One training loop whose body is 10,000 statements long, with the step at its end."""
    body = []
    for i in range(n(10_000, scale)):
        body.append(f"        h{i} = model(x) * {i % 7}" if i % 2 else f"        loss = loss + criterion(model(x), y) * {i}")
    return (
        HEADER
        + "model = nn.Linear(8, 2)\ncriterion = nn.CrossEntropyLoss()\n"
        + TOO_HIGH.format(lr="10.0")
        + "loader = [(torch.randn(4, 8), torch.tensor([0, 1, 0, 1]))] * 10\n"
        + "for epoch in range(10):\n    for x, y in loader:\n        loss = 0\n"
        + "\n".join(body)
        + "\n        loss.backward()\n        optimizer.step()\n"  # no zero_grad: TL601
    )


def deep_sequential(scale: float, python: str) -> str:
    """nn.Sequential nested as deep as the parser takes brackets (200 levels), and one 10,000 layers long."""
    depth = 190  # CPython refuses 200 nested brackets ("too many nested parentheses") at any scale
    deep = "nn.Linear(32, 32)"
    for _ in range(depth):
        deep = f"nn.Sequential({deep}, nn.ReLU())"
    layers = ", ".join("nn.Linear(64, 64), nn.ReLU()" for _ in range(n(5_000, scale)))
    return (
        HEADER
        + f"deep = {deep}\nlong = nn.Sequential({layers}, nn.Linear(64, 10))\n"
        + "model = nn.Sequential(deep, nn.Linear(32, 64), long)\n"
        + TOO_HIGH.format(lr="10.0")
        + "out = model(torch.randn(2, 32))\n"
    )


CASES = [
    Case("flat_list", "a flat list literal of 100,000 numbers, the rate its last element", flat_list, {"TL101"}),
    Case("deepest_expression", "the deepest sum CPython compiles", deep_expression, {"TL101"}, frozenset({"TL001", "TL002"})),
    Case("deeper_expression", "one level deeper: CPython refuses it", deeper_expression, {"TL001"}),
    Case("chained_assignments", "10,000 assignments of one name, each from the one before", chained_assignments, set()),
    Case(
        "call_recursion", "rate and model through 5,000 chained same-file calls, self and mutual recursion", call_recursion, set()
    ),
    Case(
        "recursive_classes",
        "1,000 modules holding each other in a cycle, classes with cyclic bases",
        recursive_classes,
        {"TL101"},
    ),
    Case("single_line_5mb", "5 MB on one line", single_line, {"TL101"}),
    Case("many_functions", "10,000 functions, each building an optimizer", many_functions, {"TL101"}),
    # TL601 (no zero_grad) only below scale 0.35: the loop model traces at most 5,000 calls
    # (trainlint/model/loops.py, MAX_EVENTS), about 3,300 of these statements, and the backward pass
    # and the step come after them. The loop the cut falls in is not judged (rules/loop.py).
    Case("long_training_loop", "a training loop with a 10,000-statement body", long_training_loop, {"TL101"}),
    Case("deep_sequential", "nn.Sequential nested 190 deep, and one of 10,000 layers", deep_sequential, {"TL101"}),
]


# -- running ------------------------------------------------------------------------------------


def timed(command: list[str], cwd: Path, limit: float) -> dict[str, Any]:
    """Wall time, peak RSS (KiB, from wait4) and output of one process; killed at the limit."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, env={**os.environ, "NO_COLOR": "1"})
        deadline = started + limit
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -9
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return {
            "seconds": round(seconds, 2),
            "peak_mib": round(usage.ru_maxrss / 1024, 1),
            "status": "timeout" if proc.returncode == -9 else os.waitstatus_to_exitcode(status),
            "stdout": out.read().decode("utf-8", "replace"),
            "stderr": err.read().decode("utf-8", "replace"),
        }


def check_case(case: Case, python: str, scale: float, limit: float, directory: Path, explain: bool) -> dict[str, Any]:
    path = directory / f"{case.name}.py"
    path.write_text(case.make(scale, python), encoding="utf-8")
    base = [python, "-m", "trainlint"]
    run = timed([*base, "check", "--no-cache", "--select", "ALL", "--output-format", "json", str(path)], directory, limit)
    problems = []
    codes: Counter[str] = Counter()
    if run["status"] == "timeout":
        problems.append(f"check: no result in {limit} s")
    elif run["status"] not in (0, 1):
        problems.append(f"check: exit status {run['status']}: {run['stderr'][-2000:]}")
    else:
        codes.update(d["code"] for d in json.loads(run["stdout"]))
        problems += [f"check: {c} found" for c in sorted(case.refuse & codes.keys())]
        problems += [f"check: {c} not found" for c in sorted(case.expect - codes.keys())]
    if "Traceback" in run["stderr"]:
        problems.append(f"check: a traceback: {run['stderr'][-2000:]}")
    report = {
        "name": case.name,
        "input": case.describe,
        "bytes": path.stat().st_size,
        "lines": path.read_text(encoding="utf-8").count("\n"),
        "check_seconds": run["seconds"],
        "check_peak_mib": run["peak_mib"],
        "check_status": run["status"],
        "codes": dict(sorted(codes.items())),
    }
    if explain:
        ex = timed([*base, "explain", "--output-format", "json", str(path)], directory, limit)
        report |= {"explain_seconds": ex["seconds"], "explain_peak_mib": ex["peak_mib"], "explain_status": ex["status"]}
        if ex["status"] == "timeout":
            problems.append(f"explain: no result in {limit} s")
        elif ex["status"] != 0 or "Traceback" in ex["stderr"]:
            problems.append(f"explain: exit status {ex['status']}: {ex['stderr'][-2000:]}")
        else:
            error = json.loads(ex["stdout"]).get("error")
            report["explain_error"] = error
            if error and "TL001" not in case.expect:
                problems.append(f"explain: {error}")
    report["problems"] = problems
    return report


def default_python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every count (default 1; CI: 0.01)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=[c.name for c in CASES], help="run only these inputs")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per run before it counts as a hang")
    parser.add_argument("--no-explain", action="store_true", help="time `check` only")
    parser.add_argument("--python", default=default_python(), help="the interpreter trainlint is installed in")
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON (- for standard output)")
    parser.add_argument("--keep", metavar="DIR", help="write the inputs here instead of a temporary directory")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if not args.only or c.name in args.only]
    with tempfile.TemporaryDirectory(prefix="trainlint-pathological-") as temporary:
        directory = Path(args.keep or temporary).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        reports = []
        for case in cases:
            report = check_case(case, args.python, args.scale, args.time_limit, directory, not args.no_explain)
            reports.append(report)
            if args.json != "-":
                explained = f", explain {report['explain_seconds']} s" if "explain_seconds" in report else ""
                print(
                    f"{case.name:22} {report['bytes'] / 1e6:7.2f} MB  check {report['check_seconds']:7.2f} s"
                    f" {report['check_peak_mib']:7.1f} MiB{explained}  {report['codes']}"
                    + (f"  PROBLEMS: {report['problems']}" if report["problems"] else ""),
                    flush=True,
                )
    if args.json == "-":
        print(json.dumps(reports, indent=2))
    elif args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r["problems"] for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
