"""The other modules of a project: values a script imports from them (`from config import LR`).

A module is found as Python would find it when the script runs, but only among the project's own
files: the script's folder first (`python train.py` puts it first on `sys.path`), then the project
root (the folder of the configuration file) and its `src/`. Relative imports count from the
script's package. Nothing is ever imported or run, and site-packages is never searched.

Each other file is read once per process, with `ast` (a tenth of libcst's cost), into a summary of
its module-level constants: literals and arithmetic on them, class attributes (`Config.lr`), and
names it imports in turn (`from .defaults import LR`). A name assigned more than once is not a
constant. Each lookup records the files it read with their content hash, so that a cached result
can be checked against them later.
"""

from __future__ import annotations

import ast
import hashlib
import operator
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from trainlint.configfiles import CONFIG_SUFFIXES, Table, parse

_STANDARD = frozenset(getattr(sys, "stdlib_module_names", ()))
_MAX_BYTES = 2_000_000  # a bigger "module" is generated data, not configuration
_MAX_HOPS = 4  # re-exports followed from one module to the next
_DEFINITION = re.compile(rb"^(?:class|def|async[ \t]+def)[ \t]+(\w+)", re.MULTILINE)


@dataclass(frozen=True)
class ExternalValue:
    value: Any
    name: str  # as written in the other file: `LR`, `Config.lr`
    file: str  # the other file, relative to the importing script's folder when inside it
    line: int


@dataclass(frozen=True)
class Definition:
    """A class or function defined at the top level of another file of the project."""

    name: str
    path: Path
    text: str
    shown: str  # the file as messages name it


@dataclass
class ModuleSummary:
    constants: dict[str, tuple[Any, int]] = field(default_factory=dict)  # name -> (value, line)
    imports: dict[str, str] = field(default_factory=dict)  # local name -> the qualname it imports
    # name -> (expression, line) of a constant computed from names the module imports
    # (`LR = BASE_LR * BATCH / 256` after `from defaults import BASE_LR, BATCH`): known once those are.
    derived: dict[str, tuple[ast.expr, int]] = field(default_factory=dict)


@dataclass
class _Read:
    stamp: tuple[int, int]  # (mtime_ns, size) when read
    digest: str
    data: bytes | None  # until summarized
    _summary: ModuleSummary | None = None
    config: Table | None = None  # when read as a configuration file
    # The classes and functions the module defines at its top level (`class Net`, `def train`).
    definitions: frozenset[str] = frozenset()

    def summary(self, name: str) -> ModuleSummary | None:
        """The file's summary, when `name` may be one of its constants or re-exports. Most imported
        names are classes and functions (`from models import Net`): a text search spares their file
        the parse."""
        if self.data is not None:
            if not _may_define(self.data, name):
                return None
            self._summary = _summarize(self.data)
            self.data = None
        return self._summary


def _may_define(data: bytes, name: str) -> bool:
    """Whether `name` may be a constant or a re-export of the module: assigned at the start of a line,
    imported (`from x import name`, or on a line of its own in a parenthesized import), or, for
    `Config.lr`, a class. Only the lines the word occurs on are looked at."""
    head, dot, _ = name.partition(".")
    word = head.encode()
    for match in re.finditer(rb"\b" + re.escape(word) + rb"\b", data):
        start = data.rfind(b"\n", 0, match.start()) + 1
        before = data[start : match.start()]
        after = data[match.end() : match.end() + 40].lstrip(b" \t")
        if not before and after[:1] in (b":", b"="):
            return True
        if before.startswith(b"from ") and b" import" in before:
            return True
        if before and not before.strip() and (after[:1] in (b",", b")", b"\n", b"\r", b"") or after.startswith(b"as ")):
            return True  # `    name,` inside `from x import (...)`
        if dot and before.startswith(b"class") and before.strip() == b"class":
            return True
    return False


# Summaries by file, for the whole process: the server and `check --watch` lint many times.
_READS: dict[Path, _Read] = {}
# Folder listings, by folder, with the folder's stamp when listed.
_LISTINGS: dict[str, tuple[str, frozenset[str]]] = {}


