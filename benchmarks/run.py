#!/usr/bin/env python3
"""Time `trainlint check` against its floor and itself, in one session.

    python benchmarks/run.py [DIR ...] [--repeat 5] [--files 200] [--seed 0] [--json FILE]

With no DIR it lints a corpus that make_corpus.py writes into a temporary
directory (add --with-generated to measure it besides the directories given).
For each corpus, every measurement is a whole process, started with
subprocess and timed with time.perf_counter (CPU time from os.wait4, peak RSS
from /usr/bin/time in the warm-up round); children use a private bytecode cache
(PYTHONPYCACHEPREFIX), as after a normal install; the
measurements are interleaved round by round, after one untimed warm-up round,
and each is reported as median [min-max] over --repeat rounds:

  python   `python -c pass`: interpreter start, for reference
  libcst   `python -c "import libcst"`: for reference
  floor    interpreter start + `import libcst` + `libcst.parse_module` of
           every file that trainlint lints (the same discovery: trainlint's
           own file walk lists them, untimed): no libcst-based linter is
           faster
  cold     `trainlint check DIR --no-cache --jobs 1`
  cold-w   `trainlint check DIR --jobs 1 --cache-dir EMPTY` (emptied before
           each run, untimed): cold plus writing the cache
  warm     `trainlint check DIR --jobs 1 --cache-dir PRIMED` (primed once)
  jobs2    `trainlint check DIR --no-cache --jobs 2`, against cold (one job)
  2proc-1  one process doing a fixed CPU-bound loop, and
  2proc-2  two processes doing half of it each, at once: 2proc-2/2proc-1 is
           the best jobs2/jobs1 can be on the machine at that time (on a
           shared machine another process may hold the second core)

Then the generated corpus turned into Jupyter notebooks (make_notebooks.py: the same
code cut into cells, with markdown cells and outputs: text, and a figure after one
code cell in ten) against the same code as .py files:

  py-cold, ipynb-cold   `trainlint check DIR --jobs 1 --no-cache --output-format concise`
  py-warm, ipynb-warm   the same with `--cache-dir PRIMED`

Then, on a generated corpus with many findings (every training script given
a mistake, all rules selected), the cost of the default `full` output format
against `concise` (one line per finding):

  full-warm     `trainlint check DIR --select ALL --jobs 1 --cache-dir PRIMED`
  concise-warm  the same with `--output-format concise`: answered from the
                cache, the output is the largest share of the run
  full-cold, concise-cold   the same with `--no-cache`

Ratios are of the medians, with the range of the per-round ratios (also
printed: the ratio of the fastest runs, and of the median CPU times, which
other load on the machine disturbs less). Goals:
cold <= 1.5x floor, warm <= 0.1x cold, full <= 1.1x concise (warm), the
generated corpus as notebooks <= 1.2x the same code as .py files (cold). Untimed probes also check that a warm
run imports no libcst, that `check` imports neither pygls nor lsprotocol, and
that every mode reports the same findings.

The exit status is 0 unless something failed to run: a missed goal is a
measurement, not a failure. trainlint's own exit status 1 (findings) is fine.
Nothing is written into the directories measured: every cache is in a
temporary directory.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GOALS = {"cold/floor": 1.5, "warm/cold": 0.1}  # every rule family keeps to these
FORMAT_GOAL = 1.1  # full / concise, warm, on the corpus with many findings
NOTEBOOK_GOAL = 1.2  # the generated corpus as notebooks / as .py files, cold
TIME = Path("/usr/bin/time")
# Children run as after a normal install: bytecode cached (in a private cache, so nothing is written
# beside the sources), whatever PYTHONDONTWRITEBYTECODE the session has. Set in main().
ENV = dict(os.environ)

# The floor: what any linter built on libcst pays at least. Reads the file list, parses each file.
FLOOR = r"""
import sys
import libcst
failed = 0
with open(sys.argv[1], encoding="utf-8") as handle:
    paths = handle.read().splitlines()
for path in paths:
    with open(path, "rb") as source:
        data = source.read()
    if path.endswith(".ipynb"):  # a notebook: its code cells, joined (the least a notebook linter does)
        import json
        cells = json.loads(data)["cells"]
        data = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code").encode()
    try:
        libcst.parse_module(data)
    except Exception:
        failed += 1
