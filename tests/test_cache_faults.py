"""The cache under faults: torn or foreign entries, a read-only directory, a full disk, and several
`trainlint check` processes sharing one cache. Every run must give the answer of a `--no-cache`
run, print no traceback, and leave a cache the next run can trust (it heals).

The read-only and full-disk tests mount real file systems (a read-only bind mount, a small
tmpfs): root ignores permission bits, so chmod would prove nothing. They skip where mounting is
not allowed (not root, or no CAP_SYS_ADMIN in a container).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli

from trainlint.cache import FORMAT, Cache, _diagnostics

BAD = "import torch\nLR = 10\nopt = torch.optim.SGD(p, lr=LR)\n"
CLEAN = "import torch\nopt = torch.optim.SGD(p, lr=0.1)\n"


def report(cwd: Path, *args: str) -> tuple[int, list[Any]]:
    """check's JSON report; fails on any output on stderr (a traceback, an internal error)."""
    run = run_cli("check", "--output-format", "json", *args, ".", cwd=cwd)
    assert run.stderr == "", run.stderr
    assert run.returncode in (0, 1)
    return run.returncode, json.loads(run.stdout)


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*/*.json"))


def assert_sound(cache: Path) -> None:
    """Every entry is one this format trusts, and no temporary file is left behind."""
    assert not [p for p in cache.rglob("*.tmp")], "a temporary file was left in the cache"
    for path in entries(cache):
        assert _diagnostics(json.loads(path.read_bytes()), path.stem) is not None, path


def tree(root: Path, count: int) -> Path:
    """A project of `count` files, one in three with a finding (and its related place)."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"m{i:03}.py").write_text(BAD.replace("10", str(10 + i)) if i % 3 == 0 else CLEAN)
    (root / "broken.py").write_text("def f(:\n")
    return root


# -- entries that are not what this format wrote ---------------------------------------------------


def _good_entry(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    (tmp_path / "a.py").write_text(BAD)
    report(tmp_path)
    (path,) = entries(tmp_path / ".trainlint_cache")
    return path, json.loads(path.read_text())


def _set(where: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set one field of the entry: `format`, `d.line` (the first diagnostic's), `fix.edits.0.content`..."""

    def change(entry: dict[str, Any]) -> None:
        target: Any = entry
        *path, last = where.replace("d.", "diagnostics.0.", 1).replace("fix.", "diagnostics.0.fix.", 1).split(".")
        for part in path:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[int(last) if isinstance(target, list) else last] = value

    return change


# Each of the valid-JSON ones ended the run with an internal error before the cache checked fields.
SHAPES: dict[str, Callable[[dict[str, Any]], None]] = {
    "line is a string": _set("d.line", "2"),
    "line is null": _set("d.line", None),
    "line is a huge float": _set("d.line", 1e300),
    "line is a bool": _set("d.line", True),
    "column is negative": _set("d.column", -4),
    "end before start": _set("d.end_line", 1),
    "unknown code": _set("d.code", "TL999"),
    "message is a list": _set("d.message", ["m"]),
    "name is a number": _set("d.name", 5),
    "unknown severity": _set("d.severity", "fatal"),
    "fix is a string": _set("d.fix", "x"),
    "edit content is a number": _set("fix.edits.0.content", 5),
    "edits are a dict": _set("fix.edits", {}),
    "unknown applicability": _set("fix.applicability", "maybe"),
    "related label missing": _set("d.related", [{"line": 2, "column": 1, "end_line": 2, "end_column": 3}]),
    "related is a string": _set("d.related", "LR"),
    "diagnostics is a dict": _set("diagnostics", {"0": {}}),
    "diagnostic is a list": _set("diagnostics", [[1, 2]]),
    "another format": _set("format", FORMAT - 1),
    "no format (format 2's shape)": lambda entry: entry.pop("format"),
    "another file's key": _set("key", "0" * 64),
}
RAW = {
    "truncated": lambda good: good[: len(good) // 2],
    "empty": lambda good: b"",
    "garbage bytes": lambda good: b"\x00\xff\xfe garbage \x80",
    "nested deeper than json's stack": lambda good: b"[" * 100_000 + b"]" * 100_000,
    "a list": lambda good: b"[1, 2]",
}


def test_every_fault_is_a_miss_in_process(tmp_path):
    """Each broken entry is a miss (fast: no process per case); the good one is a hit."""
    path, good = _good_entry(tmp_path)
    cache = Cache(tmp_path / ".trainlint_cache")
    assert cache.get(path.stem) is not None
    for name, change in SHAPES.items():
        entry = json.loads(json.dumps(good))
        change(entry)
        path.write_text(json.dumps(entry))
        assert cache.get(path.stem) is None, name
    for name, raw in RAW.items():
        path.write_bytes(raw(json.dumps(good).encode()))
        assert cache.get(path.stem) is None, name


@pytest.mark.parametrize("fault", ["line is a string", "unknown code", "nested"])
def test_a_broken_entry_gives_the_right_answer_and_heals(tmp_path, fault):
    path, good = _good_entry(tmp_path)
    (tmp_path / "b.py").write_text(CLEAN)
    expected = report(tmp_path, "--no-cache")
    if fault in SHAPES:
        entry = json.loads(json.dumps(good))
        SHAPES[fault](entry)
        path.write_text(json.dumps(entry))
    else:
        path.write_bytes(RAW["truncated" if fault == "truncated" else "nested deeper than json's stack"](path.read_bytes()))
    for fmt in ("full", "sarif"):  # the formats that crashed on such entries (source lines, rule lookups)
        run = run_cli("check", "--output-format", fmt, ".", cwd=tmp_path)
        assert run.returncode == 1 and run.stderr == "", run.stderr
    assert report(tmp_path) == expected
    assert json.loads(path.read_text()) == good  # rewritten by the first run after the fault
    assert_sound(tmp_path / ".trainlint_cache")


def test_a_torn_cachedir_tag_is_rewritten(tmp_path):
    _good_entry(tmp_path)
    tag = tmp_path / ".trainlint_cache" / "CACHEDIR.TAG"
    tag.write_text("Signature: 8a47")  # what a full disk leaves of it
    (tmp_path / "b.py").write_text(CLEAN)
    report(tmp_path)
    assert tag.read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55\n")


def test_entries_of_real_code_are_trusted(tmp_path):
    """The checks reject nothing trainlint writes: every entry of the examples (all rules, with
    fixes, related places and a notebook) is a hit."""
    cache = tmp_path / "cache"
    run = run_cli("check", "--select", "ALL", "--cache-dir", str(cache), str(ROOT / "examples"), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert len(entries(cache)) == len(list((ROOT / "examples").rglob("*.py"))) + 1
    assert_sound(cache)


# -- read-only and full file systems ----------------------------------------------------------------


@contextlib.contextmanager
def mounted(target: Path, *args: str) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount here (needs root with CAP_SYS_ADMIN): {proc.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=True)


@contextlib.contextmanager
def read_only(source: Path, target: Path) -> Iterator[Path]:
    """`source` seen read-only at `target` (a bind mount, remounted read-only)."""
    with mounted(target, "--bind", str(source)):
        proc = subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {proc.stderr.strip()}")
        yield target


def test_empty_read_only_cache_directory(tmp_path):
    project = tree(tmp_path / "p", 6)
    expected = report(project, "--no-cache")
    with mounted(tmp_path / "ro", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs") as ro:
        cache = ro / "cache"  # cannot be created
        assert report(project, "--cache-dir", str(cache)) == expected
        assert report(project, "--cache-dir", str(ro)) == expected  # exists, cannot be written
        assert not cache.exists() and list(ro.iterdir()) == []


def test_primed_read_only_cache_answers_and_a_broken_entry_stays_a_miss(tmp_path):
    project = tree(tmp_path / "p", 6)
    expected = report(project, "--no-cache")
    cache = tmp_path / "cache"
    assert report(project, "--cache-dir", str(cache)) == expected
    first = entries(cache)[0]
    first.write_text(first.read_text()[:40])
    with read_only(cache, tmp_path / "ro") as ro:
        for _ in range(2):
            assert report(project, "--cache-dir", str(ro)) == expected
        assert (ro / first.relative_to(cache)).read_text() == first.read_text()[:40]  # could not heal, stays a miss
        # --fix writes the project, not the cache
        (project / "m001.py").write_text(CLEAN + "x = 1  # noqa: TL101\n")
        run = run_cli("check", "--fix", "--cache-dir", str(ro), ".", cwd=project)
        assert run.stderr == "" and run.returncode == 1
        assert (project / "m001.py").read_text() == CLEAN + "x = 1\n"


def _fill(directory: Path, leave: int) -> Path:
    """Write a file that leaves at most `leave` bytes free on the file system holding directory."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    with contextlib.suppress(OSError):
        while True:
            os.write(fd, b"\0" * 4096)
    os.close(fd)
    if leave:
        with open(filler, "r+b") as handle:
            handle.truncate(max(0, filler.stat().st_size - leave))
    return filler


@pytest.mark.parametrize("leave", [0, 8192], ids=["full", "nearly-full"])
def test_full_disk(tmp_path, leave):
    project = tree(tmp_path / "p", 12)
    expected = report(project, "--no-cache")
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=64k", "tmpfs") as small:
        cache = small / "cache"
        cache.mkdir()
        filler = _fill(small, leave)
        assert report(project, "--cache-dir", str(cache)) == expected
        assert report(project, "--cache-dir", str(cache)) == expected
        assert_sound(cache)  # what fitted is whole, the rest is absent
        assert len(entries(cache)) < 13
        filler.unlink()  # space again: the cache fills up and answers
        assert report(project, "--cache-dir", str(cache)) == expected
        assert len(entries(cache)) == 13
        assert_sound(cache)
        assert report(project, "--cache-dir", str(cache)) == expected


def test_fix_on_a_full_disk_leaves_the_file_whole(tmp_path):
    """--fix writes through a temporary file: with no space the file keeps its old content."""
    with mounted(tmp_path / "small", "-t", "tmpfs", "-o", "size=64k", "tmpfs") as small:
        target = small / "a.py"
        target.write_text(BAD + "x = 1  # noqa: TL101\n" * 50)
        _fill(small, 0)
        run = run_cli("check", "--fix", "--no-cache", "a.py", cwd=small)
        assert run.returncode == 2 and "cannot write a.py" in run.stderr and "Traceback" not in run.stderr
        assert target.read_text() == BAD + "x = 1  # noqa: TL101\n" * 50
        assert sorted(p.name for p in small.iterdir()) == ["a.py", "filler"]  # no temporary file left


# -- several processes on one tree and one cache ---------------------------------------------------


def _check_at_once(project: Path, cache: Path, processes: int, *extra: str) -> list[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "trainlint", "check", "--output-format", "json", "--cache-dir", str(cache), *extra, "."]
    procs = [
        subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    for proc in procs:
        proc.wait(timeout=300)
    return procs


@pytest.mark.parametrize("processes", [2, 4])
def test_concurrent_runs_share_a_cache(tmp_path, processes):
    """As pre-commit runs them: at once, on the same files and cache, cold then warm then with
    half the files changed; --jobs 2 takes the parallel path inside each process too."""
    project = tree(tmp_path / "p", 20)
    cache = tmp_path / "cache"
    for round_ in range(3):
        if round_ == 2:
            for path in sorted(project.glob("m*.py"))[::2]:
                path.write_text(path.read_text().replace("lr=0.1", "lr=5.0").replace("LR = 1", "LR = 0.00"))
        expected = report(project, "--no-cache")
        for proc in _check_at_once(project, cache, processes, "--jobs", "2"):
            out, err = proc.communicate()
            assert err == "" and proc.returncode == expected[0], err
            assert json.loads(out) == expected[1]
        assert_sound(cache)
        assert report(project, "--cache-dir", str(cache)) == expected


def test_concurrent_fixes_agree(tmp_path):
    """Two `check --fix --unsafe-fixes` at once on the same files write what one would."""
    alone = tree(tmp_path / "alone", 12)
    run_cli("check", "--fix", "--unsafe-fixes", "--no-cache", ".", cwd=alone)
    project = tree(tmp_path / "p", 12)
    for proc in _check_at_once(project, tmp_path / "cache", 2, "--fix", "--unsafe-fixes"):
        _, err = proc.communicate()
        assert err == "" and proc.returncode in (0, 1), err
    for path in sorted(alone.glob("*.py")):
        assert (project / path.name).read_text() == path.read_text(), path.name
    assert_sound(tmp_path / "cache")
    assert report(project, "--cache-dir", str(tmp_path / "cache")) == report(project, "--no-cache")


def test_links_and_fifos_in_the_cache(tmp_path):
    """An entry that is a link to a device or a FIFO is a miss (reading it never ends or blocks);
    one that links outside the cache is replaced, its target left alone."""
    path, good = _good_entry(tmp_path)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    for make in (lambda: path.symlink_to("/dev/urandom"), lambda: os.mkfifo(path), lambda: path.symlink_to(outside)):
        path.unlink()
        make()
        run = run_cli("check", "--output-format", "json", "a.py", cwd=tmp_path, timeout=60)
        assert run.returncode == 1 and run.stderr == ""
        assert not path.is_symlink() and json.loads(path.read_text()) == good
    assert outside.read_text() == "keep me"
