"""Tensor shapes through `forward` and `nn.Sequential`: what each line of a model computes, and where the
sizes of consecutive layers disagree.

A recognizer on top of `networks.py`. Each model of the file is run abstractly: its `forward` is read
statement by statement with an environment of shapes (`facts/layers.py` gives each layer's output and
says when torch would raise), from the input sizes the file states (`torch.randn(64, 1, 28, 28)` fed to the
model, a `summary(model, input_size=...)`, the batches of an MNIST or CIFAR loader). Without a known input
a layer's own arguments give the size it expects (`nn.Conv2d(1, 32, 3)` takes 1 channel), which is
enough to check the layers that follow it; such a tensor's rank is only assumed, so nothing that depends
on the rank (`view`, `flatten`, indexing) is computed from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import libcst as cst

from trainlint.facts import layers as facts
from trainlint.facts.layers import InputDim, Shape
from trainlint.model.inputs import Input
from trainlint.model.networks import Part
from trainlint.model.syntax import Function, dotted_name
from trainlint.model.values import Frame, Instance, Known, TorchObject

if TYPE_CHECKING:
    from trainlint.model.evaluator import Evaluator
    from trainlint.model.inputs import Inputs
    from trainlint.model.networks import Networks

_MAX_DEPTH = 6  # models inside models
_MAX_UNROLL = 64  # children of a ModuleList a `for` loop is followed through


@dataclass(frozen=True)
class Step:
    """One operation on the way to a tensor: what it was, and the shape after it."""

    node: cst.CSTNode
    what: str  # "conv1 (Conv2d)", "view(-1, 320)", "max_pool2d"
    shape: Shape
    layer: str | None = None  # the torch.nn layer applied, for layer steps
    label: str = ""  # how the code names that layer ("fc1", "features.3")
    part: Part | None = None  # that layer
    owner: Part | None = None  # the model or Sequential that applied it


@dataclass(frozen=True, eq=False)
class Tensor:
    shape: Shape
    steps: tuple[Step, ...] = ()
    batched: bool | None = None  # dimension 0 is the batch (None: not known)
    assumed: bool = False  # the rank is the one the first layer expects, not one the file states
    source: Input | None = None

    def then(
        self, node: cst.CSTNode, what: str, shape: Shape, batched: bool | str | None = "same", step: Step | None = None
    ) -> Tensor:
        """The tensor an operation makes of this one (its batch dimension kept unless told otherwise)."""
        keep = self.batched if batched == "same" else batched
        step = step or Step(node, what, shape)
        return Tensor(shape, self.steps + (step,), keep if isinstance(keep, bool) else None, self.assumed, self.source)


@dataclass(frozen=True, eq=False)
class DimOf:
    """`x.size(i)` / `x.shape[i]`: dimension i of one tensor."""

    tensor: Tensor
    index: int

    @property
    def value(self) -> int | None:
        shape = self.tensor.shape
        return shape[self.index] if -len(shape) <= self.index < len(shape) else None


@dataclass(frozen=True, eq=False)
class Results:
    """What an RNN or attention layer returns: a tuple whose first element is the output."""

    first: Tensor | None


@dataclass(frozen=True, eq=False)
class Mismatch:
    """Sizes that cannot work: torch raises here (or, for a fold, silently mixes samples)."""

    kind: str  # flatten (a flattened size and the Linear it feeds) | chain (consecutive layers) | fold (view folds the batch)
    node: cst.CSTNode  # the call that fails
    message: str  # why, in facts/layers.py's words
    tensor: Tensor  # what reaches it, with its history
    part: Part | None  # the layer that disagrees
    model: Part  # the model being run
    expected: int | None = None  # what the layer takes
    got: int | None = None  # what it is given


@dataclass
class Run:
    """One model run on one input: the mismatches found and the shape after each line of `forward`."""

    model: Part
    input: Input | None
    mismatches: list[Mismatch] = field(default_factory=list)
    hints: dict[cst.CSTNode, Shape] = field(default_factory=dict)  # statement -> shape of what it assigns
    output: Tensor | None = None
    applied: list[tuple[tuple[Step, ...], Step]] = field(default_factory=list)  # each layer applied: what led to it, and it


_SAME_SHAPE = frozenset(
    {f"torch.nn.functional.{n}" for n in (
        "relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "leaky_relu", "hardtanh", "hardswish",
        "hardsigmoid", "sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign", "dropout", "dropout1d",
        "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "normalize", "prelu", "rrelu", "logsigmoid",
        "tanhshrink", "softmin", "local_response_norm",
    )}
    | {f"torch.{n}" for n in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "exp", "abs", "sqrt", "dropout", "clamp", "neg")}
)  # fmt: skip
_SAME_SHAPE_METHODS = frozenset(
    {
        "relu", "sigmoid", "tanh", "softmax", "log_softmax", "contiguous", "float", "double", "half", "bfloat16", "to",
        "cuda", "cpu", "clone", "detach", "type_as", "clamp", "abs", "exp", "sqrt", "neg", "requires_grad_", "relu_",
        "sigmoid_", "tanh_", "clamp_", "mul_", "add_", "div_",
    }
)  # fmt: skip
# Functional pooling: the layer it computes, and the order of its parameters after the input.
_POOLS = {
    **{f"torch.nn.functional.max_pool{n}d": (f"MaxPool{n}d", ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")) for n in (1, 2, 3)},
    **{f"torch.max_pool{n}d": (f"MaxPool{n}d", ("kernel_size", "stride", "padding", "dilation", "ceil_mode")) for n in (1, 2, 3)},
    **{f"torch.nn.functional.avg_pool{n}d": (f"AvgPool{n}d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")) for n in (1, 2, 3)},
    **{f"torch.nn.functional.adaptive_avg_pool{n}d": (f"AdaptiveAvgPool{n}d", ("output_size",)) for n in (1, 2, 3)},
    **{f"torch.nn.functional.adaptive_max_pool{n}d": (f"AdaptiveMaxPool{n}d", ("output_size", "return_indices")) for n in (1, 2, 3)},
}  # fmt: skip
_RESHAPES = frozenset({"view", "reshape"})
_ACTIVATION_METHODS = frozenset(
    {"relu", "sigmoid", "tanh", "softmax", "log_softmax", "relu_", "sigmoid_", "tanh_", "clamp", "clamp_"}
)
# Steps that change neither values' meaning nor shape, so the layers around them count as adjacent.
_TRANSPARENT = frozenset({"contiguous"})


class Shapes:
    def __init__(self, evaluator: Evaluator, networks: Networks, inputs: Inputs) -> None:
        self.ev = evaluator
        self.networks = networks
        self.torch = networks.torch
        self.inputs = inputs

    # -- what rules and the editor ask ------------------------------------------------------

    @cached_property
    def runs(self) -> list[Run]:
        """Every model of the file run on every input size the file states for it, and once on the sizes its
        layers expect; every Sequential of the file on the size its first layer expects."""
        out = []
        linked = self.ev.tables.linked
        for model in self._runnable():
            for source in self.inputs.of(model):
                out.append(self.run(model, source))
            # A class of another file on its own sizes finds only what that file's lint reports.
            if model.cls is None or model.cls.node not in linked:
                out.append(self.run(model, None))
        return out

    @cached_property
    def mismatches(self) -> list[Mismatch]:
        """Each mismatch once (a run from a stated input first: its numbers say more)."""
        seen: set[tuple[str, int]] = set()
        out = []
        for run in self.runs:
            for mismatch in run.mismatches:
                key = (mismatch.kind, id(mismatch.node))
                if key not in seen:
                    seen.add(key)
                    out.append(mismatch)
        return out

    @cached_property
    def hints(self) -> dict[cst.CSTNode, Shape]:
        """The shape after each line of `forward` that assigns a tensor, for runs from a stated input; a line
        that runs with different shapes (a block used twice) is left out."""
        out: dict[cst.CSTNode, Shape] = {}
        clash: set[cst.CSTNode] = set()
        for run in self.runs:
            if run.input is None:
                continue
            for node, shape in run.hints.items():
                if node in out and out[node] != shape:
                    clash.add(node)
                out.setdefault(node, shape)
        return {node: shape for node, shape in out.items() if node not in clash}

    @cached_property
    def adjacent_layers(self) -> list[tuple[Step, Step]]:
        """Layers applied one right after the other (nothing but shape-keeping no-ops between), once each."""
        return self.layer_pairs(frozenset())

    def layer_pairs(self, through: frozenset[str]) -> list[tuple[Step, Step]]:
        """As `adjacent_layers`, also looking past the layers named in `through` (`Dropout`): a Linear,
        a Dropout and a Linear are still two linear maps in a row."""
        seen: set[tuple[int, int]] = set()
        out = []
        for run in self.runs:
            for history, step in run.applied:
                if step.layer in through:
                    continue
                before = next((s for s in reversed(history) if s.what not in _TRANSPARENT and s.layer not in through), None)
                if before is None or before.layer is None:
                    continue
                key = (id(before.node), id(step.node))
                if key not in seen:
                    seen.add(key)
                    out.append((before, step))
        return out

    def run(self, model: Part, source: Input | None) -> Run:
        run = Run(model, source)
        tensor = Tensor(source.shape, (), source.batched, False, source) if source is not None else None
        interpreter = _Interpreter(self, run)
        if model.kind == "container":
            interpreter.chain(model, tensor, model.node or cst.Name("x"))
        else:
            run.output = interpreter.call_model(model, [tensor], 0)
        return run

    def _runnable(self) -> Iterator[Part]:
        """The models of the file, and the Sequentials built outside any model class."""
        yield from self.networks.models
        in_models = {id(p.node) for model in self.networks.models for p in model.walk()}
        for layer in self.torch.layers:
            if layer.name != "Sequential" or id(layer.node) in in_models:
                continue
            site = layer.site
            statement = site.statement
            name = ""  # `features = nn.Sequential(...)`: its layers are features[0], features[1], ...
            if isinstance(statement, cst.Assign) and statement.value is site.node and len(statement.targets) == 1:
                name = dotted_name(statement.targets[0].target) or ""
            for known in self.ev.eval(site.node, site.scope, self.ev.frame_of(site)):
                if isinstance(known.value, TorchObject):
                    yield self.networks.part(known, name.rsplit(".", 1)[-1])
                    break

    def trained(self, model: Part) -> bool:
        """Whether an optimizer of the file trains this model (so it sees batches, not one sample)."""
        value = model.value.value if model.value is not None else None
        cls = getattr(value, "cls", None)
        for optimizer in self.torch.optimizers:
            for known in optimizer.trained:
                if known.value is value or (cls is not None and getattr(known.value, "cls", None) is cls):
                    return True
        return False

    # -- sizes layers expect -------------------------------------------------------------------------

    def entry(self, part: Part) -> Shape | None:
        """The input a layer takes, as far as its arguments say: `Conv2d(1, 32, 3)` takes (N, 1, ?, ?),
        `Linear(784, 128)` (N, 784)."""
        if part.kind == "container" and part.layer == "Sequential":
            return self.entry(part.children[0]) if part.children and part.children[0].repeat == 1 else None
        if part.kind != "layer" or part.layer is None:
            return None
        args = part.args
        layer = part.layer
        for prefix, n in (("Conv", None), ("ConvTranspose", None)):
            if layer.startswith(prefix) and layer[-2:] in ("1d", "2d", "3d"):
                channels = args.get("in_channels")
                rank = int(layer[-2])
                return (None, channels if isinstance(channels, int) else None, *([None] * rank)) if n is None else None
        if layer in ("BatchNorm2d", "BatchNorm3d", "InstanceNorm2d", "InstanceNorm3d"):
            features = args.get("num_features")
            return (None, features if isinstance(features, int) else None, *([None] * int(layer[-2])))
        if layer in ("Linear", "Bilinear"):
            features = args.get("in_features") if layer == "Linear" else args.get("in1_features")
            return (None, features) if isinstance(features, int) else None
        return None


class _Interpreter:
    """Reads one model's `forward` (and the forwards and Sequentials it calls) for one input."""

    def __init__(self, shapes: Shapes, run: Run) -> None:
        self.shapes = shapes
        self.ev = shapes.ev
        self.networks = shapes.networks
        self.run = run
        self.root = run.model
        self.owners: list[Part] = []  # the models and Sequentials being run, innermost last

    # -- calling parts --------------------------------------------------------------------------

    def call_model(self, part: Part, args: list[Any], depth: int) -> Any:
        if part.kind == "container":
            return self.chain(part, args[0] if args else None, part.node or cst.Name("x"))
        if part.kind != "model" or part.cls is None or depth > _MAX_DEPTH or part.value is None:
            return None
        forward = self.ev.classes.all_methods(part.cls).get("forward")
        if forward is None or not isinstance(forward.node, cst.FunctionDef):
            return None
        self.owners.append(part)
        try:
            return _Forward(self, part, forward, depth).invoke(args)
        finally:
            self.owners.pop()

    def apply(self, part: Part, tensor: Any, node: cst.CSTNode, label: str, depth: int, unconditional: bool) -> Any:
        """A part applied to a value at `node`: a layer's output shape, a container's chain, a model's forward."""
        if part.kind == "layer":
            return self.layer(part, tensor, node, label, unconditional)
        if part.kind == "container":
            return self.chain(part, tensor, node, unconditional, label)
        if part.kind == "model":
            return self.call_model(part, [tensor], depth + 1)
        return None

    def layer(self, part: Part, tensor: Any, node: cst.CSTNode, label: str, unconditional: bool = True) -> Any:
        layer = part.layer or ""
        if not isinstance(tensor, Tensor):
            entry = self.shapes.entry(part)
            if entry is None:
                return None
            tensor = Tensor(entry, (), True, True, None)
        result = facts.output_shape(layer, part.args, tensor.shape)
        if result.error is not None:
            if unconditional and not part.assumed():
                self._mismatch(part, tensor, node, result.error)
            return None
        if result.shape is None:
            return None
        batched = tensor.batched
        rank = _batched_rank(layer)
        if rank is not None and not tensor.assumed:
            batched = len(tensor.shape) == rank
        owner = self.owners[-1] if self.owners else None
        step = Step(node, f"{label} ({layer})" if label else layer, result.shape, layer, label or layer, part, owner)
        out = tensor.then(node, step.what, result.shape, batched, step)
        self.run.applied.append((tensor.steps, out.steps[-1]))
        if layer in ("RNN", "LSTM", "GRU", "MultiheadAttention"):
            return Results(out)
        return out

    def chain(self, part: Part, tensor: Any, node: cst.CSTNode, unconditional: bool = True, label: str = "") -> Any:
        """A Sequential applied to a value: its children one after another (`features[3]` in messages)."""
        if part.layer != "Sequential" or not part.complete:
            return None
        self.owners.append(part)
        try:
            return self._chain(part, tensor, node, unconditional, label)
        finally:
            self.owners.pop()

    def _chain(self, part: Part, tensor: Any, node: cst.CSTNode, unconditional: bool, label: str) -> Any:
        value = tensor
        index = 0
        prefix = label or part.name
        for child in part.children:
            for _ in range(min(child.repeat, _MAX_UNROLL)):
                name = f"{prefix}[{index}]" if prefix else f"[{index}]"
                index += 1
                if child.kind == "layer":
                    value = self.layer(child, value, child.node or node, name, unconditional)
                else:
                    value = self.apply(child, value, node, name, 0, unconditional)
                if value is None:
                    return None
        return value

    def _mismatch(self, part: Part, tensor: Tensor, node: cst.CSTNode, message: str) -> None:
        expected, got, kind = _sizes(part, tensor)
        self.run.mismatches.append(Mismatch(kind, node, message, tensor, part, self.root, expected, got))