sys.stderr.write(f"parsed {len(paths) - failed} of {len(paths)} files\n")
"""

# Fixed CPU-bound work: one process doing all of it against two doing half each at once shows how much
# a second process can gain on this machine right now (other load, shared cores), the best --jobs 2 can do.
SPIN = "import sys\nx = 0\nfor i in range(int(sys.argv[1])):\n    x += i\n"
SPIN_STEPS = 8_000_000

# The file list, from trainlint's own discovery (so the floor parses exactly what trainlint lints).
DISCOVER = r"""
import sys
from trainlint.config import Overrides, Resolver
from trainlint.files import discover
items = discover([sys.argv[1]], Resolver(Overrides()))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for item in items:
        if item.error is None:
            out.write(str(item.path) + "\n")
"""

# A run of `trainlint check` in-process, then which heavy packages it had imported.
PROBE = r"""
import json, sys
from trainlint.cli import main
out = sys.argv[1]
try:
    rc = main(sys.argv[2:])
except SystemExit as exc:
    rc = exc.code
roots = ("libcst", "pygls", "lsprotocol")
loaded = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in roots})
with open(out, "w", encoding="utf-8") as handle:
    json.dump({"rc": rc, "loaded": loaded}, handle)
"""

DEFAULT_EXCLUDE_FALLBACK = {
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".trainlint_cache",
    ".venv",
    ".vscode",
    "__pypackages__",
    "__pycache__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
}


class RunFailed(Exception):
    pass


def default_python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def trainlint_command(python: str) -> list[str]:
    script = Path(python).parent / "trainlint"
    return [str(script)] if script.exists() else [python, "-m", "trainlint"]


def run_timed(argv: list[str], cwd: Path, ok=(0,), stdout_path: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process and the children it waited for; raises RunFailed on an unexpected exit status."""
    with tempfile.TemporaryFile() as err, open(stdout_path or os.devnull, "wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in ok:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace")[-2000:]
            raise RunFailed(f"{' '.join(argv)} exited {code}:\n{tail}")
    return elapsed, usage.ru_utime + usage.ru_stime


def run_group(argvs: list[list[str]], cwd: Path) -> tuple[float, float]:
    """(wall seconds until all have exited, CPU seconds of all) of processes started together."""
    start = time.perf_counter()
    processes = [subprocess.Popen(argv, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL) for argv in argvs]
    cpu = 0.0
    for process in processes:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = code = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
        if code != 0:
            raise RunFailed(f"{' '.join(process.args)} exited {code}")
    return time.perf_counter() - start, cpu


