"""A `trainlint check` run: read files, answer from the cache, lint or fix the rest (in parallel)."""

from __future__ import annotations

import difflib
import gc
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trainlint.cache import Cache, CacheEntry, payload, write_atomic
from trainlint.config import Resolver
from trainlint.diagnostics import Diagnostic, Span
from trainlint.files import FileItem
from trainlint.ipynb import is_notebook
from trainlint.registry import REGISTRY
from trainlint.settings import LintSettings

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from trainlint.fixes import FixOutcome

PARALLEL_THRESHOLD = 8  # fewer files to parse than this are linted in-process: forking would cost more
COLLECT_EVERY = 200  # files linted between two collections of reference cycles


@dataclass
class Options:
    mode: str = "lint"  # lint | fix | diff
    unsafe: bool = False
    jobs: int = 1
    cache: Cache | None = None


@dataclass
class Job:
    path: Path
    display: str
    data: bytes
    settings: LintSettings
    key: str | None


@dataclass
class FileResult:
    display: str
    diagnostics: list[Diagnostic]
    source: str | None = None
    internal_errors: int = 0
    fixed: int = 0
    diff: str = ""
    error: str | None = None  # a fix that could not be applied or written
    data: bytes | None = None  # the bytes linted, kept when there are findings (outputs that quote lines need them)
    cache: tuple[str, CacheEntry] | None = field(default=None, repr=False)


def _file_level(code: str, message: str, settings: LintSettings) -> Diagnostic:
    """An engine finding about a whole file, at its start."""
    rule = REGISTRY[code]
    return Diagnostic(code, rule.name, message, settings.severity(code, rule.severity), Span(1, 0, 1, 0))


def unreadable(display: str, reason: str, settings: LintSettings) -> FileResult:
    if "TL004" not in settings.enabled:
        return FileResult(display, [])
    return FileResult(display, [_file_level("TL004", f"Cannot read {display}: {reason}; trainlint skipped it", settings)])


def fix_document(text: str, display: str, settings: LintSettings, unsafe: bool) -> FixOutcome:
    """Fix a Python file's text or a notebook's."""
    from trainlint.fixes import fix_notebook, fix_text

    return (fix_notebook if is_notebook(display) else fix_text)(text, display, settings, unsafe)


def diff(old: str, new: str, display: str) -> str:
    """A unified diff of the fixes; for a notebook, of each changed cell (`path:cell 3`, as ruff shows it)."""
    if not is_notebook(display):
        return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), display, display))
    from trainlint.ipynb import read

    before, after = read(old), read(new)
    texts = {cell.number: cell.text for cell in before.code_cells}
    out: list[str] = []
    for cell in after.code_cells:
        if texts.get(cell.number, cell.text) != cell.text:
            name = f"{display}:cell {cell.number}"
            out.extend(difflib.unified_diff(_diff_lines(texts[cell.number]), _diff_lines(cell.text), name, name))
    return "".join(out)


def _diff_lines(text: str) -> list[str]:
    """A cell's lines, each ending in a line break (its last one has none in the file)."""
    return [line if line.endswith(("\n", "\r")) else line + "\n" for line in text.splitlines(keepends=True)]


def run_job(job: Job, options: Options) -> FileResult:
    """Lint (or fix) one file's bytes. Runs in a worker process when --jobs > 1."""
    from trainlint.engine import lint_bytes
    from trainlint.source import DecodeError, decode

    if options.mode == "lint":
        result = lint_bytes(job.data, job.display, job.settings)
        out = FileResult(job.display, result.diagnostics, None, result.internal_errors)
        if job.key and not result.internal_errors:
            out.cache = (job.key, CacheEntry(payload(result.diagnostics), result.dependencies))
        return out
    try:
        decoded = decode(job.data)
    except DecodeError:
        result = lint_bytes(job.data, job.display, job.settings)
        return FileResult(job.display, result.diagnostics, None, result.internal_errors)
    outcome = fix_document(decoded.text, job.display, job.settings, options.unsafe)
    out = FileResult(
        job.display, outcome.remaining, outcome.text, outcome.internal_errors, len(outcome.applied), error=outcome.error
    )
    if outcome.text != decoded.text:
        if options.mode == "diff":
            out.diff = diff(decoded.text, outcome.text, job.display)
        else:
            new_data = outcome.text.encode(decoded.encoding)
            try:
                write_atomic(job.path, new_data)
            except OSError as exc:
                out.error = f"cannot write {job.display}: {exc.strerror or exc}; left unchanged"
                out.fixed = 0
                return out
            if options.cache is not None and not outcome.internal_errors:
                key = Cache.key(job.path, new_data, job.settings.fingerprint())
                out.cache = (key, CacheEntry(payload(outcome.remaining), outcome.dependencies))
    return out


