"""What a script imports from the project's other files: values (`from config import LR`,
`import config as C; C.LR`) and the classes and functions it calls (`from models import Net`,
`from engine import train_one_epoch`).

The engine gives the model a `ProjectModules` (trainlint/project.py), which finds and reads the other
files. A value becomes a value whose trail names the other file and line, so messages say
`lr 0.5 (LR in config.py, line 3)`; it has no source literal in this file, so fixes that rewrite a
literal leave it alone. A class or function is linked: the other module's definitions join this
file's syntax tables (`SyntaxTables.absorb`), so a model class from `models.py` has its layers and a
loop helper from `engine.py` its events, evaluated with the arguments this file passes. Only the
definitions of the modules this file imports from directly are linked, and only in a file that
builds an optimizer (a training script): other files pay nothing. Findings whose place is in the
other file are that file's to report (see `Positions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from trainlint.model.syntax import Class, Function, SyntaxTables, build_tables, walk
from trainlint.model.values import Candidates, ClassRef, FunctionRef, Known, Origin
from trainlint.parsing import parse

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from trainlint.model.evaluator import Evaluator
    from trainlint.project import Definition, ProjectModules

_ORDER_SPAN = 10**8  # source orders of a linked module: below zero, so its code comes before this file's


@dataclass
class Links:
    """What a file links in from the project's other files."""

    by_qualname: dict[str, Class | Function] = field(default_factory=dict)  # `models.Net`
    calls: dict[Class | Function, list[cst.Call]] = field(default_factory=dict)  # this file's calls of each
    files: dict[cst.Module, Definition] = field(default_factory=dict)  # each linked module, and where it is

    def nodes(self) -> dict[int, cst.Module]:
        """The module each node of a linked file belongs to, by the node's id."""
        return {id(node): module for module in self.files for node in walk(module)}

    def callers(self, node: cst.CSTNode) -> tuple[Class | Function | None, list[cst.Call]]:
        """The linked definition that holds `node`, and this file's calls of it in source order: where
        a finding inside a loop helper (`train_one_epoch` in engine.py) or a model class is reported."""
        for definition, calls in self.calls.items():
            if any(inner is node for inner in walk(definition.node)):
                return definition, calls
        return None, []


def link_definitions(tables: SyntaxTables, modules: ProjectModules, triggers: Iterable[str]) -> Links:
    """The classes and functions this file imports from the project and calls, after their modules
    have joined `tables`. Nothing unless the file spells one of `triggers`."""
    links = Links()
    if not any(name in tables.names for name in triggers):
        return links
    taken: dict[Path, SyntaxTables | None] = {}
    for name, bindings in tables.module_scope.bindings.items():
        qualname = bindings[0].qualname
        if len(bindings) != 1 or bindings[0].kind != "import" or not qualname:
            continue
        sites = tables.calls_named(name)
        if not sites:
            continue
        found = modules.definition(qualname)
        if found is None:
            continue
        if found.path not in taken:
            taken[found.path] = _tables_of(found.text, found.path, modules, -_ORDER_SPAN * (len(taken) + 1))
        other = taken[found.path]
        if other is not None and other.module is tables.module:
            other = None  # the file itself (or a copy of it, whose tree is shared): nothing to link
        definition = _defined(other, found.name) if other is not None else None
        if other is None or definition is None:
            continue
        links.by_qualname[qualname] = definition
        links.files[other.module] = found
        links.calls[definition] = [s.node for s in sites if isinstance(s.node.func, cst.Name)]
    for other in taken.values():
        if other is not None and other.module in links.files:
            tables.absorb(other, [d for d in links.by_qualname.values() if d.node in other.functions or d.node in other.classes])
    return links


def _tables_of(text: str, path: Path, modules: ProjectModules, first_order: int) -> SyntaxTables | None:
    try:
        module = parse(text)
    except (cst.ParserSyntaxError, RecursionError, MemoryError):
        return None  # its own lint reports it
    other = build_tables(module, first_order)
    for scope in other.scopes_by_node.values():  # its relative imports count from its own package
        for bindings in scope.bindings.values():
            for binding in bindings:
                if binding.kind == "import" and binding.qualname and binding.qualname.startswith("."):
                    binding.qualname = modules.absolute(binding.qualname, path)
    return other


def _defined(tables: SyntaxTables, name: str) -> Class | Function | None:
    bindings = tables.module_scope.bindings.get(name, [])
    if len(bindings) != 1:
        return None  # defined twice, or conditionally: not known which
    node = bindings[0].node
    return tables.classes.get(node) or tables.functions.get(node)


class ProjectImports:
    def __init__(self, evaluator: Evaluator, modules: ProjectModules, links: Links) -> None:
        self.modules = modules
        self.linked = links.by_qualname
        evaluator.on_import(self._value)

    def _value(self, qualname: str, node: cst.CSTNode) -> Candidates:
        definition = self.linked.get(qualname)
        if isinstance(definition, Class):
            return [Known(ClassRef(definition))]
        if isinstance(definition, Function):
            return [Known(FunctionRef(definition))]
        found = self.modules.value(qualname)
        if found is None:
            return []
        return [Known(found.value, (Origin(found.name, node, f"{found.file}, line {found.line}"),))]
