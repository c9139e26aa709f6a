"""A file's syntax tree is freed as soon as its lint result is dropped.

The script model points down only (its back references are weak), so reference counting frees the
tree; a reference cycle that reached it would leave every node to the cyclic garbage collector, which
cost a tenth of a cold `check` on timm (2.5 s of 19 s) before the cycles were removed."""

from __future__ import annotations

import gc
from pathlib import Path

from trainlint.engine import lint_source
from trainlint.insights import all_insights
from trainlint.settings import default_settings

ROOT = Path(__file__).resolve().parent.parent
# The bundled examples: every rule family, models, loops, argparse and configs.
SOURCES = sorted((ROOT / "examples").rglob("*.py"))


def _everything(path: Path) -> None:
    result = lint_source(path.read_text(encoding="utf-8"), str(path), default_settings(["ALL"]))
    model = result.model
    assert model is not None
    # What rules did not ask for, the editor does: build every layer.
    built = (model.networks.models, model.shapes.hints, model.loops.traces, all_insights(model))
    assert all(part is not None for part in built)


def _garbage_of(path: Path) -> list[str]:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        _everything(path)
        gc.collect()
        return sorted({type(o).__qualname__ for o in gc.garbage if type(o).__module__.startswith(("libcst", "trainlint"))})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_examples_leave_no_cycles_behind():
    assert len(SOURCES) >= 10
    leaks = {path.name: kinds for path in SOURCES if (kinds := _garbage_of(path))}
    assert leaks == {}, f"reference cycles hold model objects or syntax nodes: {leaks}"


def test_the_check_finds_a_cycle():
    """The probe itself works: a cycle through a node is garbage it reports."""
    import libcst as cst

    from trainlint.model.syntax import Scope

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        scope = Scope("module", cst.parse_module("x = 1\n"), None)
        scope.bindings["self"] = [scope]  # type: ignore[list-item]
        del scope
        gc.collect()
        kinds = {type(o).__qualname__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert {"Scope", "Module"} <= kinds


def test_a_batch_lints_without_the_collector_and_restores_it(tmp_path):
    """`check` lints a batch with cycle collection off (a model is acyclic, so a collection only
    re-scans what is alive): the caller's setting is restored either way, and the results are the
    same as linting each file alone."""
    from trainlint.runner import Job, Options, _batch, run_job

    settings = default_settings()
    jobs = [Job(p, p.name, p.read_bytes(), settings, None) for p in SOURCES[:4]]
    alone = [run_job(job, Options()).diagnostics for job in jobs]
    assert any(alone)  # the examples have findings to compare
    collecting = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            assert [r.diagnostics for r in _batch(jobs, Options())] == alone
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if collecting else gc.disable)()