def digest_of(path: Path) -> str | None:
    """The content hash a dependency is recorded with (None: the file is gone or unreadable)."""
    read = _read(path)
    return read.digest if read is not None else None


def _read(path: Path) -> _Read | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    known = _READS.get(path)
    if known is not None and known.stamp == stamp:
        return known
    try:
        data = path.read_bytes() if stat.st_size <= _MAX_BYTES else b""
    except OSError:
        return None
    definitions = frozenset(m.decode() for m in _DEFINITION.findall(data))
    read = _Read(stamp, hashlib.sha256(data).hexdigest(), data or None, definitions=definitions)
    _READS[path] = read
    return read


@lru_cache(maxsize=1024)
def real_folder(folder: str) -> Path | None:
    """The folder with its symbolic links resolved, as `python train.py` puts it first on sys.path;
    None when it is not a folder. Once per folder: most linted files share theirs."""
    path = Path(folder)
    return path.resolve() if path.is_dir() else None


@lru_cache(maxsize=1024)
def repository_root(folder: Path) -> Path | None:
    """The git repository holding `folder` (the project root when no configuration file marks one:
    pre-commit passes only the changed files, from anywhere in the tree)."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


class ProjectModules:
    """The project's modules as one script sees them."""

    def __init__(
        self, script: Path, root: Path | None, sources: tuple[Path, ...] = (), linkable: Callable[[str], bool] | None = None
    ) -> None:
        self.script = script
        # Whether a file's classes and functions are worth taking into the script's model: the engine
        # says no when no enabled rule could use its text (a logging helper), as its own lint skips it.
        self.linkable = linkable
        self._linkable: dict[Path, bool] = {}
        folders = [script.parent]
        if root is not None:
            folders += [root, root / "src"]
        folders += sources
        self.folders = tuple(dict.fromkeys(f for f in folders if f.is_dir()))
        # What the lookups depended on, to check a cached result against: each file read (its content
        # hash) and each folder searched (its modification time, which changes when a file appears).
        self.reads: dict[str, str] = {}
        self._found: dict[str, ExternalValue | None] = {}

    def value(self, qualname: str) -> ExternalValue | None:
        """The constant `qualname` names in one of the project's files: `config.LR`, `..cfg.Config.lr`."""
        if qualname not in self._found:
            top = qualname.split(".", 1)[0]
            standard = top in _STANDARD  # `os.path`, `math.pi`: not the project's, whatever it holds
            self._found[qualname] = None if standard else self._lookup(qualname, self.script.parent, _MAX_HOPS)
        return self._found[qualname]

    def definition(self, qualname: str) -> Definition | None:
        """The class or function `qualname` names in one of the project's files (`models.Net`,
        `.engine.train_one_epoch`), following re-exports (`from .net import Net` in an `__init__.py`)."""
        return self._definition(qualname, self.script.parent, _MAX_HOPS)

    def _definition(self, qualname: str, package: Path, hops: int) -> Definition | None:
        if qualname.split(".", 1)[0] in _STANDARD:
            return None
        located = self._locate(qualname, package)
        if located is None:
            return None
        path, name = located
        read = _read(path)
        if read is None or "." in name:
            return None
        self.reads[str(path)] = read.digest
        if name in read.definitions:
            try:
                data = path.read_bytes()
                text = data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            if hashlib.sha256(data).hexdigest() != read.digest:
                return None  # changed since it was read: the recorded dependency would not match
            if self.linkable is not None:
                if path not in self._linkable:
                    self._linkable[path] = self.linkable(text)
                if not self._linkable[path]:
                    return None
            return Definition(name, path, text, self._shown(path))
        summary = read.summary(name)
        imported = summary.imports.get(name) if summary is not None else None
        if imported is None or hops == 0:
            return None
        return self._definition(imported, path.parent, hops - 1)

    def absolute(self, qualname: str, importer: Path) -> str | None:
        """A relative import written in another file of the project (`.blocks.Block` in
        `pkg/models/net.py`), as this script would import it (`pkg.models.blocks.Block`)."""
        dots = len(qualname) - len(qualname.lstrip("."))
        if not dots:
            return qualname
        for folder in self.folders:
            try:
                parts = importer.relative_to(folder).with_suffix("").parts
            except ValueError:
                continue
            package = list(parts[:-1])  # a module's package, and an `__init__.py`'s own
            if dots - 1 > len(package):
                return None
            package = package[: len(package) - (dots - 1)]
            return ".".join([*package, qualname[dots:]]) if package else qualname[dots:]
        return None

    def config(self, written: str) -> tuple[Table, str] | None:
        """(the top-level table, the file as shown) of a configuration file a script reads by a
        relative path (`configs/train.yaml`): from the script's folder or the project root, where
        `python train.py` is usually run."""
        relative = Path(written)
        if relative.is_absolute() or relative.suffix.lower() not in CONFIG_SUFFIXES:
            return None
        for folder in self.folders[:2]:
            path = folder / relative
            read = _read(path)
            self.reads[str(path)] = read.digest if read is not None else "missing"
            if read is None:
                continue
            if read.config is None:
                read.config = parse(read.data or b"", relative.suffix.lower())
            return (read.config, self._shown(path)) if read.config is not None else None
        return None

    def _lookup(self, qualname: str, package: Path, hops: int) -> ExternalValue | None:
        located = self._locate(qualname, package)
        if located is None:
            return None
        path, name = located
        read = _read(path)
        if read is None:
            return None
        self.reads[str(path)] = read.digest
        summary = read.summary(name)
        if summary is None:
            return None
        if name in summary.constants:
            value, line = summary.constants[name]
            return ExternalValue(value, name, self._shown(path), line)
        if name in summary.derived and hops > 0:
            expression, line = summary.derived[name]

            def imported_value(local: str) -> tuple[bool, Any]:
                qualname = summary.imports.get(local)
                found = self._lookup(qualname, path.parent, hops - 1) if qualname is not None else None
                return (True, found.value) if found is not None else (False, None)

            ok, value = _constant(expression, summary.constants, imported_value)
            return ExternalValue(value, name, self._shown(path), line) if ok else None
        head, _, rest = name.partition(".")
        imported = summary.imports.get(head)
        if imported is not None and hops > 0:  # `from .defaults import LR` in config.py
            return self._lookup(imported + ("." + rest if rest else ""), path.parent, hops - 1)
        return None

    def _locate(self, qualname: str, package: Path) -> tuple[Path, str] | None:
        """(the file, the name inside it) for a qualname: the longest module prefix that is a file."""
        dots = len(qualname) - len(qualname.lstrip("."))
        parts = qualname[dots:].split(".")
        if dots:
            base = package
            for _ in range(dots - 1):
                base = base.parent
            folders: tuple[Path, ...] = (base,)
        else:
            folders = self.folders
        for folder in folders:
            self._searched(folder)
            if not dots and not self._holds(folder, parts[0]):
                continue  # the usual case, `torch` or `os`
            for split in range(len(parts) - 1, 0, -1):
                module = folder.joinpath(*parts[:split])
                if split > 1:
                    self._searched(module.parent)
                for candidate in (module.with_name(module.name + ".py"), module / "__init__.py"):
                    if candidate.is_file():
                        return candidate, ".".join(parts[split:])
        return None

    def _searched(self, folder: Path) -> None:
        key = str(folder)
        if key not in self.reads:
            self.reads[key] = _folder_stamp(folder)

    def _holds(self, folder: Path, name: str) -> bool:
        """Whether a searched folder holds the module or package `name`: from its listing, read again
        only when the folder changes (each import of a script asks, for every folder searched)."""
        key = str(folder)
        stamp = self.reads[key]
        listed = _LISTINGS.get(key)
        if listed is None or listed[0] != stamp:
            try:
                entries = frozenset(os.listdir(folder))
            except OSError:
                entries = frozenset()
            listed = _LISTINGS[key] = (stamp, entries)
        return name in listed[1] or name + ".py" in listed[1]

    def _shown(self, path: Path) -> str:
        try:
            return path.relative_to(self.script.parent).as_posix()
        except ValueError:
            return os.path.relpath(path, self.script.parent).replace(os.sep, "/")


