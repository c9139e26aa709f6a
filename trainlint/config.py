"""`[tool.trainlint]` configuration: discovery, validation and per-file settings."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import sys
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from trainlint.diagnostics import Severity
from trainlint.registry import Rule, SelectorError, expand_selector, find_rule, resolve_selection
from trainlint.settings import LintSettings

# In one directory, the first of these that configures trainlint wins (as ruff's .ruff.toml > ruff.toml > pyproject.toml).
CONFIG_NAMES = (".trainlint.toml", "trainlint.toml", "pyproject.toml")

DEFAULT_EXCLUDE = [
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".trainlint_cache",
    ".venv",
    ".vscode",
    "__pypackages__",
    "__pycache__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
]


# The files a directory walk lints (ruff's `include`): Python files and Jupyter notebooks.
DEFAULT_INCLUDE = ["*.py", "*.ipynb"]


class ConfigError(Exception):
    """A configuration problem: the message names the file and the key."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


@dataclass
class Config:
    path: Path | None  # None: no configuration file, defaults only
    root: Path  # paths in the configuration are relative to this
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    include: list[str] | None = None
    extend_include: list[str] = field(default_factory=list)
    src: list[str] | None = None  # extra folders imports are resolved in, as ruff's `src`
    respect_gitignore: bool = True
    force_exclude: bool = False
    severity: dict[str, Severity] = field(default_factory=dict)
    rules: dict[str, Any] = field(default_factory=dict)  # code -> options instance

    @property
    def excludes(self) -> list[str]:
        return (DEFAULT_EXCLUDE if self.exclude is None else self.exclude) + self.extend_exclude

    @property
    def includes(self) -> list[str]:
        return (DEFAULT_INCLUDE if self.include is None else self.include) + self.extend_include

    def included(self, path: Path) -> bool:
        """Whether a directory walk lints this file (`path` absolute and resolved)."""
        return includeset(tuple(self.includes)).matches(path, self.root)


@dataclass
class Overrides:
    """What the command line (or an editor) says, on top of the configuration file."""

    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    force_exclude: bool | None = None
    respect_gitignore: bool | None = None
    severity: dict[str, Severity] = field(default_factory=dict)


# -- reading and validating --------------------------------------------------------------

_KEYS = {
    "select": "list of rule selectors",
    "extend-select": "list of rule selectors",
    "ignore": "list of rule selectors",
    "per-file-ignores": "table of glob -> list of rule selectors",
    "extend-per-file-ignores": "table of glob -> list of rule selectors",
    "exclude": "list of globs",
    "extend-exclude": "list of globs",
    "include": "list of globs",
    "extend-include": "list of globs",
    "respect-gitignore": "boolean",
    "force-exclude": "boolean",
    "src": "list of folders",
    "severity": "table of rule selector -> 'error' | 'warning' | 'info'",
    "rules": "table of rule code or name -> table of options",
}


