"""The input sizes a file states for its models: what `forward` is first called with.

A recognizer on top of `networks.py`, asked by `shapes.py`: a `torch.randn(64, 1, 28, 28)` (or `zeros`,
`ones`, ...) fed to the model, a `summary(model, input_size=...)` of torchsummary (no batch dimension) or
torchinfo (with it), and the images of a DataLoader over MNIST, CIFAR and the other datasets of one image
size, when the dataset's transform keeps that size. A data-pipeline model will know more transforms; until
then any step other than a size-keeping one makes the size unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import libcst as cst

from trainlint.model.syntax import Scope, dotted_name
from trainlint.model.values import Frame, Instance, TorchObject

if TYPE_CHECKING:
    from trainlint.facts.layers import Shape
    from trainlint.model.evaluator import Evaluator
    from trainlint.model.networks import Part

_TENSOR_FACTORIES = frozenset(f"torch.{n}" for n in ("randn", "rand", "zeros", "ones", "empty", "randint", "full", "normal"))
_SUMMARIES = {"torchsummary.summary": False, "torchinfo.summary": True, "torchsummary.torchsummary.summary": False}
# Datasets whose images have one size: (channels, height, width).
DATASET_SIZES = {
    **{f"torchvision.datasets.{n}": (1, 28, 28) for n in ("MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST")},
    **{f"torchvision.datasets.{n}": (3, 32, 32) for n in ("CIFAR10", "CIFAR100", "SVHN")},
    "torchvision.datasets.STL10": (3, 96, 96),
}
# Transforms that keep an image's size (and make a tensor of it, for the first two).
_TO_TENSOR = frozenset({"ToTensor", "PILToTensor"})
_SIZE_KEEPING = frozenset(
    {
        "Normalize", "ConvertImageDtype", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "ColorJitter",
        "RandomErasing", "RandomAffine", "RandomPerspective", "GaussianBlur", "RandomInvert", "RandomPosterize",
        "RandomSolarize", "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize", "AutoAugment", "RandAugment",
        "TrivialAugmentWide", "AugMix", "RandomApply", "ToDtype", "ToImage",
    }
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Input:
    """An input size the file states, and where."""

    shape: Shape
    node: cst.CSTNode
    what: str  # "torch.randn(64, 1, 28, 28)", "MNIST images (1, 28, 28)"
    batched: bool | None = True


class Inputs:
    def __init__(self, evaluator: Evaluator) -> None:
        self.ev = evaluator

    def of(self, model: Part) -> list[Input]:
        """`model(torch.randn(1, 1, 28, 28))`, `summary(model, (1, 28, 28))`, or the batches of a loader of
        MNIST/CIFAR fed to the model: the input sizes stated for this model (instances built in the file)."""
        out = []
        for site, arg in self._model_calls(model):
            found = self.input_of(arg, site.scope, self.ev.frame_of(site))
            if found is not None:
                out.append(found)
        return out[:3]

    def _model_calls(self, model: Part) -> Iterator[tuple[Any, cst.BaseExpression]]:
        value = model.value.value if model.value is not None else None
        if not isinstance(value, (Instance, TorchObject)) or (isinstance(value, Instance) and value.call is None):
            return
        for site, receiver, arg in self._feeds:
            if self._is(receiver, site, value):
                yield site, arg

    @cached_property
    def _feeds(self) -> list[tuple[Any, cst.BaseExpression, cst.BaseExpression]]:
        """The calls that may state a model's input, found once for all the file's models: (site, the
        expression that must be the model, what states the size)."""
        out: list[tuple[Any, cst.BaseExpression, cst.BaseExpression]] = []
        for site in self.ev.tables.calls:
            args = site.node.args
            if not args or args[0].keyword is not None or args[0].star:
                continue
            func = site.node.func
            name = dotted_name(func)
            if name is not None and name.rsplit(".", 1)[-1] == "summary" and len(args) >= 2:
                if self.ev.qualname(func, site.scope, self.ev.frame_of(site)) in _SUMMARIES:
                    out.append((site, args[0].value, site.node))  # the summary call itself states the size
                continue
            if (type(func) is cst.Name or type(func) is cst.Attribute) and self._looks_like_input(args[0].value, site.scope):
                out.append((site, func, args[0].value))
        return out

    def _is(self, expr: cst.BaseExpression, site: Any, value: Any) -> bool:
        return any(k.value is value for k in self.ev.eval(expr, site.scope, self.ev.frame_of(site)))

    def _looks_like_input(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """A cheap test before evaluating the callee: is the argument a tensor factory, or a name bound to
        one or by a `for` loop?"""
        for _ in range(4):
            expr = _unwrap_to(expr)
            if type(expr) is cst.Call:
                return (dotted_name(expr.func) or "").rsplit(".", 1)[-1] in (
                    "randn",
                    "rand",
                    "zeros",
                    "ones",
                    "empty",
                    "randint",
                    "full",
                )
            if type(expr) is not cst.Name:
                return False
            _, bindings = scope.lookup(expr.value)
            if any(type(b.statement) is cst.For for b in bindings):
                return True
            values = [b.value for b in bindings if b.kind == "assign" and b.value is not None]
            if len(values) != 1:
                return False
            expr = values[0]
        return False

    def input_of(self, expr: cst.BaseExpression, scope: Scope, frame: Frame, depth: int = 0) -> Input | None:
        if depth > 6:
            return None
        if isinstance(expr, cst.Call) and (dotted_name(expr.func) or "").endswith("summary"):
            return self._summary_input(expr, scope, frame)
        expr = _unwrap_to(expr)
        if isinstance(expr, cst.Call):
            qualname = self.ev.qualname(expr.func, scope, frame)
            if qualname in _TENSOR_FACTORIES:
                shape = self._factory_shape(expr, qualname, scope, frame)
                return Input(shape, expr, self.ev.tables.code(expr), None) if shape is not None else None
            return None
        if not isinstance(expr, cst.Name):
            return None
        binding = scope.reaching(expr.value, self._order(expr))
        if binding is None:
            return None
        if binding.kind == "assign" and binding.value is not None:
            if binding.unpack_index is not None:
                return None
            return self.input_of(binding.value, binding.scope, frame, depth + 1)
        if isinstance(binding.statement, cst.For) and binding.kind in ("for", "other"):
            return self._batch_input(binding.statement, expr.value, binding.scope, frame)
        return None

    def _order(self, expr: cst.CSTNode) -> int:
        site = self._sites_by_arg.get(id(expr))
        return site.order if site is not None else 1 << 62

    @cached_property
    def _sites_by_arg(self) -> dict[int, Any]:
        return {id(arg.value): site for site in self.ev.tables.calls for arg in site.node.args}

    def _factory_shape(self, call: cst.Call, qualname: str, scope: Scope, frame: Frame) -> Shape | None:
        args = [a for a in call.args if a.keyword is None or a.keyword.value == "size"]
        if qualname == "torch.randint":
            args = [a for a in call.args if a.keyword is not None and a.keyword.value == "size"] or list(call.args[2:3])
        elif qualname in ("torch.full", "torch.normal"):
            args = args[:1]
        dims: list[int | None] = []
        for arg in args:
            if arg.star:
                return None
            known = self.ev.single(arg.value, scope, frame)
            value = known.value if known is not None else None
            if isinstance(value, tuple) and all(isinstance(d, int) for d in value):
                dims.extend(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                dims.append(value)
            elif known is None and len(args) > 1:
                dims.append(None)  # `torch.randn(batch_size, 1, 28, 28)`: one size not known
            else:
                return None
        return tuple(dims) if dims else None

    def _summary_input(self, call: cst.Call, scope: Scope, frame: Frame) -> Input | None:
        batch_included = _SUMMARIES.get(self.ev.qualname(call.func, scope, frame) or "")
        if batch_included is None:
            return None
        arg = next((a for a in call.args if a.keyword is not None and a.keyword.value == "input_size"), None)
        if arg is None and len(call.args) > 1 and call.args[1].keyword is None:
            arg = call.args[1]
        if arg is None:
            return None
        known = self.ev.single(arg.value, scope, frame)
        value = known.value if known is not None else None
        if not isinstance(value, tuple) or not value or not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
            return None
        shape: Shape = value if batch_included else (None, *value)
        return Input(shape, call, self.ev.tables.code(call), True)

    def _batch_input(self, loop: cst.For, name: str, scope: Scope, frame: Frame) -> Input | None:
        """`for data, target in train_loader` (or `enumerate(...)`, `tqdm(...)`) over a DataLoader of a
        dataset of known image size whose transform keeps that size: the images' batch."""
        path = _path_to(loop.target, name)
        iterable = loop.iter
        while (
            isinstance(iterable, cst.Call)
            and dotted_name(iterable.func) in ("enumerate", "tqdm", "tqdm.tqdm", "iter")
            and iterable.args
        ):
            if dotted_name(iterable.func) == "enumerate":
                if not path or path[0] != 1:
                    return None
                path = path[1:]
            iterable = iterable.args[0].value
        if path is None or path[:1] != (0,):
            return None  # images are the first element of a batch
        loader = self._constructed(iterable, scope, frame)
        if loader is None:
            return None
        call, call_scope = loader
        if self.ev.qualname(call.func, call_scope, frame) != "torch.utils.data.DataLoader":
            return None
        dataset_arg = _argument(call, "dataset", 0)
        dataset = self._constructed(dataset_arg, call_scope, frame) if dataset_arg is not None else None
        if dataset is None:
            return None
        data_call, data_scope = dataset
        size = DATASET_SIZES.get(self.ev.qualname(data_call.func, data_scope, frame) or "")
        transform = _argument(data_call, "transform", None)
        if size is None or transform is None:
            return None
        image = self._transformed(size, transform, data_scope, frame)
        if image is None:
            return None
        name_of = (dotted_name(data_call.func) or "dataset").rsplit(".", 1)[-1]
        # The batch size varies (the last batch is smaller): N.
        return Input((None, *image), data_call, f"{name_of} images ({', '.join(map(str, image))})", True)

    def _constructed(self, expr: cst.BaseExpression, scope: Scope, frame: Frame) -> tuple[cst.Call, Scope] | None:
        """The call a name was built by (`train_loader = DataLoader(...)`), following plain assignments."""
        for _ in range(4):
            if isinstance(expr, cst.Call):
                return expr, scope
            if not isinstance(expr, cst.Name):
                return None
            binding = scope.reaching(expr.value, 1 << 62)
            if binding is None or binding.kind != "assign" or binding.value is None or binding.unpack_index is not None:
                return None
            if len([b for b in binding.scope.bindings.get(expr.value, ()) if b.kind != "import"]) != 1:
                return None
            expr, scope = binding.value, binding.scope
        return None

    def _transformed(
        self, size: tuple[int, int, int], transform: cst.BaseExpression, scope: Scope, frame: Frame
    ) -> tuple[int, ...] | None:
        """The image size after a transform made of size-keeping steps and `ToTensor` (None: another step,
        or no tensor made)."""
        built = self._constructed(transform, scope, frame)
        if built is None:
            return None
        call, call_scope = built
        steps: list[cst.Call] = [call]
        name = (self.ev.qualname(call.func, call_scope, frame) or "").rsplit(".", 1)[-1]
        if name == "Compose":
            listed = call.args[0].value if call.args else None
            if not isinstance(listed, (cst.List, cst.Tuple)):
                return None
            steps = []
            for element in listed.elements:
                if not isinstance(element.value, cst.Call) or isinstance(element, cst.StarredElement):
                    return None
                steps.append(element.value)
        tensor = False
        for step in steps:
            kind = (self.ev.qualname(step.func, call_scope, frame) or "").rsplit(".", 1)[-1]
            if kind in _TO_TENSOR:
                tensor = True
            elif kind not in _SIZE_KEEPING:
                return None
        return size if tensor else None


def _unwrap_to(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`x.to(device)`, `x.cuda()`, `Variable(x)`: the tensor underneath."""
    for _ in range(4):
        if type(expr) is not cst.Call:  # exact types: isinstance on libcst's ABCs is slow when it fails
            break
        if type(expr.func) is cst.Attribute and expr.func.attr.value in ("to", "cuda", "float", "cpu", "requires_grad_"):
            expr = expr.func.value
        elif dotted_name(expr.func) in ("Variable", "autograd.Variable", "torch.autograd.Variable") and expr.args:
            expr = expr.args[0].value
        else:
            break
    return expr


def _path_to(target: cst.BaseExpression, name: str) -> tuple[int, ...] | None:
    """Where `name` sits in a for target: `batch_idx, (data, target)` puts data at (1, 0)."""
    if isinstance(target, cst.Name):
        return () if target.value == name else None
    if isinstance(target, (cst.Tuple, cst.List)):
        for i, element in enumerate(target.elements):
            found = _path_to(element.value, name)
            if found is not None:
                return (i, *found)
    return None


def _argument(call: cst.Call, name: str, position: int | None) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[position].value if position is not None and position < len(positional) else None