def peak_rss(argv: list[str], cwd: Path, ok, work: Path) -> float | None:
    """Peak RSS in MiB of one run (the largest of the process and the workers it waited for), by /usr/bin/time."""
    if not TIME.exists():
        return None
    out = work / "rss.txt"
    run_timed([str(TIME), "-f", "%M", "-o", str(out), *argv], cwd, ok)
    try:
        return int(out.read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        return None


def list_files(python: str, directory: Path, work: Path) -> tuple[Path, int, str]:
    """Write the files trainlint lints under directory to a list; returns (list, count, how)."""
    listing = work / f"files-{hashlib.sha1(str(directory).encode()).hexdigest()[:8]}.txt"
    result = subprocess.run(
        [python, "-c", DISCOVER, str(directory), str(listing)], cwd=work, env=ENV, capture_output=True, text=True
    )
    how = "trainlint's discovery"
    if result.returncode != 0:  # the discovery API moved: walk with the default excludes instead
        how = "fallback walk (default excludes, no .gitignore)"
        paths = []
        for root, dirs, files in os.walk(directory):
            dirs[:] = sorted(d for d in dirs if d not in DEFAULT_EXCLUDE_FALLBACK)
            paths += [os.path.join(root, f) for f in sorted(files) if f.endswith(".py")]
        listing.write_text("".join(p + "\n" for p in paths), encoding="utf-8")
    count = len(listing.read_text(encoding="utf-8").splitlines())
    return listing, count, how


def corpus_stats(listing: Path) -> dict:
    paths = listing.read_text(encoding="utf-8").splitlines()
    lines = size = torch = 0
    for path in paths:
        data = Path(path).read_bytes()
        size += len(data)
        lines += data.count(b"\n")
        torch += b"torch" in data
    return {"files": len(paths), "lines": lines, "bytes": size, "files_with_torch": torch}


def summarize(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def probe(python: str, argv: list[str], work: Path) -> dict:
    out = work / "probe.json"
    result = subprocess.run(
        [python, "-c", PROBE, str(out), *argv],
        cwd=work,
        env=ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if result.returncode != 0 or not out.exists():
        raise RunFailed(f"probe of {' '.join(argv)} failed:\n{result.stderr[-2000:]}")
    data = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return data


def import_times(python: str, argv: list[str], work: Path, top: int = 8) -> list[tuple[str, float]]:
    """The costliest top-level imports of one run (cumulative ms, from -X importtime)."""
    result = subprocess.run(
        [python, "-X", "importtime", "-m", "trainlint", *argv],
        cwd=work,
        env=ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:") :].split("|")]
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        name = parts[2]
        if name.startswith(" ") or line.split("|")[2].startswith("  "):
            continue  # nested import: counted in its parent's cumulative time
        rows.append((name.strip(), int(parts[1]) / 1000.0))
    rows.sort(key=lambda r: -r[1])
    return rows[:top]


def measure(directory: Path, python: str, repeat: int, work: Path, log) -> dict:
    trainlint = trainlint_command(python)
    listing, count, how = list_files(python, directory, work)
    stats = corpus_stats(listing)
    log(f"\n== {directory}")
    log(
        f"   {stats['files']} files ({stats['files_with_torch']} mention torch), {stats['lines']} lines, {stats['bytes'] / 1e6:.2f} MB; file list from {how}"
    )
    if count == 0:
        raise RunFailed(f"no Python files to lint under {directory}")

    cache_cold = work / "cache-cold"
    cache_warm = work / "cache-warm"
    shutil.rmtree(cache_warm, ignore_errors=True)
    target = str(directory)
    commands = {
        "python": [python, "-c", "pass"],
        "libcst": [python, "-c", "import libcst"],
        "floor": [python, "-c", FLOOR, str(listing)],
        "cold": [*trainlint, "check", target, "--no-cache", "--jobs", "1"],
        "cold-w": [*trainlint, "check", target, "--jobs", "1", "--cache-dir", str(cache_cold)],
        "warm": [*trainlint, "check", target, "--jobs", "1", "--cache-dir", str(cache_warm)],
        "jobs2": [*trainlint, "check", target, "--no-cache", "--jobs", "2"],
    }
    lint_ok = (0, 1)  # 1: findings
    outputs: dict[str, bytes] = {}
    # Prime the warm cache, then an untimed warm-up round (bytecode, OS file cache), capturing each mode's report.
    run_timed(commands["warm"], work, lint_ok)
    rss: dict[str, float | None] = {}
    for name, argv in commands.items():
        ok = lint_ok if name in ("cold", "cold-w", "warm", "jobs2") else (0,)
        if name == "cold-w":
            shutil.rmtree(cache_cold, ignore_errors=True)
        captured = work / f"out-{name}.txt"
        run_timed(argv, work, ok, captured)
        outputs[name] = captured.read_bytes()
        if name == "cold-w":
            shutil.rmtree(cache_cold, ignore_errors=True)
        rss[name] = peak_rss(argv, work, ok, work)
    reports = {name: outputs[name] for name in ("cold", "cold-w", "warm", "jobs2")}
    same_findings = len(set(reports.values())) == 1
    summary_line = [
        line for line in reports["cold"].decode("utf-8", "replace").splitlines() if line.startswith(("Found ", "All checks"))
    ] or [""]

    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu_times: dict[str, list[float]] = {name: [] for name in commands}
    spin = {
        "2proc-1": [[python, "-c", SPIN, str(SPIN_STEPS)]],
        "2proc-2": [[python, "-c", SPIN, str(SPIN_STEPS // 2)]] * 2,
    }
    for name in spin:
        times[name], cpu_times[name] = [], []
    for round_ in range(repeat):
        for name, argv in commands.items():
            if name == "cold-w":
                shutil.rmtree(cache_cold, ignore_errors=True)
            wall, cpu = run_timed(argv, work, lint_ok if name in ("cold", "cold-w", "warm", "jobs2") else (0,))
            times[name].append(wall)
            cpu_times[name].append(cpu)
        for name, argvs in spin.items():
            wall, cpu = run_group(argvs, work)
            times[name].append(wall)
            cpu_times[name].append(cpu)
        log(f"   round {round_ + 1}/{repeat}: " + ", ".join(f"{n} {times[n][-1]:.3f}s" for n in times))

    def ratio(a: str, b: str, table=times) -> dict:
        per_round = [x / y for x, y in zip(table[a], table[b], strict=False)]
        return {
            "median": statistics.median(table[a]) / statistics.median(table[b]),
            "min": min(per_round),
            "max": max(per_round),
            "of_minimums": min(table[a]) / min(table[b]),  # the least disturbed runs of each
        }

    ratios = {
        "cold/floor": ratio("cold", "floor"),
        "cold-w/floor": ratio("cold-w", "floor"),
        "warm/cold": ratio("warm", "cold"),
        "jobs2/jobs1": ratio("jobs2", "cold"),
        "2proc/1proc": ratio("2proc-2", "2proc-1"),
    }
    # CPU time (user + system, the process and its workers) is less disturbed by other load on the machine.
    cpu_ratios = {
        key: ratio(*pair, table=cpu_times)
        for key, pair in (("cold/floor", ("cold", "floor")), ("warm/cold", ("warm", "cold")), ("jobs2/jobs1", ("jobs2", "cold")))
    }

    # Which heavy packages each kind of run imports (in-process probes, untimed).
    warm_probe = probe(python, ["check", target, "--jobs", "1", "--cache-dir", str(cache_warm)], work)
    cold_probe = probe(python, ["check", target, "--no-cache", "--jobs", "1"], work)
    imports = import_times(python, ["check", target, "--no-cache", "--jobs", "1"], work)
    warm_imports = import_times(python, ["check", target, "--jobs", "1", "--cache-dir", str(cache_warm)], work)

    result = {
        "directory": str(directory),
        "corpus": stats,
        "file_list": how,
        "findings_summary": summary_line[0],
        "same_findings_in_every_mode": same_findings,
        "commands": {
            name: " ".join(argv if name != "floor" else [python, "-c", "<FLOOR script>", str(listing)])
            for name, argv in commands.items()
        },
        "seconds": {name: summarize(values) for name, values in times.items()},
        "cpu_seconds": {name: summarize(values) for name, values in cpu_times.items()},
        "peak_rss_mib": {**rss, "2proc-1": None, "2proc-2": None},
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "goals": {
            key: {"limit": limit, "median": ratios[key]["median"], "met": ratios[key]["median"] <= limit}
            for key, limit in GOALS.items()
        },
        "warm_imports": warm_probe["loaded"],
        "cold_imports": cold_probe["loaded"],
        "warm_imports_libcst": "libcst" in warm_probe["loaded"],
        "check_imports_server_stack": any(m in warm_probe["loaded"] + cold_probe["loaded"] for m in ("pygls", "lsprotocol")),
        "top_imports_cold_ms": imports,
        "top_imports_warm_ms": warm_imports,
    }
    report(result, log)
    return result


def measure_formats(directory: Path, python: str, repeat: int, work: Path, log) -> dict:
    """The `full` output format against `concise` on a corpus with many findings, warm and cold."""
    trainlint = trainlint_command(python)
    log(f"\n== output formats: {directory}")
    cache = work / "cache-formats"
    shutil.rmtree(cache, ignore_errors=True)
    base = [*trainlint, "check", str(directory), "--select", "ALL", "--jobs", "1"]
    commands = {
        "full-warm": [*base, "--cache-dir", str(cache), "--output-format", "full"],
        "concise-warm": [*base, "--cache-dir", str(cache), "--output-format", "concise"],
        "full-cold": [*base, "--no-cache", "--output-format", "full"],
        "concise-cold": [*base, "--no-cache", "--output-format", "concise"],
    }
    lint_ok = (0, 1)
    run_timed(commands["full-warm"], work, lint_ok)  # primes the cache
    summaries, sizes = {}, {}
    for name, argv in commands.items():  # the untimed warm-up round
        captured = work / f"out-{name}.txt"
        run_timed(argv, work, lint_ok, captured)
        text = captured.read_text(encoding="utf-8")
        summaries[name] = next((line for line in text.splitlines() if line.startswith(("Found ", "All checks"))), "")
        sizes[name] = len(text.encode("utf-8"))
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu_times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(repeat):
        for name, argv in commands.items():
            wall, cpu = run_timed(argv, work, lint_ok)
            times[name].append(wall)
            cpu_times[name].append(cpu)
        log(f"   round {round_ + 1}/{repeat}: " + ", ".join(f"{n} {times[n][-1]:.3f}s" for n in times))

    def ratio(a: str, b: str, table: dict) -> dict:
        per_round = [x / y for x, y in zip(table[a], table[b], strict=False)]
        return {
            "median": statistics.median(table[a]) / statistics.median(table[b]),
            "min": min(per_round),
            "max": max(per_round),
            "of_minimums": min(table[a]) / min(table[b]),
        }

    ratios = {f"full/concise ({kind})": ratio(f"full-{kind}", f"concise-{kind}", times) for kind in ("warm", "cold")}
    cpu_ratios = {f"full/concise ({kind})": ratio(f"full-{kind}", f"concise-{kind}", cpu_times) for kind in ("warm", "cold")}
    warm = ratios["full/concise (warm)"]["median"]
    result = {
        "directory": str(directory),
        "findings_summary": summaries["full-warm"],
        "same_findings_in_both_formats": len(set(summaries.values())) == 1,
        "output_bytes": sizes,
        "commands": {name: " ".join(argv) for name, argv in commands.items()},
        "seconds": {name: summarize(values) for name, values in times.items()},
        "cpu_seconds": {name: summarize(values) for name, values in cpu_times.items()},
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "goal": {"limit": FORMAT_GOAL, "median": warm, "met": warm <= FORMAT_GOAL},
    }
    log(
        f"   findings: {result['findings_summary']}"
        + ("" if result["same_findings_in_both_formats"] else "  WARNING: the formats report different findings")
    )
    log("   output: " + ", ".join(f"{name} {size / 1000:.0f} kB" for name, size in sizes.items()))
    for name in commands:
        log(f"   {name:<13} {statistics.median(times[name]):>8.3f}s  CPU {statistics.median(cpu_times[name]):.3f}s")
    for key, value in ratios.items():
        verdict = f"  goal <= {FORMAT_GOAL:g}: {'PASS' if value['median'] <= FORMAT_GOAL else 'FAIL'}" if "warm" in key else ""
        log(
            f"   {key:<21} {value['median']:.3f}x [{value['min']:.3f}-{value['max']:.3f}]{verdict}"
            f"  (of the minimums {value['of_minimums']:.3f}x; CPU {cpu_ratios[key]['median']:.3f}x)"
        )
    return result


def _findings_by_file(text: str, suffix: str) -> dict[str, list[str]]:
    """Each file's codes, from concise output, keyed by its path without the suffix."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        path, sep, rest = line.partition(suffix + ":")
        if sep:
            out.setdefault(path.split("/", 1)[-1], []).append(rest.split(": ", 2)[2].split(" ", 1)[0])
    return out


def measure_notebooks(py_dir: Path, python: str, repeat: int, work: Path, log) -> dict:
    """The generated corpus as Jupyter notebooks (make_notebooks.py: the same code cut into cells,
    with markdown cells and outputs) against the same code as .py files, cold and warm."""
    sys.path.insert(0, str(HERE))
    from make_notebooks import convert

    trainlint = trainlint_command(python)
    nb_dir = work / "notebooks" / py_dir.name
    shutil.rmtree(nb_dir.parent, ignore_errors=True)
    convert(py_dir, nb_dir)
    log(f"\n== notebooks: {nb_dir.name} as .ipynb against .py")
    size = {
        name: sum(p.stat().st_size for p in d.rglob(f"*.{ext}"))
        for name, d, ext in (("py", py_dir, "py"), ("ipynb", nb_dir, "ipynb"))
    }
    caches = {name: work / f"cache-nb-{name}" for name in ("py", "ipynb")}
    for cache in caches.values():
        shutil.rmtree(cache, ignore_errors=True)
    commands = {}
    for name, directory in (("py", py_dir), ("ipynb", nb_dir)):
        base = [*trainlint, "check", str(directory.name), "--jobs", "1", "--output-format", "concise"]
        commands[f"{name}-cold"] = [*base, "--no-cache"]
        commands[f"{name}-warm"] = [*base, "--cache-dir", str(caches[name])]
    lint_ok = (0, 1)
    findings = {}
    for name, argv in commands.items():  # primes the caches; the untimed warm-up round
        captured = work / f"out-{name}.txt"
        directory = py_dir if name.startswith("py") else nb_dir
        run_timed(argv, directory.parent, lint_ok, captured)
        findings[name] = _findings_by_file(captured.read_text(encoding="utf-8"), ".py" if name.startswith("py") else ".ipynb")
    same = findings["py-cold"] == findings["ipynb-cold"] == findings["ipynb-warm"]
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu_times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(repeat):
        for name, argv in commands.items():
            directory = py_dir if name.startswith("py") else nb_dir
            wall, cpu = run_timed(argv, directory.parent, lint_ok)
            times[name].append(wall)
            cpu_times[name].append(cpu)
        log(f"   round {round_ + 1}/{repeat}: " + ", ".join(f"{n} {times[n][-1]:.3f}s" for n in times))

    def ratio(a: str, b: str, table: dict) -> dict:
        per_round = [x / y for x, y in zip(table[a], table[b], strict=False)]
        return {
            "median": statistics.median(table[a]) / statistics.median(table[b]),
            "min": min(per_round),
            "max": max(per_round),
            "of_minimums": min(table[a]) / min(table[b]),
        }

    ratios = {f"ipynb/py ({kind})": ratio(f"ipynb-{kind}", f"py-{kind}", times) for kind in ("cold", "warm")}
    cpu_ratios = {f"ipynb/py ({kind})": ratio(f"ipynb-{kind}", f"py-{kind}", cpu_times) for kind in ("cold", "warm")}
    cold = ratios["ipynb/py (cold)"]["median"]
    count = sum(len(codes) for codes in findings["py-cold"].values())
    result = {
        "directories": {"py": str(py_dir), "ipynb": str(nb_dir)},
        "files": len(list(nb_dir.rglob("*.ipynb"))),
        "bytes": size,
        "findings": count,
        "same_findings": same,
        "commands": {name: " ".join(argv) for name, argv in commands.items()},
        "seconds": {name: summarize(values) for name, values in times.items()},
        "cpu_seconds": {name: summarize(values) for name, values in cpu_times.items()},
        "ratios": ratios,
        "cpu_ratios": cpu_ratios,
        "goal": {"limit": NOTEBOOK_GOAL, "median": cold, "met": cold <= NOTEBOOK_GOAL},
    }
    log(
        f"   {result['files']} files: .py {size['py'] / 1e6:.1f} MB, .ipynb {size['ipynb'] / 1e6:.1f} MB (outputs included); "
        f"{count} findings" + ("" if same else "  WARNING: the notebooks' findings differ from the .py files'")
    )
    for name in commands:
        log(f"   {name:<11} {statistics.median(times[name]):>8.3f}s  CPU {statistics.median(cpu_times[name]):.3f}s")
    for key, value in ratios.items():
        verdict = (
            f"  goal <= {NOTEBOOK_GOAL:g}: {'PASS' if value['median'] <= NOTEBOOK_GOAL else 'FAIL'}" if "cold" in key else ""
        )
        log(
            f"   {key:<17} {value['median']:.3f}x [{value['min']:.3f}-{value['max']:.3f}]{verdict}"
            f"  (of the minimums {value['of_minimums']:.3f}x; CPU {cpu_ratios[key]['median']:.3f}x)"
        )
    return result


def report(r: dict, log) -> None:
    s = r["seconds"]
    log(
        f"   findings: {r['findings_summary']}"
        + ("" if r["same_findings_in_every_mode"] else "  WARNING: the modes report different findings")
    )
    c = r["cpu_seconds"]
    log(f"   {'':<10} {'wall: median':>13} {'[min-max]':<17} {'CPU: median':>11} {'peak RSS':>9}")
    for name in s:
        peak = r["peak_rss_mib"][name]
        spread = f"[{s[name]['min']:.3f}-{s[name]['max']:.3f}]"
        memory = "-" if peak is None else f"{peak:.0f}"
        log(f"   {name:<10} {s[name]['median']:>12.3f}s {spread:<17} {c[name]['median']:>10.3f}s {memory:>5} MiB")
    for key, value in r["ratios"].items():
        goal = GOALS.get(key)
        verdict = "" if goal is None else f"  goal <= {goal:g}: {'PASS' if value['median'] <= goal else 'FAIL'}"
        cpu = r["cpu_ratios"].get(key)
        cpu_text = f"; CPU {cpu['median']:.3f}x" if cpu else ""
        note = "  <- the best jobs2/jobs1 can be on this machine now" if key == "2proc/1proc" else ""
        log(
            f"   {key:<13} {value['median']:.3f}x [{value['min']:.3f}-{value['max']:.3f}]{verdict}  (of the minimums {value['of_minimums']:.3f}x{cpu_text}){note}"
        )
    log(
        f"   warm run imports libcst: {'YES (FAIL)' if r['warm_imports_libcst'] else 'no'}; "
        f"check imports pygls/lsprotocol: {'YES (FAIL)' if r['check_imports_server_stack'] else 'no'} "
        f"(cold loads {r['cold_imports'] or 'none'}, warm loads {r['warm_imports'] or 'none'})"
    )
    log("   costliest imports, cold: " + ", ".join(f"{n} {ms:.0f} ms" for n, ms in r["top_imports_cold_ms"][:5]))
    log("   costliest imports, warm: " + ", ".join(f"{n} {ms:.0f} ms" for n, ms in r["top_imports_warm_ms"][:5]))


def generate_projects(sizes: list[int], seed: int, work: Path) -> list[Path]:
    """Multi-package projects (make_project.py) of each size, written under `work`."""
    sys.path.insert(0, str(HERE))
    from make_project import generate as generate_project

    out = []
    for size in sizes:
        folder = work / f"project-{size}-seed{seed}"
        generate_project(folder, size, seed)
        out.append(folder)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, metavar="DIR", help="directories to lint (default: a generated corpus)")
    parser.add_argument("--with-generated", action="store_true", help="also measure the generated corpus when DIRs are given")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per corpus (default 5)")
    parser.add_argument("--files", type=int, default=200, help="size of the generated corpus (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated corpus (default 0)")
    parser.add_argument(
        "--project",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="also measure a multi-package project of N .py files written by make_project.py (repeatable: --project 500 --project 2000)",
    )
    parser.add_argument(
        "--python", default=default_python(), help="the interpreter trainlint is installed in (default: the repository's .venv)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON (- for standard output)")
    parser.add_argument(
        "--no-formats", action="store_true", help="skip the full-vs-concise measurement on a corpus with many findings"
    )
    parser.add_argument("--no-notebooks", action="store_true", help="skip the notebook-vs-.py measurement")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--only-formats", action="store_true", help="only the full-vs-concise measurement")
    only.add_argument("--only-notebooks", action="store_true", help="only the notebook-vs-.py measurement")
    args = parser.parse_args(argv)
    only_one = args.only_formats or args.only_notebooks
    log = (lambda text: print(text, file=sys.stderr)) if args.json == "-" else print

    with tempfile.TemporaryDirectory(prefix="trainlint-bench-") as tmp:
        work = Path(tmp)
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        dirs = [d.resolve() for d in args.dirs]
        if not only_one:
            dirs += generate_projects(args.project, args.seed, work)
        generated = None
        if ((not dirs or args.with_generated) and not only_one) or args.only_notebooks:
            sys.path.insert(0, str(HERE))
            from make_corpus import generate

            generated = work / f"corpus-{args.files}-seed{args.seed}"
            generate(generated, args.files, args.seed)
            if not only_one:
                dirs.insert(0, generated)
        version = subprocess.run(
            [
                args.python,
                "-c",
                "import sys, trainlint; from importlib.metadata import version; print(trainlint.__version__, version('libcst'), sys.version.split()[0])",
            ],
            capture_output=True,
            text=True,
        ).stdout.split()
        revision = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "trainlint"], capture_output=True, text=True
        ).stdout.strip()
        header = {
            "date": datetime.date.today().isoformat(),
            "trainlint_source": (revision or "?") + (" + uncommitted changes in trainlint/" if dirty else ""),
            "load_average_at_start": os.getloadavg(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
            "python": args.python,
            "versions": dict(zip(("trainlint", "libcst", "python"), version, strict=False)),
            "repeat": args.repeat,
        }
        log(f"trainlint benchmarks, {header['date']}, {header['machine']}, versions {header['versions']}, {args.repeat} rounds")
        log(
            f"trainlint source: {header['trainlint_source']}; load average at start: {' '.join(f'{x:.2f}' for x in header['load_average_at_start'])}"
        )
        results, failures = [], []
        for directory in [] if only_one else dirs:
            try:
                results.append(measure(directory, args.python, args.repeat, work, log))
            except (RunFailed, OSError) as exc:
                failures.append(f"{directory}: {exc}")
                log(f"   FAILED: {exc}")
        notebooks = None
        if generated is not None and not args.no_notebooks and not args.only_formats:
            try:
                notebooks = measure_notebooks(generated, args.python, args.repeat, work, log)
            except (RunFailed, OSError) as exc:
                failures.append(f"notebooks: {exc}")
                log(f"   FAILED: {exc}")
        formats = None
        if not args.no_formats and not args.only_notebooks:
            sys.path.insert(0, str(HERE))
            from make_corpus import generate

            findings_corpus = work / f"corpus-{args.files * 2}-seed{args.seed}-buggy"
            generate(findings_corpus, args.files * 2, args.seed, buggy=1.0)
            try:
                formats = measure_formats(findings_corpus, args.python, args.repeat, work, log)
            except (RunFailed, OSError) as exc:
                failures.append(f"output formats: {exc}")
                log(f"   FAILED: {exc}")
        if results:
            log("\nsummary (wall-clock medians; ratio [min-max of the per-round ratios])")
            log(
                f"{'corpus':<34} {'files':>5} {'floor':>7} {'cold':>7} {'warm':>7} {'jobs2':>7}  {'cold/floor':<22} {'warm/cold':<22} {'jobs2/jobs1':<18} {'2proc/1proc':<18} {'cold ms/file':>12} {'warm ms/file':>12} {'cold RSS':>8}"
            )
            for r in results:
                sec, rat = r["seconds"], r["ratios"]

                def cell(key: str, rat: dict = rat) -> str:
                    v = rat[key]
                    mark = "" if key not in GOALS else (" ok" if v["median"] <= GOALS[key] else " MISS")
                    return f"{v['median']:.2f} [{v['min']:.2f}-{v['max']:.2f}]{mark}"

                name = Path(r["directory"]).name
                log(
                    f"{name[:34]:<34} {r['corpus']['files']:>5} {sec['floor']['median']:>6.2f}s {sec['cold']['median']:>6.2f}s {sec['warm']['median']:>6.2f}s {sec['jobs2']['median']:>6.2f}s  "
                    f"{cell('cold/floor'):<22} {cell('warm/cold'):<22} {cell('jobs2/jobs1'):<18} {cell('2proc/1proc'):<18} "
                    f"{1000 * sec['cold']['median'] / r['corpus']['files']:>12.2f} {1000 * sec['warm']['median'] / r['corpus']['files']:>12.3f} "
                    f"{r['peak_rss_mib']['cold'] or 0:>5.0f} MiB"
                )
        if formats is not None:
            value = formats["ratios"]["full/concise (warm)"]
            mark = "ok" if value["median"] <= FORMAT_GOAL else "MISS"
            log(
                f"output formats ({formats['findings_summary']}): full/concise warm {value['median']:.2f} "
                f"[{value['min']:.2f}-{value['max']:.2f}] {mark}, cold {formats['ratios']['full/concise (cold)']['median']:.2f}"
            )
        if notebooks is not None:
            value = notebooks["ratios"]["ipynb/py (cold)"]
            mark = "ok" if value["median"] <= NOTEBOOK_GOAL else "MISS"
            log(
                f"notebooks ({notebooks['files']} files, {notebooks['findings']} findings): ipynb/py cold {value['median']:.2f} "
                f"[{value['min']:.2f}-{value['max']:.2f}] {mark}, warm {notebooks['ratios']['ipynb/py (warm)']['median']:.2f}"
            )
        header["load_average_at_end"] = os.getloadavg()
        log(
            f"load average at end: {' '.join(f'{x:.2f}' for x in header['load_average_at_end'])} (other work on the machine disturbs wall times; CPU times less so)"
        )
        if args.json:
            text = json.dumps(
                {**header, "results": results, "formats": formats, "notebooks": notebooks, "failures": failures}, indent=2
            )
            if args.json == "-":
                print(text)
            else:
                Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
