"""TL5xx: tensor shapes that do not fit the layers they feed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from trainlint.diagnostics import Applicability, Fix, Severity
from trainlint.registry import Finding, FixKind, Rule, register
from trainlint.rules.common import replace

if TYPE_CHECKING:
    from trainlint.facts.layers import Shape
    from trainlint.model import ScriptModel
    from trainlint.model.shapes import Mismatch, Step

_LAYER_WORDS = frozenset({"Linear", "Conv1d", "Conv2d", "Conv3d", "BatchNorm", "ConvTranspose", "LazyLinear"})
_MAX_STEPS = 6  # steps of a tensor's history a message cites
# Layers that keep their input's shape and hold no sizes: left out of a history.
_SHAPE_KEEPING = (
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "GELU",
    "SiLU",
    "Tanh",
    "Sigmoid",
    "ELU",
    "Identity",
)
# The argument of each layer kind that says what it takes.
_TAKES = {"Linear": "in_features", "Bilinear": "in1_features"}


def show(shape: Shape, batched: bool | None = True) -> str:
    """`(N, 32, 13, 13)`: an unknown batch size is N, any other unknown size ?."""
    dims = ["N" if d is None and i == 0 and batched else "?" if d is None else str(d) for i, d in enumerate(shape)]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def history(model: ScriptModel, mismatch: Mismatch) -> str:
    """`input (N, 1, 28, 28) (MNIST images, line 40) -> conv1 (line 16) (N, 32, 26, 26) -> ...`: the steps that
    made the tensor, without those that keep its shape (activations, dropout)."""
    tensor = mismatch.tensor
    parts = []
    if tensor.source is not None:
        parts.append(
            f"input {show(tensor.source.shape)} from {tensor.source.what} (line {model.positions.line(tensor.source.node)})"
        )
    steps = _shape_changes(tensor.steps, tensor.source.shape if tensor.source is not None else None)
    if len(steps) > _MAX_STEPS:
        parts.append("...")
        steps = steps[-_MAX_STEPS:]
    for step in steps:
        what = step.label or step.what
        parts.append(f"{what} (line {model.positions.line(step.node)}) {show(step.shape, tensor.batched)}")
    return " -> ".join(parts)


def _shape_changes(steps: Iterable[Step], start: Shape | None) -> list[Step]:
    out = []
    previous = start
    for step in steps:
        if step.shape != previous or (step.layer is not None and not step.layer.endswith(_SHAPE_KEEPING)):
            out.append(step)
        previous = step.shape
    return out


class ShapeRule(Rule):
    kind: str = ""

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        return _LAYER_WORDS

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for mismatch in model.shapes.mismatches:
            if mismatch.kind == self.kind:
                yield self.finding(model, mismatch)

    def finding(self, model: ScriptModel, mismatch: Mismatch) -> Finding:
        raise NotImplementedError

    @staticmethod
    def refs(mismatch: Mismatch) -> list[Any]:
        refs: list[Any] = [s.node for s in mismatch.tensor.steps[-_MAX_STEPS:]]
        if mismatch.tensor.source is not None:
            refs.append(mismatch.tensor.source.node)
        if mismatch.part is not None and mismatch.part.node is not None:
            refs.append(mismatch.part.node)
        return refs


def _built(model: ScriptModel, mismatch: Mismatch) -> str:
    """`fc1 = nn.Linear(9216, 128) (line 14)`: the layer that disagrees, as the code builds it."""
    part = mismatch.part
    if part is None or part.node is None:
        return "the layer"
    name = f"{part.name} = " if part.name and not part.name.isdigit() else ""
    return f"{name}{model.code(part.node)} (line {model.positions.line(part.node)})"


def _size_fix(model: ScriptModel, mismatch: Mismatch, parameter: str, title: str) -> Fix | None:
    """Set the layer's size argument to what it is given, when that argument is a number written in the call."""
    import libcst as cst

    from trainlint.model.values import is_numeric_literal

    part = mismatch.part
    if part is None or not isinstance(part.node, cst.Call) or mismatch.got is None or part.assumed():
        return None
    argument = part.arguments.get(parameter)
    if argument is None or argument.trail:
        return None  # the size comes from a name or a parameter: which one is the slip is not clear
    positional = [a for a in part.node.args if a.keyword is None and not a.star]
    keyword = next((a for a in part.node.args if a.keyword is not None and a.keyword.value == parameter), None)
    node = keyword.value if keyword is not None else positional[0].value if positional else None
    if node is None or not (is_numeric_literal(node) or isinstance(node, cst.BinaryOperation)):
        return None
    return Fix(Applicability.UNSAFE, title.format(got=mismatch.got), (replace(model, node, str(mismatch.got)),))


