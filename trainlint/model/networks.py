"""What the models of a file are made of: the tree of their modules, each layer's arguments, and how many
parameters they hold.

A recognizer on top of `torch_objects.py`: a model (an instance of an nn.Module class of this file, a
torch layer or container, a torchvision constructor) becomes a `Part` whose children are the modules it
assigns in `__init__`, the contents of its `nn.Sequential`/`ModuleList`/`ModuleDict`, and the layers
built by comprehensions and `append` loops over known ranges. Each layer's constructor arguments are
evaluated in the frame the model was built in (`Net(hidden=256)` gives `nn.Linear(784, hidden)` 256
outputs), and counts come from `facts/layers.py` and `facts/vision.py`. Whatever is not known makes the
count a lower bound, and says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import libcst as cst

from trainlint.facts import layers as layer_facts
from trainlint.model.syntax import Class, Function, Loop, Scope, Store, dotted_name, walk
from trainlint.model.torch_objects import LAST, MODULE_BASES, TorchvisionModel
from trainlint.model.values import MODULE_FRAME, ClassRef, Frame, Instance, Known, Origin, Sequence, TorchObject

if TYPE_CHECKING:
    from trainlint.facts.vision import Constructor
    from trainlint.model.evaluator import Evaluator
    from trainlint.model.torch_objects import TorchModel

CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})
_PARAMETER = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter"})
_TENSOR_FACTORIES = frozenset(
    f"torch.{name}" for name in ("zeros", "ones", "randn", "rand", "empty", "full", "normal", "Tensor", "FloatTensor")
)
_REGISTER = frozenset({"add_module", "register_module"})
_LIST_GROWERS = frozenset({"append", "extend", "insert", "__iadd__"})
_MAX_DEPTH = 12
_DROPOUT_LAYERS = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")
# Layers with a dropout argument of their own, and its default.
_DROPOUT_ARGUMENT_DEFAULTS = {
    "RNN": 0.0, "LSTM": 0.0, "GRU": 0.0, "MultiheadAttention": 0.0, "Transformer": 0.1,
    "TransformerEncoderLayer": 0.1, "TransformerDecoderLayer": 0.1, "TransformerEncoder": 0.1, "TransformerDecoder": 0.1,
}  # fmt: skip
_FUNCTIONAL_DROPOUT = frozenset(
    f"torch.nn.functional.{n}"
    for n in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
) | {"torch.dropout"}
_MAX_UNROLL = 64
_MAX_PARTS = 4000  # modules built per file: beyond that (generated or recursive models), parts stay unknown
_MAX_REPEAT = 10_000


@dataclass(frozen=True)
class Argument:
    """One constructor argument of a layer, as far as it is known: `value` None means not known."""

    value: Any
    trail: tuple[Origin, ...] = ()


@dataclass(eq=False, repr=False)
class Part:
    """One module of a model: a torch layer, a container, a model class of this file, a torchvision
    model, an `nn.Parameter`, or something that is a module but not known (`timm.create_model(...)`)."""

    name: str  # the attribute or index it is stored under ("fc1", "0", "blocks")
    kind: str  # layer | container | model | torchvision | parameter | unknown
    node: cst.CSTNode | None  # where it is built
    layer: str | None = None  # the torch.nn class name of layers and containers
    arguments: dict[str, Argument] = field(default_factory=dict)  # given explicitly, by parameter name
    children: list[Part] = field(default_factory=list)
    repeat: int = 1  # built this many times (`[Block() for _ in range(4)]`)
    complete: bool = True  # every child is known
    cls: Class | None = None  # models: their class
    value: Known | None = None  # what the evaluator knows it as
    own_count: int | None = 0  # parameters: their numel (None: not known)
    constructor: Constructor | None = None  # torchvision models
    tied: bool = False  # it shares a weight with another part (`decoder.weight = encoder.weight`)
    replaced: bool = False  # a module deep inside it was replaced from outside (`model.classifier[6] = ...`)
    instance: int = 0  # one loop iteration's copy of a module built in a loop (each a module of its own)

    @property
    def args(self) -> dict[str, Any]:
        """The arguments for `facts/layers.py`: given ones by name, None where not known."""
        return {name: a.value for name, a in self.arguments.items()}

    def walk(self) -> Iterator[Part]:
        """This part and every part below it, parents first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def assumed(self, *names: str) -> bool:
        """Whether one of these arguments was taken from a parameter's default in code that the file
        never calls (a class it does not construct): another caller may pass something else."""
        for name in names or tuple(self.arguments):
            argument = self.arguments.get(name)
            if argument is not None and any(o.label.startswith("default of parameter") for o in argument.trail):
                return True
        return False


@dataclass(frozen=True, eq=False)
class Regularizer:
    """Something inside a model that regularizes it: "dropout" or "stochastic depth", where, and how to name it."""

    kind: str
    node: cst.CSTNode | None
    text: str


@dataclass(frozen=True)
class Count:
    """A parameter count: exact, or a lower bound when a part is not known; `approximate` when weights
    are shared, which `parameters()` counts once."""

    total: int
    exact: bool
    approximate: bool = False
    unknown: tuple[str, ...] = ()  # the parts not counted, for messages

    def __add__(self, other: Count) -> Count:
        return Count(
            self.total + other.total,
            self.exact and other.exact,
            self.approximate or other.approximate,
            self.unknown + other.unknown,
        )

    def times(self, n: int) -> Count:
        return Count(self.total * n, self.exact, self.approximate, self.unknown)

    @property
    def text(self) -> str:
        """`1,199,882`, `at least 1.2M`, `about 124M`."""
        if self.exact and not self.approximate:
            return f"{self.total:,}"
        return f"{'about' if self.exact else 'at least'} {short_count(self.total)}"


