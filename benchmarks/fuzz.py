#!/usr/bin/env python3
"""Fuzz `check` and `check --fix --unsafe-fixes` through the engine's public API.

    python benchmarks/fuzz.py [--count 10000] [--time-limit 20] [--seed 0] [--jobs 1] [--json FILE] [--save DIR]

Programs come from hypothesmith (grammar-generated, and libcst-node-generated) and from mutations of
every rule page's bad examples and of examples/ (line deletions, duplications and swaps, token
swaps, number changes, indentation changes, truncation, lines spliced in from another seed); one
in ten is linted as a notebook (its code cut into cells at blank lines, with a markdown cell).
Each program must pass, within the time limit (a worker process is killed and the program counted
as a hang otherwise):

- lint: no TL002 and no internal error;
- fix: no internal error; if the program parses, the fixed program parses, no fix was refused
  for breaking the code, and fixing the fixed program changes nothing (idempotent); if it does
  not parse it is left untouched;
- every fix round's edits lie inside the text (no span past a line's end, which an offset
  clamp would hide) and the round's result is exactly its edits applied (at offsets computed
  independently of trainlint's), so nothing outside them changes; for a notebook, the JSON outside the code cells' sources is
  unchanged and it still reads as a notebook.

Failures are written to --save DIR (default: a temporary directory) to reproduce. The exit status
is 1 if any program failed, else 0.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import re
import sys
import tempfile
import time
import tokenize
import traceback
import warnings
from dataclasses import dataclass, field
from io import StringIO
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


# -- programs -------------------------------------------------------------------------------------


def seeds() -> list[str]:
    """Every rule page's bad examples, examples/**/*.py and the code of examples/**/*.ipynb."""
    from trainlint.ipynb import read
    from trainlint.pages import load_pages

    out = [block for page in load_pages().values() for block in page.examples.get("bad", [])]
    out += [path.read_text(encoding="utf-8") for path in sorted((ROOT / "examples").rglob("*.py"))]
    for path in sorted((ROOT / "examples").rglob("*.ipynb")):
        out.append("\n\n".join(cell.text for cell in read(path.read_text(encoding="utf-8")).code_cells))
    return out


NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])")
NUMBERS = ["0", "1", "10", "0.1", "1e-3", "-0.5", "1.0", "100", "0.999", "1e-8", "2 ** 3", "1e308", "-1", "None", "'5'", "x"]


def _tokens(line: str) -> list[tuple[int, int]]:
    """(start, end) columns of a line's tokens, or [] if it does not tokenize on its own."""
    try:
        found = list(tokenize.generate_tokens(StringIO(line).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    return [(t.start[1], t.end[1]) for t in found if t.start[0] == t.end[0] == 1 and t.string.strip()]


def mutate(source: str, rng: random.Random, donors: list[str]) -> str:
    lines = source.splitlines(keepends=True) or ["\n"]
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5))):  # mostly small: most mutants still parse and trip rules
        i = rng.randrange(len(lines))
        choice = rng.randrange(9)
        if choice == 0:  # change a number
            numbers = list(NUMBER.finditer(lines[i]))
            if numbers:
                m = rng.choice(numbers)
                lines[i] = lines[i][: m.start()] + rng.choice(NUMBERS) + lines[i][m.end() :]
        elif choice == 1:  # delete a line
            del lines[i]
            lines = lines or ["\n"]
        elif choice == 2:  # duplicate a line
            lines.insert(i, lines[i])
        elif choice == 3:  # swap two lines
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif choice == 4:  # swap two tokens of a line
            tokens = _tokens(lines[i])
            if len(tokens) >= 2:
                (a, b), (c, d) = sorted(rng.sample(tokens, 2))
                line = lines[i]
                lines[i] = line[:a] + line[c:d] + line[b:c] + line[a:b] + line[d:]
        elif choice == 5:  # indent or dedent a run of lines: moves code in or out of a block
            j = min(len(lines), i + rng.randint(1, 6))
            for k in range(i, j):
                lines[k] = "    " + lines[k] if rng.random() < 0.5 else lines[k].removeprefix("    ")
        elif choice == 6:  # truncate a line (half-typed code)
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)] + "\n"
        elif choice == 7:  # splice in lines of another seed
            donor = rng.choice(donors).splitlines(keepends=True) or ["\n"]
            k = rng.randrange(len(donor))
            lines[i:i] = donor[k : k + rng.randint(1, 8)]
        else:  # Windows line endings, or a tab for the indentation
            if rng.random() < 0.5:
                lines = [line.replace("\r\n", "\n").replace("\n", "\r\n") for line in lines]
            else:
                lines[i] = lines[i].replace("    ", "\t", 1)
    return "".join(lines)