def _batch(jobs: list[Job], options: Options) -> list[FileResult]:
    """The jobs one after another, in this process. Python's collection of reference cycles stays off:
    a lint's trees and models are freed as their last reference goes (linting pytorch/examples leaves
    a few hundred objects in cycles), and each collection only re-scanned the trees kept for the
    files that import them (a few percent of a cold run). One collection every COLLECT_EVERY files
    bounds what cycles can hold."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        results = []
        for done, job in enumerate(jobs, 1):
            results.append(run_job(job, options))
            if collecting and done % COLLECT_EVERY == 0:
                gc.collect()
        return results
    finally:
        if collecting:
            gc.freeze()  # what the batch leaves (the trees kept for linking, the results): not worth a scan
            gc.enable()


def run(items: Iterable[FileItem], resolver: Resolver, options: Options) -> list[FileResult]:
    results: list[FileResult] = []
    jobs: list[Job] = []
    cache = options.cache
    for item in items:
        settings = resolver.settings_for(item.path)
        if item.error:
            results.append(unreadable(item.display, item.error, settings))
            continue
        try:
            with open(item.path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            results.append(unreadable(item.display, exc.strerror or str(exc), settings))
            continue
        key = cache.key(item.path, data, settings.fingerprint()) if cache else None
        diagnostics = cache.get(key) if cache and key else None
        if diagnostics is not None:
            fixable = options.mode != "lint" and any(
                d.fix is not None and (d.fix.applicability.value == "safe" or options.unsafe) for d in diagnostics
            )
            if not fixable:
                results.append(FileResult(item.display, diagnostics, data=data if diagnostics else None))
                continue
        jobs.append(Job(item.path, item.display, data, settings, key))
    linted = {job.display: job.data for job in jobs}
    for result in _execute(jobs, options):
        if result.diagnostics and result.source is None:
            result.data = linted.get(result.display)
        results.append(result)
    if cache is not None:
        cache.put_many(dict(r.cache for r in results if r.cache is not None))
    results.sort(key=lambda r: r.display)
    return results


def _needs_parse(jobs: list[Job]) -> int:
    """How many files contain a rule's trigger words: only those cost a libcst parse."""
    from trainlint.registry import all_rules

    rules = [rule for rule in all_rules() if not rule.engine]
    count = 0
    for job in jobs:
        looked_up: dict[str, bool] = {}
        count += any(rule.could_fire(job.data, looked_up) for rule in rules)
    return count


def _execute(jobs: list[Job], options: Options) -> list[FileResult]:
    if options.jobs <= 1 or len(jobs) < PARALLEL_THRESHOLD or _needs_parse(jobs) < PARALLEL_THRESHOLD:
        return _batch(jobs, options)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    import trainlint.engine  # noqa: F401  (loaded once here, inherited by forked workers)

    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    workers = min(options.jobs, len(jobs))
    # Largest files first, so no worker is left with a big file at the end.
    ordered = sorted(jobs, key=lambda j: len(j.data), reverse=True)
    size = max(1, len(ordered) // (workers * 4))
    batches = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    results: list[FileResult] = []
    lost: list[Job] = []
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = {}
        for index, batch in enumerate(batches):
            try:
                futures[pool.submit(_batch, batch, options)] = batch
            except BrokenProcessPool:  # a worker died before the last batch was handed out
                lost.extend(job for rest in batches[index:] for job in rest)
                break
        for future in as_completed(futures):
            try:
                results.extend(future.result())
            except BrokenProcessPool:
                lost.extend(futures[future])
    # A worker died (a crash in native code): lint those files one process each, to name the culprit.
    for job in lost:
        results.append(_isolated(job, options, context))
    return results


def _isolated(job: Job, options: Options, context: BaseContext) -> FileResult:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    with ProcessPoolExecutor(1, mp_context=context) as pool:
        try:
            return pool.submit(_batch, [job], options).result()[0]
        except BrokenProcessPool:
            return crashed(job.display, job.settings)


def crashed(display: str, settings: LintSettings) -> FileResult:
    message = f"Internal error: the process linting {display} died (a crash in native code); the other files were linted"
    return FileResult(display, [_file_level("TL002", message, settings)], internal_errors=1)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
