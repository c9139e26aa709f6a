"""One pass over a libcst module that records what every query needs.

libcst's own visitor rebuilds each node while it walks and costs about as much
as the parse; this walk reads the dataclass fields directly and skips
whitespace, so it costs a few percent of the parse. It records scopes and
their bindings, attribute and item stores, every call with its context,
functions, classes, loops and returns. Everything else in the script model is
derived from these tables on demand.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import libcst as cst

# Fields that hold only whitespace, punctuation or comments: never walked.
_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "leading_lines",
        "header",
        "footer",
        "newline",
        "trailing_whitespace",
        "lines_after_decorators",
        "equal",
        "colon",
        "star",
        "dot",
        "default_indicator",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "asynchronous",
        "operator",
        "whitespace",
        "first_line",
        "empty_lines",
        "indent",
    }
)
_FIELDS: dict[type, tuple[str, ...]] = {}
# libcst's node classes are ABCs, so isinstance() on them is slow: remember per type instead.
_IS_NODE: dict[type, bool] = {}


def _is_node(t: type) -> bool:
    known = _IS_NODE.get(t)
    if known is None:
        known = _IS_NODE[t] = cst.CSTNode in t.__mro__  # issubclass on an ABC visits all its subclasses
    return known


def child_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The syntactic children of a node, in source order."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(node) if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
        )
        _FIELDS[type(node)] = names
    for name in names:
        value = getattr(node, name)
        t = type(value)
        if t is list or t is tuple:
            for item in value:
                if _is_node(type(item)):
                    yield item
        elif _is_node(t):
            yield value


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below (and including) `node`, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children = list(child_nodes(current))
        children.reverse()
        stack.extend(children)


def dotted_name(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    # Exact types: isinstance on libcst's classes (ABCs) is a call into Python, and these are leaves.
    parts = []
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


# ---------------------------------------------------------------------------
# Tables


@dataclass(eq=False, repr=False)
class Binding:
    """One place a name is bound in a scope."""

    name: str
    kind: str  # assign | import | param | def | class | for | with | augassign | other | del
    home: weakref.ref[Scope]  # weak: see Scope
    node: cst.CSTNode  # the binding node (the Name target, the alias, the Param, the def)
    value: cst.BaseExpression | None = None  # the assigned expression, when there is one
    unpack_index: int | None = None  # `a, b = call()`: which element of value
    qualname: str | None = None  # imports: the fully qualified name bound
    statement: cst.CSTNode | None = None
    order: int = 0  # source order, shared with call sites: which binding a later call sees

    @property
    def scope(self) -> Scope:
        """The scope that holds this binding."""
        scope = self.home()
        assert scope is not None, "a binding outlived its scope"
        return scope


@dataclass(eq=False, repr=False)
class Scope:
    """A scope and its bindings. The tables point down only (back references are weak), so that
    the syntax tree is freed as soon as its model is dropped: left to the cyclic garbage collector,
    it would cost a tenth of a cold run."""

    kind: str  # module | function | class | lambda | comprehension
    node: cst.CSTNode
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    star_imports: list[str] = field(default_factory=list)

    def bind(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)

    def lookup(self, name: str) -> tuple[Scope | None, list[Binding]]:
        """Python's name resolution: local, enclosing functions, module (classes skipped)."""
        scope: Scope | None = self
        first = True
        while scope is not None:
            if first or scope.kind != "class":
                found = scope.bindings.get(name)
                if found:
                    return scope, found
            first = False
            scope = scope.parent
        return None, []

    def reaching(self, name: str, order: int) -> Binding | None:
        """The binding of `name` a read at source position `order` sees, ignoring control flow: the
        last one written before it (in the scope Python's lookup finds)."""
        scope, bindings = self.lookup(name)
        before = [b for b in bindings if b.order < order]
        return before[-1] if before else (bindings[-1] if bindings and scope is not self else None)

    @property
    def module_scope(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope


@dataclass(eq=False, repr=False)
class Loop:
    node: cst.For | cst.While
    parent: Loop | None
    function: Function | None

    @property
    def depth(self) -> int:
        return 1 + (self.parent.depth if self.parent else 0)


@dataclass(eq=False, repr=False)
class Function:
    node: cst.FunctionDef | cst.Lambda
    name: str
    scope: Scope  # the function's own scope
    outer: Scope  # where the def stands
    owner: weakref.ref[Class] | None  # weak (see Scope): the class whose body holds the def, for methods
    returns: list[cst.Return] = field(default_factory=list)

    @property
    def cls(self) -> Class | None:
        """The class whose body holds the def, for methods."""
        return self.owner() if self.owner is not None else None

    @property
    def params(self) -> cst.Parameters:
        return self.node.params

    @property
    def is_method(self) -> bool:
        return self.cls is not None

    @property
    def is_static(self) -> bool:
        node = self.node
        return isinstance(node, cst.FunctionDef) and any(dotted_name(d.decorator) == "staticmethod" for d in node.decorators)

    @property
    def first_param(self) -> cst.Param | None:
        """`self` (or `cls`) of a method; None for static methods."""
        ordered = [*self.params.posonly_params, *self.params.params]
        return ordered[0] if ordered and not self.is_static else None

    @property
    def first_param_name(self) -> str | None:
        param = self.first_param
        return param.name.value if param is not None else None


@dataclass(eq=False, repr=False)
class Class:
    node: cst.ClassDef
    name: str
    scope: Scope  # the class body's scope
    outer: Scope
    methods: dict[str, Function] = field(default_factory=dict)


@dataclass(eq=False, repr=False)
class CallSite:
    node: cst.Call
    scope: Scope
    function: Function | None
    loops: tuple[Loop, ...]  # innermost last
    statement: cst.CSTNode | None
    # The `if` tests around the call (within its function), each with the branch it is in.
    conditions: tuple[tuple[cst.BaseExpression, bool], ...] = ()
    # The `with` items around the call (within its function), outermost first: `torch.no_grad()`.
    contexts: tuple[cst.BaseExpression, ...] = ()
    order: int = 0  # source order (evaluation order within a statement), shared with bindings


@dataclass(eq=False, repr=False)
class AugAssign:
    """`total += value`, where it stands."""

    node: cst.AugAssign
    scope: Scope
    function: Function | None
    loops: tuple[Loop, ...]
    contexts: tuple[cst.BaseExpression, ...]
    order: int
    conditions: tuple[tuple[cst.BaseExpression, bool], ...] = ()


@dataclass(eq=False, repr=False)
class Store:
    """`base.attr = value` or `base[key] = value` (value None for augmented stores)."""

    base: cst.BaseExpression
    key: str | cst.BaseExpression  # attribute name, or the subscript expression
    value: cst.BaseExpression | None
    scope: Scope
    function: Function | None
    node: cst.CSTNode
    loops: tuple[Loop, ...] = ()
    order: int = 0  # source order, shared with bindings and call sites
    conditions: tuple[tuple[cst.BaseExpression, bool], ...] = ()  # the `if` tests around it, as for call sites


@dataclass
class SyntaxTables:
    module: cst.Module
    module_scope: Scope
    calls: list[CallSite] = field(default_factory=list)
    functions: dict[cst.CSTNode, Function] = field(default_factory=dict)
    classes: dict[cst.CSTNode, Class] = field(default_factory=dict)
    loops: list[Loop] = field(default_factory=list)
    attribute_stores: dict[str, list[Store]] = field(default_factory=dict)
    item_stores: list[Store] = field(default_factory=list)
    aug_assigns: list[AugAssign] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)  # identifier -> how often it is spelled
    attributes: dict[str, list[cst.Attribute]] = field(default_factory=dict)  # `x.name` met in expressions, by name
    scopes_by_node: dict[cst.CSTNode, Scope] = field(default_factory=dict)
    foreign: list[cst.Module] = field(default_factory=list)  # other modules taken in (see absorb)
    linked: set[cst.CSTNode] = field(default_factory=set)  # their top-level definitions taken in

    # -- queries on the tables (indexes are built on first use) ---------------------------

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    @cached_property
    def _sites_by_node(self) -> dict[cst.Call, CallSite]:
        return {site.node: site for site in self.calls}

    @cached_property
    def _sites_by_name(self) -> dict[str, list[CallSite]]:
        out: dict[str, list[CallSite]] = {}
        for site in self.calls:
            key = callee_name(site.node.func)
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

    def name_count(self, name: str) -> int:
        """How often `name` is spelled in the code: bound (assigned, imported, a parameter, a def), read,
        as an attribute (`x.name`) or a keyword (`name=`). Counted by the builder's walk."""
        return self.names.get(name, 0)

    def attribute_reads(self, name: str) -> list[cst.Attribute]:
        """`x.name` read anywhere (not assigned)."""
        found = self.attributes.get(name)
        if not found:
            return []
        stored = {id(s.node) for s in self.attribute_stores.get(name, ())}
        return [node for node in found if id(node) not in stored]

    @cached_property
    def _blocks(self) -> dict[int, tuple[cst.CSTNode, cst.CSTNode]]:
        out: dict[int, tuple[cst.CSTNode, cst.CSTNode]] = {}
        for node in walk(self.module):
            if type(node) is cst.Module or type(node) is cst.IndentedBlock:  # exact types, as in reachable
                for statement in node.body:
                    out[id(statement)] = (node, statement)
                    if isinstance(statement, cst.SimpleStatementLine):
                        for small in statement.body:
                            out[id(small)] = (node, statement)
        return out

    def absorb(self, other: SyntaxTables, roots: Iterable[Class | Function]) -> None:
        """Take in definitions of another module (one this file imports from): the classes and
        functions in `roots`, the top-level ones they name in turn (a block class, a helper, a base
        class), with what their bodies hold, but none of the module's other code: its top-level code
        does not run as part of this file's, and the rest of it is not called. Their names still
        resolve in the other module's own scope. Call before any query: indexes are built on first use."""
        if other.module in self.foreign:
            return
        self.foreign.append(other.module)
        kept = other.reachable(roots)
        self.linked |= kept
        verdicts: dict[int, bool] = {}

        def inside(scope: Scope | None) -> bool:
            """Whether the scope is (within) one of the definitions kept; remembered on the way up."""
            chain = []
            while scope is not None and id(scope) not in verdicts and scope.node not in kept and scope is not other.module_scope:
                chain.append(scope)
                scope = scope.parent
            verdict = False if scope is None else verdicts.get(id(scope), scope.node in kept)
            for passed in chain:
                verdicts[id(passed)] = verdict
            return verdict

        self.calls.extend(site for site in other.calls if inside(site.scope))
        self.functions.update((node, f) for node, f in other.functions.items() if inside(f.scope))
        self.classes.update((node, c) for node, c in other.classes.items() if inside(c.scope))
        self.loops.extend(loop for loop in other.loops if loop.function is not None and inside(loop.function.scope))
        for attr, stores in other.attribute_stores.items():
            taken = [s for s in stores if inside(s.scope)]
            if taken:
                self.attribute_stores.setdefault(attr, []).extend(taken)
        self.item_stores.extend(s for s in other.item_stores if inside(s.scope))
        self.aug_assigns.extend(a for a in other.aug_assigns if inside(a.scope))
        for name, count in other.names.items():  # the whole module's: a count errs high, on the silent side
            self.names[name] = self.names.get(name, 0) + count
        for attr, nodes in other.attributes.items():
            self.attributes.setdefault(attr, []).extend(nodes)
        self.scopes_by_node.update((node, scope) for node, scope in other.scopes_by_node.items() if inside(scope))
        for index in ("_sites_by_node", "_sites_by_name"):
            self.__dict__.pop(index, None)

    def reachable(self, roots: Iterable[Class | Function]) -> set[cst.CSTNode]:
        """The nodes of the top-level definitions `roots` use: themselves, and each top-level class
        or function a name in one of them refers to, in turn."""
        kept: set[cst.CSTNode] = set()
        todo: list[cst.CSTNode] = [root.node for root in roots]
        while todo:
            node = todo.pop()
            if node in kept:
                continue
            kept.add(node)
            for inner in walk(node):
                if type(inner) is cst.Name:  # exact types: isinstance on libcst's ABCs is slow when it fails
                    for binding in self.module_scope.bindings.get(inner.value, ()):
                        if binding.node in self.functions or binding.node in self.classes:
                            todo.append(binding.node)
        return kept

    def statement_block(self, statement: cst.CSTNode) -> tuple[cst.Module | cst.IndentedBlock, cst.CSTNode] | None:
        """The block a statement stands in, and the line (or compound statement) holding it: what a
        fix that moves a statement edits. Built by one walk, on first use (fixes are rare)."""
        found = self._blocks.get(id(statement))
        return cast("tuple[cst.Module | cst.IndentedBlock, cst.CSTNode]", found) if found else None