def hypothesmith_programs(count: int, seed: int) -> list[str]:
    """`count` programs from hypothesmith's two strategies, deterministically for a seed."""
    import hypothesmith
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    out: list[str] = []
    for strategy, share in ((hypothesmith.from_grammar(), count - count // 3), (hypothesmith.from_node(), count // 3)):
        found: list[str] = []

        @hypothesis_seed(seed)
        @settings(
            max_examples=share,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def collect(source: str) -> None:
            found.append(source)  # noqa: B023 - each strategy's own list, run at once

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            collect()
        out.extend(found[:share])
    return out


def as_notebook(code: str) -> str:
    """The code as a Jupyter notebook: a cell per blank-line-separated chunk, after a markdown cell."""
    chunks = [chunk for chunk in re.split(r"\n\s*\n", code) if chunk.strip()] or [code]
    cells: list[dict[str, Any]] = [{"cell_type": "markdown", "id": "md", "metadata": {}, "source": ["# fuzz\n"]}]
    for i, chunk in enumerate(chunks):
        source = chunk.splitlines(keepends=True)
        cells.append(
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": source}
        )
    metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}}
    notebook = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


# -- checks (in the worker) ---------------------------------------------------------------------


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    parsed: bool = False
    fixes: int = 0  # fixes applied
    rounds: int = 0  # fix rounds whose edits were checked
    seconds: float = 0.0


def check_python(text: str) -> Outcome:
    from trainlint.engine import lint_source, parses
    from trainlint.fixes import MAX_ROUNDS, apply_edits, fix_text

    out = Outcome()
    result = lint_source(text, "fuzz.py", SETTINGS)
    out.parsed = result.parsed
    if result.internal_errors or any(d.code == "TL002" for d in result.diagnostics):
        out.failures.append("lint: internal error: " + "; ".join(d.message for d in result.diagnostics if d.code == "TL002"))
    fixed = fix_text(text, "fuzz.py", SETTINGS, unsafe=True)
    out.fixes = len(fixed.applied)
    if fixed.internal_errors:
        out.failures.append("fix: internal error")
    if not parses(text):
        if fixed.text != text:
            out.failures.append("fix: changed a file that does not parse")
        return out
    if not parses(fixed.text):
        out.failures.append("fix: the fixed code does not parse")
    if fixed.error:
        out.failures.append(f"fix: {fixed.error}")
    if fixed.applied and fix_text(fixed.text, "fuzz.py", SETTINGS, unsafe=True).text != fixed.text:
        out.failures.append("fix: a second --fix changed the code again")
    # Each round again: its edits lie inside the text, and the round's result is exactly its edits
    # applied at offsets computed here, independently of trainlint's line index.
    current = text
    for _ in range(MAX_ROUNDS):
        diagnostics = lint_source(current, "fuzz.py", SETTINGS).diagnostics
        new, applied = apply_edits(current, diagnostics, unsafe=True)
        if not applied:
            break
        out.rounds += 1
        edits = [e for d in applied if d.fix is not None for e in d.fix.edits]
        expected, problem = _apply_independently(current, edits)
        if problem or new != expected:
            out.failures.append(f"fix: {problem or 'the fixed text differs from its edits applied'}")
            break
        if new == current or not parses(new):
            break
        current = new
    if not fixed.error and current != fixed.text:
        out.failures.append("fix: the rounds replayed do not give the fixed text")
    return out


LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _apply_independently(text: str, edits: list[Any]) -> tuple[str, str | None]:
    """The text with the edits applied, or why an edit is not inside it (past the last line or a
    line's end: an offset clamp would hide that)."""
    lines = LINE.findall(text)
    if not lines or lines[-1].endswith(("\r", "\n")):
        lines.append("")  # the empty line after a final line break
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    ranges = []
    for edit in edits:
        span = edit.span
        offsets = []
        for line, column in ((span.line, span.column), (span.end_line, span.end_column)):
            if not 1 <= line <= len(lines) or not 0 <= column <= len(lines[line - 1].rstrip("\r\n")):
                return text, f"an edit at {line}:{column} lies outside the text ({len(lines)} lines)"
            offsets.append(starts[line - 1] + column)
        if offsets[0] > offsets[1]:
            return text, f"an edit ends before it starts: {span}"
        ranges.append((offsets[0], offsets[1], edit.content))
    for start, end, content in sorted(ranges, reverse=True):
        text = text[:start] + content + text[end:]
    return text, None


def check_notebook(raw: str) -> Outcome:
    from trainlint.engine import lint_notebook, parses
    from trainlint.fixes import fix_notebook
    from trainlint.ipynb import read

    out = Outcome()
    result = lint_notebook(raw, "fuzz.ipynb", SETTINGS)
    out.parsed = result.parsed
    if result.internal_errors or any(d.code == "TL002" for d in result.diagnostics):
        out.failures.append("notebook lint: internal error")
    fixed = fix_notebook(raw, "fuzz.ipynb", SETTINGS, unsafe=True)
    out.fixes = len(fixed.applied)
    if fixed.internal_errors:
        out.failures.append("notebook fix: internal error")
    if fixed.text == raw:
        return out
    try:
        after = read(fixed.text)
    except Exception as exc:  # noqa: BLE001 - any failure to read the fixed notebook is the finding
        out.failures.append(f"notebook fix: the fixed notebook cannot be read: {exc}")
        return out
    if not result.parsed:
        out.failures.append("notebook fix: changed a notebook whose code does not parse")
    if not parses(after.script.text):
        out.failures.append("notebook fix: the fixed cells do not parse")
    if _without_sources(fixed.text) != _without_sources(raw):
        out.failures.append("notebook fix: changed the notebook outside its code cells' sources")
    if fix_notebook(fixed.text, "fuzz.ipynb", SETTINGS, unsafe=True).text != fixed.text:
        out.failures.append("notebook fix: a second --fix changed the notebook again")
    return out


def _without_sources(raw: str) -> Any:
    document = json.loads(raw)
    for cell in document["cells"]:
        if cell["cell_type"] == "code":
            cell["source"] = None
    return document


def worker(conn: Connection) -> None:
    global SETTINGS
    from trainlint.settings import default_settings

    SETTINGS = default_settings(["ALL"])
    while True:
        task = conn.recv()
        if task is None:
            return
        kind, text = task
        start = time.perf_counter()
        try:
            out = check_notebook(text) if kind == "notebook" else check_python(text)
        except BaseException:  # noqa: BLE001 - the fuzzer's job is to report it
            out = Outcome(failures=["crash: " + traceback.format_exc(limit=-6)])
        out.seconds = time.perf_counter() - start
        conn.send(out)


SETTINGS: Any = None


# -- the driver ---------------------------------------------------------------------------------


@dataclass
class Slot:
    process: multiprocessing.Process
    conn: Connection
    task: tuple[int, str, str, str] | None = None  # (index, source, kind, text)
    started: float = 0.0


def _start(context: Any) -> Slot:
    parent, child = context.Pipe()
    process = context.Process(target=worker, args=(child,), daemon=True)
    process.start()
    child.close()
    return Slot(process, parent)


def programs(count: int, seed: int) -> list[tuple[str, str, str]]:
    """(source, kind, text) of each program: a third hypothesmith, the rest mutations."""
    rng = random.Random(seed)
    pool = seeds()
    generated = hypothesmith_programs(count // 3, seed)
    out = [("hypothesmith", "python", text) for text in generated]
    while len(out) < count:
        text = mutate(rng.choice(pool), rng, pool)
        out.append(("mutation", "python", text))
    rng.shuffle(out)
    return [
        (source, "notebook" if i % 10 == 9 else kind, as_notebook(text) if i % 10 == 9 else text)
        for i, (source, kind, text) in enumerate(out)
    ]


def run(count: int, seed: int, time_limit: float, jobs: int, save: Path) -> dict[str, Any]:
    started = time.perf_counter()
    tasks = programs(count, seed)
    generated = time.perf_counter() - started
    context = multiprocessing.get_context("fork")
    slots = [_start(context) for _ in range(jobs)]
    stats: dict[str, Any] = {
        "programs": 0,
        "by_source": {"hypothesmith": 0, "mutation": 0},
        "notebooks": 0,
        "parsed": 0,
        "fixes_applied": 0,
        "fix_rounds_checked": 0,
        "programs_with_fixes": 0,
        "crashes": 0,
        "hangs": 0,
        "failures": 0,
        "slowest_seconds": 0.0,
    }
    failures: list[dict[str, Any]] = []
    queue = list(enumerate(tasks))[::-1]

    def record(index: int, source: str, kind: str, text: str, problems: list[str]) -> None:
        name = save / f"{index:05}.{'ipynb' if kind == 'notebook' else 'py'}"
        name.write_text(text, encoding="utf-8", newline="")
        failures.append({"file": str(name), "source": source, "problems": problems})

    while queue or any(s.task for s in slots):
        for slot in slots:
            if slot.task is None and queue:
                index, (source, kind, text) = queue.pop()
                slot.task, slot.started = (index, source, kind, text), time.monotonic()
                slot.conn.send((kind, text))
        busy = [s for s in slots if s.task]
        deadline = min(s.started for s in busy) + time_limit
        ready = wait([s.conn for s in busy], timeout=max(0.0, deadline - time.monotonic()))
        for slot in busy:
            assert slot.task is not None
            index, source, kind, text = slot.task
            if slot.conn in ready:
                try:
                    outcome: Outcome = slot.conn.recv()
                except EOFError:  # the worker died (a crash in native code)
                    outcome = Outcome(failures=["crash: the worker process died"])
                    slots[slots.index(slot)] = _start(context)
            elif time.monotonic() - slot.started >= time_limit:
                slot.process.kill()
                slot.process.join()
                slots[slots.index(slot)] = _start(context)
                outcome = Outcome(failures=[f"hang: no answer in {time_limit} s"], seconds=time_limit)
            else:
                continue
            slot.task = None
            stats["programs"] += 1
            stats["by_source"][source] += 1
            stats["notebooks"] += kind == "notebook"
            stats["parsed"] += outcome.parsed
            stats["fixes_applied"] += outcome.fixes
            stats["fix_rounds_checked"] += outcome.rounds
            stats["programs_with_fixes"] += outcome.fixes > 0
            stats["slowest_seconds"] = max(stats["slowest_seconds"], round(outcome.seconds, 3))
            if outcome.failures:
                stats["failures"] += 1
                stats["crashes"] += any(f.startswith("crash") or "internal error" in f for f in outcome.failures)
                stats["hangs"] += any(f.startswith("hang") for f in outcome.failures)
                record(index, source, kind, text, outcome.failures)
    for slot in slots:
        slot.conn.send(None)
        slot.process.join(timeout=10)
    stats["generation_seconds"] = round(generated, 1)
    stats["total_seconds"] = round(time.perf_counter() - started, 1)
    stats["failed"] = failures[:50]
    stats["saved_to"] = str(save)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="programs to fuzz (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per program before it is a hang")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON (- for standard output)")
    parser.add_argument("--save", metavar="DIR", help="where failing programs are written (default: a temporary directory)")
    args = parser.parse_args(argv)
    save = Path(args.save) if args.save else Path(tempfile.mkdtemp(prefix="trainlint-fuzz-"))
    save.mkdir(parents=True, exist_ok=True)
    stats = run(args.count, args.seed, args.time_limit, max(1, args.jobs), save)
    text = json.dumps(stats, indent=2)
    if args.json == "-":
        print(text)
    else:
        if args.json:
            Path(args.json).write_text(text + "\n", encoding="utf-8")
        summary = {k: v for k, v in stats.items() if k != "failed"}
        print(json.dumps(summary, indent=2))
        for failure in stats["failed"][:10]:
            print(f"FAILED {failure['file']}: {failure['problems'][0][:500]}", file=sys.stderr)
    return 1 if stats["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