def short_count(n: int) -> str:
    for size, unit in ((10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= size:
            return f"{n / size:.1f}{unit}".replace(".0", "")
    return str(n)


class Networks:
    def __init__(self, evaluator: Evaluator, torch: TorchModel) -> None:
        self.ev = evaluator
        self.torch = torch
        self._parts: dict[tuple[int, Frame], Part] = {}
        self._active: set[tuple[int, Frame]] = set()
        self._classes: list[Class | None] = []  # the model classes being built, outermost first
        self._stores: dict[Class, tuple[dict[str, list[Store]], bool]] = {}
        self._used: dict[Class, frozenset[str]] = {}
        self._built = 0

    # -- the models of the file ------------------------------------------------------------

    @cached_property
    def models(self) -> list[Part]:
        """Each nn.Module class of the file as it is built: once per construction in the file (its
        arguments as given there), or, when the file never constructs it, with its parameters' defaults."""
        out = []
        for module in self.torch.module_classes:
            sites = [site for site, _ in self.ev.calls_of(init)] if (init := self.ev.classes.init_of(module.cls)) else []
            built = []
            for site in sites[:4]:
                for known in self.ev.eval(site.node, site.scope, self.ev.frame_of(site)):
                    if isinstance(known.value, Instance) and known.value.cls is module.cls:
                        built.append(self.part(known))
                        break
            if not built:
                built.append(self.part(Known(Instance(module.cls))))
            out.extend(built)
        return out

    def part(self, known: Known, name: str = "") -> Part:
        """The module tree of a value (one the evaluator found): a part of kind "unknown" when it is no
        module trainlint knows."""
        value = known.value
        key = (id(_node_of(value)), _frame_of(value))
        cached = self._parts.get(key)
        if cached is not None:
            return _renamed(cached, name) if name else cached
        cls = value.cls if isinstance(value, Instance) else None
        if (
            key in self._active
            or len(self._active) > _MAX_DEPTH
            or self._built > _MAX_PARTS
            or (cls is not None and self._classes.count(cls) >= 2)  # a class that builds itself (a tree of blocks)
        ):
            return Part(name, "unknown", _node_of(value), complete=False, value=known)
        self._active.add(key)
        self._classes.append(cls)
        self._built += 1
        try:
            part = self._build(known, name)
        finally:
            self._active.discard(key)
            self._classes.pop()
        self._parts[key] = part
        return part

    def count(self, part: Part) -> Count:
        """`sum(p.numel() for p in model.parameters())`, as far as it is known (shared parts once)."""
        return self._count(part, set())

    def _count(self, part: Part, seen: set[tuple[int, int]]) -> Count:
        if part.value is not None and part.kind != "unknown":
            key = (id(part.value.value), part.instance)
            if key in seen:
                return Count(0, True)  # the same object again: parameters() yields it once
            seen.add(key)
        if part.kind == "unknown":
            return Count(0, False, unknown=(part.name or "?",))
        if part.kind == "parameter":
            own = part.own_count
            return Count(own or 0, own is not None, unknown=() if own is not None else (part.name,)).times(part.repeat)
        if part.kind == "torchvision":
            own = part.own_count
            total = Count(
                own or 0, own is not None, part.replaced or bool(part.children), () if own is not None else (part.name,)
            )
            for child in part.children:  # what replaced its own layers: counted beside them, roughly
                total = total + self._count(child, seen)
            return total
        total = Count(0, True, part.tied or part.replaced)
        if part.kind == "layer":
            counted = layer_facts.parameter_count(part.layer or "", part.args)
            total = Count(
                counted or 0, counted is not None, unknown=() if counted is not None else (part.name or part.layer or "?",)
            )
        for child in part.children:
            total = total + self._count(child, seen)
        if not part.complete:
            total = total + Count(0, False, unknown=(f"{part.name or part.layer or 'model'} (parts not known)",))
        return total.times(part.repeat)

    # -- regularization -------------------------------------------------------------------

    def regularization(self, part: Part) -> tuple[list[Regularizer], bool]:
        """What regularizes a model from the inside: dropout layers it applies (p > 0 or not known), dropout
        arguments of the layers that take them, functional dropout in its `forward`, stochastic depth of a
        torchvision model. The flag says whether that is all: False when a part is not known (it may hold
        dropout of its own)."""
        found: list[Regularizer] = []
        complete = True
        for parent, child in _edges(part):
            if child.kind == "unknown" or not child.complete:
                complete = False
            if child.kind == "unknown" and "drop" in child.name.lower():
                found.append(Regularizer("dropout", child.node, child.name))  # `self.lockdrop = LockedDropout()`
            if child.kind == "layer" and child.layer is not None:
                found.extend(self._layer_regularizer(child, parent))
            elif child.kind == "torchvision" and child.constructor is not None:
                c = child.constructor
                dropout = self._keyword(child.node, "dropout")
                if c.dropout and (dropout is None or dropout != 0):
                    found.append(Regularizer("dropout", child.node, f"{c.name}'s dropout"))
                if c.stochastic_depth and self._keyword(child.node, "stochastic_depth_prob") != 0:
                    found.append(Regularizer("stochastic depth", child.node, f"{c.name}'s stochastic depth"))
            elif child.kind == "torchvision":
                complete = False
            elif child.kind == "model" and child.cls is not None:
                found.extend(self._functional_dropout(child))
        return found, complete

    def applied(self, part: Part, parent: Part | None) -> bool:
        """Whether a stored layer is used: a container's contents are; a model's attribute is when it is read
        anywhere as an attribute (in `forward`, by a helper), not counting `F.dropout` and other reads
        from an imported module that only share the name."""
        if parent is None or parent.kind != "model":
            return True
        tables = self.ev.tables
        if tables.name_count(part.name) <= len(tables.attribute_stores.get(part.name, ())):
            return False  # never spelled beyond its stores
        bindings = tables.module_scope.bindings

        def from_a_module(read: cst.Attribute) -> bool:
            found = bindings.get(read.value.value, []) if isinstance(read.value, cst.Name) else []
            return bool(found) and all(b.kind == "import" for b in found)

        return any(not from_a_module(read) for read in self.ev.tables.attribute_reads(part.name))

    def _layer_regularizer(self, layer: Part, parent: Part | None) -> list[Regularizer]:
        name = layer.layer or ""
        args = layer.args
        if name.endswith(_DROPOUT_LAYERS):
            p = _probability(args.get("p", 0.5))
            if (p is None or p > 0) and self.applied(layer, parent):
                return [Regularizer("dropout", layer.node, f"{layer.name or name} ({name}, p={'?' if p is None else p})")]
            return []
        default = _DROPOUT_ARGUMENT_DEFAULTS.get(name)
        if default is None:
            return []
        p = args.get("dropout", default)
        if name in ("RNN", "LSTM", "GRU") and args.get("num_layers", 1) == 1:
            return []  # dropout acts between stacked layers only (torch warns)
        nested = args.get("encoder_layer") or args.get("decoder_layer")
        if isinstance(nested, dict):
            p = nested.get("dropout", 0.1)
        p = _probability(p)
        if p is None or p > 0:
            return [Regularizer("dropout", layer.node, f"{layer.name or name} ({name}, dropout={'?' if p is None else p})")]
        return []

    def _functional_dropout(self, model: Part) -> list[Regularizer]:
        assert model.cls is not None
        module = self.torch.module_class(model.cls)
        if module is None:
            return []
        out = []
        for site in module.forward_calls:
            qualname = self.ev.qualname(site.node.func, site.scope, Frame(site.function))
            if qualname in _FUNCTIONAL_DROPOUT:
                p = self._keyword(site.node, "p", 1)
                if p is None or p > 0:
                    out.append(Regularizer("dropout", site.node, self.ev.tables.code(site.node.func)))
            elif (dotted_name(site.node.func) or "").rsplit(".", 1)[-1] in ("drop_path", "DropPath", "stochastic_depth"):
                out.append(Regularizer("stochastic depth", site.node, self.ev.tables.code(site.node.func)))
        return out

    def _keyword(self, node: cst.CSTNode | None, name: str, position: int | None = None) -> Any:
        """A call's argument by keyword (or position) as a number, None when not known, ... when absent."""
        if not isinstance(node, cst.Call):
            return ...
        arg = next((a for a in node.args if a.keyword is not None and a.keyword.value == name), None)
        if arg is None and position is not None:
            positional = [a for a in node.args if a.keyword is None and not a.star]
            arg = positional[position] if position < len(positional) else None
        if arg is None:
            return ...
        site = self.ev.tables.call_site(node)
        if site is None:
            return None
        known = self.ev.single(arg.value, site.scope, self.ev.frame_of(site))
        return known.value if known is not None and isinstance(known.value, (int, float)) else None

    # -- building the tree ------------------------------------------------------------------

    def _build(self, known: Known, name: str) -> Part:
        value = known.value
        if isinstance(value, TorchObject) and value.facts.kind in ("layer", "loss"):
            part = self._layer(value, known, name)
        elif isinstance(value, Instance) and self.torch.module_class(value.cls) is not None:
            part = self._model(value, known, name)
        elif isinstance(value, TorchvisionModel):
            part = self._torchvision(value, known, name)
        else:
            return Part(name, "unknown", _node_of(value), complete=False, value=known)
        self._replace(part, value)
        return part

    def _replace(self, part: Part, value: Any) -> None:
        """`model.fc = nn.Linear(512, 2)` outside the class (fine-tuning): the new module takes the place of
        the child of that name; deeper replacements (`model.classifier[6] = ...`) make the count approximate."""
        for store, path in self._outside_stores:
            if not any(
                k.value is value
                for k in self.ev.eval(_root(store.base), store.scope, self.ev.frame_for(store.scope, MODULE_FRAME))
            ):
                continue
            frame = self.ev.frame_for(store.scope, MODULE_FRAME)
            assert store.value is not None
            new = self._child(store.value, store.scope, frame, ".".join(path))
            if len(path) == 1 and part.kind == "model":
                part.children = [c for c in part.children if c.name != path[0]] + [new]
            else:
                part.children = [*part.children, new]
                part.replaced = True

    @cached_property
    def _outside_stores(self) -> list[tuple[Store, tuple[str, ...]]]:
        """`obj.attr = <call>` and `obj.a[i] = <call>` outside the methods of obj's class: candidates for
        a module replaced after the model is built, with the attribute path below the object."""
        out = []
        stores = [s for group in self.ev.tables.attribute_stores.values() for s in group] + self.ev.tables.item_stores
        for store in stores:
            if not isinstance(store.value, cst.Call):
                continue
            root = _root(store.base)
            if not isinstance(root, cst.Name) or (store.function is not None and root.value == store.function.first_param_name):
                continue
            path = _path(store.base)
            if path is None:
                continue
            key = store.key if isinstance(store.key, str) else "[]"
            out.append((store, (*path, key)))
        return out

    def _layer(self, obj: TorchObject, known: Known, name: str) -> Part:
        layer = obj.facts.name
        if layer in CONTAINERS:
            children, complete = self._contents(obj)
            return Part(name, "container", obj.node, layer, {}, children, complete=complete, value=known)
        return Part(name, "layer", obj.node, layer, self.layer_arguments(obj), value=known)

    def _torchvision(self, model: TorchvisionModel, known: Known, name: str) -> Part:
        from trainlint.facts.vision import torchvision_facts

        facts = torchvision_facts()
        qualname = self.ev.qualname(model.node.func, *self._where(model.node)) or ""
        constructor = facts.constructor(qualname)
        count: int | None = None
        if constructor is not None:
            count = self._torchvision_count(constructor, model.node)
        return Part(name, "torchvision", model.node, None, {}, [], complete=count is not None, value=known,
                    own_count=count, constructor=constructor)  # fmt: skip

    def _torchvision_count(self, constructor: Constructor, node: cst.Call) -> int | None:
        from trainlint.facts.vision import torchvision_facts

        scope, frame = self._where(node)
        if any(a.star for a in node.args) or any(a.keyword is None for a in node.args):
            return None  # positional arguments of torchvision builders are not part of their interface
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        num_classes: int | None = None
        if "num_classes" in keywords:
            found = self.ev.single(keywords.pop("num_classes"), scope, frame)
            if found is None or not isinstance(found.value, int):
                return None
            num_classes = found.value
        weights = keywords.pop("weights", None)
        keywords.pop("progress", None)
        keywords.pop("pretrained", None)  # the old spelling of the default weights: the same architecture
        if keywords:
            return None  # other options (aux_logits, dropout, ...) may change the model
        entry_name = self._weights_entry(weights, scope, frame) if weights is not None else None
        if entry_name == "":
            return None
        if entry_name is not None:
            entry = torchvision_facts().weights_entry(constructor, entry_name)
            if entry is None or (num_classes is not None and num_classes != entry.num_categories):
                return None
            return entry.num_params
        return constructor.parameter_count(num_classes)

    def _where(self, node: cst.Call) -> tuple[Scope, Frame]:
        site = self.ev.tables.call_site(node)
        if site is None:
            return self.ev.tables.module_scope, MODULE_FRAME
        return site.scope, self.ev.frame_of(site)

    def layer_arguments(self, obj: TorchObject) -> dict[str, Argument]:
        """A layer's constructor arguments, evaluated where it was built: a value every candidate agrees
        on, None when not known; an `nn.TransformerEncoder`'s layer is the mapping of its own arguments.
        When `*args`/`**kwargs` hide arguments, every parameter not bound is not known either."""
        site = self.ev.tables.call_site(obj.node)
        if site is None:
            return {name: Argument(None) for name in obj.facts.positional}
        bound = self.ev.bind_arguments(site, obj.facts.positional, obj.frame)
        out: dict[str, Argument] = {}
        for name, argument in bound.arguments.items():
            if not obj.facts.accepts(name):
                continue
            found = self.ev.eval_argument(argument)
            out[name] = self._argument(found, obj.facts.defaults.get(name, ...))
        if not bound.complete:
            for name in (*obj.facts.positional, *obj.facts.keyword_only):
                out.setdefault(name, Argument(None))
        return out

    def _argument(self, found: list[Known], default: Any) -> Argument:
        values = []
        for known in found:
            value = known.value
            if isinstance(value, TorchObject) and value.facts.kind == "layer":
                value = {n: a.value for n, a in self.layer_arguments(value).items()}
            elif isinstance(value, Sequence):
                value = self._plain_sequence(value)
            elif not isinstance(value, (int, float, str, bool, tuple, type(None))):
                value = _UNKNOWN
            values.append((value, known.trail))
        distinct = {repr(v) for v, _ in values}
        if len(distinct) != 1 or values[0][0] is _UNKNOWN:
            return Argument(None)
        value, trail = values[0]
        if value is None and default is not None:
            return Argument(None)  # None where torch's default is something else: not known
        return Argument(value, trail)

    def _plain_sequence(self, seq: Sequence) -> Any:
        """`[3, 3]` passed as a kernel size: a tuple of plain values, or unknown."""
        out = []
        for element in seq.node.elements:
            if isinstance(element, cst.StarredElement):
                return _UNKNOWN
            known = self.ev.single(element.value, seq.scope, seq.frame)
            if known is None or not isinstance(known.value, (int, float, bool, str)):
                return _UNKNOWN
            out.append(known.value)
        return tuple(out)

    # -- containers ------------------------------------------------------------------------

    def _contents(self, obj: TorchObject) -> tuple[list[Part], bool]:
        """The modules a Sequential, ModuleList or ModuleDict holds, and whether that is all of them."""
        site = self.ev.tables.call_site(obj.node)
        scope = site.scope if site is not None else obj.scope
        args = obj.node.args
        children: list[Part] = []
        complete = True
        order = site.order if site is not None else LAST
        if obj.facts.name == "ModuleDict" or (
            obj.facts.name == "Sequential" and len(args) == 1 and _is_ordered_dict(args[0].value)
        ):
            if args:
                entries = self._dict_entries(args[0].value, scope, obj.frame)
                if entries is None:
                    return [], False
                for key, expr in entries:
                    children.append(self._child(expr, scope, obj.frame, key))
        else:
            index = 0
            for arg in args:
                if arg.keyword is not None:
                    continue
                if arg.star == "*" or obj.facts.name == "ModuleList":
                    elements = self._elements(arg.value, scope, obj.frame, order)
                    if elements is None:
                        complete = False
                        continue
                    for part in elements:
                        children.append(_renamed(part, str(index)) if part.repeat == 1 else _renamed(part, f"{index}.."))
                        index += part.repeat
                    continue
                children.append(self._child(arg.value, scope, obj.frame, str(index)))
                index += 1
        grown = self._grown(obj)
        if grown is None:
            complete = False
        else:
            children.extend(grown)
        complete = complete and all(c.kind != "unknown" for c in children)
        return children, complete

    def _child(self, expr: cst.BaseExpression, scope: Scope, frame: Frame, name: str) -> Part:
        found = [k for k in self.ev.eval(expr, scope, frame) if _is_module_value(k.value)]
        parts = [self.part(k, name) for k in found]
        if len(parts) == 1:
            return parts[0]
        return Part(name, "unknown", expr, complete=False)

    def _grown(self, obj: TorchObject) -> list[Part] | None:
        """`self.layers.append(nn.Linear(...))` on a ModuleList/Sequential after it is built, in the function
        that built it or the methods of its class (None: some additions are not known)."""
        built = self.ev.tables.call_site(obj.node)
        home = built.function if built is not None else None
        out: list[Part] = []
        for method in ("append", "extend", "insert", "add_module"):
            for site in self.ev.tables.calls_named(method):
                func = site.node.func
                if not isinstance(func, cst.Attribute) or not site.node.args:
                    continue
                if site.function is not home and (site.function is None or home is None or site.function.cls is not home.cls):
                    continue
                frame = self._frame_like(site.function, obj.frame)
                if not any(_is(k.value, obj) for k in self.ev.eval(func.value, site.scope, frame)):
                    continue
                if method in ("insert", "add_module"):
                    return None
                expr = site.node.args[0].value
                outer = built.loops if built is not None and built.function is site.function else ()
                repeat = self._repetitions(site.loops[len(outer) :], site.function, expr, frame)
                if repeat is None:
                    return None
                if method == "extend":
                    elements = self._elements(expr, site.scope, frame, site.order)
                    if elements is None:
                        return None
                    out.extend(_repeated(p, repeat) for p in elements)
                else:
                    out.append(_repeated(self._child(expr, site.scope, frame, str(len(out))), repeat))
        return out

    def _frame_like(self, function: Function | None, frame: Frame) -> Frame:
        """The frame for code of `function` that runs as part of building in `frame` (the same `__init__`)."""
        f: Frame | None = frame
        while f is not None:
            if f.function is function:
                return f
            f = f.caller
        if function is not None and frame.self_value is not None and function.cls is not None:
            return Frame(function, None, None, frame.self_value)
        return Frame(function) if function is not None else MODULE_FRAME

    def _elements(
        self, expr: cst.BaseExpression, scope: Scope, frame: Frame, order: int = LAST, depth: int = 0
    ) -> list[Part] | None:
        """The modules a list expression holds: a literal, a comprehension over a known range, or a name
        bound to `[]` and grown by `append`/`extend`/`+=` (in loops over known ranges). None: not known."""
        if depth > 4:
            return None
        if isinstance(expr, (cst.List, cst.Tuple)):
            out: list[Part] = []
            for i, element in enumerate(expr.elements):
                if isinstance(element, cst.StarredElement):
                    inner = self._elements(element.value, scope, frame, order, depth + 1)
                    if inner is None:
                        return None
                    out.extend(inner)
                else:
                    out.append(self._child(element.value, scope, frame, str(i)))
            return out
        if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
            return self._comprehension(expr, scope, frame)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            left = self._elements(expr.left, scope, frame, order, depth + 1)
            right = self._elements(expr.right, scope, frame, order, depth + 1)
            return None if left is None or right is None else left + right
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply):
            times = self.ev.single(expr.right, scope, frame)
            inner = self._elements(expr.left, scope, frame, order, depth + 1)
            if inner is None or times is None or not isinstance(times.value, int) or not 1 <= times.value <= _MAX_REPEAT:
                return None
            return inner  # `[layer] * 3`: the same module three times, whose parameters count once
        if isinstance(expr, cst.Name):
            return self._grown_list(expr.value, scope, frame, order, depth)
        if isinstance(expr, cst.Call) and dotted_name(expr.func) in ("list", "tuple") and len(expr.args) == 1:
            return self._elements(expr.args[0].value, scope, frame, order, depth + 1)
        found = self.ev.eval(expr, scope, frame)
        if len(found) != 1 or not isinstance(found[0].value, Sequence):
            return None
        seq = found[0].value
        name = self._list_names.get(seq.node)
        if name is not None:  # `return layers` from a helper: the list as that function grew it
            return self._grown_list(name, seq.scope, seq.frame, LAST, depth + 1)
        return self._elements(seq.node, seq.scope, seq.frame, order, depth + 1)

    @cached_property
    def _list_names(self) -> dict[cst.CSTNode, str]:
        """List and tuple literals bound to a name (`layers = [...]`), by node."""
        out: dict[cst.CSTNode, str] = {}
        for scope in self.ev.tables.scopes_by_node.values():
            for name, bindings in scope.bindings.items():
                for binding in bindings:
                    if isinstance(binding.value, (cst.List, cst.Tuple)) and binding.unpack_index is None:
                        out[binding.value] = name
        return out

    def _comprehension(self, node: cst.ListComp | cst.GeneratorExp, scope: Scope, frame: Frame) -> list[Part] | None:
        """`[Block(d) for _ in range(n)]`: n new modules. Where an element's arguments depend on the
        target (`dpr[i]`), the evaluator does not know them, so what they decide stays unknown."""
        clause = node.for_in
        if clause.inner_for_in is not None or clause.ifs or not isinstance(node.elt, cst.Call):
            return None
        n = self._range_length(clause.iter, scope, frame)
        inner = self.ev.tables.scopes_by_node.get(node)
        if n is None or inner is None:
            return None
        return [_repeated(self._child(node.elt, inner, frame, "0"), n)]

    def _grown_list(self, name: str, scope: Scope, frame: Frame, order: int, depth: int) -> list[Part] | None:
        """`layers = [...]` then `layers.append(Block(d))` / `.extend(...)` / `+= [...]` in the same function
        before `order` (where the list is read): in loops over known ranges and under `if` tests that are
        known. None when any of that is not known."""
        bindings = scope.bindings.get(name, ())
        binding = scope.reaching(name, order)
        if binding is None or binding.kind != "assign" or binding.value is None or binding.scope is not scope:
            return None
        if any(b.kind not in ("assign", "augassign") for b in bindings) or sum(1 for b in bindings if b.kind == "assign") != 1:
            return None  # built more than one way
        start = self._elements(binding.value, scope, frame, binding.order, depth + 1)
        if start is None:
            return None
        function = self.ev.tables.functions.get(scope.node) if scope.kind == "function" else None
        outer = self._loops_around(binding, function)
        out = list(start)
        group: list[Part] = []  # what one iteration of the current loop adds, in order
        group_loops: tuple[Loop, ...] = ()
        group_repeat = 1
        for at, method, expr, loops, conditions in self._growers(name, scope):
            if not binding.order < at < order:
                continue
            held = self._holds(conditions, scope, frame)
            if method not in ("append", "extend") or expr is None or held is None:
                return None
            repeat = self._repetitions(loops[outer:], function, expr, frame)
            if repeat is None:
                return None
            if loops[outer:] != group_loops:
                flushed = _unrolled(group, group_repeat)
                if flushed is None:
                    return None
                out.extend(flushed)
                group, group_loops, group_repeat = [], loops[outer:], repeat
            if not held:
                continue
            if method == "extend":
                elements = self._elements(expr, scope, frame, at, depth + 1)
                if elements is None:
                    return None
                group.extend(elements)
            else:
                group.append(self._child(expr, scope, frame, str(len(out) + len(group))))
        flushed = _unrolled(group, group_repeat)
        return None if flushed is None else out + flushed

    def _growers(self, name: str, scope: Scope) -> list[tuple[int, str, cst.BaseExpression | None, tuple[Loop, ...], Any]]:
        """The calls and `+=` that grow the list `name` in `scope`, in source order."""
        growers: list[tuple[int, str, cst.BaseExpression | None, tuple[Loop, ...], Any]] = []
        for site in self.ev.tables.calls_named(*_LIST_GROWERS):
            func = site.node.func
            if site.scope is scope and isinstance(func, cst.Attribute) and dotted_name(func.value) == name:
                expr = site.node.args[0].value if len(site.node.args) == 1 else None
                growers.append((site.order, func.attr.value, expr, site.loops, site.conditions))
        for aug in self.ev.tables.aug_assigns:
            if aug.scope is scope and dotted_name(aug.node.target) == name:
                op = "extend" if isinstance(aug.node.operator, cst.AddAssign) else "?"
                growers.append((aug.order, op, aug.node.value, aug.loops, aug.conditions))
        return sorted(growers, key=lambda g: g[0])

    def _holds(self, conditions: Any, scope: Scope, frame: Frame) -> bool | None:
        """Whether code under these `if` tests runs in `frame`: None when a test is not known."""
        for test, branch in conditions:
            known = self.ev.single(test, scope, frame)
            if known is None or not isinstance(known.value, (bool, int, float, str, type(None), tuple)):
                return None
            if bool(known.value) is not branch:
                return False
        return True

    def _loops_around(self, binding: Any, function: Function | None) -> int:
        """How many loops of `function` hold a binding's statement (those run the whole building again)."""
        statement = binding.statement
        count = 0
        for loop in self.ev.tables.loops:
            if loop.function is function and statement is not None and _inside(statement, loop.node):
                count += 1
        return count

    def _repetitions(
        self, loops: tuple[Loop, ...], function: Function | None, expr: cst.BaseExpression, frame: Frame
    ) -> int | None:
        """How often code in these loops runs within `function`, when every loop is over a known range and
        `expr` does not read what the loop bodies assign; None otherwise."""
        n = 1
        for loop in loops:
            if loop.function is not function:
                continue
            node = loop.node
            if not isinstance(node, cst.For):
                return None
            site = self.ev.tables.call_site(node.iter) if isinstance(node.iter, cst.Call) else None
            if site is None:
                return None
            length = self._range_length(node.iter, site.scope, self._frame_like(site.function, frame))
            if length is None or _mentions(expr, _assigned_in(node)):
                return None
            n *= length
        return n if n <= _MAX_REPEAT else None

    def _weights_entry(self, expr: cst.BaseExpression, scope: Scope, frame: Frame) -> str | None:
        """The name of the weights entry `weights=` picks (`ResNet50_Weights.IMAGENET1K_V2`, `"DEFAULT"`),
        None for `weights=None`, "" when not known."""
        if isinstance(expr, cst.Attribute):
            return expr.attr.value
        known = self.ev.single(expr, scope, frame)
        if known is None:
            return ""
        if known.value is None:
            return None
        return known.value.rsplit(".", 1)[-1] if isinstance(known.value, str) else ""

    def _range_length(self, expr: cst.BaseExpression, scope: Scope, frame: Frame) -> int | None:
        """`range(4)`, `range(1, n)` with n known: how many iterations."""
        if not isinstance(expr, cst.Call) or dotted_name(expr.func) != "range" or not 1 <= len(expr.args) <= 3:
            return None
        if any(a.keyword is not None or a.star for a in expr.args):
            return None
        values = []
        for arg in expr.args:
            known = self.ev.single(arg.value, scope, frame)
            if known is None or not isinstance(known.value, int) or isinstance(known.value, bool):
                return None
            values.append(known.value)
        try:
            length = len(range(*values))
        except (ValueError, OverflowError):
            return None
        return length if length <= _MAX_REPEAT else None

    def _dict_entries(self, expr: cst.BaseExpression, scope: Scope, frame: Frame) -> list[tuple[str, cst.BaseExpression]] | None:
        """`{"a": m, ...}` or `OrderedDict([("a", m), ...])`: the named modules."""
        if isinstance(expr, cst.Call) and _is_ordered_dict(expr):
            if len(expr.args) != 1 or expr.args[0].keyword is not None:
                return [(a.keyword.value, a.value) for a in expr.args if a.keyword is not None] if expr.args else []
            expr = expr.args[0].value
            if not isinstance(expr, (cst.List, cst.Tuple)):
                return None
            out = []
            for item in expr.elements:
                pair = item.value
                if not isinstance(pair, cst.Tuple) or len(pair.elements) != 2:
                    return None
                key = self.ev.single(pair.elements[0].value, scope, frame)
                out.append((str(key.value) if key is not None else "?", pair.elements[1].value))
            return out
        if isinstance(expr, cst.Dict):
            entries = []
            for element in expr.elements:
                if not isinstance(element, cst.DictElement):
                    return None
                key = self.ev.single(element.key, scope, frame)
                entries.append((str(key.value) if key is not None else "?", element.value))
            return entries
        return None

    # -- models of this file ------------------------------------------------------------

    def _model(self, inst: Instance, known: Known, name: str) -> Part:
        cls = inst.cls
        mro = self.ev.classes.mro(cls)
        init = self.ev.classes.init_of(cls)
        stores_by_attr, tied = self._class_stores(cls)
        children: list[Part] = []
        direct: list[Part] = []
        for attr, stores in stores_by_attr.items():
            part = self._attribute(attr, stores, inst, known, init)
            if part is not None:
                (direct if part.kind == "parameter" else children).append(part)
        complete = self._bases_known(mro)
        registered = self._registered(mro, inst, known, init)
        if registered is None:
            complete = False
        else:
            children.extend(registered)
        node = inst.call.node if inst.call is not None else cls.node
        return Part(name, "model", node, None, {}, direct + children, complete=complete, cls=cls, value=known, tied=tied)

    def _class_stores(self, cls: Class) -> tuple[dict[str, list[Store]], bool]:
        """`self.<attr> = value` in the methods of a class and its bases, by attribute in source order;
        and whether a method ties weights (`self.head.weight = self.embed.weight`: one tensor, counted once)."""
        cached = self._stores.get(cls)
        if cached is not None:
            return cached
        mro = self.ev.classes.mro(cls)
        tied = False
        by_attr: dict[str, list[Store]] = {}
        for attr, group in self.ev.tables.attribute_stores.items():
            for store in group:
                function = store.function
                if function is None or function.cls not in mro or store.value is None:
                    continue
                if isinstance(store.base, cst.Name) and store.base.value == function.first_param_name:
                    by_attr.setdefault(attr, []).append(store)
                elif attr in ("weight", "bias") and _on_self(store.base, function):
                    tied = True
        ordered = dict(sorted(by_attr.items(), key=lambda item: item[1][0].order))
        self._stores[cls] = (ordered, tied)
        return ordered, tied

    def _attribute(self, attr: str, stores: list[Store], inst: Instance, known: Known, init: Function | None) -> Part | None:
        """The module (or parameter) a model keeps as `self.<attr>`: None when it is none, an unknown part
        when it is one trainlint cannot see (or one of several built by if/else)."""
        used = self._used_attributes(inst.cls)
        parts: list[Part] = []
        unknown = False
        for store in stores:
            function = store.function
            assert function is not None and store.value is not None
            frame = (
                Frame(function, inst.call, inst.frame, known)
                if function is init and inst.call is not None
                else Frame(function, None, None, known)
            )
            if any(loop.function is function for loop in store.loops):
                unknown = unknown or attr in used  # built in a loop: not followed
                continue
            parameter = self._parameter(store.value, store.scope, frame)
            if parameter is not None:
                parts.append(_renamed(parameter, attr))
                continue
            found = self.ev.eval(store.value, store.scope, frame)
            modules = [k for k in found if _is_module_value(k.value)]
            if modules:
                parts.extend(self.part(k, attr) for k in modules)
            elif attr in used and not any(_plain(k.value) for k in found):
                unknown = True  # called or iterated, so a module (or a function), but not one known
        if len(parts) > 1 and len({(self.count(p).total, self.count(p).exact) for p in parts}) > 1:
            unknown, parts = True, []  # built one way or another (if/else): not known which
        if parts:
            return parts[0]
        return Part(attr, "unknown", stores[0].node, complete=False) if unknown else None

    def _bases_known(self, mro: list[Class]) -> bool:
        """Whether the class's modules are all in this file: its bases are nn.Module (or Lightning's) or
        classes of the file; a torch layer or an imported class as a base adds modules not seen."""
        for klass in mro:
            for arg in klass.node.bases:
                if any(isinstance(k.value, ClassRef) for k in self.ev.eval(arg.value, klass.outer)):
                    continue
                if self.ev.qualname(arg.value, klass.outer) in MODULE_BASES:
                    continue
                return False
        return True

    def _used_attributes(self, cls: Class) -> frozenset[str]:
        """`self.X` that the class's methods call or iterate over: modules (or functions) for sure."""
        cached = self._used.get(cls)
        if cached is not None:
            return cached
        mro = self.ev.classes.mro(cls)
        out = set()
        for site in self.ev.tables.calls:
            function = site.function
            if function is None or function.cls not in mro:
                continue
            func = site.node.func
            # Exact types: isinstance on libcst's ABCs is slow when it fails, and this runs for every call.
            if type(func) is cst.Attribute and func.attr.value == "forward":
                func = func.value
            if type(func) is cst.Attribute and _on_self(func.value, function, direct=True):
                out.add(func.attr.value)
            for arg in site.node.args:
                value = arg.value
                if type(value) is cst.Attribute and _on_self(value.value, function, direct=True):
                    out.add(value.attr.value)  # `checkpoint(self.block, x)`, `nn.Sequential(self.a, self.b)`
        for loop in self.ev.tables.loops:
            node = loop.node
            if loop.function is not None and loop.function.cls in mro and isinstance(node, cst.For):
                iterated = node.iter
                if isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Attribute):
                    iterated = iterated.func.value  # `self.blocks.values()`
                if (
                    isinstance(iterated, cst.Call)
                    and dotted_name(iterated.func) in ("enumerate", "zip", "reversed")
                    and iterated.args
                ):
                    iterated = iterated.args[0].value
                if isinstance(iterated, cst.Attribute) and _on_self(iterated.value, loop.function, direct=True):
                    out.add(iterated.attr.value)
        self._used[cls] = frozenset(out)
        return self._used[cls]

    def _parameter(self, expr: cst.BaseExpression, scope: Scope, frame: Frame) -> Part | None:
        """`nn.Parameter(torch.zeros(1, n, d))`: a parameter part with its element count."""
        if not isinstance(expr, cst.Call) or self.ev.qualname(expr.func, scope, frame) not in _PARAMETER:
            return None
        data = expr.args[0].value if expr.args and expr.args[0].keyword is None else None
        numel = self._numel(data, scope, frame) if data is not None else None
        return Part("", "parameter", expr, own_count=numel, complete=numel is not None)

    def _numel(self, expr: cst.BaseExpression, scope: Scope, frame: Frame) -> int | None:
        if not isinstance(expr, cst.Call) or self.ev.qualname(expr.func, scope, frame) not in _TENSOR_FACTORIES:
            return None
        sizes = [a for a in expr.args if a.keyword is None or a.keyword.value == "size"]
        if self.ev.qualname(expr.func, scope, frame) in ("torch.full", "torch.normal"):
            sizes = sizes[:1] if self.ev.qualname(expr.func, scope, frame) == "torch.full" else []
        n = 1
        for arg in sizes:
            if arg.star:
                return None
            known = self.ev.single(arg.value, scope, frame)
            if known is None:
                return None
            value = known.value
            dims = value if isinstance(value, tuple) else (value,)
            for d in dims:
                if not isinstance(d, int) or isinstance(d, bool) or d < 0:
                    return None
                n *= d
        return n if sizes else None

    def _registered(self, mro: list[Class], inst: Instance, known: Known, init: Function | None) -> list[Part] | None:
        """`self.add_module("conv", m)` and `setattr(self, name, m)` in the class's methods (None: some
        are not known, such as one in a loop)."""
        out = []
        sites = [*self.ev.tables.calls_named(*_REGISTER), *self.ev.tables.calls_named("setattr")]
        for site in sites:
            function = site.function
            if function is None or function.cls not in mro:
                continue
            func = site.node.func
            args = site.node.args
            if isinstance(func, cst.Attribute) and func.attr.value in _REGISTER:
                if not _on_self(func.value, function, direct=True):
                    continue
                module_arg = args[1].value if len(args) > 1 else None
            elif dotted_name(func) == "setattr" and len(args) == 3 and _on_self(args[0].value, function, direct=True):
                module_arg = args[2].value
            else:
                continue
            if module_arg is None or any(loop.function is function for loop in site.loops):
                return None
            if function is init and inst.call is not None:
                frame = Frame(function, inst.call, inst.frame, known)
            else:
                frame = Frame(function, None, None, known)
            key = self.ev.single(args[0].value, site.scope, frame) if args else None
            out.append(self._child(module_arg, site.scope, frame, str(key.value) if key is not None else "?"))
        return out


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