def terminal_name(expr: cst.BaseExpression) -> str | None:
    """`sched` for `sched`, `self.sched` and `scheds['a']`: the name a reference ends in."""
    while isinstance(expr, cst.Subscript):
        expr = expr.value
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    return None


def callee_name(func: cst.BaseExpression) -> str | None:
    """`f` in `f(...)` and in `obj.f(...)`."""
    if type(func) is cst.Name:  # exact types, as in dotted_name
        return func.value
    if type(func) is cst.Attribute:
        return func.attr.value
    return None


# ---------------------------------------------------------------------------
# The builder

_COMPREHENSIONS = frozenset({cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp})


def _import_qualname(node: cst.Attribute | cst.Name) -> str:
    return dotted_name(node) or ""


class _Ctx:
    """Where the walk is: scope, function, class body, enclosing loops and statement."""

    __slots__ = ("cls", "conditions", "contexts", "function", "loops", "scope", "statement")

    def __init__(
        self,
        scope: Scope,
        function: Function | None,
        cls: Class | None,
        loops: tuple[Loop, ...],
        statement: cst.CSTNode | None,
        conditions: tuple[tuple[cst.BaseExpression, bool], ...] = (),
        contexts: tuple[cst.BaseExpression, ...] = (),
    ) -> None:
        self.scope = scope
        self.function = function
        self.cls = cls  # set only directly inside a class body
        self.loops = loops
        self.statement = statement
        self.conditions = conditions
        self.contexts = contexts

    def at(self, statement: cst.CSTNode | None) -> _Ctx:
        return _Ctx(self.scope, self.function, self.cls, self.loops, statement, self.conditions, self.contexts)

    def within(self, scope: Scope) -> _Ctx:
        return _Ctx(scope, self.function, self.cls, self.loops, self.statement, self.conditions, self.contexts)

    def looping(self, loop: Loop) -> _Ctx:
        return _Ctx(self.scope, self.function, self.cls, self.loops + (loop,), self.statement, self.conditions, self.contexts)

    def branch(self, test: cst.BaseExpression, taken: bool) -> _Ctx:
        conditions = self.conditions + ((test, taken),)
        return _Ctx(self.scope, self.function, self.cls, self.loops, self.statement, conditions, self.contexts)

    def inside(self, items: tuple[cst.BaseExpression, ...]) -> _Ctx:
        return _Ctx(self.scope, self.function, self.cls, self.loops, self.statement, self.conditions, self.contexts + items)


