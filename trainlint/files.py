"""Which files to lint: recursive `*.py` discovery with excludes and `.gitignore`."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pathspec

from trainlint.config import Config, Resolver, glob_matches


@dataclass(frozen=True)
class FileItem:
    path: Path
    display: str  # as the user gave it, or relative to the directory given
    error: Optional[str] = None  # why it cannot be read (broken link, FIFO, missing)


class _GitIgnores:
    """The `.gitignore` files that apply under a directory; deeper files override shallower ones."""

    def __init__(self) -> None:
        self._specs: dict[Path, Optional[pathspec.GitIgnoreSpec]] = {}

    def _spec(self, directory: Path) -> Optional[pathspec.GitIgnoreSpec]:
        if directory not in self._specs:
            lines: list[str] = []
            for name in (".gitignore", ".git/info/exclude"):
                try:
                    lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    pass
            self._specs[directory] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[directory]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Whether git ignores `path` (an absolute path), by the files of its git repository."""
        chain = []
        for folder in path.parents:
            chain.append(folder)
            if (folder / ".git").exists():
                break
        else:
            chain = [path.parent]  # not in a repository: only the file's own directory's .gitignore
        verdict = None
        for folder in reversed(chain):  # root first, deeper files override
            spec = self._spec(folder)
            if spec is None:
                continue
            relative = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
            result = spec.check_file(relative).include
            if result is not None:
                verdict = result
        return bool(verdict)


def _excluded(path: Path, config: Config, patterns: list[str]) -> bool:
    return any(glob_matches(p, path, config.root) for p in patterns)


def discover(paths: list[str], resolver: Resolver, force_exclude: bool = False) -> Iterator[FileItem]:
    """Files to lint, in a stable order; unreadable ones come with an error instead of being skipped."""
    ignores = _GitIgnores()
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        absolute = Path(os.path.abspath(given))
        try:
            info = os.stat(absolute)
        except FileNotFoundError:
            if os.path.islink(absolute):
                yield FileItem(absolute, given, "broken symbolic link")
            else:
                yield FileItem(absolute, given, "no such file or directory")
            continue
        except OSError as exc:
            yield FileItem(absolute, given, exc.strerror or str(exc))
            continue
        config = resolver.config_for(absolute)
        excludes = resolver.overrides.exclude if resolver.overrides.exclude is not None else config.excludes
        excludes = excludes + resolver.overrides.extend_exclude
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(absolute, path, resolver, ignores, seen)
            continue
        if force_exclude or config.force_exclude:
            respect = resolver.overrides.respect_gitignore
            if _excluded(absolute, config, excludes) or ((config.respect_gitignore if respect is None else respect) and ignores.ignored(absolute, False)):
                continue
        if absolute not in seen:
            seen.add(absolute)
            error = None if stat.S_ISREG(info.st_mode) else "not a regular file"
            yield FileItem(absolute, given, error)


def _walk(root: Path, shown_root: Path, resolver: Resolver, ignores: _GitIgnores, seen: set[Path]) -> Iterator[FileItem]:
    stack = [root]
    while stack:
        directory = stack.pop()
        config = resolver.config_for(directory)
        overrides = resolver.overrides
        excludes = (overrides.exclude if overrides.exclude is not None else config.excludes) + overrides.extend_exclude
        respect_gitignore = config.respect_gitignore if overrides.respect_gitignore is None else overrides.respect_gitignore
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name == ".git" or _excluded(path, config, excludes):
                    continue
                if respect_gitignore and ignores.ignored(path, True):
                    continue
                subdirs.append(path)
                continue
            if not entry.name.endswith(".py") or _excluded(path, config, excludes):
                continue
            try:
                if entry.is_dir():
                    continue  # a symbolic link to a directory: not followed, which avoids cycles
            except OSError:
                pass
            if respect_gitignore and ignores.ignored(path, False):
                continue
            if path in seen:
                continue
            seen.add(path)
            display = (shown_root / path.relative_to(root)).as_posix()
            yield FileItem(path, display, _unreadable(entry))
        stack.extend(reversed(subdirs))


def _unreadable(entry: os.DirEntry) -> Optional[str]:
    try:
        info = entry.stat(follow_symlinks=True)
    except FileNotFoundError:
        return "broken symbolic link"
    except OSError as exc:
        return exc.strerror or str(exc)
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    return None