_UNKNOWN = _Unknown()


def _probability(value: Any) -> float | None:
    """A dropout probability as written, None when it is not a number (`Dropout('5')`: unknown)."""
    return value if isinstance(value, (int, float)) else None


def _node_of(value: Any) -> cst.CSTNode | None:
    if isinstance(value, (TorchObject, TorchvisionModel)):
        return value.node
    if isinstance(value, Instance):
        return value.call.node if value.call is not None else value.cls.node
    return None


def _frame_of(value: Any) -> Frame:
    if isinstance(value, TorchObject):
        return value.frame
    if isinstance(value, Instance):
        return value.frame
    return MODULE_FRAME


def _is_module_value(value: Any) -> bool:
    return (isinstance(value, TorchObject) and value.facts.kind in ("layer", "loss")) or isinstance(
        value, (Instance, TorchvisionModel)
    )


def _renamed(part: Part, name: str) -> Part:
    if part.name == name:
        return part
    copy = Part(**{f: getattr(part, f) for f in part.__dataclass_fields__})
    copy.name = name
    return copy


def _repeated(part: Part, n: int) -> Part:
    if n == 1:
        return part
    copy = _renamed(part, part.name)
    copy = Part(**{f: getattr(copy, f) for f in copy.__dataclass_fields__})
    copy.repeat = part.repeat * n
    return copy