class _Emit:
    """On the walk's stack: record this call once its arguments have been walked."""

    __slots__ = ("call",)

    def __init__(self, call: cst.Call) -> None:
        self.call = call


# The statement handlers of _Builder by node type, filled as types are met. Unbound functions:
# bound methods kept on the builder would make it a cycle that holds the tree.
_HANDLERS: dict[type, Callable[[_Builder, Any, _Ctx], None] | None] = {}


class _Builder:
    def __init__(self, module: cst.Module, first_order: int) -> None:
        self._order = first_order
        scope = Scope("module", module, None)
        self.t = SyntaxTables(module=module, module_scope=scope)
        self.t.scopes_by_node[module] = scope

    def build(self) -> SyntaxTables:
        ctx = _Ctx(self.t.module_scope, None, None, (), None)
        self._block(self.t.module.body, ctx)
        return self.t

    # -- statements ---------------------------------------------------------

    def _block(self, body: Sequence[cst.CSTNode], ctx: _Ctx) -> None:
        for stmt in body:
            self._statement(stmt, ctx)

    def _suite(self, suite: cst.BaseSuite, ctx: _Ctx) -> None:
        self._block(suite.body, ctx)

    def _statement(self, stmt: cst.CSTNode, ctx: _Ctx) -> None:
        t = type(stmt)
        if t in _HANDLERS:
            handler = _HANDLERS[t]
        else:
            handler = _HANDLERS[t] = getattr(_Builder, "_s_" + t.__name__, None)
        if handler is not None:
            handler(self, stmt, ctx)
        else:
            self._exprs(stmt, ctx.at(stmt))

    def _s_SimpleStatementLine(self, node: cst.SimpleStatementLine, ctx: _Ctx) -> None:
        self._block(node.body, ctx)

    _s_SimpleStatementSuite = _s_SimpleStatementLine
    _s_IndentedBlock = _s_SimpleStatementLine

    def _s_Assign(self, node: cst.Assign, ctx: _Ctx) -> None:
        ctx = ctx.at(node)
        self._expr(node.value, ctx)
        for target in node.targets:
            self._target(target.target, "assign", node.value, ctx)

    def _s_AnnAssign(self, node: cst.AnnAssign, ctx: _Ctx) -> None:
        ctx = ctx.at(node)
        self._expr(node.annotation.annotation, ctx)
        if node.value is not None:
            self._expr(node.value, ctx)
        # A bare annotation binds nothing, but a class body's `lr: float` is a
        # dataclass field without a default: record it with no value.
        if node.value is not None or ctx.scope.kind == "class":
            self._target(node.target, "assign", node.value, ctx)

    def _s_AugAssign(self, node: cst.AugAssign, ctx: _Ctx) -> None:
        ctx = ctx.at(node)
        self._expr(node.value, ctx)
        self._order += 1
        self.t.aug_assigns.append(AugAssign(node, ctx.scope, ctx.function, ctx.loops, ctx.contexts, self._order, ctx.conditions))
        self._target(node.target, "augassign", None, ctx)

    def _s_Import(self, node: cst.Import, ctx: _Ctx) -> None:
        for alias in node.names:
            full = _import_qualname(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, "import", alias, ctx, qualname=full, statement=node)
            else:
                top = full.split(".")[0]
                self._bind(top, "import", alias, ctx, qualname=top, statement=node)

    def _s_ImportFrom(self, node: cst.ImportFrom, ctx: _Ctx) -> None:
        module = _import_qualname(node.module) if node.module is not None else ""
        if node.relative:
            module = "." * len(node.relative) + module
        if isinstance(node.names, cst.ImportStar):
            ctx.scope.star_imports.append(module)
            return
        for alias in node.names:
            name = _import_qualname(alias.name)
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self._bind(local, "import", alias, ctx, qualname=f"{module}.{name}", statement=node)

    def _s_Global(self, node: cst.Global, ctx: _Ctx) -> None:
        ctx.scope.globals.update(n.name.value for n in node.names)

    def _s_Nonlocal(self, node: cst.Nonlocal, ctx: _Ctx) -> None:
        ctx.scope.nonlocals.update(n.name.value for n in node.names)

    def _s_Return(self, node: cst.Return, ctx: _Ctx) -> None:
        if ctx.function is not None:
            ctx.function.returns.append(node)
        if node.value is not None:
            self._expr(node.value, ctx.at(node))

    def _s_Del(self, node: cst.Del, ctx: _Ctx) -> None:
        self._target(node.target, "del", None, ctx.at(node))

    def _s_FunctionDef(self, node: cst.FunctionDef, ctx: _Ctx) -> None:
        ctx = ctx.at(node)
        for decorator in node.decorators:
            self._expr(decorator.decorator, ctx)
        self._bind(node.name.value, "def", node, ctx, statement=node)
        function = self._function(node, node.name.value, ctx)
        self._suite(node.body, _Ctx(function.scope, function, None, (), None))

    def _function(self, node: cst.FunctionDef | cst.Lambda, name: str, ctx: _Ctx) -> Function:
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None:
                self._expr(param.default, ctx)
            if param.annotation is not None:
                self._expr(param.annotation.annotation, ctx)
        scope = Scope("function" if isinstance(node, cst.FunctionDef) else "lambda", node, ctx.scope)
        self.t.scopes_by_node[node] = scope
        function = Function(node, name, scope, ctx.scope, weakref.ref(ctx.cls) if ctx.cls is not None else None)
        self.t.functions[node] = function
        if ctx.cls is not None and isinstance(node, cst.FunctionDef):
            ctx.cls.methods.setdefault(name, function)
        inner = _Ctx(scope, function, None, (), node)
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            self._bind(param.name.value, "param", param, inner, statement=node)
        for star in (params.star_arg, params.star_kwarg):
            if type(star) is cst.Param:
                self._bind(star.name.value, "other", star, inner, statement=node)
        return function

    def _s_ClassDef(self, node: cst.ClassDef, ctx: _Ctx) -> None:
        ctx = ctx.at(node)
        for decorator in node.decorators:
            self._expr(decorator.decorator, ctx)
        for arg in (*node.bases, *node.keywords):
            self._expr(arg.value, ctx)
        self._bind(node.name.value, "class", node, ctx, statement=node)
        scope = Scope("class", node, ctx.scope)
        self.t.scopes_by_node[node] = scope
        info = Class(node, node.name.value, scope, ctx.scope)
        self.t.classes[node] = info
        self._suite(node.body, _Ctx(scope, ctx.function, info, ctx.loops, None))

    def _s_For(self, node: cst.For, ctx: _Ctx) -> None:
        header = ctx.at(node)
        self._expr(node.iter, header)
        self._target(node.target, "for", None, header)
        loop = Loop(node, ctx.loops[-1] if ctx.loops else None, ctx.function)
        self.t.loops.append(loop)
        self._suite(node.body, ctx.looping(loop))
        if node.orelse is not None:
            self._suite(node.orelse.body, ctx)

    def _s_While(self, node: cst.While, ctx: _Ctx) -> None:
        self._expr(node.test, ctx.at(node))
        loop = Loop(node, ctx.loops[-1] if ctx.loops else None, ctx.function)
        self.t.loops.append(loop)
        self._suite(node.body, ctx.looping(loop))
        if node.orelse is not None:
            self._suite(node.orelse.body, ctx)

    def _s_If(self, node: cst.If, ctx: _Ctx) -> None:
        while True:  # an elif chain, without recursion
            self._expr(node.test, ctx.at(node))
            self._suite(node.body, ctx.branch(node.test, True))
            ctx = ctx.branch(node.test, False)
            orelse = node.orelse
            if type(orelse) is cst.If:
                node = orelse
                continue
            if orelse is not None:
                self._suite(orelse.body, ctx)
            return

    def _s_Try(self, node: cst.Try | cst.TryStar, ctx: _Ctx) -> None:
        self._suite(node.body, ctx)
        for handler in node.handlers:
            if handler.type is not None:
                self._expr(handler.type, ctx.at(handler))
            if handler.name is not None:
                self._target(handler.name.name, "other", None, ctx.at(handler))
            self._suite(handler.body, ctx)
        if node.orelse is not None:
            self._suite(node.orelse.body, ctx)
        if node.finalbody is not None:
            self._suite(node.finalbody.body, ctx)

    _s_TryStar = _s_Try

    def _s_With(self, node: cst.With, ctx: _Ctx) -> None:
        header = ctx.at(node)
        for item in node.items:
            self._expr(item.item, header)
            if item.asname is not None:
                self._target(item.asname.name, "with", item.item, header)  # `with open(p) as f`
        self._suite(node.body, ctx.inside(tuple(item.item for item in node.items)))

    def _s_Match(self, node: cst.Match, ctx: _Ctx) -> None:
        self._expr(node.subject, ctx.at(node))
        for case in node.cases:
            case_ctx = ctx.at(case)
            for sub in walk(case.pattern):
                if isinstance(sub, (cst.MatchAs, cst.MatchStar)) and isinstance(sub.name, cst.Name):
                    self._bind(sub.name.value, "other", sub, case_ctx, statement=case)
                elif isinstance(sub, cst.MatchMapping) and isinstance(sub.rest, cst.Name):
                    self._bind(sub.rest.value, "other", sub, case_ctx, statement=case)
                elif isinstance(sub, cst.MatchValue):
                    self._expr(sub.value, case_ctx)
            if case.guard is not None:
                self._expr(case.guard, case_ctx)
            self._suite(case.body, ctx)

    # -- targets and bindings -------------------------------------------------

    def _bind(self, name: str, kind: str, node: cst.CSTNode, ctx: _Ctx, **extra: Any) -> None:
        scope = ctx.scope
        if name in scope.globals:
            scope = scope.module_scope
        elif name in scope.nonlocals:
            outer = scope.parent
            while outer is not None and (outer.kind == "class" or name not in outer.bindings):
                outer = outer.parent
            scope = outer or scope.module_scope
        self._order += 1
        self.t.names[name] = self.t.names.get(name, 0) + 1
        scope.bind(Binding(name, kind, weakref.ref(scope), node, order=self._order, **extra))

    def _target(
        self, target: cst.BaseExpression, kind: str, value: cst.BaseExpression | None, ctx: _Ctx, index: int | None = None
    ) -> None:
        if type(target) is cst.Name:  # exact types, as in reachable
            self._bind(target.value, kind, target, ctx, value=value, unpack_index=index, statement=ctx.statement)
        elif type(target) is cst.Tuple or type(target) is cst.List:
            elements = [e.value for e in target.elements]
            starred = any(type(e) is cst.StarredElement for e in target.elements)
            # `a, b = 1, 2`: each name gets its own element
            values = value.elements if isinstance(value, (cst.Tuple, cst.List)) else None
            if values is not None and (
                starred or len(values) != len(elements) or any(isinstance(e, cst.StarredElement) for e in values)
            ):
                values = None
            for i, (element, raw) in enumerate(zip(elements, target.elements, strict=True)):
                if type(raw) is cst.StarredElement:
                    self._target(element, "other", None, ctx)
                elif values is not None:
                    self._target(element, kind, values[i].value, ctx)
                elif value is not None and not starred and index is None:
                    self._target(element, kind, value, ctx, index=i)
                else:
                    self._target(element, "other", None, ctx)
        elif isinstance(target, cst.Attribute):
            self._expr(target.value, ctx)
            attr = target.attr.value
            self.t.names[attr] = self.t.names.get(attr, 0) + 1
            stored = value if index is None else None
            self._order += 1
            store = Store(target.value, attr, stored, ctx.scope, ctx.function, target, ctx.loops, self._order, ctx.conditions)
            self.t.attribute_stores.setdefault(target.attr.value, []).append(store)
        elif isinstance(target, cst.Subscript):
            self._expr(target.value, ctx)
            for item in target.slice:
                self._expr(item.slice, ctx)
            first = target.slice[0].slice
            key = first.value if len(target.slice) == 1 and isinstance(first, cst.Index) else target
            stored = value if index is None else None
            self._order += 1
            self.t.item_stores.append(
                Store(target.value, key, stored, ctx.scope, ctx.function, target, ctx.loops, self._order, ctx.conditions)
            )
        elif isinstance(target, cst.StarredElement):
            self._target(target.value, "other", None, ctx)
        else:  # parenthesised or otherwise unusual targets
            self._expr(target, ctx)

    # -- expressions ------------------------------------------------------------

    def _exprs(self, node: cst.CSTNode, ctx: _Ctx) -> None:
        for child in child_nodes(node):
            self._expr(child, ctx)

    def _expr(self, node: cst.CSTNode, ctx: _Ctx) -> None:
        stack: list[cst.CSTNode | _Emit] = [node]
        names = self.t.names
        while stack:
            current = stack.pop()
            t = type(current)
            if t is cst.Name:
                name = cast(cst.Name, current).value
                names[name] = names.get(name, 0) + 1
                continue
            if t is cst.Integer or t is cst.Float or t is cst.SimpleString:
                continue  # leaves: nothing below them
            # Types are compared exactly (isinstance on libcst's ABCs is slow), so mypy needs the casts.
            if t is _Emit:
                call = cast(_Emit, current).call
                self._order += 1
                self.t.calls.append(
                    CallSite(call, ctx.scope, ctx.function, ctx.loops, ctx.statement, ctx.conditions, ctx.contexts, self._order)
                )
                continue
            current = cast(cst.CSTNode, current)
            if t is cst.Attribute:
                attribute = cast(cst.Attribute, current)
                self.t.attributes.setdefault(attribute.attr.value, []).append(attribute)
            elif t is cst.Call:
                # Recorded after the calls inside it, in the order Python runs them: `criterion(model(x), y)`.
                stack.append(_Emit(cast(cst.Call, current)))
            elif t is cst.Lambda:
                lam = cast(cst.Lambda, current)
                function = self._function(lam, "<lambda>", ctx)
                self._expr(lam.body, _Ctx(function.scope, function, None, (), ctx.statement))
                continue
            elif t in _COMPREHENSIONS:
                self._comprehension(cast(cst.ListComp, current), ctx)
                continue
            elif t is cst.IfExp:
                # `F.dropout(x, p) if self.training else x`: the branches are conditions, as an `if`'s are.
                ifexp = cast(cst.IfExp, current)
                self._expr(ifexp.test, ctx)
                self._expr(ifexp.body, ctx.branch(ifexp.test, True))
                self._expr(ifexp.orelse, ctx.branch(ifexp.test, False))
                continue
            elif t is cst.NamedExpr:
                current = cast(cst.NamedExpr, current)
                scope = ctx.scope
                while scope.kind == "comprehension" and scope.parent is not None:
                    scope = scope.parent
                self._expr(current.value, ctx)
                if isinstance(current.target, cst.Name):
                    self._bind(
                        current.target.value,
                        "assign",
                        current.target,
                        ctx.within(scope),
                        value=current.value,
                        statement=ctx.statement,
                    )
                continue
            children = list(child_nodes(current))
            children.reverse()
            stack.extend(children)

    def _comprehension(self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp, ctx: _Ctx) -> None:
        scope = Scope("comprehension", node, ctx.scope)
        self.t.scopes_by_node[node] = scope
        inner = ctx.within(scope)
        clause: cst.CompFor | None = node.for_in
        first = True
        while clause is not None:
            self._expr(clause.iter, ctx if first else inner)
            first = False
            self._target(clause.target, "for", None, inner)
            for condition in clause.ifs:
                self._expr(condition.test, inner)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            self._expr(node.key, inner)
            self._expr(node.value, inner)
        else:
            self._expr(node.elt, inner)


def build_tables(module: cst.Module, first_order: int = 0) -> SyntaxTables:
    """The tables of a module. Source order starts at `first_order`: the modules a file imports from
    count from far below zero, so their code comes before all of the file's."""
    return _Builder(module, first_order).build()
