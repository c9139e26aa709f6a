"""Results cached by file content, settings and trainlint version, in `.trainlint_cache/`.

A run answered entirely from here never imports libcst.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from trainlint import __version__

_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by trainlint.\n# For information about cache directory tags see https://bford.info/cachedir/\n"


# Part of every key: bump it when the payload's shape changes (2: diagnostics carry `related`).
PAYLOAD_VERSION = 2


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The installed trainlint's own files (name, size, modification time): the version stays 0.1.0 from
    commit to commit, and a cache written by other rules must not answer for these."""
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.json"), *root.rglob("*.md")]):
        with contextlib.suppress(OSError):
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


class Cache:
    def __init__(self, directory: Path | None) -> None:
        self.root = directory
        self.directory = directory / __version__ if directory else None

    @staticmethod
    def key(path: Path, data: bytes, settings_fingerprint: str) -> str:
        digest = hashlib.sha256()
        version = (__version__, str(PAYLOAD_VERSION), code_fingerprint())
        for part in (*(v.encode() for v in version), settings_fingerprint.encode(), os.fsencode(path), data):
            digest.update(len(part).to_bytes(8, "little"))
            digest.update(part)
        return digest.hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        if self.directory is None:
            return None
        try:
            with open(self.directory / f"{key}.json", encoding="utf-8") as handle:
                entry = json.load(handle)
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) else None

    def put_many(self, entries: dict[str, dict[str, Any]]) -> None:
        if self.directory is None or not entries:
            return
        try:
            self._prepare()
            for key, payload in entries.items():
                write_atomic(self.directory / f"{key}.json", json.dumps(payload).encode("utf-8"))
        except OSError:
            pass  # a cache that cannot be written only costs speed

    def _prepare(self) -> None:
        assert self.root is not None and self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, content in (("CACHEDIR.TAG", _TAG), (".gitignore", "# Automatically created by trainlint.\n*\n")):
            path = self.root / name
            if not path.exists():
                path.write_text(content, encoding="utf-8")


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same directory, then rename over the target."""
    import tempfile

    path = Path(os.path.realpath(path))  # a symbolic link keeps pointing at the updated file
    mode = None
    with contextlib.suppress(OSError):
        mode = os.stat(path).st_mode & 0o7777
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
