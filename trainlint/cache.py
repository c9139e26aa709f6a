"""Results cached by file content, settings and trainlint version, in `.trainlint_cache/`.

A run answered entirely from here never imports libcst. An entry is trusted only after it is
checked field by field: whatever is on disk (a torn write, another format, a stray file, a hand
edit) is at worst a miss, linted again and rewritten.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainlint import __version__
from trainlint.diagnostics import Applicability, Diagnostic, Severity

_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by trainlint.\n# For information about cache directory tags see https://bford.info/cachedir/\n"
_GITIGNORE = "# Automatically created by trainlint.\n*\n"

# The cache format, part of every key and stored in every entry: bump it when an entry's shape
# changes (2: diagnostics carry `related`; 3: entries carry `format` and their `key`; 4: and the
# other files of the project they depend on).
FORMAT = 4


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The installed trainlint's own files (name, size, modification time): the version stays 0.1.0 from
    commit to commit, and a cache written by other rules must not answer for these."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.json"), *root.rglob("*.md")]):
        with contextlib.suppress(OSError):
            info = path.stat()
            digest.update(f"{path.relative_to(root)}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def payload(diagnostics: list[Diagnostic]) -> list[dict[str, Any]]:
    """What the cache keeps of a file's result."""
    return [d.to_json(related=True) for d in diagnostics]


@dataclass
class CacheEntry:
    diagnostics: list[dict[str, Any]]  # payload()
    # The project's other files and folders the result read (LintResult.dependencies): the entry
    # answers only while each is unchanged, since editing config.py changes what train.py gets.
    dependencies: dict[str, str]


class Cache:
    def __init__(self, directory: Path | None) -> None:
        self.root = directory
        self.directory = directory / __version__ if directory else None

    @staticmethod
    def key(path: Path, data: bytes, settings_fingerprint: str) -> str:
        digest = hashlib.sha256()
        version = (__version__, str(FORMAT), code_fingerprint())
        for part in (*(v.encode() for v in version), settings_fingerprint.encode(), os.fsencode(path), data):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
        return digest.hexdigest()

    def get(self, key: str) -> list[Diagnostic] | None:
        """The diagnostics cached under `key`, or None: absent, unreadable, or not an entry this
        format wrote for this key."""
        if self.directory is None:
            return None
        try:
            # Not blocking, and regular files only: a FIFO or a link to a device is not an entry.
            fd = os.open(self.directory / f"{key}.json", os.O_RDONLY | os.O_NONBLOCK)
            with open(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return None
                entry = json.loads(handle.read())
        except (OSError, ValueError, RecursionError):  # RecursionError: garbage nested deeper than json's stack
            return None
        diagnostics = _diagnostics(entry, key)
        if diagnostics is None or not _still_holds(entry.get("dependencies")):
            return None
        return diagnostics

    def put_many(self, entries: dict[str, CacheEntry]) -> None:
        if self.directory is None or not entries:
            return
        try:
            self._prepare()
            for key, found in entries.items():
                entry = {"format": FORMAT, "key": key, "diagnostics": found.diagnostics, "dependencies": found.dependencies}
                data = json.dumps(entry).encode("utf-8")
                write_atomic(self.directory / f"{key}.json", data, durable=False, follow_links=False)
        except OSError:
            pass  # a cache that cannot be written (read-only, full disk) only costs speed

    def _prepare(self) -> None:
        assert self.root is not None and self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, content in (("CACHEDIR.TAG", _TAG), (".gitignore", _GITIGNORE)):
            path = self.root / name
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if path.read_text(encoding="utf-8") == content:
                    continue
            path.write_text(content, encoding="utf-8")  # absent, or torn by a full disk


def _diagnostics(entry: Any, key: str) -> list[Diagnostic] | None:
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
        return None
    from trainlint.registry import all_rules

    codes = {rule.code for rule in all_rules()}
    found = entry.get("diagnostics")
    if not isinstance(found, list) or not all(_is_diagnostic(d, codes) for d in found):
        return None
    return [Diagnostic.from_json(d) for d in found]


def _still_holds(dependencies: Any) -> bool:
    if not isinstance(dependencies, dict) or not all(isinstance(v, str) for v in dependencies.values()):
        return False
    if not dependencies:
        return True
    from trainlint.project import unchanged

    return unchanged(dependencies)


def _is_span(data: Any) -> bool:
    """1-based lines and columns (as Span.to_json writes them), the end not before the start."""
    if not isinstance(data, dict):
        return False
    numbers = [data.get(name) for name in ("line", "column", "end_line", "end_column")]
    if not all(type(n) is int and n >= 1 for n in numbers):  # type(): a bool is not a line number
        return False
    line, column, end_line, end_column = numbers
    return (line, column) <= (end_line, end_column)


def _is_diagnostic(data: Any, codes: set[str]) -> bool:
    if not _is_span(data) or data.get("code") not in codes:
        return False
    if not all(isinstance(data.get(name), str) for name in ("name", "message")):
        return False
    if data.get("severity") not in {s.value for s in Severity}:
        return False
    related = data.get("related", [])
    if not isinstance(related, list) or not all(_is_span(r) and isinstance(r.get("label"), str) for r in related):
        return False
    fix = data.get("fix")
    return fix is None or _is_fix(fix)


def _is_fix(fix: Any) -> bool:
    if not isinstance(fix, dict) or fix.get("applicability") not in {a.value for a in Applicability}:
        return False
    edits = fix.get("edits")
    return (
        isinstance(fix.get("message"), str)
        and isinstance(edits, list)
        and all(_is_span(e) and isinstance(e.get("content"), str) for e in edits)
    )


def write_atomic(path: Path, data: bytes, durable: bool = True, follow_links: bool = True) -> None:
    """Write through a temporary file in the same directory, then rename over the target: a reader
    sees the old content or the new, never a part. `durable`: fsync before the rename, so a crash
    of the machine cannot leave an empty file (a cache entry need not be: an empty one is a miss).
    `follow_links`: a symbolic link keeps pointing at the updated file (a fixed source file); the
    cache replaces a link instead, never writing outside its directory."""
    import tempfile

    if follow_links:
        path = Path(os.path.realpath(path))
    mode = None
    with contextlib.suppress(OSError):
        mode = os.stat(path).st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
