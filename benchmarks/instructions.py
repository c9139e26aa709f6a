#!/usr/bin/env python3
"""The speed goals in instructions executed, counted by valgrind's callgrind.

    python benchmarks/instructions.py [DIR ...] [--project N ...] [--python PY] [--json FILE]

run.py times whole processes, and on a shared machine (two cores, other jobs running) its
seconds swing by half. An instruction count does not depend on what else the machine is doing,
so the ratios here are repeatable where run.py's are not. It measures the same commands as
run.py (`floor`, `cold`, `warm`; see its docstring), each once under
`valgrind --tool=callgrind --trace-children=yes`, after an untimed run that writes the bytecode
and primes the warm cache, and reports cold/floor and warm/cold against the same goals.
Instructions are a proxy for time: they ignore cache misses and I/O waits, which both sides
share. Under callgrind a run is about 50 times slower: pytorch/examples takes a few minutes,
timm about half an hour.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import run  # the same commands, file discovery and environment

COLLECTED = re.compile(rb"Collected : (\d+)")


def instructions(argv: list[str], cwd: Path, work: Path, ok=(0, 1)) -> int:
    """Instructions executed by one process and every process it started."""
    logs = work / "callgrind-logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    valgrind = [
        "valgrind",
        "--tool=callgrind",
        "--trace-children=yes",
        "--callgrind-out-file=/dev/null",
        f"--log-file={logs}/%p.log",
        *argv,
    ]
    code = subprocess.run(valgrind, cwd=cwd, env=run.ENV, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL).returncode
    if code not in ok:
        raise run.RunFailed(f"{' '.join(argv)} exited {code} under callgrind")
    total = 0
    for log in logs.iterdir():
        total += sum(int(n) for n in COLLECTED.findall(log.read_bytes()))
    return total


def measure(directory: Path, python: str, work: Path) -> dict:
    trainlint = run.trainlint_command(python)
    listing, count, how = run.list_files(python, directory, work)
    if count == 0:
        raise run.RunFailed(f"no Python files to lint under {directory}")
    cache = work / "cache-warm"
    shutil.rmtree(cache, ignore_errors=True)
    target = str(directory)
    commands = {
        "floor": [python, "-c", run.FLOOR, str(listing)],
        "cold": [*trainlint, "check", target, "--no-cache", "--jobs", "1"],
        "warm": [*trainlint, "check", target, "--jobs", "1", "--cache-dir", str(cache)],
    }
    for name, argv in commands.items():  # bytecode written, cache primed
        run.run_timed(argv, work, (0, 1) if name != "floor" else (0,))
    counts = {name: instructions(argv, work, work) for name, argv in commands.items()}
    rss = {name: run.peak_rss(argv, work, (0, 1), work) for name, argv in commands.items()}  # MiB, /usr/bin/time
    ratios = {"cold/floor": counts["cold"] / counts["floor"], "warm/cold": counts["warm"] / counts["cold"]}
    return {
        "directory": target,
        "files": count,
        "file_list": how,
        "instructions": counts,
        "peak_rss_mib": rss,
        "ratios": ratios,
        "goals": {key: {"limit": limit, "ratio": ratios[key], "met": ratios[key] <= limit} for key, limit in run.GOALS.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="*", type=Path, metavar="DIR", help="directories to lint")
    parser.add_argument(
        "--project",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="also a multi-package project of N .py files written by make_project.py (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated projects (default 0)")
    parser.add_argument("--python", default=str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"))
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not args.dirs and not args.project:
        parser.error("give a DIR or --project N")
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory(prefix="trainlint-instr-") as tmp:
        work = Path(tmp)
        run.ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        run.ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        for directory in [*args.dirs, *run.generate_projects(args.project, args.seed, work)]:
            result = measure(directory.resolve(), args.python, work)
            results.append(result)
            counts = result["instructions"]
            print(f"== {directory}: {result['files']} files")
            for name, n in counts.items():
                peak = result["peak_rss_mib"][name]
                memory = "" if peak is None else f", peak RSS {peak:.0f} MiB"
                print(f"   {name:6} {n / 1e9:8.3f} G instructions, {n / result['files'] / 1e6:8.2f} M per file{memory}")
            for key, goal in result["goals"].items():
                verdict = "PASS" if goal["met"] else "FAIL"
                print(f"   {key:11} {goal['ratio']:.3f}x  goal <= {goal['limit']}: {verdict}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if all(g["met"] for r in results for g in r["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
