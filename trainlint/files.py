"""Which files to lint: recursive discovery of the included files (`*.py` and `*.ipynb` by default),
with excludes and `.gitignore`."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from trainlint.config import Config, Resolver, globset, includeset
from trainlint.ipynb import is_notebook

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


def _pathspec() -> ModuleType:
    """pathspec, imported only when there is something to match. It uses typing_extensions' `deprecated`
    when that is installed and its own otherwise; importing typing_extensions for it would cost more
    than the rest of a small run's imports together, so unless something loaded it already, pathspec
    is shown it is absent."""
    if "typing_extensions" in sys.modules:
        import pathspec
    else:
        sys.modules["typing_extensions"] = None  # type: ignore[assignment]  # import of it: ImportError
        try:
            import pathspec
        finally:
            del sys.modules["typing_extensions"]
    return pathspec


@dataclass(frozen=True)
class FileItem:
    path: Path
    display: str  # as the user gave it, or relative to the directory given
    error: str | None = None  # why it cannot be read (broken link, FIFO, missing)


class _GitIgnores:
    """The `.gitignore` files that apply under a directory; deeper files override shallower ones."""

    def __init__(self) -> None:
        self._specs: dict[Path, GitIgnoreSpec | None] = {}
        self._chains: dict[Path, tuple[Path, ...]] = {}

    def _spec(self, directory: Path) -> GitIgnoreSpec | None:
        if directory not in self._specs:
            lines: list[str] = []
            for name in (".gitignore", ".git/info/exclude"):
                with contextlib.suppress(OSError):
                    lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
            spec = None
            if lines:
                spec = _pathspec().GitIgnoreSpec.from_lines(lines)
            self._specs[directory] = spec
        return self._specs[directory]

    def _chain(self, directory: Path) -> tuple[Path, ...]:
        """The folders whose ignore files apply in `directory`: up to its repository's root."""
        chain = self._chains.get(directory)
        if chain is None:
            if (directory / ".git").exists():
                chain = (directory,)
            elif directory.parent == directory:
                chain = ()  # no repository above
            else:
                above = self._chain(directory.parent)
                chain = above + (directory,) if above else ()
            self._chains[directory] = chain
        return chain

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Whether git ignores `path` (absolute); outside a repository, only its folder's .gitignore counts."""
        chain = self._chain(path.parent) or (path.parent,)
        verdict = None
        for folder in chain:  # root first: deeper files override
            spec = self._spec(folder)
            if spec is None:
                continue
            relative = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
            result = spec.check_file(relative).include
            if result is not None:
                verdict = result
        return bool(verdict)


def _excludes(resolver: Resolver, config: Config) -> tuple[str, ...]:
    overrides = resolver.overrides
    return tuple((overrides.exclude if overrides.exclude is not None else config.excludes) + overrides.extend_exclude)


def _respects_gitignore(resolver: Resolver, config: Config) -> bool:
    respect = resolver.overrides.respect_gitignore
    return config.respect_gitignore if respect is None else respect


def discover(paths: list[str], resolver: Resolver, force_exclude: bool = False) -> Iterator[FileItem]:
    """Files to lint, in a stable order; unreadable ones come with an error instead of being skipped."""
    ignores = _GitIgnores()
    seen: set[Path] = set()
    for given in paths:
        absolute = Path(os.path.abspath(given))
        try:
            info = os.stat(absolute)
        except FileNotFoundError:
            reason = "broken symbolic link" if os.path.islink(absolute) else "no such file or directory"
            yield FileItem(absolute, given, reason)
            continue
        except OSError as exc:
            yield FileItem(absolute, given, exc.strerror or str(exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk(absolute.resolve(), Path(given), resolver, ignores, seen)
            continue
        config = resolver.config_for(absolute)
        if force_exclude or config.force_exclude:
            resolved = absolute.resolve()
            if globset(_excludes(resolver, config)).matches(resolved, config.root):
                continue
            if is_notebook(resolved.name) and not config.included(resolved):
                continue  # `include = ["*.py"]` turns notebooks off in pre-commit too
            if _respects_gitignore(resolver, config) and ignores.ignored(resolved, False):
                continue
        if absolute not in seen:
            seen.add(absolute)
            error = None if stat.S_ISREG(info.st_mode) else "not a regular file"
            yield FileItem(absolute, given, error)


def _walk(root: Path, shown_root: Path, resolver: Resolver, ignores: _GitIgnores, seen: set[Path]) -> Iterator[FileItem]:
    """`root` is resolved once; the paths below it are built from it, never resolved again."""
    stack = [root]
    while stack:
        directory = stack.pop()
        config = resolver.config_for(directory, is_dir=True)
        excludes = globset(_excludes(resolver, config))
        config_root = config.root
        includes = includeset(tuple(config.includes))
        respect_gitignore = _respects_gitignore(resolver, config)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            path = directory / entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name == ".git" or excludes.matches(path, config_root, parents=False):
                    continue
                if respect_gitignore and ignores.ignored(path, True):
                    continue
                subdirs.append(path)
                continue
            if not includes.matches(path, config_root) or excludes.matches(path, config_root, parents=False):
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


def _unreadable(entry: os.DirEntry[str]) -> str | None:
    try:
        info = entry.stat(follow_symlinks=True)
    except FileNotFoundError:
        return "broken symbolic link"
    except OSError as exc:
        return exc.strerror or str(exc)
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    return None
