"""The evaluator: what an expression of the file can evaluate to, and where each value came from.

`Evaluator.eval(expr, scope, frame)` returns the candidate values (`Known`, with
their trail of origins) an expression can take; empty means unknown. It follows
names through the scopes of `syntax.py`, arithmetic and comparisons, dict and
namespace configs, `self.` attributes, and same-file functions and classes one
call site at a time (`Frame`); `classes.py` answers which class is which.

It knows the language and torch's class table, not any library's conventions:
recognizers built on top (argparse in `cli_args.py`, ...) register what their
objects do through `on_call`, `on_method` and `on_member`. Nothing imports the
recognizers from here, so the layers stay one-way:
syntax -> values -> evaluator -> recognizers -> script model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import libcst as cst

from trainlint.facts import TorchFacts
from trainlint.model.classes import ClassQueries
from trainlint.model.syntax import CallSite, Class, Function, Scope, Store, SyntaxTables, dotted_name
from trainlint.model.values import (
    MODULE_FRAME,
    Argument,
    BoundArguments,
    Builtin,
    Candidates,
    ClassRef,
    ConfigMap,
    Frame,
    FunctionRef,
    HyperParameters,
    Imported,
    Instance,
    Known,
    Mapping,
    OpenedFile,
    Origin,
    Partial,
    Sequence,
    Super,
    TorchObject,
    Unknown,
    is_number,
    literal_value,
    merge_trails,
)

MAX_CANDIDATES = 16
MAX_DEPTH = 60
_BEING_EVALUATED: Candidates = []  # in the memo while an expression is evaluated
# Expressions that refer to a value rather than write one (exact types: isinstance on libcst's
# classes is a call into Python when it fails).
_REFERENCES = frozenset({cst.Name, cst.Attribute, cst.Subscript, cst.Call})

# What recognizers register (see Evaluator.on_call, on_method, on_member).
CallHandler = Callable[[cst.Call, Scope, Frame], Candidates]
MethodHandler = Callable[[Known, str, cst.Call, Scope, Frame], Candidates]
MemberHandler = Callable[[Known, str], Candidates]
ImportHandler = Callable[[str, cst.CSTNode], Candidates]
ParamHandler = Callable[[Function, cst.Param], Candidates]

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    cst.Add: lambda a, b: a + b,
    cst.Subtract: lambda a, b: a - b,
    cst.Multiply: lambda a, b: a * b,
    cst.Divide: lambda a, b: a / b,
    cst.FloorDivide: lambda a, b: a // b,
    cst.Modulo: lambda a, b: a % b,
    cst.Power: lambda a, b: a**b,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    cst.Equal: lambda a, b: a == b,
    cst.NotEqual: lambda a, b: a != b,
    cst.LessThan: lambda a, b: a < b,
    cst.LessThanEqual: lambda a, b: a <= b,
    cst.GreaterThan: lambda a, b: a > b,
    cst.GreaterThanEqual: lambda a, b: a >= b,
    cst.In: lambda a, b: a in b,
    cst.NotIn: lambda a, b: a not in b,
    cst.Is: lambda a, b: a is b if b is None or isinstance(b, bool) else a == b,
    cst.IsNot: lambda a, b: a is not b if b is None or isinstance(b, bool) else a != b,
}


def _plain(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool, type(None), tuple))


_CONFIG_FACTORIES = {
    "types.SimpleNamespace": True,
    "argparse.Namespace": True,
    "easydict.EasyDict": True,
    "addict.Dict": True,
    "ml_collections.ConfigDict": True,
    "dict": False,
    "collections.OrderedDict": False,
}


def _arith(op: type, a: Any, b: Any) -> tuple[bool, Any]:
    if isinstance(a, str) or isinstance(b, str):
        if op is cst.Add and isinstance(a, str) and isinstance(b, str) and len(a) + len(b) < 10_000:
            return True, a + b
        return False, None
    if not (is_number(a) and is_number(b)):
        return False, None
    if op is cst.Power and (abs(b) > 64 or abs(a) > 1e6):
        return False, None
    try:
        result = _BINARY[op](a, b)
    except (ArithmeticError, ValueError):
        return False, None
    if isinstance(result, complex) or (isinstance(result, float) and not math.isfinite(result)):
        return False, None
    if isinstance(result, int) and abs(result) > 10**30:
        return False, None
    return True, result


class Evaluator:
    """Evaluates expressions of one module against its syntax tables.

    Recognizers (argparse, ...) teach it the objects of their domain through
    `on_call`, `on_method` and `on_member`; it imports none of them.
    """

    def __init__(self, tables: SyntaxTables, facts: TorchFacts) -> None:
        self.tables = tables
        self.facts = facts
        self._on_call: dict[str, CallHandler] = {}
        self._on_call_prefix: list[tuple[str, CallHandler]] = []
        self._on_method: dict[type, MethodHandler] = {}
        self._on_member: dict[type, MemberHandler] = {}
        self._on_import: ImportHandler | None = None
        self._on_param: list[ParamHandler] = []
        self._memo: dict[tuple[int, Scope, Frame], Candidates] = {}
        self._held: list[cst.BaseExpression] = []
        self._handlers: dict[type, Any] = {}  # `_e_Name` and the others, by node type
        self._imports: dict[str, Known] = {}
        # How the code names each config mapping (`CONFIG`, `CONFIG['optim']`), for messages.
        self._mapping_names: dict[cst.CSTNode, str] = {}
        self._calls_of: dict[Function, list[tuple[CallSite, Frame]]] = {}
        self._stores_by_name: dict[str, dict[Class, list[Store]]] = {}
        self._callees_of: dict[CallSite, set[Function]] = {}
        self._inits: dict[Function, list[str]] | None = None  # each class's __init__: the names of the classes it builds
        self.classes = ClassQueries(self)
        self._depth = 0

    # -- what recognizers add -------------------------------------------------

    def on_call(self, qualname: str, handler: CallHandler) -> None:
        """A call of the imported `qualname` (`argparse.ArgumentParser(...)`) builds what `handler` says."""
        self._on_call[qualname] = handler

    def on_call_prefix(self, prefix: str, handler: CallHandler) -> None:
        """A call of any imported name starting with `prefix` (`torchvision.models.`): `handler` decides."""
        self._on_call_prefix.append((prefix, handler))

    def on_method(self, kind: type, handler: MethodHandler) -> None:
        """`obj.name(...)` on a value of type `kind` returns what `handler` says."""
        self._on_method[kind] = handler

    def on_member(self, kind: type, handler: MemberHandler) -> None:
        """`obj.name` on a value of type `kind` is what `handler` says."""
        self._on_member[kind] = handler

    def on_param(self, handler: ParamHandler) -> None:
        """A parameter a framework fills in (`@hydra.main`'s config) has the values `handler` gives,
        when it gives any, instead of those its call sites pass."""
        self._on_param.append(handler)

    def on_import(self, handler: ImportHandler) -> None:
        """An imported name (`config.LR`, the module's or an attribute of it) has the values `handler`
        gives, when it gives any: a value read from another file of the project."""
        self._on_import = handler

    def _imported(self, qualname: str, node: cst.CSTNode, trail: tuple[Origin, ...] = ()) -> Candidates:
        if self._on_import is not None and qualname.split(".", 1)[0] not in ("torch", "torchvision"):
            found = self._on_import(qualname, node)
            if found:
                return found
        if trail:
            return [Known(Imported(qualname), trail)]
        known = self._imports.get(qualname)
        if known is None:  # one object per name: `nn` is read a hundred times in a file
            known = self._imports[qualname] = Known(Imported(qualname))
        return [known]

    # -- entry points ---------------------------------------------------------

    def eval(self, node: cst.BaseExpression, scope: Scope, frame: Frame = MODULE_FRAME) -> Candidates:
        # Keyed by the node's id, not the node (libcst's __hash__ is a call into Python, and the key is
        # hashed on every evaluation): `_held` keeps each node asked about alive, so no id is reused.
        key = (id(node), scope, frame)
        memo = self._memo
        cached = memo.get(key)
        if cached is not None:
            return [] if cached is _BEING_EVALUATED else cached
        if self._depth > MAX_DEPTH:
            return []
        memo[key] = _BEING_EVALUATED  # an expression that depends on itself has no known value
        self._held.append(node)
        self._depth += 1
        try:
            result = self._eval(node, scope, frame)
        except RecursionError:
            result = []
        except BaseException:
            del memo[key]
            raise
        finally:
            self._depth -= 1
        result = _dedupe(result)[:MAX_CANDIDATES]
        memo[key] = result
        return result

    def eval_argument(self, argument: Argument) -> Candidates:
        found = self.eval(argument.expr, argument.scope, argument.frame)
        if argument.label is None:
            return found
        return [self._hop_if_written(k, argument.expr, argument.label, argument.expr) for k in found]

    def mapping_label(self, mapping: Mapping, key: Any) -> str | None:
        name = self._mapping_names.get(mapping.node)
        return f"{name}[{key!r}]" if name is not None else None

    def single(self, node: cst.BaseExpression, scope: Scope, frame: Frame = MODULE_FRAME) -> Known | None:
        """The value when every candidate agrees on it."""
        found = self.eval(node, scope, frame)
        values = {_hashable(k.value) for k in found}
        return found[0] if len(values) == 1 else None

    def qualname(self, node: cst.BaseExpression, scope: Scope, frame: Frame = MODULE_FRAME) -> str | None:
        """The qualified name an expression refers to (`torch.optim.SGD`), if it is imported."""
        names = {k.value.qualname for k in self.eval(node, scope, frame) if isinstance(k.value, Imported)}
        return names.pop() if len(names) == 1 else None

    def member(self, known: Known, name: str | int | float, label: str, node: cst.CSTNode, item: bool = False) -> Candidates:
        """`obj.name` (or `obj[name]` when item): the values of one member of a known object."""
        obj = known.value
        if isinstance(obj, Imported) and not item and isinstance(name, str):
            return self._imported(f"{obj.qualname}.{name}", node, known.trail)
        if isinstance(obj, dict) and item and name in obj:  # a dict read from another file
            return [Known(obj[name], known.trail)]
        if isinstance(obj, Mapping) and (item or obj.attribute_access):
            return self._mapping_member(obj, name, label)
        if isinstance(obj, ConfigMap) and (item or obj.attribute_access):
            return self._config_member(obj, name, node)
        handler = self._on_member.get(type(obj))
        if handler is not None:
            return handler(known, name) if isinstance(name, str) and not item else []
        if isinstance(obj, HyperParameters) and isinstance(name, str):
            return self._hyperparameter(obj, name, label)
        if not isinstance(name, str) or item:
            return self._element(known, name) if isinstance(name, int) and not isinstance(name, bool) else []
        if isinstance(obj, Instance):
            return self._instance_member(obj, known, name, label)
        if isinstance(obj, ClassRef):
            return self._class_member(obj.cls, name, label, None)
        if isinstance(obj, Super):
            for base in self.classes.base_classes(obj.cls):
                found = self._class_member(base, name, label, obj.self_value)
                if found:
                    return found
        return []

    def _element(self, known: Known, index: int) -> Candidates:
        """`seq[1]` of a list or tuple literal."""
        obj = known.value
        if isinstance(obj, Sequence):
            elements = obj.node.elements
            if not any(isinstance(e, cst.StarredElement) for e in elements) and -len(elements) <= index < len(elements):
                return self.eval(elements[index].value, obj.scope, obj.frame)
        elif isinstance(obj, (tuple, list)) and -len(obj) <= index < len(obj):  # plain values
            return [Known(obj[index], known.trail)]
        return []

    # -- calls of the file's own functions ---------------------------------------------

    def frame_of(self, site: CallSite) -> Frame:
        """The frame a call site's own expressions are evaluated in (any caller of its function)."""
        return Frame(site.function) if site.function is not None else MODULE_FRAME

    def method_calls(self, name: str) -> Iterator[tuple[CallSite, Known]]:
        """`obj.name(...)` call sites, each with every value `obj` may have there."""
        for site in self.tables.calls_named(name):
            func = site.node.func
            if isinstance(func, cst.Attribute):
                for base in self.eval(func.value, site.scope, self.frame_of(site)):
                    yield site, base

    def calls_of(self, function: Function) -> list[tuple[CallSite, Frame]]:
        """The call sites of a function of this file, each with the frame it runs in."""
        cached = self._calls_of.get(function)
        if cached is not None:
            return cached
        self._calls_of[function] = []  # recursion guard
        names = [function.name]
        if function.name == "__init__" and function.cls is not None:
            names += self._classes_built_by(function)
        found = [(site, self.frame_of(site)) for site in self.tables.calls_named(*names) if function in self._callees(site)]
        self._calls_of[function] = found
        return found

    def _callees(self, site: CallSite) -> set[Function]:
        """The file's functions a call may run (a class's: its __init__). Once per site: every
        __init__ asks about every `super().__init__()` of the file."""
        known = self._callees_of.get(site)
        if known is None:
            known = self._callees_of[site] = set()  # recursion guard
            for callee in self.eval(site.node.func, site.scope, self.frame_of(site)):
                target = callee.value
                if isinstance(target, FunctionRef):
                    known.add(target.function)
                elif isinstance(target, ClassRef):
                    init = self.classes.init_of(target.cls)
                    if init is not None:
                        known.add(init)
        return known

    def _classes_built_by(self, init: Function) -> list[str]:
        """The names of the classes whose instances `init` initializes (once for all: each __init__ asks)."""
        if self._inits is None:
            self._inits = {}
            for c in self.tables.classes.values():
                found = self.classes.init_of(c)
                if found is not None:
                    self._inits.setdefault(found, []).append(c.name)
        return self._inits.get(init, [])

    def bind_call(self, function: Function, site: CallSite, caller: Frame) -> BoundArguments:
        """Which argument of the call at `site` each parameter of `function` receives."""
        params = function.params
        positional = [p.name.value for p in (*params.posonly_params, *params.params)]
        func = site.node.func
        cls = function.cls
        skip_self = cls is not None and not function.is_static
        if (
            skip_self
            and type(func) is cst.Attribute  # exact types: isinstance on libcst's ABCs is slow when it fails
            and type(func.value) is cst.Name
            and cls
            and func.value.value == cls.name
        ):
            skip_self = False  # Class.method(obj, ...): self passed explicitly
        if skip_self and type(func) is cst.Attribute and func.attr.value == "__init__" and type(func.value) is cst.Name:
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
                spread = self.single(arg.value, site.scope, frame)
                if spread is not None and isinstance(spread.value, Mapping) and not self.mapping_mutated(spread.value):
                    mapping = spread.value
                    for key, expr in mapping.entries.items():
                        if isinstance(key, str):
                            label = self.mapping_label(mapping, key)
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

    # -- dispatch ---------------------------------------------------------------

    def _eval(self, node: cst.BaseExpression, scope: Scope, frame: Frame) -> Candidates:
        ok, value = literal_value(node)
        if ok:
            return [Known(value, (), node)]
        kind = type(node)
        handler = self._handlers.get(kind, ...)
        if handler is ...:  # the class's function, not a bound method: that would make the evaluator a cycle
            handler = self._handlers[kind] = getattr(type(self), "_e_" + kind.__name__, None)
        return handler(self, node, scope, frame) if handler else []

    def _e_Name(self, node: cst.Name, scope: Scope, frame: Frame) -> Candidates:
        name = node.value
        if name in ("True", "False", "None"):
            return [Known({"True": True, "False": False, "None": None}[name])]
        owner, bindings = scope.lookup(name)
        if not bindings or owner is None:
            return self._unbound(name, scope)
        if len({b.qualname for b in bindings if b.kind == "import"}) == 1 and all(b.kind == "import" for b in bindings):
            bindings = bindings[:1]  # `import torch` and `import torch.nn` both bind `torch`
        if len(bindings) != 1:
            return []
        binding = bindings[0]
        kind = binding.kind
        if kind == "import":
            return self._imported(binding.qualname, node) if binding.qualname else []
        if kind == "def":
            function = self.tables.functions.get(binding.node)
            return [Known(FunctionRef(function))] if function else []
        if kind == "class":
            cls = self.tables.classes.get(binding.node)
            return [Known(ClassRef(cls))] if cls else []
        if kind == "param":
            return self._param(cast(cst.Param, binding.node), owner, frame)
        if kind == "assign" and binding.value is not None:
            inner = self.frame_for(owner, frame)
            found = self.eval(binding.value, owner, inner)
            if binding.unpack_index is not None:
                found = [e for k in found for e in self._unpack(k, binding.unpack_index)]
            label = f"{cast(cst.ClassDef, owner.node).name.value}.{name}" if owner.kind == "class" else name
            for k in found:
                if isinstance(k.value, Mapping):
                    self._mapping_names.setdefault(k.value.node, label)
            return [self._hop_if_written(k, binding.value, label, binding.node) for k in found]
        if kind == "with" and binding.value is not None:  # `with open(p) as f`: a file enters as itself
            found = self.eval(binding.value, owner, self.frame_for(owner, frame))
            return [k for k in found if isinstance(k.value, OpenedFile)]
        return []

    def _unbound(self, name: str, scope: Scope) -> Candidates:
        module_scope = scope.module_scope
        for module in module_scope.star_imports:
            qualname = f"{module}.{name}"
            if self.facts.lookup(qualname):
                return [Known(Imported(qualname))]
        import builtins

        if hasattr(builtins, name):
            return [Known(Builtin(name))]
        return []

    def _hop_if_written(self, known: Known, value: cst.BaseExpression, label: str, node: cst.CSTNode) -> Known:
        """Name the place a value was written (a constant) but not plain renamings (`lr = args.lr`)."""
        if known.trail and type(value) in _REFERENCES:
            return known
        if not (is_number(known.value) or isinstance(known.value, (str, bool, tuple))):
            return known
        return known.hop(Origin(label, node))

    def _unpack(self, known: Known, index: int) -> Candidates:
        value = known.value
        if isinstance(value, tuple) and 0 <= index < len(value):
            element = value[index]
            return [] if isinstance(element, Unknown) else [Known(element, known.trail)]
        if isinstance(value, Sequence):
            return self.member(known, index, "", value.node, item=True)
        return []

    def frame_for(self, scope: Scope, frame: Frame) -> Frame:
        """The frame for evaluating code of `scope`, keeping call bindings when they are its own."""
        f: Frame | None = frame
        while f is not None:
            if f.function is not None and f.function.scope is scope:
                return f
            f = f.caller
        if scope.kind in ("function", "lambda"):
            function = self.tables.functions.get(scope.node)
            return Frame(function) if function else MODULE_FRAME
        return MODULE_FRAME

    # -- parameters -------------------------------------------------------------

    def _param(self, param: cst.Param, scope: Scope, frame: Frame) -> Candidates:
        function = self.tables.functions.get(scope.node)
        if function is None:
            return []
        frame = self.frame_for(scope, frame)
        name = param.name.value
        if function.is_method and function.first_param is param:
            return self._self_value(function, frame)
        for handler in self._on_param:
            found = handler(function, param)
            if found:
                return found
        if frame.call is not None:
            bound = self.bind_call(function, frame.call, frame.caller or MODULE_FRAME)
            argument = bound.arguments.get(name)
            if argument is not None:
                return self._passed(argument, function)
            if not bound.complete:
                return []
            return self._default(param, function)
        # Any caller: every call site of this function, and the default when a call omits it.
        sites = self.calls_of(function)
        out: Candidates = []
        default_used = not sites
        for site, caller in sites:
            bound = self.bind_call(function, site, caller)
            argument = bound.arguments.get(name)
            if argument is not None:
                out.extend(self._passed(argument, function))
            elif bound.complete:
                default_used = True
        if default_used:
            out.extend(self._default(param, function))
        return out

    def _self_value(self, function: Function, frame: Frame) -> Candidates:
        if frame.self_value is not None:
            return [frame.self_value]
        node, cls = function.node, function.cls
        if cls is None:
            return []
        if isinstance(node, cst.FunctionDef) and node.decorators:
            names = {self.qualname(d.decorator, function.outer) or getattr(d.decorator, "value", None) for d in node.decorators}
            if names & {"staticmethod", "classmethod"}:
                return [Known(ClassRef(cls))] if "classmethod" in names else []
        return [Known(Instance(cls))]

    def _passed(self, argument: Argument, function: Function) -> Candidates:
        name = function.cls.name if function.name == "__init__" and function.cls is not None else function.name
        origin = Origin(f"passed to {name}()", argument.node)
        return [k.hop(origin) for k in self.eval_argument(argument)]

    def _default(self, param: cst.Param, function: Function) -> Candidates:
        if param.default is None:
            return []
        found = self.eval(param.default, function.outer, self.frame_for(function.outer, MODULE_FRAME))
        origin = Origin(f"default of parameter {param.name.value}", param.default)
        return [k.hop(origin) for k in found]

    # -- compound expressions ----------------------------------------------------------

    def _e_UnaryOperation(self, node: cst.UnaryOperation, scope: Scope, frame: Frame) -> Candidates:
        out = []
        for k in self.eval(node.expression, scope, frame):
            if isinstance(node.operator, cst.Minus) and is_number(k.value):
                out.append(Known(-k.value, k.trail, node if k.source is node.expression else None))
            elif isinstance(node.operator, cst.Plus) and is_number(k.value):
                out.append(k)
            elif isinstance(node.operator, cst.Not) and isinstance(k.value, (bool, int, float, str, type(None))):
                out.append(Known(not k.value, k.trail))
        return out

    def _e_BinaryOperation(self, node: cst.BinaryOperation, scope: Scope, frame: Frame) -> Candidates:
        op = type(node.operator)
        if op not in _BINARY:
            return []
        out = []
        for a in self.eval(node.left, scope, frame):
            for b in self.eval(node.right, scope, frame):
                ok, value = _arith(op, a.value, b.value)
                if ok:
                    out.append(Known(value, merge_trails(a.trail, b.trail)))
        return out

    def _e_Comparison(self, node: cst.Comparison, scope: Scope, frame: Frame) -> Candidates:
        """`args.optim == "Adam"`, `a < b < c`: known only when every operand is a single plain value."""
        left = self.single(node.left, scope, frame)
        if left is None or not _plain(left.value):
            return []
        trail, result, current = left.trail, True, left.value
        for target in node.comparisons:
            right = self.single(target.comparator, scope, frame)
            if right is None or not _plain(right.value):
                return []
            compare = _COMPARE.get(type(target.operator))
            if compare is None:
                return []
            try:
                result = result and bool(compare(current, right.value))
            except TypeError:
                return []
            trail, current = merge_trails(trail, right.trail), right.value
        return [Known(result, trail)]

    def _e_BooleanOperation(self, node: cst.BooleanOperation, scope: Scope, frame: Frame) -> Candidates:
        left = self.single(node.left, scope, frame)
        right = self.single(node.right, scope, frame)
        if left is None or right is None or not (_plain(left.value) and _plain(right.value)):
            return []
        value = (left.value and right.value) if isinstance(node.operator, cst.And) else (left.value or right.value)
        return [Known(value, merge_trails(left.trail, right.trail))]

    def _e_Tuple(self, node: cst.Tuple, scope: Scope, frame: Frame) -> Candidates:
        # A tuple of plain values becomes a Python tuple (betas=(0.9, 0.999)); otherwise a lazy sequence.
        if len(node.elements) <= 8 and not any(isinstance(e, cst.StarredElement) for e in node.elements):
            values: list[Any] = []
            trail: tuple[Origin, ...] = ()
            for element in node.elements:
                known = self.single(element.value, scope, frame)
                if known is None or not isinstance(known.value, (int, float, str, bool, type(None))):
                    break
                values.append(known.value)
                trail = merge_trails(trail, known.trail)
            else:
                return [Known(tuple(values), trail)]
        return [Known(Sequence(node, scope, frame))]

    def _e_List(self, node: cst.List, scope: Scope, frame: Frame) -> Candidates:
        return [Known(Sequence(node, scope, frame))]

    def _e_Dict(self, node: cst.Dict, scope: Scope, frame: Frame) -> Candidates:
        entries = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return []  # **spread: keys we cannot see
            ok, key = literal_value(element.key)
            if not ok or isinstance(key, (dict, list)):
                return []
            entries[key] = element.value
        return [Known(Mapping(node, entries, scope, frame, attribute_access=False))]

    def _e_Attribute(self, node: cst.Attribute, scope: Scope, frame: Frame) -> Candidates:
        label = dotted_name(node) or self.tables.code(node)  # `args.lr`: no code generation for a dotted name
        out = []
        for base in self.eval(node.value, scope, frame):
            out.extend(self.member(base, node.attr.value, label, node))
        return out

    def _e_Subscript(self, node: cst.Subscript, scope: Scope, frame: Frame) -> Candidates:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return []
        key = self.single(node.slice[0].slice.value, scope, frame)
        if key is None or not isinstance(key.value, (str, int, float)):
            return []
        label = self.tables.code(node)
        out = []
        for base in self.eval(node.value, scope, frame):
            out.extend(self.member(base, key.value, label, node, item=True))
        return out

    def _e_Call(self, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        if isinstance(node.func, cst.Attribute):
            found = self._method(node.func, node, scope, frame)  # methods of symbolic objects
            if found:
                return found
        out: Candidates = []
        for callee in self.eval(node.func, scope, frame):
            out.extend(self._call(callee, node, scope, frame))
        return out

    def _call(self, callee: Known, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        target = callee.value
        site = self.tables.call_site(node)
        if isinstance(target, Imported):
            return self._call_imported(target.qualname, node, scope, frame)
        if isinstance(target, Builtin):
            return self._call_builtin(target.name, node, scope, frame)
        if isinstance(target, Partial):
            return [Known(TorchObject(target.facts, node, scope, frame))]
        if isinstance(target, (FunctionRef, ClassRef)) and site is not None:
            if isinstance(target, ClassRef):
                return [Known(Instance(target.cls, site, frame))]
            if _recursive(target.function, frame):
                return []  # unknown: each level is a new frame, so a branching recursion would be exponential
            callee_frame = Frame(target.function, site, frame, target.self_value)
            return self._returns(target.function, callee_frame)
        return []

    def _returns(self, function: Function, frame: Frame) -> Candidates:
        if isinstance(function.node, cst.Lambda):
            return self.eval(function.node.body, function.scope, frame)
        if not function.returns:
            return [Known(None)]
        out = []
        for ret in function.returns:
            if ret.value is None:
                out.append(Known(None))
            else:
                out.extend(self.eval(ret.value, function.scope, frame))
        return out

    def _call_imported(self, qualname: str, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        facts = self.facts.lookup(qualname)
        if facts is not None:
            return [Known(TorchObject(facts, node, scope, frame))]
        handler = self._on_call.get(qualname)
        if handler is not None:
            return handler(node, scope, frame)
        for prefix, handler in self._on_call_prefix:
            if qualname.startswith(prefix):
                return handler(node, scope, frame)
        if qualname in _CONFIG_FACTORIES:
            return self._mapping_call(node, scope, frame, _CONFIG_FACTORIES[qualname])
        return []

    def _call_builtin(self, name: str, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        args = node.args
        if name == "super":
            site = self.tables.call_site(node)
            function = site.function if site is not None else None
            if function is not None and function.cls is not None:
                return [
                    Known(
                        Super(function.cls, next(iter(self._self_value(function, self.frame_for(function.scope, frame))), None))
                    )
                ]
            return []
        if name == "dict":
            return self._mapping_call(node, scope, frame, attribute_access=False)
        if name == "open" and args and not args[0].keyword:
            path = self.single(args[0].value, scope, frame)
            return [Known(OpenedFile(path.value))] if path is not None and isinstance(path.value, str) else []
        if any(a.keyword is not None or a.star for a in args):
            return []
        values = [self.eval(a.value, scope, frame) for a in args]
        if name in ("float", "int") and len(values) == 1:
            out = []
            for k in values[0]:
                try:
                    if isinstance(k.value, (int, float, str)) and not isinstance(k.value, bool):
                        out.append(Known(float(k.value) if name == "float" else int(k.value), k.trail))
                except (ValueError, OverflowError):
                    pass
            return out
        if name in ("min", "max", "abs") and values and all(len(v) == 1 and is_number(v[0].value) for v in values):
            numbers = [v[0].value for v in values]
            trail: tuple[Origin, ...] = ()
            for v in values:
                trail = merge_trails(trail, v[0].trail)
            if name == "abs" and len(numbers) == 1:
                return [Known(abs(numbers[0]), trail)]
            if name != "abs" and len(numbers) > 1:
                return [Known(min(numbers) if name == "min" else max(numbers), trail)]
        return []

    def _mapping_call(self, node: cst.Call, scope: Scope, frame: Frame, attribute_access: bool) -> Candidates:
        entries: dict[str, Any] = {}
        for arg in node.args:
            if arg.star or arg.keyword is None:
                # dict({...}) / EasyDict({...}): take the literal's entries.
                if not arg.star and len(node.args) == 1:
                    inner = self.single(arg.value, scope, frame)
                    if inner is not None and isinstance(inner.value, Mapping):
                        entries.update(inner.value.entries)
                        return [Known(Mapping(node, entries, inner.value.scope, inner.value.frame, attribute_access))]
                return []
            entries[arg.keyword.value] = arg.value
        return [Known(Mapping(node, entries, scope, frame, attribute_access))]

    def _method(self, func: cst.Attribute, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        name = func.attr.value
        out: Candidates = []
        for base in self.eval(func.value, scope, frame):
            obj = base.value
            handler = self._on_method.get(type(obj))
            if handler is not None:
                out.extend(handler(base, name, node, scope, frame))
            elif isinstance(obj, Mapping) and name == "get" and node.args and not node.args[0].keyword:
                key = self.single(node.args[0].value, scope, frame)
                if key is None or not isinstance(key.value, (str, int, float)):
                    continue
                if key.value in obj.entries:
                    out.extend(self._mapping_member(obj, key.value, self.tables.code(node)))
                elif len(node.args) > 1 and not self.mapping_mutated(obj):
                    out.extend(self.eval(node.args[1].value, scope, frame))
                elif not self.mapping_mutated(obj):
                    out.append(Known(None))
            elif isinstance(obj, Mapping) and name == "copy" and not node.args:
                out.append(base)
            elif isinstance(obj, ConfigMap) and name == "get" and node.args and not node.args[0].keyword:
                key = self.single(node.args[0].value, scope, frame)
                if key is not None and isinstance(key.value, (str, int, float)) and obj.entry(key.value) is not None:
                    out.extend(self._config_member(obj, key.value, node))
        return out

    # -- members of objects ------------------------------------------------------------

    def _mapping_member(self, obj: Mapping, key: Any, label: str) -> Candidates:
        name = self._mapping_names.get(obj.node)
        if name is not None:  # name the entry where it is written, not the alias it was read through
            label = f"{name}.{key}" if obj.attribute_access and isinstance(key, str) else f"{name}[{key!r}]"
        if key in obj.entries:
            if self.mapping_mutated(obj, key):
                return []
            expr, scope, frame = obj.entries[key], obj.scope, obj.frame
        else:
            # `cfg = {}; cfg["lr"] = 0.1` or `cfg = SimpleNamespace(); cfg.lr = 0.1`: exactly one store.
            stores = self._mapping_stores(obj, key)
            stored = stores[0].value if len(stores) == 1 else None
            if stored is None or self._mapping_reshaped(obj):
                return []
            expr, scope = stored, stores[0].scope
            frame = self.frame_for(scope, MODULE_FRAME)
        found = self.eval(expr, scope, frame)
        for k in found:
            if isinstance(k.value, Mapping):
                self._mapping_names.setdefault(k.value.node, label)
        return [self._hop_if_written(k, expr, label, expr) for k in found]

    def _config_member(self, obj: ConfigMap, key: Any, node: cst.CSTNode) -> Candidates:
        """An entry of a configuration file, unless the script may change it (`hyp['lr0'] = ...`)."""
        found = obj.entry(key)
        if found is None or self.mapping_mutated(obj, key):
            return []
        value, line = found
        return [Known(value, (Origin(f"{obj.prefix}{key}", node, f"{obj.file}, line {line}"),))]

    def mapping_mutated(self, obj: Mapping | ConfigMap, key: Any = None) -> bool:
        """Whether code elsewhere may change the entries (`cfg['lr'] = ...`, `cfg.update(...)`)."""
        if key is None:
            if any(self.refers_to(s.base, s.scope, obj) for s in self.tables.item_stores):
                return True
        elif self._mapping_stores(obj, key):
            return True
        return self._mapping_reshaped(obj)

    def _mapping_stores(self, obj: Mapping | ConfigMap, key: Any) -> list[Store]:
        """`cfg[key] = ...` (or `cfg.key = ...` for attribute-style configs) on this object."""
        out = [
            s
            for s in self.tables.item_stores
            if (isinstance(s.key, cst.CSTNode) or s.key == key) and self.refers_to(s.base, s.scope, obj)
        ]
        if obj.attribute_access and isinstance(key, str):
            out += [s for s in self.tables.attribute_stores.get(key, ()) if self.refers_to(s.base, s.scope, obj)]
        return out

    def _mapping_reshaped(self, obj: Mapping | ConfigMap) -> bool:
        """`cfg.update(...)`, `cfg.pop(...)`, `setattr(cfg, ...)`: entries we cannot follow."""
        for site in self.tables.calls_named("update", "setdefault", "pop", "clear", "__setitem__", "merge_with"):
            if isinstance(site.node.func, cst.Attribute) and self.refers_to(site.node.func.value, site.scope, obj):
                return True
        return self.opaque_mutation(obj)

    def opaque_mutation(self, obj: Any) -> bool:
        """`setattr(obj, ...)`, `vars(obj).update(...)`, `obj.__dict__.update(...)`."""
        for site in self.tables.calls_named("setattr"):
            if site.node.args and self.refers_to(site.node.args[0].value, site.scope, obj):
                return True
        for site in self.tables.calls_named("update"):
            func = site.node.func
            if not isinstance(func, cst.Attribute):
                continue
            inner = func.value
            if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Name) and inner.func.value == "vars" and inner.args:
                if self.refers_to(inner.args[0].value, site.scope, obj):
                    return True
            if isinstance(inner, cst.Attribute) and inner.attr.value == "__dict__":
                if self.refers_to(inner.value, site.scope, obj):
                    return True
        return False

    def refers_to(self, expr: cst.BaseExpression, scope: Scope, obj: Any) -> bool:
        frame = self.frame_for(scope, MODULE_FRAME)
        return any(k.value is obj or k.value == obj for k in self.eval(expr, scope, frame))

    def _hyperparameters(self, obj: Instance, known: Known) -> Candidates:
        init = self.classes.all_methods(obj.cls).get("__init__")
        if init is None:
            return []
        for site in self.tables.calls_named("save_hyperparameters"):
            func = site.node.func
            if site.function is init and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
                if func.value.value == init.first_param_name:
                    return [Known(HyperParameters(known, init, site.node))]
        return []

    def _hyperparameter(self, obj: HyperParameters, name: str, label: str) -> Candidates:
        """`self.hparams.lr`: the `__init__` argument `lr` (all of them, or the ones named, are saved)."""
        instance = obj.instance.value
        frame = (
            Frame(obj.init, instance.call, instance.frame, obj.instance)
            if instance.call is not None
            else Frame(obj.init, None, None, obj.instance)
        )
        args = obj.saved.args
        names = [a.value for a in args if a.keyword is None and isinstance(a.value, cst.SimpleString)]
        if len(args) == 1 and args[0].keyword is None and not names:
            # save_hyperparameters(config): the attributes or keys of that object
            found = []
            for source in self.eval(args[0].value, obj.init.scope, frame):
                found += self.member(source, name, label, args[0].value) or self.member(
                    source, name, label, args[0].value, item=True
                )
            return found
        saved = [self.single(n, obj.init.scope) for n in names]
        if names and name not in {k.value for k in saved if k is not None}:
            return []
        if any(a.keyword is not None and a.keyword.value == "ignore" for a in args):
            return []  # which parameters are left out is not worth guessing
        params = obj.init.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value == name:
                return self._param(param, obj.init.scope, frame)
        return []

    def _instance_member(self, obj: Instance, known: Known, name: str, label: str) -> Candidates:
        cls = obj.cls
        stores = self.classes.instance_stores(cls, name)
        if name == "hparams" and not stores:
            found = self._hyperparameters(obj, known)
            if found:
                return found
        external = self._external_stores(cls, name)
        if external:
            # `config = Config(); config.lr = 0.1`: one store and nothing else to compete with it.
            store = external[0]
            value = store.value
            if stores or len(external) != 1 or value is None or self._class_member(cls, name, label, known):
                return []
            found = self.eval(value, store.scope, self.frame_for(store.scope, MODULE_FRAME))
            return [self._hop_if_written(k, value, label, store.node) for k in found]
        if stores:
            store = stores[0]
            value = store.value
            if len(stores) != 1 or value is None:
                return []
            method = store.function
            frame = Frame(method)
            if method is not None and method.name == "__init__" and obj.call is not None:
                frame = Frame(method, obj.call, obj.frame, known)
            elif method is not None:
                frame = Frame(method, None, None, known)
            found = self.eval(value, store.scope, frame)
            return [self._hop_if_written(k, value, label, store.node) for k in found]
        if self.classes.is_dataclass(cls) and obj.call is not None:
            field_names = self.classes.dataclass_fields(cls)
            if name in field_names:
                bound = self.classes.bind_fields(cls, obj.call, obj.frame)
                argument = bound.arguments.get(name)
                if argument is not None:
                    origin = Origin(f"passed to {cls.name}()", argument.node)
                    return [k.hop(origin) for k in self.eval_argument(argument)]
                if not bound.complete:
                    return []
        return self._class_member(cls, name, label, known)

    def _external_stores(self, cls: Class, name: str) -> list[Store]:
        """`obj.attr = ...` outside the class's own methods, on an instance of it."""
        return self._stores_on(name).get(cls, [])

    def _stores_on(self, name: str) -> dict[Class, list[Store]]:
        """Each `obj.<name> = ...` of the file under every class `obj` is an instance of (its bases
        included), unless it is a method's store on its own `self` of that class. Indexed once per
        name: every `self.<name>` of every class asks (a thousand classes storing `self.next` each
        had all the others' stores checked)."""
        index = self._stores_by_name.get(name)
        if index is None:
            index = self._stores_by_name[name] = {}
            for store in self.tables.attribute_stores.get(name, ()):
                function = store.function
                own: list[Class] = []
                if function is not None and function.cls is not None and isinstance(store.base, cst.Name):
                    if function.first_param_name == store.base.value:
                        own = self.classes.mro(function.cls)
                frame = self.frame_for(store.scope, MODULE_FRAME)
                classes: dict[Class, None] = {}
                for k in self.eval(store.base, store.scope, frame):
                    if isinstance(k.value, Instance):
                        classes.update(dict.fromkeys(self.classes.mro(k.value.cls)))
                for cls in classes:
                    if cls not in own:
                        index.setdefault(cls, []).append(store)
        return index

    def _class_member(self, cls: Class, name: str, label: str, self_value: Known | None) -> Candidates:
        for klass in self.classes.mro(cls):
            method = klass.methods.get(name)
            if method is not None:
                return [Known(FunctionRef(method, self_value))]
            bindings = klass.scope.bindings.get(name)
            if bindings:
                value = bindings[0].value
                if len(bindings) != 1 or value is None:
                    return []
                found = self.eval(value, klass.scope, MODULE_FRAME)
                return [self._hop_if_written(k, value, f"{klass.name}.{name}", bindings[0].node) for k in found]
        return []


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return id(value)


def _recursive(function: Function, frame: Frame | None) -> bool:
    """Whether `function` is already being called in `frame`'s chain of callers."""
    while frame is not None:
        if frame.function is function:
            return True
        frame = frame.caller
    return False


def _dedupe(found: Candidates) -> Candidates:
    if len(found) < 2:
        return found  # most expressions have one value, or none known
    seen: set[Any] = set()
    out = []
    for k in found:
        key = (_hashable(k.value), type(k.value), tuple(id(o.node) for o in k.trail), id(k.source))
        if key not in seen:
            seen.add(key)
            out.append(k)
    return out
