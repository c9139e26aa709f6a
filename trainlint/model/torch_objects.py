"""PyTorch objects the script builds: optimizers, schedulers, layers and nn.Module classes."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import libcst as cst

from trainlint.facts import ClassFacts
from trainlint.model.syntax import CallSite, Class, Function, Scope, callee_name
from trainlint.model.values import (
    Argument,
    BoundArguments,
    Candidates,
    Frame,
    Instance,
    Known,
    Mapping,
    Partial,
    Sequence,
    TorchObject,
)

if TYPE_CHECKING:
    from trainlint.model.evaluator import Evaluator

# Bases that make a class an nn.Module besides torch.nn's own classes.
MODULE_BASES = {
    "torch.nn.Module",
    "pytorch_lightning.LightningModule",
    "lightning.LightningModule",
    "lightning.pytorch.LightningModule",
}


@dataclass(eq=False, repr=False)
class TorchCall:
    """A call that constructs a torch class (`optim.SGD(...)`, `nn.Linear(...)`)."""

    torch: TorchModel
    site: CallSite
    facts: ClassFacts
    partial: Partial | None = None  # `make(params)` where `make = partial(optim.SGD, lr=0.1)`

    @property
    def node(self) -> cst.Call:
        return self.site.node

    @property
    def name(self) -> str:
        return self.facts.name

    @cached_property
    def arguments(self) -> BoundArguments:
        ev = self.torch.ev
        positional = self.facts.positional
        if self.partial is None:
            return ev.bind_arguments(self.site, positional, ev.frame_of(self.site))
        # The partial's arguments after the class come first; the call's follow and override.
        partial = ev.tables.call_site(self.partial.node)
        if partial is None:
            return BoundArguments({}, False)
        given = ev.bind_arguments(partial, ("",) + tuple(positional), self.partial.frame)
        taken = sum(1 for a in self.partial.node.args[1:] if a.keyword is None and not a.star)
        called = ev.bind_arguments(self.site, positional[taken:], ev.frame_of(self.site))
        given.arguments.pop("", None)
        return BoundArguments({**given.arguments, **called.arguments}, given.complete and called.complete)

    def argument(self, name: str) -> Argument | None:
        return self.arguments.arguments.get(name)

    def values(self, name: str) -> Candidates:
        """The candidate values of one argument, empty when not passed or not known."""
        argument = self.argument(name)
        return self.torch.ev.eval_argument(argument) if argument is not None else []


@dataclass(eq=False, repr=False)
class ParamGroup:
    """One `{'params': ..., 'lr': ...}` entry of an optimizer's parameter list."""

    mapping: Mapping
    node: cst.CSTNode

    def argument(self, key: str) -> Argument | None:
        expr = self.mapping.entries.get(key)
        return Argument(expr, self.mapping.scope, self.mapping.frame, expr) if expr is not None else None


CallT = TypeVar("CallT", bound=TorchCall)


class Optimizer(TorchCall):
    @cached_property
    def param_groups(self) -> list[ParamGroup]:
        """Parameter groups: the dicts of a list given as `params`, and `add_param_group({...})`."""
        ev = self.torch.ev
        groups = []
        argument = self.argument("params")
        for known in ev.eval_argument(argument) if argument is not None else ():
            if isinstance(known.value, Sequence):
                for element in known.value.node.elements:
                    for item in ev.eval(element.value, known.value.scope, known.value.frame):
                        if isinstance(item.value, Mapping) and not item.value.attribute_access:
                            groups.append(ParamGroup(item.value, element.value))
        for site, base in self.torch.ev.method_calls("add_param_group"):
            if not (site.node.args and isinstance(base.value, TorchObject) and base.value.node is self.node):
                continue
            for item in ev.eval(site.node.args[0].value, site.scope, self.torch.ev.frame_of(site)):
                if isinstance(item.value, Mapping) and not item.value.attribute_access:
                    groups.append(ParamGroup(item.value, site.node.args[0].value))
        return groups

    @cached_property
    def owners(self) -> list[tuple[cst.BaseExpression, Scope, Frame]]:
        """The expressions whose `.parameters()` it receives (`model` in `SGD(model.parameters())`),
        in its own arguments and its parameter groups."""
        argument = self.argument("params")
        if argument is None:
            return []
        exprs = [(argument.expr, argument.scope, argument.frame)]
        for group in self.param_groups:
            params = group.argument("params")
            if params is not None:
                exprs.append((params.expr, params.scope, params.frame))
        out = []
        for expr, scope, frame in exprs:
            base = _parameters_owner(expr)
            if base is not None:
                out.append((base, scope, frame))
        return out

    @cached_property
    def trained(self) -> list[Known]:
        """What it trains: the instances whose `.parameters()` it receives."""
        out: list[Known] = []
        for base, scope, frame in self.owners:
            out.extend(
                k
                for k in self.torch.ev.eval(base, scope, frame)
                if isinstance(k.value, (Instance, TorchObject, TorchvisionModel))
            )
        unique = {id(getattr(k.value, "cls", None) or k.value.node): k for k in out}
        return list(unique.values())


