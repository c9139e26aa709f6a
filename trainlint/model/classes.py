"""Which class is which: the in-file hierarchy of a class, its methods, `self.` stores and dataclass fields.

Part of the evaluator layer: a class's bases and decorators are expressions the evaluator evaluates,
and the evaluator asks these questions when it follows `self.x` or binds a call (`evaluator.classes`).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import libcst as cst

from trainlint.model.syntax import CallSite, Class, Function, Store
from trainlint.model.values import BoundArguments, ClassRef, Frame

if TYPE_CHECKING:
    from trainlint.model.evaluator import Evaluator

DATACLASS_DECORATORS = {"dataclasses.dataclass", "attr.s", "attr.define", "attrs.define", "attrs.frozen", "attr.frozen"}


class ClassQueries:
    def __init__(self, evaluator: Evaluator) -> None:
        self.ev: Evaluator = weakref.proxy(evaluator)  # the evaluator owns these queries
        self.tables = evaluator.tables
        self._mro: dict[Class, list[Class]] = {}  # asked for on every `self.x`: a class's is computed once
        self._self_stores: dict[str, dict[Class, list[Store]]] = {}

    def base_classes(self, cls: Class) -> list[Class]:
        out = []
        for arg in cls.node.bases:
            for known in self.ev.eval(arg.value, cls.outer):
                if isinstance(known.value, ClassRef) and known.value.cls is not cls:
                    out.append(known.value.cls)
        return out

    def base_qualnames(self, cls: Class) -> list[str]:
        out = []
        for arg in cls.node.bases:
            name = self.ev.qualname(arg.value, cls.outer)
            if name:
                out.append(name)
        return out

    def mro(self, cls: Class) -> list[Class]:
        """The class and its in-file bases, depth first (enough for single inheritance). Not to be changed."""
        known = self._mro.get(cls)
        if known is None:
            known = self._mro[cls] = self._compute_mro(cls)
        return known

    def _compute_mro(self, cls: Class) -> list[Class]:
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

    def init_of(self, cls: Class) -> Function | None:
        for klass in self.mro(cls):
            if "__init__" in klass.methods:
                return klass.methods["__init__"]
        return None

    def instance_stores(self, cls: Class, attr: str) -> list[Store]:
        """`self.<attr> = ...` in the methods of the class and its in-file bases, in source order."""
        by_class = self._self_stores.get(attr)
        if by_class is None:  # indexed once per name: every class's `self.<attr>` asks
            by_class = self._self_stores[attr] = {}
            for store in self.tables.attribute_stores.get(attr, ()):
                function = store.function
                if function is None or function.cls is None:
                    continue
                if isinstance(store.base, cst.Name) and store.base.value == function.first_param_name:
                    by_class.setdefault(function.cls, []).append(store)
        out = [store for klass in self.mro(cls) for store in by_class.get(klass, ())]
        return sorted(out, key=lambda store: store.order) if len(out) > 1 else out

    def is_dataclass(self, cls: Class) -> bool:
        for decorator in cls.node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            if self.ev.qualname(expr, cls.outer) in DATACLASS_DECORATORS:
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
        return self.ev.bind_arguments(site, self.dataclass_fields(cls), frame)