class _Forward:
    """One call of a model's `forward`: an environment of values, statement by statement."""

    def __init__(self, interpreter: _Interpreter, part: Part, forward: Function, depth: int) -> None:
        self.it = interpreter
        self.ev = interpreter.ev
        self.part = part
        self.function = forward
        self.depth = depth
        assert part.value is not None
        self.frame = Frame(forward, None, None, part.value)
        self.scope = forward.scope
        self.env: dict[str, Any] = {}
        self.labels: dict[str, str] = {}  # names bound to a container's children: `blocks[2]`
        self.returns: list[Any] = []
        self.conditional = 0  # inside branches whose test is not known

    def invoke(self, args: list[Any]) -> Any:
        node = self.function.node
        assert isinstance(node, cst.FunctionDef)
        params = [*node.params.posonly_params, *node.params.params][1:]
        for param, value in zip(params, args, strict=False):
            self.env[param.name.value] = value
        self.block(node.body.body)
        if len(self.returns) == 1:
            return self.returns[0]
        if self.returns and all(isinstance(r, Tensor) and r.shape == self.returns[0].shape for r in self.returns):
            return self.returns[0]
        return None

    # -- statements ----------------------------------------------------------------------------

    def block(self, body: Any) -> None:
        for statement in body:
            self.statement(statement)

    def statement(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.small(small, node)
        elif isinstance(node, cst.If):
            self.branch(node)
        elif isinstance(node, cst.For):
            self.loop(node)
        elif isinstance(node, cst.With):
            self.block(node.body.body)
        else:
            self.forget(node)

    def small(self, node: cst.CSTNode, line: cst.SimpleStatementLine) -> None:
        if isinstance(node, cst.Assign):
            value = self.value(node.value)
            for target in node.targets:
                self.assign(target.target, value, line)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self.assign(node.target, self.value(node.value), line)
        elif isinstance(node, cst.AugAssign):
            left = self.value(node.target)
            right = self.value(node.value)
            result = _broadcast(left, right, node) if isinstance(left, Tensor) else None
            self.assign(node.target, result, line)
        elif isinstance(node, cst.Return):
            self.returns.append(self.value(node.value) if node.value is not None else None)
        elif isinstance(node, cst.Expr):
            self.value(node.value)

    def assign(self, target: cst.BaseExpression, value: Any, line: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self.env[target.value] = value
            if isinstance(value, Tensor) and not value.assumed and not self.conditional:
                self.it.run.hints[line] = value.shape
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = [e.value for e in target.elements]
            parts = self.unpack(value, len(elements))
            for element, part in zip(elements, parts, strict=True):
                self.assign(element, part, line)

    def unpack(self, value: Any, n: int) -> list[Any]:
        if isinstance(value, tuple) and len(value) == n:
            return list(value)
        if isinstance(value, Results):
            return [value.first] + [None] * (n - 1)
        if isinstance(value, Tensor) and not value.assumed and len(value.shape) >= 1 and value.shape[0] == n:
            return [None] * n
        return [None] * n

    def branch(self, node: cst.If) -> None:
        test = self.ev.single(node.test, self.scope, self.frame)
        if test is not None and isinstance(test.value, (bool, int, str, type(None))):
            if test.value:
                self.block(node.body.body)
            elif isinstance(node.orelse, cst.If):
                self.branch(node.orelse)
            elif node.orelse is not None:
                self.block(node.orelse.body.body)
            return
        before = dict(self.env)
        self.conditional += 1
        self.block(node.body.body)
        taken = self.env
        self.env = dict(before)
        if isinstance(node.orelse, cst.If):
            self.branch(node.orelse)
        elif node.orelse is not None:
            self.block(node.orelse.body.body)
        self.conditional -= 1
        other = self.env
        self.env = {name: _merge(taken.get(name), other.get(name)) for name in set(taken) | set(other)}

    def loop(self, node: cst.For) -> None:
        """`for layer in self.layers: x = layer(x)`: the ModuleList's children in order; any other loop forgets
        what its body assigns."""
        container = self.part_of(node.iter)
        if (
            container is not None
            and container.kind == "container"
            and container.complete
            and isinstance(node.target, cst.Name)
            and sum(c.repeat for c in container.children) <= _MAX_UNROLL
            and node.orelse is None
        ):
            index = 0
            prefix = _label(node.iter)
            for child in container.children:
                for _ in range(child.repeat):
                    self.env[node.target.value] = child
                    self.labels[node.target.value] = f"{prefix}[{index}]"
                    index += 1
                    self.block(node.body.body)
            return
        self.forget(node)

    def forget(self, node: cst.CSTNode) -> None:
        """Names a statement assigns become unknown (the statement is not followed)."""
        from trainlint.model.syntax import walk

        for sub in walk(node):
            if isinstance(sub, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign)):
                for name in walk(sub.target):
                    if isinstance(name, cst.Name):
                        self.env[name.value] = None
            elif isinstance(sub, (cst.For, cst.WithItem, cst.NamedExpr)):
                target = sub.target if not isinstance(sub, cst.WithItem) else (sub.asname.name if sub.asname else None)
                for name in walk(target) if target is not None else ():
                    if isinstance(name, cst.Name):
                        self.env[name.value] = None
            elif isinstance(sub, cst.Return):
                self.returns.append(None)

    # -- expressions -----------------------------------------------------------------------------

    def value(self, node: cst.BaseExpression) -> Any:
        if isinstance(node, cst.Name):
            if node.value in self.env:
                return self.env[node.value]
            return self.constant(node)
        if isinstance(node, cst.Call):
            return self.call(node)
        if isinstance(node, cst.Attribute):
            if node.attr.value == "shape":
                base = self.value(node.value)
                return _dims(base) if isinstance(base, Tensor) else None
            return self.constant(node)
        if isinstance(node, cst.Subscript):
            return self.subscript(node)
        if isinstance(node, cst.BinaryOperation):
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(left, Tensor) or isinstance(right, Tensor):
                return _broadcast(left, right, node)
            return _arith(node, left, right)
        if isinstance(node, (cst.Integer, cst.UnaryOperation)):
            return self.constant(node)
        if isinstance(node, cst.Tuple):
            return tuple(self.value(e.value) for e in node.elements if not isinstance(e, cst.StarredElement))
        return None

    def constant(self, node: cst.BaseExpression) -> Any:
        """A value the evaluator knows (`self.hidden`, `784`, a module): an int, or a part."""
        found = self.ev.eval(node, self.scope, self.frame)
        if len(found) == 1:
            value = found[0].value
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, tuple):
                return value
        part = self.part_of(node)
        return part

    def part_of(self, node: cst.BaseExpression) -> Part | None:
        """The module an expression is (`self.conv1`, `self.layers`), when there is one."""
        if isinstance(node, cst.Name) and node.value in self.env:
            value = self.env[node.value]
            return value if isinstance(value, Part) else None
        if isinstance(node, cst.Subscript):
            base = self.part_of(node.value)
            index = (
                self.ev.single(node.slice[0].slice.value, self.scope, self.frame)
                if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index)
                else None
            )
            if base is None or index is None or base.kind != "container":
                return None
            return _child_at(base, index.value)
        if not isinstance(node, (cst.Attribute, cst.Name)):
            return None
        found = [k for k in self.ev.eval(node, self.scope, self.frame) if _is_module(k)]
        if len(found) != 1:
            return None
        return self.it.networks.part(found[0])

    def call(self, node: cst.Call) -> Any:
        func = node.func
        args = node.args
        part = self.part_of(func) if isinstance(func, (cst.Name, cst.Attribute, cst.Subscript)) else None
        if part is not None:
            values = [self.value(a.value) for a in args if a.keyword is None and not a.star]
            label = self.labels.get(func.value, _label(func)) if isinstance(func, cst.Name) else _label(func)
            if part.kind == "model":
                return self.it.call_model(part, values, self.depth + 1)
            return self.it.apply(part, values[0] if values else None, node, label, self.depth, not self.conditional)
        if isinstance(func, cst.Attribute):
            base = self.value(func.value)
            if isinstance(base, Tensor):
                return self.method(base, func.attr.value, node)
            if isinstance(base, Results) and func.attr.value in _SAME_SHAPE_METHODS:
                return None
        qualname = self.ev.qualname(func, self.scope, self.frame)
        if qualname is None:
            return None
        return self.function_call(qualname, node)

    def function_call(self, qualname: str, node: cst.Call) -> Any:
        args = node.args
        first = self.value(args[0].value) if args and args[0].keyword is None and not args[0].star else None
        name = qualname.rsplit(".", 1)[-1]
        if qualname in _SAME_SHAPE:
            return first.then(node, name, first.shape) if isinstance(first, Tensor) else None
        if qualname in _POOLS and isinstance(first, Tensor):
            layer, params = _POOLS[qualname]
            given = self.bound(args[1:], params)
            if given is None:
                return None
            if not first.assumed or _batched_rank(layer) is None:
                result = facts.output_shape(layer, given, first.shape)
                if result.error is not None:
                    return None  # a functional call's sizes may come from anywhere: no finding
                if result.shape is not None and not first.assumed:
                    return first.then(node, name, result.shape)
            return None
        if qualname == "torch.flatten" and isinstance(first, Tensor):
            return self.flatten(first, args[1:], node, "torch.flatten")
        if qualname in ("torch.reshape",) and isinstance(first, Tensor) and len(args) == 2:
            sizes = self.value(args[1].value)
            return self.reshape(first, sizes if isinstance(sizes, tuple) else (sizes,), node, "reshape")
        if qualname in ("torch.cat", "torch.concat", "torch.concatenate", "torch.stack") and args:
            return self.concatenate(qualname, node)
        if qualname in ("torch.squeeze", "torch.unsqueeze", "torch.transpose", "torch.permute") and isinstance(first, Tensor):
            return self.method(first, name, node, skip=1)
        return None

    def bound(self, args: Any, params: tuple[str, ...]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for i, arg in enumerate(args):
            if arg.star:
                return None
            name = arg.keyword.value if arg.keyword is not None else (params[i] if i < len(params) else None)
            if name is None or name not in params:
                return None
            known = self.ev.single(arg.value, self.scope, self.frame)
            out[name] = known.value if known is not None and isinstance(known.value, (int, bool, tuple, type(None))) else None
        return out

    def method(self, tensor: Tensor, name: str, node: cst.Call, skip: int = 0) -> Any:
        args = node.args[skip:]
        if name in _SAME_SHAPE_METHODS:
            return tensor if name not in _ACTIVATION_METHODS else tensor.then(node, name, tensor.shape)
        if name in ("size", "dim"):
            return self.size(tensor, name, args)
        if tensor.assumed:
            return None  # its rank is only assumed: nothing that depends on it
        if name in _RESHAPES:
            sizes: tuple[Any, ...] = tuple(self.value(a.value) for a in args)
            if len(sizes) == 1 and isinstance(sizes[0], tuple):
                sizes = sizes[0]
            return self.reshape(tensor, sizes, node, self.ev.tables.code(node))
        if name == "flatten":
            return self.flatten(tensor, args, node, "flatten")
        ints = self.ints(args)
        return self.rearrange(tensor, name, ints, node) if ints is not None else None

    def size(self, tensor: Tensor, name: str, args: Any) -> Any:
        """`x.size()`, `x.size(0)`, `x.dim()`."""
        if tensor.assumed:
            return None
        if not args:
            return _dims(tensor) if name == "size" else len(tensor.shape)
        index = self.ev.single(args[0].value, self.scope, self.frame)
        return DimOf(tensor, index.value) if index is not None and isinstance(index.value, int) else None

    def rearrange(self, tensor: Tensor, name: str, ints: list[Any], node: cst.Call) -> Any:
        """`permute`, `transpose`, `unsqueeze`, `squeeze` with known dimensions."""
        moved = set()
        if name == "permute":
            dims = ints[0] if len(ints) == 1 and isinstance(ints[0], tuple) else ints
            result = facts.permute_shape(tensor.shape, dims)
            moved = {0} if dims and dims[0] not in (0, -len(tensor.shape)) else set()
        elif name in ("transpose", "swapaxes") and len(ints) == 2:
            result = facts.transpose_shape(tensor.shape, ints[0], ints[1])
            moved = {0} if 0 in ints or -len(tensor.shape) in ints else set()
        elif name == "unsqueeze" and len(ints) == 1:
            result = facts.unsqueeze_shape(tensor.shape, ints[0])
            moved = {0} if ints[0] in (0, -len(tensor.shape) - 1) else set()
        elif name == "squeeze" and len(ints) <= 1:
            result = facts.squeeze_shape(tensor.shape, ints[0] if ints else None)
            moved = {0} if not ints or ints[0] in (0, -len(tensor.shape)) else set()
        else:
            return None
        if result.shape is None:
            return None
        return tensor.then(node, name, result.shape, None if moved else tensor.batched)

    def ints(self, args: Any) -> list[Any] | None:
        out = []
        for arg in args:
            if arg.star or arg.keyword is not None:
                return None
            known = self.ev.single(arg.value, self.scope, self.frame)
            if known is None or not isinstance(known.value, (int, tuple)) or isinstance(known.value, bool):
                return None
            out.append(known.value)
        return out

    def flatten(self, tensor: Tensor, args: Any, node: cst.Call, label: str) -> Any:
        if tensor.assumed:
            return None
        given = self.bound(args, ("start_dim", "end_dim"))
        if given is None:
            return None
        start, end = given.get("start_dim", 0), given.get("end_dim", -1)
        if not isinstance(start, int) or not isinstance(end, int):
            return None
        result = facts.flatten_shape(tensor.shape, start, end)
        if result.shape is None:
            return None
        folds = tensor.batched and start == 0 and len(tensor.shape) > 1
        if folds and self._per_sample_over_one(tensor):
            self._fold(tensor, node, self.ev.tables.code(node))
            return None  # as for a view: what follows fails for the same reason, once is enough
        return tensor.then(node, label, result.shape, False if folds else tensor.batched)

    def reshape(self, tensor: Tensor, sizes: tuple[Any, ...], node: cst.Call, label: str) -> Any:
        resolved: list[Any] = []
        for size in sizes:
            if isinstance(size, DimOf):
                resolved.append(InputDim(size.index) if size.tensor is tensor else size.value)
            elif isinstance(size, int) and not isinstance(size, bool):
                resolved.append(size)
            else:
                resolved.append(None)
        if tensor.batched and len(tensor.shape) > 1 and self._folds_batch(tensor, resolved):
            self._fold(tensor, node, label)
            return None
        per_sample = _per_sample(tensor)
        if tensor.batched and resolved and resolved[0] == -1 and per_sample is not None and len(resolved) > 1:
            asked = _product(resolved[1:])
            if asked is not None and asked != per_sample and asked > 0:
                self._view_mismatch(tensor, node, label, asked, per_sample)
                return None
        result = facts.view_shape(tensor.shape, resolved)
        if result.shape is None:
            return None
        batched = tensor.batched if resolved and (resolved[0] in (-1, InputDim(0)) or resolved[0] == tensor.shape[0]) else None
        return tensor.then(node, label, result.shape, batched)

    def _folds_batch(self, tensor: Tensor, sizes: list[Any]) -> bool:
        """`x.view(-1)` or `x.view(1, -1)` on a batched tensor with more than one value per sample."""
        if sizes == [-1]:
            return self._per_sample_over_one(tensor)
        if sizes == [1, -1] and self.it.run.model.value is not None:
            return self._per_sample_over_one(tensor) and self.it.shapes.trained(self.it.root)
        return False

    def _per_sample_over_one(self, tensor: Tensor) -> bool:
        known = [d for d in tensor.shape[1:] if isinstance(d, int)]
        return bool(known) and _product(known) not in (None, 0, 1)

    def _fold(self, tensor: Tensor, node: cst.Call, label: str) -> None:
        if self.conditional:
            return
        per_sample = _per_sample(tensor)
        self.it.run.mismatches.append(
            Mismatch("fold", node, f"{label} puts the whole batch into one sample", tensor, None, self.it.root, per_sample, None)
        )

    def _view_mismatch(self, tensor: Tensor, node: cst.Call, label: str, asked: int, per_sample: int) -> None:
        if self.conditional:
            return
        message = f"{label} takes {asked} values per sample, but each sample has {per_sample}"
        self.it.run.mismatches.append(Mismatch("flatten", node, message, tensor, None, self.it.root, asked, per_sample))

    def concatenate(self, qualname: str, node: cst.Call) -> Any:
        listed = node.args[0].value
        if not isinstance(listed, (cst.List, cst.Tuple)):
            return None
        tensors = [self.value(e.value) for e in listed.elements if not isinstance(e, cst.StarredElement)]
        if len(tensors) != len(listed.elements) or not all(isinstance(t, Tensor) and not t.assumed for t in tensors):
            return None
        dim_arg = next((a for a in node.args[1:] if a.keyword is None or a.keyword.value in ("dim", "axis")), None)
        dim = self.ev.single(dim_arg.value, self.scope, self.frame) if dim_arg is not None else None
        index = dim.value if dim is not None else (0 if dim_arg is None else None)
        if not isinstance(index, int):
            return None
        shapes = [t.shape for t in tensors]
        result = facts.stack_shape(shapes, index) if qualname == "torch.stack" else facts.cat_shape(shapes, index)
        if result.shape is None:
            return None
        first = tensors[0]
        return first.then(node, qualname.rsplit(".", 1)[-1], result.shape, first.batched if index != 0 else None)

    def subscript(self, node: cst.Subscript) -> Any:
        base = self.value(node.value)
        if isinstance(base, Results):
            index = (
                self.ev.single(node.slice[0].slice.value, self.scope, self.frame)
                if isinstance(node.slice[0].slice, cst.Index)
                else None
            )
            return base.first if index is not None and index.value == 0 else None
        if isinstance(base, tuple):
            index = (
                self.ev.single(node.slice[0].slice.value, self.scope, self.frame)
                if isinstance(node.slice[0].slice, cst.Index)
                else None
            )
            if index is not None and isinstance(index.value, int) and -len(base) <= index.value < len(base):
                return base[index.value]
            return None
        if isinstance(base, Part):
            return self.part_of(node)
        if not isinstance(base, Tensor) or base.assumed:
            return None
        return _indexed(base, node, self)


# -- helpers -----------------------------------------------------------------------------------------


def _is_module(known: Known) -> bool:
    from trainlint.model.torch_objects import TorchvisionModel

    value = known.value
    return (isinstance(value, TorchObject) and value.facts.kind in ("layer", "loss")) or isinstance(
        value, (Instance, TorchvisionModel)
    )


def _label(func: cst.BaseExpression) -> str:
    name = dotted_name(func)
    if name is None:
        return ""
    parts = name.split(".")
    return ".".join(parts[1:]) if parts[0] == "self" and len(parts) > 1 else name


def _child_at(container: Part, index: Any) -> Part | None:
    if isinstance(index, str):
        return next((c for c in container.children if c.name == index and c.repeat == 1), None)
    if not isinstance(index, int) or isinstance(index, bool):
        return None
    flat: list[Part] = []
    for child in container.children:
        flat.extend([child] * child.repeat)
        if len(flat) > _MAX_UNROLL:
            return None
    if not container.complete:
        return None
    return flat[index] if -len(flat) <= index < len(flat) else None


def _batched_rank(layer: str) -> int | None:
    """The rank of a batched input of a layer that takes a fixed rank (Conv2d: 4)."""
    if layer[-2:] in ("1d", "2d", "3d") and not layer.startswith(("BatchNorm1d", "InstanceNorm1d", "Lazy")):
        if layer.startswith(
            (
                "Conv",
                "MaxPool",
                "AvgPool",
                "AdaptiveAvgPool",
                "AdaptiveMaxPool",
                "BatchNorm",
                "InstanceNorm",
                "Dropout",
                "ConvTranspose",
                "LPPool",
            )
        ):
            return int(layer[-2]) + 2
    return None


def _flattens(step: Step) -> bool:
    """A step that flattens or views its tensor: `x.view(x.size(0), -1)`, `torch.flatten(x, 1)`, `nn.Flatten()`."""
    node = step.node
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in ("view", "reshape", "flatten")
    ):
        return True
    return step.what.startswith(("view", "reshape", "flatten", "torch.flatten")) or step.what.endswith("(Flatten)")


