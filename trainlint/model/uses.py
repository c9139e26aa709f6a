"""Where the objects a script builds go: every place an optimizer, scheduler or other torch object is
called on, passed, returned, stored or iterated over.

Rules ask this before claiming something never happens: a scheduler that is returned, handed to code
the file cannot see or put in a list may be stepped there. The index is built once, on first use, by
evaluating the expressions in those positions; only torch objects (keyed by the call that built them)
are indexed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from trainlint.model.syntax import CallSite, Function, Scope, Store, callee_name
from trainlint.model.values import MODULE_FRAME, Frame, Mapping, Sequence, TorchObject

if TYPE_CHECKING:
    from trainlint.model.evaluator import Evaluator
    from trainlint.model.torch_objects import TorchModel

RECEIVER, ARGUMENT, RETURNED, STORED, ITERATED = "receiver", "argument", "returned", "stored", "iterated"


@dataclass(frozen=True, eq=False, repr=False)
class Use:
    kind: str  # receiver | argument | returned | stored | iterated
    expr: cst.BaseExpression  # the expression that evaluates to the object
    function: Function | None  # the function it is in (None: top level)
    site: CallSite | None = None  # receiver, argument: the call
    store: Store | None = None  # stored: the assignment

    @property
    def method(self) -> str | None:
        """`step` for `sched.step()`: the method called on the object (receiver uses)."""
        if self.kind == RECEIVER and self.site is not None:
            return callee_name(self.site.node.func)
        return None


def _parts(expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The expression, or the elements of a literal list/tuple/set/dict it builds (one level deep, and
    the elements' own elements)."""
    stack = [expr]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.List, cst.Tuple, cst.Set)):
            stack.extend(e.value for e in current.elements)
        elif isinstance(current, cst.Dict):
            stack.extend(e.value for e in current.elements if isinstance(e, (cst.DictElement, cst.StarredDictElement)))
        elif isinstance(current, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)):
            yield current


class Uses:
    def __init__(self, evaluator: Evaluator, torch: TorchModel) -> None:
        self.ev = evaluator
        self.torch = torch

    def of(self, node: cst.Call) -> list[Use]:
        """The uses of the torch object built by the call `node`."""
        return self._index.get(node, [])

    def _frame(self, function: Function | None) -> Frame:
        return Frame(function) if function is not None else MODULE_FRAME

    @cached_property
    def _index(self) -> dict[cst.Call, list[Use]]:
        index: dict[cst.Call, list[Use]] = {}
        for use, scope in self._positions():
            for part in _parts(use.expr):
                if not self._may_hold(part, scope):
                    continue
                for value in self._values(part, scope, self._frame(use.function)):
                    index.setdefault(value.node, []).append(replace(use, expr=part))
        return index

    @cached_property
    def _function_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.ev.tables.functions.values())

    def _may_hold(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """A cheap test before evaluating: can this expression be a torch object at all? Most names in
        training code hold tensors computed by calls (`x = self.conv(x)`), which it never is."""
        if isinstance(expr, cst.Call):
            return expr in self.torch.calls_by_node or callee_name(expr.func) in self._function_names
        if not isinstance(expr, cst.Name):
            return True
        _, bindings = scope.lookup(expr.value)
        for binding in bindings:
            if binding.kind in ("param", "other"):
                return True
            value = binding.value
            if binding.kind == "assign" and value is not None:
                if isinstance(value, (cst.Name, cst.Attribute, cst.Subscript, cst.Tuple, cst.List, cst.Dict)):
                    return True
                if isinstance(value, cst.Call) and self._may_hold(value, scope):
                    return True
        return False

    def _values(self, expr: cst.BaseExpression, scope: Scope, frame: Frame) -> Iterator[TorchObject]:
        """The torch objects an expression evaluates to, or holds as elements of a list, tuple or dict
        (`scheds = [a, b]; for s in scheds` uses both)."""
        for known in self.ev.eval(expr, scope, frame):
            value = known.value
            if isinstance(value, TorchObject):
                yield value
            elif isinstance(value, Sequence):
                for element in value.node.elements:
                    yield from (
                        k.value for k in self.ev.eval(element.value, value.scope, value.frame) if isinstance(k.value, TorchObject)
                    )
            elif isinstance(value, Mapping):
                for entry in value.entries.values():
                    yield from (
                        k.value for k in self.ev.eval(entry, value.scope, value.frame) if isinstance(k.value, TorchObject)
                    )

    def _positions(self) -> Iterator[tuple[Use, Scope]]:
        """Every place a value can go, with the scope its expression is evaluated in."""
        tables = self.ev.tables
        for site in tables.calls:
            func = site.node.func
            if isinstance(func, cst.Attribute):
                yield Use(RECEIVER, func.value, site.function, site), site.scope
            for arg in site.node.args:
                yield Use(ARGUMENT, arg.value, site.function, site), site.scope
        for function in tables.functions.values():
            for ret in function.returns:
                if ret.value is not None:
                    yield Use(RETURNED, ret.value, function), function.scope
        for store in [s for group in tables.attribute_stores.values() for s in group] + tables.item_stores:
            if store.value is not None:
                yield Use(STORED, store.value, store.function, store=store), store.scope
        for loop in tables.loops:
            if isinstance(loop.node, cst.For):
                scope = loop.function.scope if loop.function is not None else tables.module_scope
                yield Use(ITERATED, loop.node.iter, loop.function), scope