def _folder_stamp(folder: Path) -> str:
    try:
        return f"folder {folder.stat().st_mtime_ns}"
    except OSError:
        return "folder missing"


def unchanged(dependencies: dict[str, str]) -> bool:
    """Whether every file and folder a lint depended on is as it was (a cached result still holds)."""
    for key, recorded in dependencies.items():
        path = Path(key)
        now = _folder_stamp(path) if recorded.startswith("folder ") else digest_of(path) or "missing"
        if now != recorded:
            return False
    return True


# -- summaries -------------------------------------------------------------------------------------

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}


def _summarize(data: bytes) -> ModuleSummary | None:
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    summary = ModuleSummary()
    counts: dict[str, int] = {}
    for node in ast.walk(tree):  # every binding at any depth: a name bound twice is not a constant
        for name in _bound_names(node):
            counts[name] = counts.get(name, 0) + 1
    for statement in tree.body:
        if isinstance(statement, ast.ClassDef) and _plain_class(statement):
            _class_constants(statement, summary)
        elif isinstance(statement, ast.ImportFrom):
            module = "." * statement.level + (statement.module or "")
            for alias in statement.names:
                summary.imports[alias.asname or alias.name] = (
                    f"{module}.{alias.name}" if module.strip(".") else module + alias.name
                )
        target, value = _assignment(statement)
        if target is not None and value is not None and counts.get(target) == 1:
            ok, known = _constant(value, summary.constants)
            if ok:
                summary.constants[target] = (known, statement.lineno)
            elif _names_in(value) & summary.imports.keys():
                summary.derived[target] = (value, statement.lineno)
    return summary