def _sizes(part: Part, tensor: Tensor) -> tuple[int | None, int | None, str]:
    """What a layer takes, what it is given, and the kind of mismatch: a Linear after a flatten/view is
    `flatten`, anything else `chain`."""
    args = part.args
    layer = part.layer or ""
    shape = tensor.shape
    if layer == "Linear":
        expected, got = args.get("in_features"), shape[-1] if shape else None
        flattened = bool(tensor.steps) and _flattens(tensor.steps[-1])
        return expected, got, "flatten" if flattened else "chain"
    channel = 1 if len(shape) >= 2 else 0
    if layer.startswith(("Conv", "ConvTranspose")):
        return args.get("in_channels"), shape[channel] if shape else None, "chain"
    if layer.startswith(("BatchNorm", "InstanceNorm")):
        return args.get("num_features"), shape[channel] if shape else None, "chain"
    return None, None, "chain"


def _dims(tensor: Tensor) -> tuple[Any, ...] | None:
    if tensor.assumed:
        return None
    return tuple(DimOf(tensor, i) for i in range(len(tensor.shape)))


def _per_sample(tensor: Tensor) -> int | None:
    return _product(tensor.shape[1:]) if tensor.shape else None


def _product(dims: Any) -> int | None:
    n = 1
    for d in dims:
        if not isinstance(d, int) or isinstance(d, bool):
            return None
        n *= d
    return n