@register
class FlattenSizeMismatch(ShapeRule):
    code = "TL501"
    name = "flatten-size-mismatch"
    severity = Severity.ERROR
    fix = FixKind.UNSAFE
    kind = "flatten"

    def finding(self, model: ScriptModel, mismatch: Mismatch) -> Finding:
        def message() -> str:
            if mismatch.part is None:  # a view that takes another number of values per sample
                return (
                    f"{mismatch.message}: {history(model, mismatch)}. The view makes rows of the wrong length, and "
                    f"with the batch size it asked for, samples run into each other (or it raises). Flatten per sample "
                    f"with torch.flatten(x, 1) and give the next layer {mismatch.got} input features"
                )
            return (
                f"{_built(model, mismatch)} takes {mismatch.expected} input features, but the flattened tensor it is "
                f"given has {mismatch.got}: {history(model, mismatch)}. torch raises at the first batch (mat1 and "
                f"mat2 shapes cannot be multiplied). Set in_features to {mismatch.got}, or change the layers before it"
            )

        def fix() -> Fix | None:
            if mismatch.part is None:
                return None
            return _size_fix(model, mismatch, "in_features", "Set in_features to {got}")

        return Finding(mismatch.node, message, fix, refs=self.refs(mismatch))


@register
class LayerChainMismatch(ShapeRule):
    code = "TL502"
    name = "layer-chain-mismatch"
    severity = Severity.ERROR
    fix = FixKind.UNSAFE
    kind = "chain"

    def finding(self, model: ScriptModel, mismatch: Mismatch) -> Finding:
        parameter = _parameter_of(mismatch)

        def message() -> str:
            unit = {"in_features": "input features", "in_channels": "input channels", "num_features": "channels"}.get(
                parameter or "", "values"
            )
            if mismatch.expected is not None and mismatch.got is not None:
                what = f"takes {mismatch.expected} {unit} but is given {mismatch.got}"
            else:
                what = f"does not fit what it is given ({mismatch.message})"
            return (
                f"{_built(model, mismatch)} {what}: {history(model, mismatch)}. torch raises when the first batch "
                f"reaches it. Make {parameter or 'its size'} match the layer before it, or fix that layer"
            )

        def fix() -> Fix | None:
            if parameter is None:
                return None
            return _size_fix(model, mismatch, parameter, f"Set {parameter} to {{got}}")

        return Finding(mismatch.node, message, fix, refs=self.refs(mismatch))


def _parameter_of(mismatch: Mismatch) -> str | None:
    part = mismatch.part
    layer = (part.layer or "") if part is not None else ""
    if layer == "Linear":
        return "in_features"
    if layer.startswith(("Conv", "ConvTranspose")):
        return "in_channels"
    if layer.startswith(("BatchNorm", "InstanceNorm")):
        return "num_features"
    return None


@register
class ViewFoldsBatch(ShapeRule):
    code = "TL503"
    name = "view-folds-batch"
    severity = Severity.WARNING
    fix = FixKind.SAFE
    kind = "fold"

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (_LAYER_WORDS, frozenset({"view", "reshape", "flatten"}))

    def finding(self, model: ScriptModel, mismatch: Mismatch) -> Finding:
        import libcst as cst

        node = mismatch.node
        assert isinstance(node, cst.Call)
        func = node.func
        tensor = model.code(func.value) if isinstance(func, cst.Attribute) else None
        one_row = [model.code(a.value) for a in node.args] == ["1", "-1"]

        def message() -> str:
            shape = show(mismatch.tensor.shape, True)
            return (
                f"{model.code(node)} turns the batch {shape} into {'one row' if one_row else 'one vector'}: the values of "
                f"every sample end up in one, so the layers after it see a single sample (and the loss a wrong batch "
                f"size), or training mixes samples. Keep the batch dimension: "
                f"{tensor or 'x'}.flatten(1) (or {tensor or 'x'}.view({tensor or 'x'}.size(0), -1))"
            )

        def fix() -> Fix | None:
            if tensor is None:
                return None
            applicability = Applicability.SAFE if one_row else Applicability.UNSAFE
            return Fix(applicability, f"Flatten per sample: {tensor}.flatten(1)", (replace(model, node, f"{tensor}.flatten(1)"),))

        return Finding(node, message, fix, refs=self.refs(mismatch))