def _names_in(node: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _plain_class(node: ast.ClassDef) -> bool:
    """A class whose attributes are what they are assigned: no bases (an Enum's attributes are its
    members, a NamedTuple's are fields) and no metaclass."""
    return all(isinstance(b, ast.Name) and b.id == "object" for b in node.bases) and not node.keywords


def _class_constants(node: ast.ClassDef, summary: ModuleSummary) -> None:
    """`Config.lr` for `class Config: lr = 0.1` (a config class read through its attributes)."""
    local: dict[str, tuple[Any, int]] = {}
    assigned: dict[str, int] = {}
    for statement in node.body:
        target, value = _assignment(statement)
        if target is not None:
            assigned[target] = assigned.get(target, 0) + 1
            if value is not None:
                ok, known = _constant(value, local)
                if ok:
                    local[target] = (known, statement.lineno)
    for name, entry in local.items():
        if assigned[name] == 1:
            summary.constants[f"{node.name}.{name}"] = entry


def _assignment(statement: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id, statement.value
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id, statement.value
    return None, None


def _bound_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        return [node.id]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    return []


def _constant(
    node: ast.expr, known: dict[str, tuple[Any, int]], imported: Callable[[str], tuple[bool, Any]] | None = None
) -> tuple[bool, Any]:
    """A literal, a name of a constant before it, or arithmetic on those (`0.1 * BATCH / 256`); with
    `imported`, also a name the module imports (what that answers for it)."""
    if isinstance(node, ast.Name) and node.id in known:
        return True, known[node.id][0]
    if isinstance(node, ast.Name) and imported is not None:
        return imported(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        ok_left, left = _constant(node.left, known, imported)
        ok_right, right = _constant(node.right, known, imported)
        if ok_left and ok_right and _is_number(left) and _is_number(right):
            if isinstance(node.op, ast.Pow) and abs(right) > 64:
                return False, None  # `10 ** 10 ** 9` would take forever
            try:
                return True, _BINARY[type(node.op)](left, right)
            except (ArithmeticError, ValueError, OverflowError):
                return False, None
        return False, None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        ok, value = _constant(node.operand, known, imported)
        return (True, -value if isinstance(node.op, ast.USub) else value) if ok and _is_number(value) else (False, None)
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