def _merge(a: Any, b: Any) -> Any:
    if a is b:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.shape == b.shape and a.assumed == b.assumed:
        return a
    return None


def _broadcast(left: Any, right: Any, node: cst.CSTNode) -> Any:
    """`x + y`: equal shapes keep theirs, a number keeps the tensor's; anything else is not known."""
    if isinstance(left, Tensor) and isinstance(right, Tensor):
        return left if left.shape == right.shape and left.assumed == right.assumed else None
    if isinstance(left, Tensor) and isinstance(right, (int, float)) and not isinstance(right, bool):
        return left
    if isinstance(right, Tensor) and isinstance(left, (int, float)) and not isinstance(left, bool):
        return right
    return None


def _arith(node: cst.BinaryOperation, left: Any, right: Any) -> Any:
    a = left.value if isinstance(left, DimOf) else left
    b = right.value if isinstance(right, DimOf) else right
    if not (isinstance(a, int) and isinstance(b, int)) or isinstance(a, bool) or isinstance(b, bool):
        return None
    ops: dict[type, Callable[[int, int], int]] = {
        cst.Add: lambda x, y: x + y,
        cst.Subtract: lambda x, y: x - y,
        cst.Multiply: lambda x, y: x * y,
        cst.FloorDivide: lambda x, y: x // y if y else 0,
    }
    op = ops.get(type(node.operator))
    return op(a, b) if op is not None else None


