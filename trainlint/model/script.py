"""The script model: one per file, built once, queried by every rule.

It holds the syntax tables of one pass over the module and derives everything
else lazily (the evaluator, argparse options, torch objects, nn.Module
classes), so a rule pays only for what it asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from trainlint.facts import TorchFacts, torch_facts
from trainlint.model.cli_args import ArgparseModel
from trainlint.model.positions import Positions
from trainlint.model.syntax import CallSite, Class, Function, Store, SyntaxTables, build_tables, dotted_name
from trainlint.model.values import (
    MODULE_FRAME,
    Argument,
    BoundArguments,
    ClassRef,
    Evaluator,
    Frame,
    FunctionRef,
    Known,
    Mapping,
)

if TYPE_CHECKING:
    from trainlint.diagnostics import Span
    from trainlint.model.torch_objects import TorchModel

_DATACLASS_DECORATORS = {"dataclasses.dataclass", "attr.s", "attr.define", "attrs.define", "attrs.frozen", "attr.frozen"}


def _callee_key(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


class ScriptModel:
    def __init__(self, module: cst.Module, path: str = "<string>", facts: TorchFacts | None = None) -> None:
        self.module = module
        self.path = path
        self.facts = facts or torch_facts()
        self.tables: SyntaxTables = build_tables(module)
        self.module_frame = MODULE_FRAME
        self.positions = Positions(module)
        self._calls_of_cache: dict[Function, list[tuple[CallSite, Frame]]] = {}

    # -- shared services ----------------------------------------------------------

    @cached_property
    def evaluator(self) -> Evaluator:
        return Evaluator(self)

    @cached_property
    def argparse(self) -> ArgparseModel:
        return ArgparseModel(self)

    @cached_property
    def torch(self) -> TorchModel:
        from trainlint.model.torch_objects import TorchModel

        return TorchModel(self)

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def span(self, node: cst.CSTNode) -> Span:
        return self.positions.span(node)

    # -- calls ------------------------------------------------------------------------

    @cached_property
    def _sites_by_node(self) -> dict[cst.Call, CallSite]:
        return {site.node: site for site in self.tables.calls}

    @cached_property
    def _sites_by_name(self) -> dict[str, list[CallSite]]:
        out: dict[str, list[CallSite]] = {}
        for site in self.tables.calls:
            key = _callee_key(site.node.func)
            if key is not None:
                out.setdefault(key, []).append(site)
        return out

    def call_site(self, node: cst.Call) -> CallSite | None:
        return self._sites_by_node.get(node)

    def calls_named(self, *names: str) -> list[CallSite]:
        """Call sites whose callee is `name(...)` or `<anything>.name(...)`."""
        out: list[CallSite] = []
        for name in names:
            out.extend(self._sites_by_name.get(name, ()))
        return out

    def method_calls(self, name: str) -> Iterator[tuple[CallSite, Known]]:
        """`obj.name(...)` call sites, each with every value `obj` may have there."""
        for site in self.calls_named(name):
            func = site.node.func
            if isinstance(func, cst.Attribute):
                frame = self.frame_of(site)
                for base in self.evaluator.eval(func.value, site.scope, frame):
                    yield site, base

    def frame_of(self, site: CallSite) -> Frame:
        return Frame(site.function) if site.function is not None else MODULE_FRAME

    def calls_of(self, function: Function) -> list[tuple[CallSite, Frame]]:
        """The call sites of a function of this file, each with the frame it runs in."""
        cached = self._calls_of_cache.get(function)
        if cached is not None:
            return cached
        self._calls_of_cache[function] = []  # recursion guard
        names = [function.name]
        if function.name == "__init__" and function.cls is not None:
            names += [c.name for c in self.tables.classes.values() if self._init_of(c) is function]
        found = []
        ev = self.evaluator
        for site in self.calls_named(*names):
            frame = self.frame_of(site)
            for callee in ev.eval(site.node.func, site.scope, frame):
                target = callee.value
                if isinstance(target, FunctionRef) and target.function is function:
                    found.append((site, frame))
                    break
                if isinstance(target, ClassRef) and self._init_of(target.cls) is function:
                    found.append((site, frame))
                    break
        self._calls_of_cache[function] = found
        return found

    def _init_of(self, cls: Class) -> Function | None:
        for klass in self.mro(cls):
            if "__init__" in klass.methods:
                return klass.methods["__init__"]
        return None

    def bind_call(self, function: Function, site: CallSite, caller: Frame) -> BoundArguments:
        """Which argument of the call at `site` each parameter of `function` receives."""
        params = function.params
        positional = [p.name.value for p in (*params.posonly_params, *params.params)]
        func = site.node.func
        cls = function.cls
        skip_self = cls is not None and not self._is_static(function)
        if (
            skip_self
            and isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and cls
            and func.value.value == cls.name
        ):
            skip_self = False  # Class.method(obj, ...): self passed explicitly
        if skip_self and isinstance(func, cst.Attribute) and func.attr.value == "__init__" and isinstance(func.value, cst.Name):
            skip_self = False  # Base.__init__(self, ...)
        if skip_self and positional:
            positional = positional[1:]
        return self.bind_arguments(site, positional, caller)

    def bind_arguments(self, site: CallSite, positional: Iterable[str], frame: Frame) -> BoundArguments:
        """Bind a call's arguments to parameters: positionally in this order, else by keyword."""
        positional = list(positional)
        arguments: dict[str, Argument] = {}
        complete = True
        index = 0
        for arg in site.node.args:
            if arg.star == "*":
                complete = False
                index = len(positional)  # later positionals are unknowable
            elif arg.star == "**":
                spread = self.evaluator.single(arg.value, site.scope, frame)
                if spread is not None and isinstance(spread.value, Mapping) and not self.evaluator.mapping_mutated(spread.value):
                    mapping = spread.value
                    for key, expr in mapping.entries.items():
                        if isinstance(key, str):
                            label = self.evaluator.mapping_label(mapping, key)
                            arguments.setdefault(key, Argument(expr, mapping.scope, mapping.frame, expr, label))
                else:
                    complete = False
            elif arg.keyword is not None:
                arguments[arg.keyword.value] = Argument(arg.value, site.scope, frame, arg)
            else:
                if index < len(positional):
                    arguments[positional[index]] = Argument(arg.value, site.scope, frame, arg)
                index += 1
        return BoundArguments(arguments, complete)

    def _is_static(self, function: Function) -> bool:
        return any(dotted_name(d.decorator) == "staticmethod" for d in getattr(function.node, "decorators", ()))

    # -- classes ----------------------------------------------------------------------

    def first_param(self, function: Function) -> cst.Param | None:
        params = function.params
        ordered = [*params.posonly_params, *params.params]
        return ordered[0] if ordered and not self._is_static(function) else None

    def first_param_name(self, function: Function) -> str | None:
        param = self.first_param(function)
        return param.name.value if param is not None else None

    def base_classes(self, cls: Class) -> list[Class]:
        out = []
        for arg in cls.node.bases:
            for known in self.evaluator.eval(arg.value, cls.outer):
                if isinstance(known.value, ClassRef) and known.value.cls is not cls:
                    out.append(known.value.cls)
        return out

    def base_qualnames(self, cls: Class) -> list[str]:
        out = []
        for arg in cls.node.bases:
            name = self.evaluator.qualname(arg.value, cls.outer)
            if name:
                out.append(name)
        return out

    def mro(self, cls: Class) -> list[Class]:
        """The class and its in-file bases, depth first (enough for single inheritance)."""
        out: list[Class] = []
        stack = [cls]
        while stack and len(out) < 50:
            klass = stack.pop(0)
            if klass not in out:
                out.append(klass)
                stack.extend(self.base_classes(klass))
        return out

    def is_subclass(self, cls: Class, base: Class) -> bool:
        return base in self.mro(cls)

    def all_methods(self, cls: Class) -> dict[str, Function]:
        out: dict[str, Function] = {}
        for klass in reversed(self.mro(cls)):
            out.update(klass.methods)
        return out

    def instance_stores(self, cls: Class, attr: str) -> list[Store]:
        """`self.<attr> = ...` in the methods of the class and its in-file bases."""
        classes = self.mro(cls)
        out = []
        for store in self.tables.attribute_stores.get(attr, ()):
            function = store.function
            if function is None or function.cls not in classes:
                continue
            if isinstance(store.base, cst.Name) and store.base.value == self.first_param_name(function):
                out.append(store)
        return out

    def is_dataclass(self, cls: Class) -> bool:
        for decorator in cls.node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if self.evaluator.qualname(expr, cls.outer) in _DATACLASS_DECORATORS:
                return True
        return False

    def dataclass_fields(self, cls: Class) -> list[str]:
        fields: list[str] = []
        for klass in reversed(self.mro(cls)):
            for stmt in klass.node.body.body:
                if isinstance(stmt, cst.SimpleStatementLine):
                    for small in stmt.body:
                        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                            if small.target.value not in fields:
                                fields.append(small.target.value)
        return fields

    def bind_fields(self, cls: Class, site: CallSite, frame: Frame) -> BoundArguments:
        return self.bind_arguments(site, self.dataclass_fields(cls), frame)