class Scheduler(TorchCall):
    @cached_property
    def optimizers(self) -> list[Optimizer]:
        argument = self.argument("optimizer")
        if argument is None:
            return []
        by_node = {o.node: o for o in self.torch.optimizers}
        return [
            by_node[k.value.node]
            for k in self.torch.ev.eval_argument(argument)
            if isinstance(k.value, TorchObject) and k.value.node in by_node
        ]


def _parameters_owner(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """`model` in `model.parameters()`, `filter(f, model.parameters())`, `list(model.parameters())`."""
    for _ in range(4):
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
            return func.value
        if isinstance(func, cst.Name) and func.value in ("filter", "list", "tuple") and expr.args:
            expr = expr.args[-1].value
            continue
        return None
    return None


@dataclass(eq=False, repr=False)
class Layer:
    """An `nn` layer a module class assigns in `__init__` (`self.fc1 = nn.Linear(784, 128)`)."""

    attribute: str
    call: TorchCall
    children: list[Layer]  # the contents of nn.Sequential / nn.ModuleList


@dataclass(eq=False, repr=False)
class ModuleClass:
    """A class of this file that subclasses nn.Module."""

    torch: TorchModel
    cls: Class

    @property
    def name(self) -> str:
        return self.cls.name

    @cached_property
    def layers(self) -> list[Layer]:
        init = self.torch.ev.classes.all_methods(self.cls).get("__init__")
        if init is None:
            return []
        torch_calls = self.torch.calls_by_node
        out = []
        self_name = init.first_param_name
        stores = [s for group in self.torch.ev.tables.attribute_stores.values() for s in group if s.function is init]
        for store in stores:
            if store.value is None or not isinstance(store.base, cst.Name) or store.base.value != self_name:
                continue
            call = torch_calls.get(store.value) if isinstance(store.value, cst.Call) else None
            if call is not None and call.facts.kind == "layer":
                out.append(Layer(str(store.key), call, self.torch.sequential_children(call)))
        return out

    @cached_property
    def forward(self) -> Function | None:
        return self.torch.ev.classes.all_methods(self.cls).get("forward")

    @cached_property
    def forward_calls(self) -> list[CallSite]:
        """The calls in `forward`, in the order Python evaluates them (arguments first)."""
        if self.forward is None:
            return []
        return [s for s in self.torch.ev.tables.calls if s.function is self.forward]

    @cached_property
    def output(self) -> Output | None:
        """What `forward` returns, when every return agrees: `softmax` for `return F.softmax(x, 1)`."""
        forward = self.forward
        if forward is None or not forward.returns:
            return None
        frame = Frame(forward, self_value=Known(Instance(self.cls)))
        found = {self.torch.output_of(r.value, forward.scope, frame) if r.value is not None else None for r in forward.returns}
        if len(found) != 1:
            return None
        return found.pop()

    @cached_property
    def output_parts(self) -> tuple[Output | None, ...] | None:
        """For `return validity, label`: what each element of the returned tuple is."""
        forward = self.forward
        if forward is None or not forward.returns:
            return None
        frame = Frame(forward, self_value=Known(Instance(self.cls)))
        shapes = []
        for ret in forward.returns:
            if not isinstance(ret.value, cst.Tuple) or any(isinstance(e, cst.StarredElement) for e in ret.value.elements):
                return None
            shapes.append(tuple(self.torch.output_of(e.value, forward.scope, frame) for e in ret.value.elements))
        return shapes[0] if len(set(shapes)) == 1 else None

    @cached_property
    def mode_dependent(self) -> bool | None:
        """Whether train() and eval() change what it computes (dropout, batch norm): None when a part
        of it is not known."""
        ev = self.torch.ev
        unknown = False
        for klass in ev.classes.mro(self.cls):
            for method in klass.methods.values():
                for group in ev.tables.attribute_stores.values():
                    for store in group:
                        if store.function is not method or store.value is None or not isinstance(store.base, cst.Name):
                            continue
                        if store.base.value != method.first_param_name or not isinstance(store.value, cst.Call):
                            continue
                        values = ev.eval(store.value, store.scope, Frame(method))
                        verdicts = [self.torch.mode_dependent(k.value) for k in values] or [None]
                        if True in verdicts:
                            return True
                        unknown = unknown or (None in verdicts and not _plain_call(store.value))
        for site in self.forward_calls:
            if ev.qualname(site.node.func, site.scope, Frame(site.function)) in _MODE_FUNCTIONS:
                return True
        return None if unknown else False


def _plain_call(call: cst.Call) -> bool:
    """Calls whose result is no module: `torch.zeros(...)`, `nn.Parameter(...)`, `int(...)`."""
    from trainlint.model.syntax import dotted_name

    name = dotted_name(call.func) or ""
    return name.split(".")[-1] in _NOT_MODULES


@dataclass(frozen=True, eq=False, repr=False)
class TorchvisionModel:
    """A model built by a torchvision constructor (`torchvision.models.resnet50(weights=...)`)."""

    name: str
    node: cst.Call


@dataclass(frozen=True)
class Output:
    """The last activation a model (or an expression) applies: softmax, log_softmax, sigmoid, relu, or
    linear (a Linear layer's unbounded values)."""

    kind: str
    node: cst.CSTNode  # where it is applied


ACTIVATION_FUNCTIONS = {
    "torch.softmax": "softmax",
    "torch.nn.functional.softmax": "softmax",
    "torch.special.softmax": "softmax",
    "torch.log_softmax": "log_softmax",
    "torch.nn.functional.log_softmax": "log_softmax",
    "torch.special.log_softmax": "log_softmax",
    "torch.sigmoid": "sigmoid",
    "torch.nn.functional.sigmoid": "sigmoid",
    "torch.special.expit": "sigmoid",
    "torch.relu": "relu",
    "torch.nn.functional.relu": "relu",
}
ACTIVATION_LAYERS = {"Softmax": "softmax", "Softmax2d": "softmax", "LogSoftmax": "log_softmax", "Sigmoid": "sigmoid"}
ACTIVATION_LAYERS |= {"ReLU": "relu", "Linear": "linear", "LazyLinear": "linear"}
ACTIVATION_METHODS = {"softmax": "softmax", "log_softmax": "log_softmax", "sigmoid": "sigmoid", "relu": "relu"}
# Layers whose result depends on train()/eval(); containers are judged by what they hold.
_MODE_LAYERS = ("Dropout", "BatchNorm", "Transformer")
_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}
_MODE_FUNCTIONS = {"torch.nn.functional.dropout", "torch.nn.functional.batch_norm", "torch.nn.functional.dropout2d"}
_NOT_MODULES = {"zeros", "ones", "randn", "rand", "empty", "tensor", "Parameter", "arange", "int", "float", "list", "dict"}
# torchvision models without dropout or batch norm by default (the vision transformers: LayerNorm, dropout 0.0).
_TORCHVISION_MODE_FREE = ("vit_",)

