"""`check --watch`: lint again whenever a watched file changes.

A small polling loop on modification times and sizes (no file-system notification library): the
files are those the run lints plus the configuration files that could apply to them, asked anew on
every poll so that new files are seen too.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

POLL_SECONDS = 0.5
_CLEAR = "\x1b[2J\x1b[H"


def stamp(paths: Iterable[Path]) -> dict[Path, tuple[int, int]]:
    """Modification time and size of each path that exists."""
    out = {}
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        out[path] = (info.st_mtime_ns, info.st_size)
    return out


def watch(
    run: Callable[[], None],
    watched: Callable[[], Iterable[Path]],
    log: TextIO,
    clear: Callable[[], None] | None = None,
    interval: float = POLL_SECONDS,
) -> int:
    """Run, then run again after each change, until Ctrl-C (which ends it cleanly, exit 0)."""
    try:
        log.write("Starting linter in watch mode...\n")
        while True:
            before = stamp(watched())  # taken before the run: an edit made while it runs is not missed
            run()
            log.write(f"[{time.strftime('%H:%M:%S')}] Watching for file changes (Ctrl-C to stop).\n")
            log.flush()
            while stamp(watched()) == before:
                time.sleep(interval)
            if clear is not None:
                clear()
            log.write("File change detected...\n")
    except KeyboardInterrupt:
        log.write("\n")
        return 0


def clear_screen(stream: TextIO) -> Callable[[], None] | None:
    """Clearing the screen between runs, on a terminal only."""
    if not stream.isatty():
        return None

    def clear() -> None:
        stream.write(_CLEAR)
        stream.flush()

    return clear