def _unrolled(group: list[Part], n: int) -> list[Part] | None:
    """What n iterations of a loop add, in order: one part repeated, or the loop's parts n times over
    (each a new module); None when that is too many to list."""
    if n == 1 or not group:
        return list(group)
    if len(group) == 1:
        return [_repeated(group[0], n)]
    if n * len(group) > 4 * _MAX_UNROLL:
        return None
    out = []
    for i in range(n):
        for part in group:
            copy = _renamed(part, part.name)
            copy = Part(**{f: getattr(copy, f) for f in copy.__dataclass_fields__})
            copy.instance = i
            out.append(copy)
    return out


def _is_ordered_dict(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Call) and (dotted_name(expr.func) or "").split(".")[-1] == "OrderedDict"


def _on_self(expr: cst.BaseExpression, function: Function, direct: bool = False) -> bool:
    """`self` (direct) or `self.a.b` (otherwise too) in a method."""
    while not direct and isinstance(expr, cst.Attribute):
        expr = expr.value
    return isinstance(expr, cst.Name) and expr.value == function.first_param_name


def _mentions(expr: cst.CSTNode, names: set[str]) -> bool:
    return bool(names) and any(isinstance(n, cst.Name) and n.value in names for n in walk(expr))


def _assigned_in(loop: cst.For) -> set[str]:
    """Names and attributes a loop's body assigns: what may differ from one iteration to the next
    (`in_channels = v`, `self.inplanes = planes * 4`). The loop's own target is not known to the evaluator
    anyway."""
    out = set()
    for node in walk(loop.body):
        if isinstance(node, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign)):
            target = node.target
            if isinstance(target, cst.Attribute):
                out.add(target.attr.value)
            else:
                out.update(n.value for n in walk(target) if isinstance(n, cst.Name))
        elif isinstance(node, cst.For):
            out.update(n.value for n in walk(node.target) if isinstance(n, cst.Name))
    return out


def _inside(node: cst.CSTNode, container: cst.CSTNode) -> bool:
    return any(n is node for n in walk(container))


def _edges(part: Part, parent: Part | None = None) -> Iterator[tuple[Part | None, Part]]:
    """Every part below (and including) `part`, with its parent."""
    yield parent, part
    for child in part.children:
        yield from _edges(child, part)


def _root(expr: cst.BaseExpression) -> cst.BaseExpression:
    while type(expr) is cst.Attribute or type(expr) is cst.Subscript:  # exact types: isinstance on libcst's ABCs is slow
        expr = expr.value
    return expr


def _path(expr: cst.BaseExpression) -> tuple[str, ...] | None:
    """`model.classifier` -> ("classifier",); `model` -> (); anything but attributes and subscripts -> None."""
    out: list[str] = []
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        out.append(expr.attr.value if isinstance(expr, cst.Attribute) else "[]")
        expr = expr.value
    return tuple(reversed(out)) if isinstance(expr, cst.Name) else None


def _is(value: Any, obj: TorchObject) -> bool:
    return isinstance(value, TorchObject) and value.node is obj.node


def _plain(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool, tuple, type(None)))
