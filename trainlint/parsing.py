"""libcst's parse, as trainlint runs it: without libcst's check of each node, and once per text;
and CPython's, once per text too.

A script's model also reads the classes and functions it imports from the project's other files
(`from models import Net`), so one run parses a file for its own lint and for the lint of each
script that imports from it, in either order. The last few trees are kept, by text (trees are
never changed, so two models can share one), so that is one parse, and memory stays flat.
"""

from __future__ import annotations

import ast
import threading
import warnings
from dataclasses import dataclass
from typing import Generic, TypeVar

import libcst as cst

_KEPT = 8  # trees kept for the next lint that reads the same text

_parsing = threading.local()
_lock = threading.Lock()  # the server lints in worker threads
T = TypeVar("T")


class _Kept(Generic[T]):
    """The last few results of a parse, by text, the most recent last."""

    def __init__(self) -> None:
        self._by_text: dict[str, T] = {}

    def get(self, text: str) -> T | None:
        with _lock:
            found = self._by_text.pop(text, None)
            if found is not None:
                self._by_text[text] = found
            return found

    def put(self, text: str, value: T) -> None:
        with _lock:
            while len(self._by_text) >= _KEPT:
                del self._by_text[next(iter(self._by_text))]
            self._by_text[text] = value


_trees: _Kept[cst.Module] = _Kept()
_verdicts: _Kept[PythonParse] = _Kept()


def parse(text: str) -> cst.Module:
    """libcst's tree of the code, built without libcst's check of each node: every node is checked
    as it is constructed (`CSTNode.__post_init__`), which is a tenth of the parse and proves nothing
    about a tree its own parser built (libcst's PERF note there says as much). Nodes built anywhere
    else, in this thread or another (a fix's new nodes), are still checked."""
    module = _trees.get(text)
    if module is not None:
        return module
    _parsing.active = True
    try:
        module = cst.parse_module(text)
    finally:
        _parsing.active = False
    _trees.put(text, module)
    return module


@dataclass(frozen=True)
class PythonParse:
    """What trainlint keeps of CPython's parse of a text: its verdict and where the top-level
    statements start (the tree itself is dropped at once: on a large file it is megabytes)."""

    problem: BaseException | None  # None: the code parses
    # Each top-level statement's line, and for a decorated function or class its first decorator's.
    statements: tuple[tuple[int, int | None], ...] = ()


def python_parse(text: str) -> PythonParse:
    """CPython's parse of the code, its warnings about the code silenced. The engine asks for its
    verdict on every file, and the ranges of findings for the lines statements start on: one parse."""
    found = _verdicts.get(text)
    if found is not None:
        return found
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            result = PythonParse(exc.with_traceback(None))  # its frames would hold it: a cycle, kept
        else:
            result = PythonParse(None, tuple((s.lineno, _first_decorator(s)) for s in tree.body))
    _verdicts.put(text, result)
    return result


def _first_decorator(statement: ast.stmt) -> int | None:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and statement.decorator_list:
        return statement.decorator_list[0].lineno
    return None


def _check_unless_parsing(node: cst.CSTNode) -> None:
    if not getattr(_parsing, "active", False):
        node._validate()


cst.CSTNode.__post_init__ = _check_unless_parsing  # type: ignore[method-assign,assignment]