def _indexed(tensor: Tensor, node: cst.Subscript, forward: _Forward) -> Any:
    """`x[:, -1]`, `x[:, 0, :]`, `x[..., None]`: integers drop a dimension, full slices keep it, None adds one."""
    shape = list(tensor.shape)
    out: list[Any] = []
    position = 0
    elements = node.slice
    if any(isinstance(e.slice, cst.Index) and isinstance(e.slice.value, cst.Ellipsis) for e in elements):
        return None
    for element in elements:
        item = element.slice
        if position > len(shape):
            return None
        if isinstance(item, cst.Slice):
            if item.lower is None and item.upper is None and item.step is None:
                if position >= len(shape):
                    return None
                out.append(shape[position])
            else:
                out.append(None)
            position += 1
            continue
        if not isinstance(item, cst.Index):
            return None
        value = item.value
        if isinstance(value, cst.Name) and value.value == "None":
            out.append(1)
            continue
        known = forward.ev.single(value, forward.scope, forward.frame)
        if known is None or not isinstance(known.value, int) or isinstance(known.value, bool):
            return None
        position += 1
    if position > len(shape):
        return None
    result = tuple(out + shape[position:])
    batched = tensor.batched if elements and isinstance(elements[0].slice, cst.Slice) else None
    return tensor.then(node, "index", result, batched)