LAST = 1 << 62  # a source position after everything: the last binding of a name

# Module methods that return the module itself: `model = Net().to(device)` is still the Net.
_RETURNS_SELF = frozenset({"to", "cuda", "cpu", "float", "double", "half", "bfloat16", "train", "eval", "requires_grad_", "type"})


class TorchModel:
    def __init__(self, evaluator: Evaluator) -> None:
        # Weak references up: the evaluator holds our handlers, and the calls and classes found
        # hold this model; cycles would leave the syntax tree to the cyclic garbage collector.
        self.ev: Evaluator = weakref.proxy(evaluator)
        self._weak: TorchModel = weakref.proxy(self)
        evaluator.on_method(Instance, self._module_method)
        evaluator.on_method(TorchObject, self._module_method)
        evaluator.on_method(TorchvisionModel, self._module_method)
        evaluator.on_call_prefix("torchvision.models.", self._torchvision_model)
        evaluator.on_call("functools.partial", self._partial)

    def _partial(self, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        """`partial(torch.optim.SGD, lr=0.1)`: a torch class waiting for the rest of its arguments."""
        if not node.args or node.args[0].keyword is not None or node.args[0].star:
            return []
        facts = self.ev.facts.lookup(self.ev.qualname(node.args[0].value, scope, frame))
        return [Known(Partial(facts, node, scope, frame))] if facts is not None else []

    def _torchvision_model(self, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        qualname = self.ev.qualname(node.func, scope, frame) or ""
        name = qualname.rsplit(".", 1)[-1]
        # Constructors are lowercase functions (resnet50); weights enums and classes are not.
        return [Known(TorchvisionModel(name, node))] if name[:1].islower() and not name.startswith("get_") else []

    def _module_method(self, obj: Known, name: str, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        if name not in _RETURNS_SELF:
            return []
        value = obj.value
        if isinstance(value, TorchvisionModel) or (isinstance(value, TorchObject) and value.facts.kind in ("layer", "loss")):
            return [obj]
        if isinstance(value, Instance) and any(m.cls is value.cls for m in self.module_classes):
            if name not in self.ev.classes.all_methods(value.cls):  # a module's own `train(x)` is something else
                return [obj]
        return []

    @cached_property
    def _aliases(self) -> set[str]:
        """Names that may stand for a torch class: `Opt = optim.SGD`, `from torch.optim import SGD as S`."""
        names = set()
        for scope in self.ev.tables.scopes_by_node.values():
            for name, bindings in scope.bindings.items():
                if any(
                    b.kind == "import" or (b.kind == "assign" and (type(b.value) is cst.Name or type(b.value) is cst.Attribute))
                    for b in bindings
                ):
                    names.add(name)
        return names

    @cached_property
    def _partial_names(self) -> set[str]:
        """Names bound to a `partial(...)`: `make` in `make = partial(optim.SGD, lr=0.1)`, or `self.make`."""
        names = set()
        for site in self.ev.tables.calls_named("partial"):
            statement = site.statement
            if isinstance(statement, cst.Assign) and statement.value is site.node:
                for target in statement.targets:
                    node = target.target
                    name = (
                        node.value if isinstance(node, cst.Name) else node.attr.value if isinstance(node, cst.Attribute) else None
                    )
                    if name is not None:
                        names.add(name)
        return names

    def _calls(self, kind: str, cls: type[CallT]) -> list[CallT]:
        """Calls that construct a torch class of one kind. Each kind is resolved only when asked."""
        names = {f.name for f in self.ev.facts.of_kind(kind)} | self._aliases
        partials = self._partial_names
        out = []
        ev = self.ev
        for site in self.ev.tables.calls:
            func = site.node.func
            key = func.value if type(func) is cst.Name else func.attr.value if type(func) is cst.Attribute else None
            if key in partials or (type(func) is cst.Call and callee_name(func.func) == "partial"):
                known = ev.single(func, site.scope, ev.frame_of(site))
                if known is not None and isinstance(known.value, Partial):
                    if known.value.facts.kind == kind:
                        out.append(cls(self._weak, site, known.value.facts, known.value))
                    continue
            if key not in names:
                continue
            facts = self.ev.facts.lookup(ev.qualname(func, site.scope, self.ev.frame_of(site)))
            if facts is not None and facts.kind == kind:
                out.append(cls(self._weak, site, facts))
        return out

    @cached_property
    def optimizers(self) -> list[Optimizer]:
        return self._calls("optimizer", Optimizer)

    @cached_property
    def schedulers(self) -> list[Scheduler]:
        return self._calls("scheduler", Scheduler)

    @cached_property
    def layers(self) -> list[TorchCall]:
        return self._calls("layer", TorchCall)

    @cached_property
    def calls_by_node(self) -> dict[cst.Call, TorchCall]:
        return {c.node: c for c in (*self.optimizers, *self.schedulers, *self.layers)}

    def sequential_children(self, call: TorchCall) -> list[Layer]:
        if call.name not in ("Sequential", "ModuleList"):
            return []
        out = []
        for i, arg in enumerate(call.node.args):
            if arg.keyword is not None or arg.star:
                continue
            child = self.calls_by_node.get(arg.value) if isinstance(arg.value, cst.Call) else None
            if child is not None and child.facts.kind == "layer":
                out.append(Layer(str(i), child, self.sequential_children(child)))
        return out

    @cached_property
    def module_classes(self) -> list[ModuleClass]:
        out = []
        for cls in self.ev.tables.classes.values():
            if self._is_module(cls, set()):
                out.append(ModuleClass(self._weak, cls))
        return out

    @cached_property
    def _module_classes_by_class(self) -> dict[Class, ModuleClass]:
        return {m.cls: m for m in self.module_classes}

    def module_class(self, cls: Class) -> ModuleClass | None:
        return self._module_classes_by_class.get(cls)

    def _is_module(self, cls: Class, seen: set[Class]) -> bool:
        if cls in seen:
            return False
        seen.add(cls)
        for name in self.ev.classes.base_qualnames(cls):
            facts = self.ev.facts.lookup(name)
            if name in MODULE_BASES or (facts is not None and facts.kind in ("layer", "loss")):
                return True
        return any(self._is_module(base, seen) for base in self.ev.classes.base_classes(cls))

    # -- what a model outputs, and whether its mode matters ---------------------------------------

    def output_of(self, expr: cst.BaseExpression, scope: Scope, frame: Frame, order: int = LAST, depth: int = 0) -> Output | None:
        """The last activation `expr` applies: a call of softmax & co, a layer, a model of this file, or
        a name assigned one of those (the assignment that reaches source position `order`)."""
        if depth > 6:
            return None
        if isinstance(expr, cst.Name):
            binding = scope.reaching(expr.value, order)
            if binding is None or binding.kind != "assign" or binding.value is None:
                return None
            if binding.unpack_index is not None:  # `validity, label = discriminator(imgs)`
                return self._part_of(binding.value, binding.unpack_index, binding.scope, frame)
            return self.output_of(binding.value, binding.scope, frame, binding.order, depth + 1)
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        kind = ACTIVATION_FUNCTIONS.get(self.ev.qualname(func, scope, frame) or "")
        if kind is not None:
            return Output(kind, expr)
        for known in self.ev.eval(func, scope, frame):
            value = known.value
            if isinstance(value, TorchObject) and value.facts.kind == "layer":
                return self._layer_output(value, expr)
            if isinstance(value, Instance):
                module = next((m for m in self.module_classes if m.cls is value.cls), None)
                return module.output if module is not None and depth < 4 else None
        if isinstance(func, cst.Attribute) and func.attr.value in ACTIVATION_METHODS:
            return Output(ACTIVATION_METHODS[func.attr.value], expr)  # `logits.softmax(dim=1)`
        return None

    def _part_of(self, expr: cst.BaseExpression, index: int, scope: Scope, frame: Frame) -> Output | None:
        if not isinstance(expr, cst.Call):
            return None
        for known in self.ev.eval(expr.func, scope, frame):
            if isinstance(known.value, Instance):
                module = next((m for m in self.module_classes if m.cls is known.value.cls), None)
                parts = module.output_parts if module is not None else None
                return parts[index] if parts is not None and index < len(parts) else None
        return None

    def _layer_output(self, layer: TorchObject, at: cst.CSTNode) -> Output | None:
        if layer.facts.name == "Sequential":
            call = self.calls_by_node.get(layer.node)
            children = self.sequential_children(call) if call is not None else []
            if not children or len(children) != len([a for a in layer.node.args if a.keyword is None and not a.star]):
                return None  # some of its contents are not known layers
            last = children[-1].call
            kind = ACTIVATION_LAYERS.get(last.name)
            return Output(kind, last.node) if kind else None
        kind = ACTIVATION_LAYERS.get(layer.facts.name)
        return Output(kind, at) if kind else None

    def mode_dependent(self, value: object) -> bool | None:
        """Whether train()/eval() changes what a model computes: True with dropout or batch norm, False
        without, None when not known."""
        if isinstance(value, TorchvisionModel):
            return None if value.name.startswith(_TORCHVISION_MODE_FREE) else True
        if isinstance(value, TorchObject):
            if value.facts.kind != "layer":
                return False
            if value.facts.name in _CONTAINERS:
                call = self.calls_by_node.get(value.node)
                children = self.sequential_children(call) if call is not None else []
                held = [a for a in value.node.args if a.keyword is None and not a.star]
                if any(c.call.name.startswith(_MODE_LAYERS) for c in _flatten(children)):
                    return True
                return False if len(children) == len(held) else None
            return value.facts.name.startswith(_MODE_LAYERS)
        if isinstance(value, Instance):
            module = next((m for m in self.module_classes if m.cls is value.cls), None)
            return module.mode_dependent if module is not None else None
        return None


def _flatten(layers: list[Layer]) -> Iterator[Layer]:
    for layer in layers:
        yield layer
        yield from _flatten(layer.children)
