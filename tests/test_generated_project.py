"""A small project from benchmarks/make_project.py (the 500- to 2,000-file figures are in
benchmarks/README.md), linted with the real command line: every finding it is built to have comes
through another file (a config module, a package's `__init__.py`, a YAML or JSON file, the `src/`
package), the clean files get none, a warm run answers the same, and editing the config module a
script imports changes that script's finding."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import ROOT, run_cli

from trainlint.config import Overrides, Resolver
from trainlint.engine import lint_source

sys.path.insert(0, str(ROOT / "benchmarks"))
from make_project import generate

FILES = 40


def findings(root: Path, *args: str) -> list[tuple[str, str, str]]:
    """(path, code, message) of each finding of `trainlint check` over the whole project."""
    run = run_cli("check", ".", "--output-format", "json", *args, cwd=root)
    assert run.returncode in (0, 1), run.stderr
    return sorted((d["path"], d["code"], d["message"]) for d in json.loads(run.stdout))


def test_the_generated_project_is_deterministic(tmp_path: Path):
    first = generate(tmp_path / "a", FILES, seed=3)
    second = generate(tmp_path / "b", FILES, seed=3)
    assert first == second
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b
    assert all((tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes() for p in files_a)
    assert sum(1 for p in files_a if p.suffix == ".py") == FILES


def test_cross_file_findings_cold_warm_and_after_an_edit(tmp_path: Path):
    root = tmp_path / "project"
    expected = generate(root, FILES, seed=0)
    cache = ["--cache-dir", str(tmp_path / "cache")]
    # what the generator says it planted: every finding needs another file's value
    assert {e.code for e in expected} == {"TL101", "TL102"}
    assert len(expected) >= 7

    cold = findings(root, *cache)
    assert [(p, c) for p, c, _ in cold] == [(e.path, e.code) for e in expected]
    for (_, _, message), e in zip(cold, expected, strict=True):
        assert e.text in message, (message, e)
    # the files the messages cite are other files than the one reported
    assert "(FINETUNE_LR in config.py, line 12)" in dict((p, m) for p, _, m in cold)["finetune.py"]

    entries = sorted((tmp_path / "cache").rglob("*.json"))
    assert len(entries) >= FILES  # one per linted file: the next run is answered from them
    warm = findings(root, *cache)
    assert sorted((tmp_path / "cache").rglob("*.json")) == entries
    assert warm == cold
    assert findings(root, "--no-cache") == cold

    # editing the root config.py: the fine-tuning rate is fixed there, so finetune.py's finding
    # goes (the script itself is unchanged: only its dependency invalidates the cache entry)
    config = root / "config.py"
    text = config.read_text(encoding="utf-8")
    assert "FINETUNE_LR = BASE_LR * BATCH_SIZE / 2\n" in text
    config.write_text(text.replace("FINETUNE_LR = BASE_LR * BATCH_SIZE / 2\n", "FINETUNE_LR = BASE_LR * BATCH_SIZE / 512\n"))
    after = findings(root, *cache)
    assert after == [f for f in cold if f[0] != "finetune.py"]
    # and back, to a different too-high value: the finding returns with the new number
    config.write_text(text.replace("FINETUNE_LR = BASE_LR * BATCH_SIZE / 2\n", "FINETUNE_LR = BASE_LR * BATCH_SIZE / 8\n"))
    again = dict((p, m) for p, _, m in findings(root, *cache))
    assert "SGD learning rate 3.2 (FINETUNE_LR in config.py, line 12)" in again["finetune.py"]

    # a package's config, read through `from ..config import HEAVY_MOMENTUM`
    package_config = root / "pkg_1" / "config.py"
    package_text = package_config.read_text(encoding="utf-8")
    package_config.write_text(package_text.replace("HEAVY_MOMENTUM = 1.5\n", "HEAVY_MOMENTUM = 0.99\n"))
    assert "TL102" not in {c for _, c, _ in findings(root, *cache)}


def _dependencies(root: Path) -> dict[str, list[str]]:
    """Each linted file's dependencies (other files read, folders searched), relative to the project."""
    resolver = Resolver(Overrides(), cwd=root)
    out = {}
    for path in sorted(root.rglob("*.py")):
        result = lint_source(path.read_text(encoding="utf-8"), str(path), resolver.settings_for(path))
        out[path.relative_to(root).as_posix()] = sorted(Path(k).relative_to(root).as_posix() for k in result.dependencies)
    return out


def test_the_work_per_file_does_not_grow_with_the_project(tmp_path: Path):
    """What a file's cross-file lookups read, and what its cache entry must check on a warm run, is
    set by the file's own imports, not by how many files the project has: the same scripts depend on
    the same files and folders in a project four times the size, and no file depends on more than a
    handful (a warm run checks each dependency once per file, so a growing list would be quadratic)."""
    small = _dependencies(generate_into(tmp_path / "small", 60))
    large = _dependencies(generate_into(tmp_path / "large", 240))
    fixed = [p for p in small if "/" not in p or p.startswith(("scripts/", "src/"))]
    assert len(fixed) >= 10
    assert {p: small[p] for p in fixed} == {p: large[p] for p in fixed}
    # train.py calls build_model of pkg_0/models/__init__.py, a file no rule could use (no trigger
    # word: imports and a function returning a class of a sibling module), so it is not linked; the
    # lookup still searched the src/ folder, where a new pkg_0 would change the answer
    assert small["train.py"] == [".", "config.py", "pkg_0", "pkg_0/models/__init__.py", "src"]
    for table in (small, large):
        assert max(len(d) for d in table.values()) <= 8
        assert sum(len(d) for d in table.values()) <= 4 * len(table)


def generate_into(folder: Path, files: int) -> Path:
    generate(folder, files, seed=0)
    return folder