def _table(path: Path) -> dict[str, Any] | None:
    """The trainlint table of a file, or None when the file does not configure trainlint."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}", path) from None
    if path.name == "pyproject.toml" and "trainlint" not in text:
        return None  # no key of ours can be in it: not worth the TOML parser (its import alone is a tenth of a small run)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}", path) from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or "trainlint" not in tool:
            return None
        table = tool["trainlint"]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.trainlint] must be a table")
        return table
    return dict(data)


def _prefix(path: Path) -> str:
    return "tool.trainlint." if path.name == "pyproject.toml" else ""


def _check_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return value


def _check_selectors(value: Any, where: str) -> list[str]:
    selectors = _check_list(value, where)
    for selector in selectors:
        try:
            expand_selector(selector)
        except SelectorError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return selectors


def _check_severity(value: Any, where: str) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of rule selector -> severity")
    out: dict[str, Severity] = {}
    for key, level in value.items():
        try:
            codes, _ = expand_selector(key)
        except SelectorError as exc:
            raise ConfigError(f"{where}.{key}: {exc}") from None
        try:
            severity = Severity(level)
        except ValueError:
            raise ConfigError(f"{where}.{key}: severity must be 'error', 'warning' or 'info', got {level!r}") from None
        out.update((code, severity) for code in codes)
    return out


def _check_per_file(value: Any, where: str) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of glob -> list of rule selectors")
    return {glob: _check_selectors(codes, f"{where}.{glob!r}") for glob, codes in value.items()}


def _type_ok(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation in (bool, str):
        return isinstance(value, annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_type_ok(v, item) for v in value)
    if origin is dict:
        key, item = typing.get_args(annotation)
        return isinstance(value, dict) and all(_type_ok(k, key) and _type_ok(v, item) for k, v in value.items())
    return False


def parse_rule_options(rule: type[Rule], value: Any, where: str) -> Any:
    """An options instance for `rule` from a configuration table (dict options merge over the defaults)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of options")
    hints = typing.get_type_hints(rule.Options)
    defaults = rule.Options()
    fields = {f.name.replace("_", "-"): f.name for f in dataclasses.fields(rule.Options)}
    # A table option keyed by torch class names says so: `field(metadata={"keys": "optimizer"})`.
    key_kinds = {f.name: f.metadata.get("keys") for f in dataclasses.fields(rule.Options)}
    changes = {}
    for key, item in value.items():
        name = fields.get(key) or (key if key in hints else None)
        if name is None:
            known = ", ".join(sorted(fields)) or "none"
            raise ConfigError(f"{where}: unknown option {key!r} for {rule.code} (options: {known})")
        if not _type_ok(item, hints[name]):
            raise ConfigError(f"{where}.{key}: expected {_type_name(hints[name])}, got {item!r}")
        kind = key_kinds.get(name)
        if kind is not None:
            _check_class_names(item, kind, f"{where}.{key}")
        default = getattr(defaults, name)
        changes[name] = {**default, **item} if isinstance(default, dict) else item
    try:
        return dataclasses.replace(defaults, **changes)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _check_class_names(table: dict[str, Any], kind: str, where: str) -> None:
    """Each key names a torch class of that kind (`SGD`, `StepLR`): a typo is an error, with the closest name."""
    import difflib

    from trainlint.facts import torch_facts

    names = sorted({f.name for f in torch_facts().of_kind(kind)})
    by_lower = {name.lower(): name for name in names}
    for key in table:
        if key in names:
            continue
        close = [by_lower[key.lower()]] if key.lower() in by_lower else difflib.get_close_matches(key, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(names)
        raise ConfigError(
            f"{where}.{key}: unknown {kind} {key!r}{hint}; the {kind}s of torch {torch_facts().torch_version}: {known}"
        )


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is dict:
        key, item = typing.get_args(annotation)
        return f"a table of {_type_name(key)} -> {_type_name(item)}"
    if typing.get_origin(annotation) is list:
        return f"a list of {_type_name(typing.get_args(annotation)[0])}"
    return {float: "a number", int: "an integer", bool: "true or false", str: "a string"}.get(annotation, str(annotation))


def _check_rules(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a table of rule -> options")
    out = {}
    for key, options in value.items():
        rule = find_rule(key)
        if rule is None:
            raise ConfigError(f"{where}.{key}: no rule has this code or name")
        out[rule.code] = parse_rule_options(rule, options, f"{where}.{key}")
    return out


def load(path: Path) -> Config | None:
    """Read and validate one configuration file; None when it does not configure trainlint."""
    path = path.resolve()
    table = _table(path)
    if table is None:
        return None
    try:
        return from_table(table, path, path.parent)
    except ConfigError as exc:
        raise ConfigError(str(exc), path) from None


def from_table(table: dict[str, Any], path: Path | None, root: Path) -> Config:
    prefix = f"{path}: " if path else ""
    key_prefix = _prefix(path) if path else ""
    config = Config(path=path, root=root)
    per_file: dict[str, dict[str, list[str]]] = {}
    for key, value in table.items():
        where = f"{prefix}{key_prefix}{key}"
        if key not in _KEYS:
            import difflib

            close = difflib.get_close_matches(key, _KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{prefix}unknown key {key_prefix}{key}{hint}; known keys: {', '.join(_KEYS)}")
        if key == "select":
            config.select = _check_selectors(value, where)
        elif key == "extend-select":
            config.extend_select = _check_selectors(value, where)
        elif key == "ignore":
            config.ignore = _check_selectors(value, where)
        elif key in ("per-file-ignores", "extend-per-file-ignores"):
            per_file[key] = _check_per_file(value, where)
        elif key in ("exclude", "extend-exclude", "include", "extend-include", "src"):
            setattr(config, key.replace("-", "_"), _check_list(value, where))
        elif key in ("respect-gitignore", "force-exclude"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false, got {value!r}")
            setattr(config, key.replace("-", "_"), value)
        elif key == "severity":
            config.severity = _check_severity(value, where)
        elif key == "rules":
            config.rules = _check_rules(value, where)
    # extend-per-file-ignores adds to per-file-ignores, glob by glob (as in ruff), whatever the order.
    config.per_file_ignores = dict(per_file.get("per-file-ignores", {}))
    for glob, selectors in per_file.get("extend-per-file-ignores", {}).items():
        config.per_file_ignores[glob] = config.per_file_ignores.get(glob, []) + selectors
    return config


def find(directory: Path, memo: dict[Path, Path | None] | None = None) -> Path | None:
    """The nearest configuration file at or above `directory` (`memo`: answers for folders seen)."""
    if memo is not None and directory in memo:
        return memo[directory]
    found = None
    for name in CONFIG_NAMES:
        candidate = directory / name
        if candidate.is_file() and _table(candidate) is not None:
            found = candidate
            break
    else:
        if directory.parent != directory:
            found = find(directory.parent, memo)
    if memo is not None:
        memo[directory] = found
    return found


def parse_per_file_ignores(entries: list[str]) -> dict[str, list[str]]:
    """ruff's command-line syntax: `GLOB:CODE,CODE`."""
    out: dict[str, list[str]] = {}
    for entry in entries:
        glob, sep, codes = entry.rpartition(":")
        if not sep or not glob:
            raise ConfigError(f"--per-file-ignores {entry!r}: expected GLOB:CODE[,CODE...]")
        out.setdefault(glob, []).extend(
            _check_selectors([c.strip() for c in codes.split(",") if c.strip()], f"--per-file-ignores {entry!r}")
        )
    return out


class GlobSet:
    """Globs matched at once (one compiled regex) against a path's basename, its path relative to
    a root, or its absolute path."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        parts = [fnmatch.translate(p.rstrip("/")) for p in patterns if p.rstrip("/")]
        self._regex = re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None

    def matches(self, path: Path, root: Path, parents: bool = True) -> bool:
        """`path` and `root` absolute and resolved. `parents`: a pattern naming a folder matches the
        files below it too (discovery, which prunes folders as it goes, needs not ask)."""
        if self._regex is None:
            return False
        match = self._regex.match
        absolute = path.as_posix()
        if match(path.name) or match(absolute):
            return True
        root_text = root.as_posix().rstrip("/") + "/"
        if not absolute.startswith(root_text):
            return False
        relative = absolute[len(root_text) :]
        if match(relative):
            return True
        if parents:
            parts = relative.split("/")
            return any(match("/".join(parts[: i + 1])) for i in range(len(parts) - 1))  # `tests` matches tests/x.py
        return False


@lru_cache(maxsize=256)
def globset(patterns: tuple[str, ...]) -> GlobSet:
    return GlobSet(patterns)


class IncludeSet:
    """The include globs; `*.py`-style ones (all of the defaults) are a suffix test, which a walk
    over folders of images and data files does for every file."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        simple = [p for p in patterns if p.startswith("*.") and not any(c in p[2:] for c in "*?[]/")]
        self._suffixes = tuple(p[1:] for p in simple)
        self._others = globset(tuple(p for p in patterns if p not in simple))

    def matches(self, path: Path, root: Path) -> bool:
        return path.name.endswith(self._suffixes) or self._others.matches(path, root, parents=False)


@lru_cache(maxsize=64)
def includeset(patterns: tuple[str, ...]) -> IncludeSet:
    return IncludeSet(patterns)


def glob_matches(pattern: str, path: Path, root: Path) -> bool:
    """A pattern matches a path's basename, its path relative to `root`, or its absolute path."""
    return globset((pattern,)).matches(path.resolve(), root.resolve())


# -- per-file settings ------------------------------------------------------------------------


PREFERENCES = ("editorFirst", "filesystemFirst", "editorOnly")


class Resolver:
    """Settings for each file: its nearest configuration file (or `--config`), plus overrides.

    `preference` says which wins when both say something (ruff's
    configurationPreference): the overrides (the command line, the editor),
    the configuration file, or the overrides alone. The language server makes
    it `tolerant` (a broken file is reported in `errors` and the last good
    configuration of that file is used) and `revalidating` (edited
    configuration files are re-read).
    """

    def __init__(
        self,
        overrides: Overrides | None = None,
        config_path: Path | None = None,
        cwd: Path | None = None,
        preference: str = "editorFirst",
        tolerant: bool = False,
        revalidate: bool = False,
        last_good: dict[Path, Config] | None = None,
    ) -> None:
        self.overrides = overrides or Overrides()
        self.cwd = (cwd or Path.cwd()).resolve()
        self.preference = preference
        self.tolerant = tolerant
        self.revalidate = revalidate
        self.errors: list[str] = []
        # Configuration files used instead of non-empty overrides (filesystemFirst): the language
        # server tells the user, since the editor's settings then do nothing for those files.
        self.set_aside_by: set[Path] = set()
        self.last_good_configs: dict[Path, Config] = last_good if last_good is not None else {}
        self.fixed = self._load_explicit(config_path) if config_path else None
        self._by_dir: dict[Path, tuple[Config, Stamp]] = {}
        self._found: dict[Path, Path | None] = {}
        self._resolved: dict[Path, Path] = {}  # folder as given -> resolved
        self._loaded: dict[Path, Config] = {}  # one Config per file, shared by the folders below it
        self._settings: dict[tuple[int, tuple[str, ...]], tuple[Config, LintSettings]] = {}

    def _load_explicit(self, path: Path) -> Config:
        if not path.is_file():
            raise ConfigError(f"{path}: no such configuration file")
        table = _table(path.resolve())
        return from_table(table or {}, path.resolve(), path.resolve().parent)

    def config_for(self, path: Path, is_dir: bool | None = None) -> Config:
        """The configuration of a file or folder (`is_dir` saves a stat when the caller knows)."""
        if self.fixed is not None:
            return self.fixed
        folder = path if (path.is_dir() if is_dir is None else is_dir) else path.parent
        directory = self._resolved.get(folder)
        if directory is None:
            directory = self._resolved[folder] = folder.resolve()
        if self.preference == "editorOnly":
            return self._by_dir.setdefault(directory, (Config(path=None, root=self.cwd), ()))[0]
        stamp = _stamp(directory) if self.revalidate else ()
        cached = self._by_dir.get(directory)
        if cached is not None and cached[1] == stamp:
            return cached[0]
        try:
            found = find(directory, None if self.revalidate else self._found)
            loaded = self._loaded.get(found) if found else None
            if loaded is None:
                # load() is None when the file stopped configuring trainlint since find() read it.
                loaded = (load(found) if found else None) or Config(path=None, root=self.cwd)
                if found and not self.revalidate:
                    self._loaded[found] = loaded
            config = loaded
            if found:
                self.last_good_configs[found.resolve()] = config
        except ConfigError as exc:
            if not self.tolerant:
                raise
            self.errors.append(str(exc))
            last_good = self.last_good_configs.get(exc.path) if exc.path else None
            config = last_good or Config(path=None, root=exc.path.parent if exc.path else self.cwd)
        self._by_dir[directory] = (config, stamp)
        return config

    def forget(self) -> None:
        """Re-read configuration files on the next lookup (the last good ones stay known)."""
        self._by_dir.clear()
        self._settings.clear()
        self._found.clear()
        self._loaded.clear()
        self._resolved.clear()

    def settings_for(self, path: Path) -> LintSettings:
        """The settings a file is linted with."""
        config = self.config_for(path, is_dir=False)
        o = self.overrides
        ignored = [
            selector
            for table in (config.per_file_ignores, o.per_file_ignores)
            for glob, selectors in table.items()
            if glob_matches(glob, path, config.root if table is config.per_file_ignores else self.cwd)
            for selector in selectors
        ]
        key = (id(config), tuple(ignored))
        entry = self._settings.get(key)
        cached = entry[1] if entry is not None and entry[0] is config else None
        if cached is None:
            if self.preference == "filesystemFirst" and config.path is not None:
                if o != Overrides():
                    self.set_aside_by.add(config.path)
                o = Overrides()  # a configuration file applies: the editor's settings step aside
            select = o.select if o.select is not None else config.select  # None: the default set
            enabled = resolve_selection(select, config.extend_select + o.extend_select, config.ignore + o.ignore)
            # Per-file ignores remove codes whatever selected them.
            enabled -= {code for selector in ignored for code in expand_selector(selector)[0]}
            root = str(config.root) if config.path is not None else None
            sources = tuple(str((config.root / folder).resolve()) for folder in config.src or ())
            cached = LintSettings(enabled, {**config.severity, **o.severity}, dict(config.rules), root, sources)
            self._settings[key] = (config, cached)
        return cached


Stamp = tuple[tuple[str, int, int], ...]


def _stamp(directory: Path) -> Stamp:
    """What the configuration files above a directory look like now (to notice edits)."""
    out = []
    for folder in (directory, *directory.parents):
        for name in CONFIG_NAMES:
            try:
                info = (folder / name).stat()
            except OSError:
                continue
            out.append((str(folder / name), info.st_mtime_ns, info.st_size))
    return tuple(out)
