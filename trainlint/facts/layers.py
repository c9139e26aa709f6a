"""Output shapes and parameter counts of torch.nn layers, written by hand and checked against torch.

torch publishes no shape or parameter-count formulas, so each layer kind has a small function here;
tests/test_layer_facts.py runs the real layers (on meta tensors, or tiny CPU ones where the meta
kernels check less or run slowly) over large grids of arguments and input shapes and compares. Pure Python: trainlint never imports torch. Defaults come from `torch_facts()`.

Conventions: a dimension is an int or None (not known). `args` holds the constructor arguments given
explicitly, by name; an absent argument takes torch's default, and a None value means "not known"
(whatever the parameter), so an unknown value never turns into a guess. Anything odd gives an
unknown result, never an exception. An input torch would reject gives a `ShapeResult` with `error`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from trainlint.facts import torch_facts

Dim = int | None  # None: not known
Shape = tuple[Dim, ...]  # batch dimension first when batched: (N, C, H, W)


@dataclass(frozen=True)
class ShapeResult:
    shape: Shape | None  # the output shape (None: cannot tell)
    error: str | None = None  # the input cannot work: a sentence for a message


@dataclass(frozen=True)
class InputDim:
    """In `view_shape` sizes: the size of the viewed tensor's dimension `index` (`x.size(0)`, `x.shape[0]`),
    known or not; lets `x.view(x.size(0), -1)` keep the per-sample size when the batch size is unknown."""

    index: int


class _Invalid(Exception):
    """torch would raise: the message says why."""


class _Args:
    """A layer's constructor arguments: the given ones, else torch's defaults; typed getters answer None
    when a value is unknown or not of the expected kind."""

    def __init__(self, layer: str, given: Mapping[str, Any]) -> None:
        self.layer = layer
        self.given = given
        facts = torch_facts().lookup(f"torch.nn.{layer}")
        self.defaults: Mapping[str, Any] = facts.defaults if facts else {}

    def has(self, name: str) -> bool:
        return name in self.given

    def value(self, name: str) -> object:
        value = self.given[name] if name in self.given else self.defaults.get(name)
        if isinstance(value, list):
            return tuple(value)
        return None if value == "<object>" else value

    def integer(self, name: str) -> int | None:
        return _as_int(self.value(name))

    def flag(self, name: str) -> bool | None:
        value = self.value(name)
        return bool(value) if isinstance(value, (bool, int)) else None

    def number(self, name: str) -> float | None:
        value = self.value(name)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def text(self, name: str) -> str | None:
        value = self.value(name)
        return value if isinstance(value, str) else None

    def ints(self, name: str, n: int) -> tuple[int, ...] | None:
        """An int or a tuple of n ints (torch's `_ntuple`), as a tuple of n ints."""
        return _n_ints(self.value(name), n)

    def describe(self, *names: str) -> str:
        """`MaxPool2d(kernel_size=2)`: the layer with the given values of these arguments, for messages."""
        shown = ", ".join(f"{name}={self.given[name]!r}" for name in names if name in self.given)
        return f"{self.layer}({shown})"


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _n_ints(value: object, n: int) -> tuple[int, ...] | None:
    if _as_int(value) is not None:
        return (value,) * n  # type: ignore[return-value]
    if isinstance(value, (tuple, list)) and len(value) == n:
        ints = tuple(_as_int(v) for v in value)
        return ints if None not in ints else None  # type: ignore[return-value]
    return None


def _prod(dims: Iterable[Dim]) -> int | None:
    out = 1
    for d in dims:
        if d is None:
            return None
        out *= d
    return out


def _rank(layer: str) -> int:
    """Spatial rank from the name: Conv2d -> 2."""
    return int(layer[-2]) if layer[-1] == "d" and layer[-2] in "123" else 1


def _normalize(input_shape: Iterable[Any]) -> Shape:
    return tuple(d if _as_int(d) is not None and d >= 0 else None for d in input_shape)


_ShapeFn = Callable[[_Args, Shape], Shape | None]
_CountFn = Callable[[_Args], int | None]
_CheckFn = Callable[[_Args], None]
_SHAPES: dict[str, _ShapeFn] = {}
_COUNTS: dict[str, _CountFn] = {}
_CHECKS: dict[str, _CheckFn] = {}
_F = TypeVar("_F")


def _register(table: dict[str, _F], names: Iterable[str]) -> Callable[[_F], _F]:
    def register(fn: _F) -> _F:
        for name in names:
            table[name] = fn
        return fn

    return register


def _shape(*names: str) -> Callable[[_ShapeFn], _ShapeFn]:
    return _register(_SHAPES, names)


def _count(*names: str) -> Callable[[_CountFn], _CountFn]:
    return _register(_COUNTS, names)


def _check(*names: str) -> Callable[[_CheckFn], _CheckFn]:
    return _register(_CHECKS, names)


# ---------------------------------------------------------------- public API


def output_shape(layer: str, args: Mapping[str, Any], input_shape: Shape) -> ShapeResult:
    """The shape of what `layer(**args)` returns (its first value: an RNN's output, an attention's
    output) for an input of `input_shape`."""
    shape_fn = _SHAPES.get(layer)
    if shape_fn is None:
        return ShapeResult(None)
    try:
        a = _Args(layer, args)
        _argument_check(a)
        return ShapeResult(shape_fn(a, _normalize(input_shape)))
    except _Invalid as invalid:
        return ShapeResult(None, str(invalid))
    except Exception:  # noqa: BLE001 - an odd value the formulas did not foresee means: not known
        return ShapeResult(None)


def parameter_count(layer: str, args: Mapping[str, Any]) -> int | None:
    """`sum(p.numel() for p in layer(**args).parameters())`, or None when not known (or torch would refuse the arguments)."""
    count_fn = _COUNTS.get(layer)
    if count_fn is None:
        return None
    try:
        a = _Args(layer, args)
        _argument_check(a)
        return count_fn(a)
    except Exception:  # noqa: BLE001 - invalid or odd arguments: the count is not known
        return None


def argument_error(layer: str, args: Mapping[str, Any]) -> str | None:
    """Why torch would refuse to build `layer(**args)` (e.g. GroupNorm(3, 32)), if it would."""
    try:
        _argument_check(_Args(layer, args))
    except _Invalid as invalid:
        return str(invalid)
    except Exception:  # noqa: BLE001 - odd values: nothing is known to be wrong
        return None
    return None


def known_layers() -> frozenset[str]:
    """The torch.nn class names `output_shape` understands."""
    return frozenset(_SHAPES)


def _argument_check(a: _Args) -> None:
    check = _CHECKS.get(a.layer)
    if check is not None:
        check(a)


# ---------------------------------------------------------------- shared input checks


def _ranks_text(ranks: Sequence[int], unbatched: bool) -> str:
    if unbatched and len(ranks) == 2:
        return f"a {ranks[0]}-D (unbatched) or {ranks[1]}-D (batched)"
    return "a " + " or ".join(f"{r}-D" for r in ranks)


def _need_rank(a: _Args, x: Shape, ranks: Sequence[int], unbatched: bool = True) -> None:
    if len(x) not in ranks:
        raise _Invalid(f"{a.layer} expects {_ranks_text(ranks, unbatched)} input but gets a {len(x)}-D tensor")


def _need_min_rank(a: _Args, x: Shape, rank: int) -> None:
    if len(x) < rank:
        raise _Invalid(f"{a.layer} expects an input with at least {rank} dimensions but gets a {len(x)}-D tensor")


def _channels_first(a: _Args, x: Shape, n: int) -> tuple[Shape, Dim, Shape]:
    """Split (N, C, *spatial) or unbatched (C, *spatial) into (lead, C, spatial) for a layer of spatial rank n."""
    _need_rank(a, x, (n + 1, n + 2))
    return x[: -n - 1], x[-n - 1], x[-n:]


def _match(a: _Args, what: str, expected: int | None, got: Dim) -> None:
    if expected is not None and got is not None and expected != got:
        raise _Invalid(f"{a.layer} expects {expected} {what} but gets {got}")


def _nonzero_spatial(a: _Args, spatial: Shape) -> None:
    if 0 in spatial:
        raise _Invalid(f"{a.layer} needs non-empty spatial dimensions, got a size of 0")


def _probability(a: _Args, name: str = "p") -> None:
    p = a.number(name)
    if p is not None and not 0 <= p <= 1:
        raise _Invalid(f"{a.layer}: {name} must be a probability between 0 and 1, got {a.value(name)!r}")


def _positive(a: _Args, *names: str) -> None:
    for name in names:
        value = a.value(name)
        values = value if isinstance(value, tuple) else (value,)
        if any(_as_int(v) is not None and v <= 0 for v in values):
            raise _Invalid(f"{a.layer}: {name} must be positive, got {value!r}")


def _dim_index(dim: int, rank: int) -> int:
    """torch's wrap of a possibly negative dimension; a 0-d tensor accepts -1 and 0."""
    size = max(rank, 1)
    if not -size <= dim < size:
        raise _Invalid(f"dimension {dim} is out of range for a {rank}-D tensor (expected in [{-size}, {size - 1}])")
    return dim % size


# ---------------------------------------------------------------- linear layers


@_shape("Linear", "LazyLinear", "Bilinear")
def _linear_shape(a: _Args, x: Shape) -> Shape:
    _need_min_rank(a, x, 1)
    in_name, out = ("in1_features", "out_features") if a.layer == "Bilinear" else ("in_features", "out_features")
    if a.layer != "LazyLinear":
        _match(a, "input features", a.integer(in_name), x[-1])
    return (*x[:-1], a.integer(out))


@_count("Linear")
def _linear_count(a: _Args) -> int | None:
    i, o, bias = a.integer("in_features"), a.integer("out_features"), a.flag("bias")
    return None if i is None or o is None or bias is None else i * o + o * bias


@_count("Bilinear")
def _bilinear_count(a: _Args) -> int | None:
    i1, i2, o, bias = a.integer("in1_features"), a.integer("in2_features"), a.integer("out_features"), a.flag("bias")
    return None if i1 is None or i2 is None or o is None or bias is None else i1 * i2 * o + o * bias


@_shape("Identity")
def _identity_shape(a: _Args, x: Shape) -> Shape:
    return x


# ---------------------------------------------------------------- convolutions

_CONVS = ("Conv1d", "Conv2d", "Conv3d")
_TRANSPOSED = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
_LAZY_CONVS = tuple(f"Lazy{name}" for name in _CONVS + _TRANSPOSED)
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


@_check(*_CONVS, *_TRANSPOSED, *_LAZY_CONVS)
def _conv_check(a: _Args) -> None:
    groups, n = a.integer("groups"), _rank(a.layer)
    if groups is not None and groups <= 0:
        raise _Invalid(f"{a.layer}: groups must be a positive integer, got {groups}")
    for name in ("in_channels", "out_channels"):
        channels = a.integer(name)
        if groups and channels is not None and channels % groups:
            raise _Invalid(f"{a.layer}: {name}={channels} is not divisible by groups={groups}")
    padding, stride = a.value("padding"), a.ints("stride", n)
    if isinstance(padding, str) and "Transpose" not in a.layer:
        if padding not in ("same", "valid"):
            raise _Invalid(f"{a.layer}: padding must be 'same', 'valid' or numbers, got {padding!r}")
        if padding == "same" and stride is not None and any(s != 1 for s in stride):
            raise _Invalid(f"{a.layer}: padding='same' is not supported for strided convolutions")
    mode = a.text("padding_mode")
    if mode is not None and mode not in _PADDING_MODES:
        raise _Invalid(f"{a.layer}: padding_mode must be one of {', '.join(_PADDING_MODES)}, got {mode!r}")
    if "Transpose" in a.layer and mode not in (None, "zeros"):
        raise _Invalid(f"{a.layer} supports only padding_mode='zeros', got {mode!r}")


def _conv_pads(
    a: _Args, n: int, kernel: tuple[int, ...] | None, dilation: tuple[int, ...] | None
) -> list[tuple[int, int]] | None:
    """(before, after) padding per spatial dimension, 'same' and 'valid' included."""
    padding = a.value("padding")
    if padding == "valid":
        return [(0, 0)] * n
    if padding == "same":
        if kernel is None or dilation is None:
            return None
        totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
        return [(t // 2, t - t // 2) for t in totals]
    pads = _n_ints(padding, n)
    if pads is not None and any(p < 0 for p in pads):
        raise _Invalid(f"{a.layer}: negative padding is not supported, got {padding!r}")
    return None if pads is None else [(p, p) for p in pads]


def _padding_mode_check(a: _Args, mode: str | None, size: Dim, pad: tuple[int, int]) -> None:
    """Non-zero padding modes pad with F.pad first, which bounds the padding by the input size."""
    if size is None or mode in (None, "zeros"):
        return
    if mode == "reflect" and max(pad) >= size:
        raise _Invalid(
            f"{a.layer} with padding_mode='reflect' needs padding smaller than the input size, got {max(pad)} for size {size}"
        )
    if mode == "circular" and max(pad) > size:
        raise _Invalid(
            f"{a.layer} with padding_mode='circular' needs padding at most the input size, got {max(pad)} for size {size}"
        )


def _window_error(desc: str, min_size: int, got: int) -> _Invalid:
    return _Invalid(f"{desc} needs spatial size >= {min_size}, got {got}")


@_shape(*_CONVS, "LazyConv1d", "LazyConv2d", "LazyConv3d")
def _conv_shape(a: _Args, x: Shape) -> Shape:
    n = _rank(a.layer)
    lead, channels, spatial = _channels_first(a, x, n)
    if not a.layer.startswith("Lazy"):
        _match(a, "input channels", a.integer("in_channels"), channels)
    kernel, stride, dilation = a.ints("kernel_size", n), a.ints("stride", n), a.ints("dilation", n)
    _positive(a, "kernel_size", "stride", "dilation")
    pads = _conv_pads(a, n, kernel, dilation)
    mode = a.text("padding_mode")
    out: list[Dim] = []
    for i, size in enumerate(spatial):
        if size is None or kernel is None or stride is None or dilation is None or pads is None:
            out.append(None)
            continue
        _padding_mode_check(a, mode, size, pads[i])
        padded, window = size + sum(pads[i]), dilation[i] * (kernel[i] - 1) + 1
        if padded < window:
            raise _window_error(a.describe("kernel_size", "padding", "dilation"), window - sum(pads[i]), size)
        out.append((padded - window) // stride[i] + 1)
    return (*lead, a.integer("out_channels"), *out)


@_shape(*_TRANSPOSED, "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d")
def _conv_transpose_shape(a: _Args, x: Shape) -> Shape | None:
    n = _rank(a.layer)
    lead, channels, spatial = _channels_first(a, x, n)
    if not a.layer.startswith("Lazy"):
        _match(a, "input channels", a.integer("in_channels"), channels)
    _positive(a, "kernel_size", "stride", "dilation")
    kernel, stride, dilation = a.ints("kernel_size", n), a.ints("stride", n), a.ints("dilation", n)
    padding, extra = a.ints("padding", n), a.ints("output_padding", n)
    if kernel is None or stride is None or dilation is None or padding is None or extra is None:
        return (*lead, a.integer("out_channels"), *[None] * n)
    if any(p < 0 for p in padding + extra):
        return (*lead, a.integer("out_channels"), *[None] * n)
    for e, s, d in zip(extra, stride, dilation, strict=True):
        if e >= s and e >= d:
            raise _Invalid(f"{a.layer}: output_padding ({e}) must be smaller than either stride ({s}) or dilation ({d})")
    out: list[Dim] = []
    for i, size in enumerate(spatial):
        if size is None:
            out.append(None)
            continue
        length = (size - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + extra[i] + 1
        if length < 0:
            raise _Invalid(
                f"{a.describe('kernel_size', 'stride', 'padding')} gives an output size of {length} for input size {size}"
            )
        out.append(length)
    if 0 in out:
        return None  # an empty output: some of torch's backends refuse it, others return it
    return (*lead, a.integer("out_channels"), *out)


@_count(*_CONVS, *_TRANSPOSED)
def _conv_count(a: _Args) -> int | None:
    n = _rank(a.layer)
    cin, cout, groups, bias = a.integer("in_channels"), a.integer("out_channels"), a.integer("groups"), a.flag("bias")
    kernel = a.ints("kernel_size", n)
    if cin is None or cout is None or not groups or bias is None or kernel is None:
        return None
    per_group = cout // groups if "Transpose" in a.layer else cin // groups
    weights = (cin if "Transpose" in a.layer else cout) * per_group * math.prod(kernel)
    return weights + cout * bias


# ---------------------------------------------------------------- pooling

_MAX_POOLS = ("MaxPool1d", "MaxPool2d", "MaxPool3d")
_AVG_POOLS = ("AvgPool1d", "AvgPool2d", "AvgPool3d")
_LP_POOLS = ("LPPool1d", "LPPool2d", "LPPool3d")
_ADAPTIVE = tuple(f"Adaptive{kind}Pool{n}d" for kind in ("Avg", "Max") for n in (1, 2, 3))


def _pool_length(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> int:
    """torch's pooling_output_shape: with ceil_mode the last window must start inside the input (or its left padding)."""
    window = dilation * (kernel - 1) + 1
    out = (size + 2 * pad - window + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1
    return out


@_check(*_MAX_POOLS, *_AVG_POOLS, *_LP_POOLS)
def _pool_check(a: _Args) -> None:
    _positive(a, "kernel_size", "stride", "dilation")


@_shape(*_MAX_POOLS, *_AVG_POOLS, *_LP_POOLS)
def _pool_shape(a: _Args, x: Shape) -> Shape:
    n = _rank(a.layer)
    lead, channels, spatial = _channels_first(a, x, n)
    kernel = a.ints("kernel_size", n)
    stride = a.ints("stride", n) if a.has("stride") else kernel
    pads = (0,) * n if a.layer in _LP_POOLS else a.ints("padding", n)
    dilation = a.ints("dilation", n) if a.layer in _MAX_POOLS else (1,) * n
    ceil = a.flag("ceil_mode")
    if kernel is None or stride is None or pads is None or dilation is None or ceil is None:
        return (*lead, channels, *[None] * n)
    for k, p in zip(kernel, pads, strict=True):
        if p < 0 or p > k // 2:
            raise _Invalid(
                f"{a.describe('kernel_size', 'padding', 'dilation')}: padding must be at most half the kernel size, got {p}"
            )
    _nonzero_spatial(a, spatial)
    out: list[Dim] = []
    for i, size in enumerate(spatial):
        if size is None:
            out.append(None)
            continue
        if a.layer in ("AvgPool3d", "LPPool3d") and size < kernel[i]:  # avg_pool3d also checks the unpadded input
            raise _window_error(a.describe("kernel_size"), kernel[i], size)
        length = _pool_length(size, kernel[i], stride[i], pads[i], dilation[i], ceil)
        if length < 1:
            smallest = next(
                s
                for s in range(1, size + kernel[i] * dilation[i] + 2)
                if _pool_length(s, kernel[i], stride[i], pads[i], dilation[i], ceil) >= 1
            )
            raise _window_error(a.describe("kernel_size", "stride", "padding", "dilation", "ceil_mode"), smallest, size)
        out.append(length)
    return (*lead, channels, *out)


@_shape(*_ADAPTIVE)
def _adaptive_shape(a: _Args, x: Shape) -> Shape | None:
    n = _rank(a.layer)
    size = a.value("output_size")
    sizes = (size,) * n if _as_int(size) is not None else size
    if not isinstance(sizes, tuple) or len(sizes) != n:
        return None
    if n == 1 and None in sizes:
        raise _Invalid(f"{a.layer} needs an int output_size, got {_show(size)}")
    # An average to a single value is a mean: torch then takes any leading dimensions and empty inputs.
    mean = a.layer.startswith("AdaptiveAvg") and all(s == 1 for s in sizes)
    if mean and n > 1:
        _need_min_rank(a, x, n)
        lead, spatial = x[:-n], x[-n:]
    else:
        lead_, channels, spatial = _channels_first(a, x, n)
        lead = (*lead_, channels)
        if not mean:
            _nonzero_spatial(a, spatial)
    out: list[Dim] = []
    for target, current in zip(sizes, spatial, strict=True):
        if target is None:  # None in output_size keeps the input's size
            out.append(current)
        elif _as_int(target) is not None and target >= 0:
            out.append(target)
        else:
            return None
    return (*lead, *out)


# ---------------------------------------------------------------- normalization

_BATCH_NORMS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d")
_LAZY_BATCH_NORMS = ("LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d")
_INSTANCE_NORMS = ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")
_LAZY_INSTANCE_NORMS = ("LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d")


def _uses_num_features(a: _Args) -> bool:
    return a.flag("affine") is True or a.flag("track_running_stats") is True  # unknown: no check


@_shape(*_BATCH_NORMS, *_LAZY_BATCH_NORMS, "SyncBatchNorm")
def _batch_norm_shape(a: _Args, x: Shape) -> Shape:
    """Statistics of the batch need more than one value per channel. They are used in training mode,
    and always without running stats; the mode is the caller's to know, so only the second is flagged."""
    n = _rank(a.layer)
    if a.layer == "SyncBatchNorm":
        _need_min_rank(a, x, 2)
    else:
        _need_rank(a, x, (2, 3) if n == 1 else (n + 2,), unbatched=False)
    if not a.layer.startswith("Lazy") and _uses_num_features(a):
        _match(a, "channels (num_features)", a.integer("num_features"), x[1])
    if a.flag("track_running_stats") is False and _prod(x[:1] + x[2:]) == 1:
        raise _Invalid(f"{a.layer} without running stats needs more than one value per channel, got an input of shape {_show(x)}")
    return x


@_shape(*_INSTANCE_NORMS, *_LAZY_INSTANCE_NORMS)
def _instance_norm_shape(a: _Args, x: Shape) -> Shape:
    n = _rank(a.layer)
    _, channels, spatial = _channels_first(a, x, n)
    # A lazy layer takes num_features from dimension 1, even of an unbatched input (whose channels are dimension 0).
    features = (x[1] if len(x) > 1 else None) if a.layer.startswith("Lazy") else a.integer("num_features")
    if _uses_num_features(a):
        _match(a, "channels (num_features)", features, channels)
    if a.flag("track_running_stats") is False and _prod(spatial) == 1:
        raise _Invalid(f"{a.layer} without running stats needs more than one spatial element, got spatial size {_show(spatial)}")
    return x


@_count(*_BATCH_NORMS, "SyncBatchNorm", *_INSTANCE_NORMS)
def _batch_norm_count(a: _Args) -> int | None:
    features, affine, bias = a.integer("num_features"), a.flag("affine"), a.flag("bias")
    if affine is False:
        return 0
    return None if features is None or affine is None or bias is None else features * (1 + bias)


def _normalized_shape(a: _Args) -> tuple[int, ...] | None:
    value = a.value("normalized_shape")
    if _as_int(value) is not None:
        return (value,)  # type: ignore[return-value]
    return _n_ints(value, len(value)) if isinstance(value, tuple) else None


@_shape("LayerNorm", "RMSNorm")
def _layer_norm_shape(a: _Args, x: Shape) -> Shape:
    normalized = _normalized_shape(a)
    if normalized is None:
        return x
    tail = x[len(x) - len(normalized) :] if len(normalized) <= len(x) else None
    if tail is None or any(d is not None and d != n for d, n in zip(tail, normalized, strict=True)):
        expected = ", ".join(map(str, normalized))
        raise _Invalid(f"{a.layer} normalizes over the last dimensions ({expected}) but the input has shape {_show(x)}")
    return x


@_count("LayerNorm", "RMSNorm")
def _layer_norm_count(a: _Args) -> int | None:
    normalized, affine = _normalized_shape(a), a.flag("elementwise_affine")
    bias = a.flag("bias") if a.layer == "LayerNorm" else False
    if affine is False:
        return 0
    return None if normalized is None or affine is None or bias is None else math.prod(normalized) * (1 + bias)


@_check("GroupNorm")
def _group_norm_check(a: _Args) -> None:
    groups, channels = a.integer("num_groups"), a.integer("num_channels")
    if groups is not None and groups <= 0:
        raise _Invalid(f"GroupNorm: num_groups must be positive, got {groups}")
    if groups and channels is not None and channels % groups:
        raise _Invalid(f"GroupNorm: num_groups={groups} must divide num_channels={channels}")


@_shape("GroupNorm")
def _group_norm_shape(a: _Args, x: Shape) -> Shape:
    _need_min_rank(a, x, 2)
    groups, channels = a.integer("num_groups"), x[1]
    if groups and channels is not None and channels % groups:
        raise _Invalid(f"GroupNorm(num_groups={groups}) needs input channels divisible by {groups}, got {channels}")
    if a.flag("affine") is True:
        _match(a, "channels (num_channels)", a.integer("num_channels"), channels)
    return x


@_count("GroupNorm")
def _group_norm_count(a: _Args) -> int | None:
    channels, affine = a.integer("num_channels"), a.flag("affine")
    if affine is False:
        return 0
    return None if channels is None or affine is None else 2 * channels


@_shape("LocalResponseNorm")
def _local_response_norm_shape(a: _Args, x: Shape) -> Shape:
    _need_min_rank(a, x, 3)
    return x


# ---------------------------------------------------------------- embeddings


@_check("Embedding", "EmbeddingBag")
def _embedding_check(a: _Args) -> None:
    rows, padding_idx = a.integer("num_embeddings"), a.integer("padding_idx")
    if rows is not None and padding_idx is not None and not -rows <= padding_idx < rows:
        raise _Invalid(f"{a.layer}: padding_idx={padding_idx} must be within num_embeddings={rows}")


@_shape("Embedding")
def _embedding_shape(a: _Args, x: Shape) -> Shape:
    return (*x, a.integer("embedding_dim"))


@_shape("EmbeddingBag")
def _embedding_bag_shape(a: _Args, x: Shape) -> Shape | None:
    """A 2-D input is (bags, indices per bag); a 1-D one needs `offsets`, which this cannot see."""
    return (x[0], a.integer("embedding_dim")) if len(x) == 2 else None


@_count("Embedding", "EmbeddingBag")
def _embedding_count(a: _Args) -> int | None:
    rows, dim = a.integer("num_embeddings"), a.integer("embedding_dim")
    return None if rows is None or dim is None else rows * dim


# ---------------------------------------------------------------- recurrent layers

_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4, "RNNCell": 1, "GRUCell": 3, "LSTMCell": 4}


@_check("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")
def _rnn_check(a: _Args) -> None:
    if a.layer in ("RNN", "LSTM", "GRU"):  # the cells take a hidden_size of 0
        _positive(a, "hidden_size", "num_layers")
        _probability(a, "dropout")
    hidden, proj = a.integer("hidden_size"), a.integer("proj_size") if a.layer == "LSTM" else 0
    if proj is not None and proj < 0:
        raise _Invalid(f"LSTM: proj_size must be a positive integer or zero, got {proj}")
    if proj and hidden is not None and proj >= hidden:
        raise _Invalid(f"LSTM: proj_size ({proj}) must be smaller than hidden_size ({hidden})")
    nonlinearity = a.text("nonlinearity")
    if a.layer in ("RNN", "RNNCell") and nonlinearity is not None and nonlinearity not in ("tanh", "relu"):
        raise _Invalid(f"{a.layer}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def _rnn_sizes(a: _Args) -> tuple[int | None, int | None]:
    """(directions, output size per direction)."""
    bidirectional, hidden = a.flag("bidirectional"), a.integer("hidden_size")
    proj = a.integer("proj_size") if a.layer == "LSTM" else 0
    out = None if proj is None else (proj or hidden)
    return (None if bidirectional is None else 1 + bidirectional), out


@_shape("RNN", "LSTM", "GRU")
def _rnn_shape(a: _Args, x: Shape) -> Shape:
    """Output of the first returned value: (L, N, D * H_out), (N, L, D * H_out) with batch_first, or (L, D * H_out)."""
    _need_rank(a, x, (2, 3))
    _match(a, "input features (input_size)", a.integer("input_size"), x[-1])
    directions, size = _rnn_sizes(a)
    return (*x[:-1], None if directions is None or size is None else directions * size)


@_count("RNN", "LSTM", "GRU")
def _rnn_count(a: _Args) -> int | None:
    inputs, hidden, layers, bias = a.integer("input_size"), a.integer("hidden_size"), a.integer("num_layers"), a.flag("bias")
    directions, out = _rnn_sizes(a)
    if inputs is None or hidden is None or layers is None or bias is None or directions is None or out is None:
        return None
    gates = _GATES[a.layer] * hidden
    total = 0
    for layer in range(layers):
        width = inputs if layer == 0 else out * directions
        per_direction = gates * (width + out) + 2 * gates * bias + (out * hidden if out != hidden else 0)
        total += directions * per_direction
    return total


@_shape("RNNCell", "LSTMCell", "GRUCell")
def _cell_shape(a: _Args, x: Shape) -> Shape:
    """(N, hidden_size) or (hidden_size,): the new hidden state (LSTMCell's h of (h, c))."""
    _need_rank(a, x, (1, 2))
    _match(a, "input features (input_size)", a.integer("input_size"), x[-1])
    return (*x[:-1], a.integer("hidden_size"))


@_count("RNNCell", "LSTMCell", "GRUCell")
def _cell_count(a: _Args) -> int | None:
    inputs, hidden, bias = a.integer("input_size"), a.integer("hidden_size"), a.flag("bias")
    if inputs is None or hidden is None or bias is None:
        return None
    gates = _GATES[a.layer] * hidden
    return gates * (inputs + hidden) + 2 * gates * bias


# ---------------------------------------------------------------- attention and transformers


@_check("MultiheadAttention")
def _attention_check(a: _Args) -> None:
    _attention_heads(a, "embed_dim", "num_heads")  # its dropout is not checked


def _attention_heads(a: _Args, width: str, heads: str) -> None:
    embed, count = a.integer(width), a.integer(heads)
    if (embed is not None and embed <= 0) or (count is not None and count <= 0):
        raise _Invalid(f"{a.layer}: {width} and {heads} must be positive, got {embed} and {count}")
    if embed is not None and count is not None and embed % count:
        raise _Invalid(f"{a.layer}: {width}={embed} must be divisible by {heads}={count}")


@_shape("MultiheadAttention")
def _attention_shape(a: _Args, x: Shape) -> Shape:
    """The attention output for a query of shape x: (L, E), (L, N, E) or with batch_first (N, L, E)."""
    _need_rank(a, x, (2, 3))
    _match(a, "query features (embed_dim)", a.integer("embed_dim"), x[-1])
    return x


def _attention_count(embed: int, kdim: int, vdim: int, bias: bool, bias_kv: bool) -> int:
    projections = embed * (embed + kdim + vdim) + 3 * embed * bias  # in_proj (or q/k/v_proj) and its bias
    return projections + embed * embed + embed * bias + 2 * embed * bias_kv  # out_proj, bias_k and bias_v


@_count("MultiheadAttention")
def _mha_count(a: _Args) -> int | None:
    embed, bias, bias_kv = a.integer("embed_dim"), a.flag("bias"), a.flag("add_bias_kv")
    kdim = a.integer("kdim") if a.has("kdim") else embed
    vdim = a.integer("vdim") if a.has("vdim") else embed
    if embed is None or kdim is None or vdim is None or bias is None or bias_kv is None:
        return None
    return _attention_count(embed, kdim, vdim, bias, bias_kv)


_ENCODER_LAYER = "TransformerEncoderLayer"
_DECODER_LAYER = "TransformerDecoderLayer"


@_check(_ENCODER_LAYER, _DECODER_LAYER, "Transformer")
def _transformer_layer_check(a: _Args) -> None:
    _attention_heads(a, "d_model", "nhead")
    _probability(a, "dropout")


@_shape(_ENCODER_LAYER, _DECODER_LAYER)
def _transformer_layer_shape(a: _Args, x: Shape) -> Shape:
    """The output has the input's shape (a decoder layer's input being tgt)."""
    _need_rank(a, x, (2, 3))
    _match(a, "features (d_model)", a.integer("d_model"), x[-1])
    return x


def _transformer_layer_count(a: _Args, decoder: bool) -> int | None:
    width, hidden, bias = a.integer("d_model"), a.integer("dim_feedforward"), a.flag("bias")
    if width is None or hidden is None or bias is None:
        return None
    attention = _attention_count(width, width, width, bias, False) * (2 if decoder else 1)
    feed_forward = 2 * width * hidden + (hidden + width) * bias
    norms = (3 if decoder else 2) * width * (1 + bias)
    return attention + feed_forward + norms


@_count(_ENCODER_LAYER)
def _encoder_layer_count(a: _Args) -> int | None:
    return _transformer_layer_count(a, decoder=False)


@_count(_DECODER_LAYER)
def _decoder_layer_count(a: _Args) -> int | None:
    return _transformer_layer_count(a, decoder=True)


def _inner(a: _Args, layer: str) -> _Args | None:
    """The `encoder_layer` / `decoder_layer` argument of a TransformerEncoder/Decoder: the args of that layer."""
    inner = a.given.get("encoder_layer" if layer == _ENCODER_LAYER else "decoder_layer")
    return _Args(layer, inner) if isinstance(inner, Mapping) else None


def _final_norm_count(a: _Args) -> int | None:
    """`norm=`: absent is none; a mapping is the args of a LayerNorm; anything else is not known."""
    if not a.has("norm"):
        return 0
    norm = a.given["norm"]
    return parameter_count("LayerNorm", norm) if isinstance(norm, Mapping) else None


@_shape("TransformerEncoder", "TransformerDecoder")
def _transformer_stack_shape(a: _Args, x: Shape) -> Shape | None:
    inner = _inner(a, _ENCODER_LAYER if a.layer == "TransformerEncoder" else _DECODER_LAYER)
    if inner is None:
        _need_rank(a, x, (2, 3))
        return x
    _argument_check(inner)
    return _transformer_layer_shape(inner, x)


@_count("TransformerEncoder", "TransformerDecoder")
def _transformer_stack_count(a: _Args) -> int | None:
    inner = _inner(a, _ENCODER_LAYER if a.layer == "TransformerEncoder" else _DECODER_LAYER)
    layers, norm = a.integer("num_layers"), _final_norm_count(a)
    per_layer = parameter_count(inner.layer, inner.given) if inner is not None else None
    return None if per_layer is None or layers is None or norm is None else layers * per_layer + norm


@_shape("Transformer")
def _transformer_shape(a: _Args, x: Shape) -> Shape:
    """For a src of shape x: the output has tgt's shape, whose sequence length this cannot see."""
    _need_rank(a, x, (2, 3))
    _match(a, "features (d_model)", a.integer("d_model"), x[-1])
    if len(x) == 2:
        return (None, x[1])
    batch_first = a.flag("batch_first")
    if batch_first is None:
        return (None, None, x[2])
    return (x[0], None, x[2]) if batch_first else (None, x[1], x[2])


@_count("Transformer")
def _transformer_count(a: _Args) -> int | None:
    if a.has("custom_encoder") or a.has("custom_decoder"):  # a module of its own: not known here
        return None
    names = ("d_model", "nhead", "dim_feedforward", "bias")
    layer_args = {name: a.value(name) for name in names}
    encoder, decoder = parameter_count(_ENCODER_LAYER, layer_args), parameter_count(_DECODER_LAYER, layer_args)
    norm = parameter_count("LayerNorm", {"normalized_shape": a.value("d_model"), "bias": a.value("bias")})
    encoders, decoders = a.integer("num_encoder_layers"), a.integer("num_decoder_layers")
    if encoder is None or decoder is None or norm is None or encoders is None or decoders is None:
        return None
    return encoders * encoder + decoders * decoder + 2 * norm


# ---------------------------------------------------------------- reshaping layers


@_shape("Flatten")
def _flatten_layer_shape(a: _Args, x: Shape) -> Shape | None:
    start, end = a.integer("start_dim"), a.integer("end_dim")
    return None if start is None or end is None else _result(flatten_shape(x, start, end))


@_shape("Unflatten")
def _unflatten_shape(a: _Args, x: Shape) -> Shape | None:
    dim, sizes = a.integer("dim"), a.value("unflattened_size")
    if dim is None or not isinstance(sizes, tuple) or not sizes:
        return None
    index = _dim_index(dim, len(x))
    parts = view_shape((x[index],), sizes)
    if parts.error is not None:
        raise _Invalid(f"Unflatten: sizes {_show(sizes)} do not multiply up to the size {x[index]} of dimension {dim}")
    return None if parts.shape is None else (*x[:index], *parts.shape, *x[index + 1 :])


def _result(result: ShapeResult) -> Shape | None:
    if result.error is not None:
        raise _Invalid(result.error)
    return result.shape


@_shape("PixelShuffle")
def _pixel_shuffle_shape(a: _Args, x: Shape) -> Shape:
    _need_min_rank(a, x, 3)
    r = a.integer("upscale_factor")
    _positive(a, "upscale_factor")
    c, h, w = x[-3:]
    if r is None:
        return (*x[:-3], None, None, None)
    if c is not None and c % (r * r):
        raise _Invalid(f"PixelShuffle({r}) needs channels divisible by {r * r}, got {c}")
    return (*x[:-3], _div(c, r * r), _mul(h, r), _mul(w, r))


@_shape("PixelUnshuffle")
def _pixel_unshuffle_shape(a: _Args, x: Shape) -> Shape:
    _need_min_rank(a, x, 3)
    r = a.integer("downscale_factor")
    _positive(a, "downscale_factor")
    c, h, w = x[-3:]
    if r is None:
        return (*x[:-3], None, None, None)
    for name, size in (("height", h), ("width", w)):
        if size is not None and size % r:
            raise _Invalid(f"PixelUnshuffle({r}) needs {name} divisible by {r}, got {size}")
    return (*x[:-3], _mul(c, r * r), _div(h, r), _div(w, r))


@_shape("ChannelShuffle")
def _channel_shuffle_shape(a: _Args, x: Shape) -> Shape:
    _need_min_rank(a, x, 3)
    groups, channels = a.integer("groups"), x[1]
    _positive(a, "groups")
    if groups and channels is not None and channels % groups:
        raise _Invalid(f"ChannelShuffle(groups={groups}) needs channels divisible by {groups}, got {channels}")
    return x


def _mul(d: Dim, k: int) -> Dim:
    return None if d is None else d * k


def _div(d: Dim, k: int) -> Dim:
    return None if d is None else d // k


# ---------------------------------------------------------------- upsampling

_MODE_RANKS = {
    "linear": (3,),
    "bilinear": (4,),
    "bicubic": (4,),
    "trilinear": (5,),
    "nearest": (3, 4, 5),
    "nearest-exact": (3, 4, 5),
    "area": (3, 4, 5),
}


@_check("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")
def _upsample_check(a: _Args) -> None:
    mode = a.text("mode") if a.layer == "Upsample" else None
    if mode is not None and mode not in _MODE_RANKS:
        raise _Invalid(f"Upsample: unknown mode {mode!r}")


@_shape("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")
def _upsample_shape(a: _Args, x: Shape) -> Shape | None:
    mode = {"UpsamplingNearest2d": "nearest", "UpsamplingBilinear2d": "bilinear"}.get(a.layer) or a.text("mode")
    if mode is None:
        return None
    _need_rank(a, x, _MODE_RANKS[mode], unbatched=False)
    if mode in ("nearest", "nearest-exact", "area") and a.layer == "Upsample" and a.flag("align_corners") is not None:
        raise _Invalid(f"Upsample: align_corners can only be set with the interpolating modes, not mode={mode!r}")
    n = len(x) - 2
    if a.has("size") == a.has("scale_factor"):
        raise _Invalid(f"{a.layer} needs one of size and scale_factor, got {'both' if a.has('size') else 'neither'}")
    if a.has("size"):
        size = a.value("size")
        sizes: Sequence[object] = (size,) * n if not isinstance(size, tuple) else size
        if len(sizes) != n:
            raise _Invalid(f"{a.layer}: size {_show(size)} does not match the input's {n} spatial dimensions")
        return (*x[:2], *(_as_int(s) for s in sizes))
    scale = a.value("scale_factor")
    scales: Sequence[object] = (scale,) * n if not isinstance(scale, tuple) else scale
    if len(scales) != n:
        raise _Invalid(f"{a.layer}: scale_factor {_show(scale)} does not match the input's {n} spatial dimensions")
    return (*x[:2], *(_scaled(d, s) for d, s in zip(x[2:], scales, strict=True)))


def _scaled(size: Dim, scale: object) -> Dim:
    if size is None or not isinstance(scale, (int, float)) or isinstance(scale, bool):
        return None
    return math.floor(size * float(scale))


# ---------------------------------------------------------------- padding layers

_PADS = tuple(f"{kind}Pad{n}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for n in (1, 2, 3))


@_shape(*_PADS)
def _pad_shape(a: _Args, x: Shape) -> Shape | None:
    """`padding` is (left, right[, top, bottom[, front, back]]): the last dimension first."""
    n = _rank(a.layer)
    pads = a.ints("padding", 2 * n)
    constant = a.layer.startswith(("Zero", "Constant"))
    if constant:
        _need_min_rank(a, x, n)  # F.pad's constant mode pads any tensor with enough dimensions
    else:
        _need_rank(a, x, (n + 1, n + 2))
    if pads is None:
        return None
    out = list(x)
    for i in range(n):
        before, after = pads[2 * i], pads[2 * i + 1]
        index = len(x) - 1 - i
        size = x[index]
        if size is None:
            continue
        if not constant and (before < 0 or after < 0):
            return None
        _pad_mode_check(a, size, before, after)
        out[index] = size + before + after
    return tuple(out)


def _pad_mode_check(a: _Args, size: int, before: int, after: int) -> None:
    total = size + before + after
    if total < 0 or (total == 0 and not a.layer.startswith(("Zero", "Constant"))):
        raise _Invalid(f"{a.layer}: padding ({before}, {after}) leaves no elements of a dimension of size {size}")
    if a.layer.startswith("Reflection") and max(before, after) >= size:
        raise _Invalid(f"{a.layer}: padding {max(before, after)} must be smaller than the input size {size}")
    if a.layer.startswith("Circular") and max(before, after) > size:
        raise _Invalid(f"{a.layer}: padding {max(before, after)} must be at most the input size {size}")
    if a.layer.startswith("Replication") and size == 0:
        raise _Invalid(f"{a.layer} cannot pad an empty dimension")


# ---------------------------------------------------------------- dropout and activations

_DROPOUTS = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")
_ELEMENTWISE = (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Sigmoid", "LogSigmoid", "Hardsigmoid", "Tanh", "Hardtanh", "Hardswish", "Tanhshrink", "Softsign",
    "Softplus", "Softshrink", "Hardshrink", "Threshold",
)  # fmt: skip


@_check(*_DROPOUTS)
def _dropout_check(a: _Args) -> None:
    _probability(a)


@_shape(*_DROPOUTS)
def _dropout_shape(a: _Args, x: Shape) -> Shape:
    if a.layer == "Dropout1d":  # the others take any rank, with a warning (and Dropout2d raises for a 1-D input in training only)
        _need_rank(a, x, (2, 3))
    return x


@_shape(*_ELEMENTWISE)
def _elementwise_shape(a: _Args, x: Shape) -> Shape:
    if a.layer == "PReLU":
        count, channels = a.integer("num_parameters"), x[1] if len(x) >= 2 else 1  # below 2-D: one channel
        if count is not None and count != 1:
            _match(a, "channels (num_parameters)", count, channels)
    return x


@_count("PReLU")
def _prelu_count(a: _Args) -> int | None:
    return a.integer("num_parameters")


@_shape("Softmax", "LogSoftmax", "Softmin")
def _softmax_shape(a: _Args, x: Shape) -> Shape:
    dim = a.integer("dim")
    if dim is not None:
        _dim_index(dim, len(x))
    return x


@_shape("Softmax2d")
def _softmax2d_shape(a: _Args, x: Shape) -> Shape:
    _need_rank(a, x, (3, 4))
    return x


@_shape("GLU")
def _glu_shape(a: _Args, x: Shape) -> Shape | None:
    dim = a.integer("dim")
    if dim is None:
        return None
    if not x:
        raise _Invalid("GLU does not accept a 0-D tensor")
    index = _dim_index(dim, len(x))
    size = x[index]
    if size is not None and size % 2:
        raise _Invalid(f"GLU halves dimension {dim}, which must be even, got {size}")
    return (*x[:index], _div(size, 2), *x[index + 1 :])


_NO_PARAMETERS = (
    "Identity", "Flatten", "Unflatten", "PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "LocalResponseNorm",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "Softmax", "LogSoftmax", "Softmin", "Softmax2d", "GLU",
    *_MAX_POOLS, *_AVG_POOLS, *_LP_POOLS, *_ADAPTIVE, *_PADS, *_DROPOUTS, *(n for n in _ELEMENTWISE if n != "PReLU"),
)  # fmt: skip


@_count(*_NO_PARAMETERS)
def _no_count(a: _Args) -> int:
    return 0


# ---------------------------------------------------------------- tensor methods


def _show(values: object) -> str:
    if isinstance(values, (tuple, list)):
        return "(" + ", ".join("N" if v is None else str(v) for v in values) + ")"
    return repr(values)


def view_shape(input_shape: Shape, sizes: Sequence[Dim | InputDim]) -> ShapeResult:
    """`x.view(*sizes)` / `x.reshape(*sizes)`: at most one -1, inferred from the element count; the
    element counts must agree when known. `InputDim(i)` stands for `x.size(i)`."""
    try:
        return ShapeResult(_view(_normalize(input_shape), sizes))
    except _Invalid as invalid:
        return ShapeResult(None, str(invalid))
    except Exception:  # noqa: BLE001 - odd sizes: not known
        return ShapeResult(None)


def _view(x: Shape, sizes: Sequence[Dim | InputDim]) -> Shape:
    if sum(1 for s in sizes if s == -1) > 1:
        raise _Invalid(f"view{_show(sizes)}: only one dimension can be -1")
    if any(isinstance(s, int) and s < -1 for s in sizes):
        raise _Invalid(f"view{_show(sizes)}: invalid negative size")
    # Unknown input dims that the sizes take over unchanged (`x.size(0)`) cancel out of the count.
    referenced = {_dim_index(s.index, len(x)) for s in sizes if isinstance(s, InputDim)}
    cancelled = {i for i in referenced if x[i] is None}
    inputs = _prod(d for i, d in enumerate(x) if i not in cancelled)
    resolved: list[Dim] = [x[_dim_index(s.index, len(x))] if isinstance(s, InputDim) else _as_int(s) for s in sizes]
    known_out = [
        d for s, d in zip(sizes, resolved, strict=True) if not (isinstance(s, InputDim) and x[s.index] is None) and d != -1
    ]
    outputs = _prod(known_out)
    if len(cancelled) != sum(1 for s in sizes if isinstance(s, InputDim) and x[s.index] is None):
        inputs = None  # the same unknown dimension used twice: no exact count
    if -1 not in resolved:
        if inputs is not None and outputs is not None and inputs != outputs:
            raise _Invalid(f"view{_show(sizes)} needs {outputs} elements per sample but the input {_show(x)} has {inputs}")
        return tuple(resolved)
    inferred: Dim = None
    if inputs is not None and outputs:
        if inputs % outputs:
            raise _Invalid(f"view{_show(sizes)}: the input {_show(x)} has {inputs} elements, not a multiple of {outputs}")
        inferred = inputs // outputs
    return tuple(inferred if d == -1 else d for d in resolved)


def flatten_shape(input_shape: Shape, start_dim: int = 0, end_dim: int = -1) -> ShapeResult:
    """`torch.flatten(x, start_dim, end_dim)` (a 0-D tensor becomes 1-D)."""
    x = _normalize(input_shape)
    try:
        start, end = _dim_index(start_dim, len(x)), _dim_index(end_dim, len(x))
    except _Invalid as invalid:
        return ShapeResult(None, f"flatten: {invalid}")
    if not x:
        return ShapeResult((1,))
    if start > end:
        return ShapeResult(None, f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return ShapeResult((*x[:start], _prod(x[start : end + 1]), *x[end + 1 :]))


def permute_shape(input_shape: Shape, dims: Sequence[int]) -> ShapeResult:
    """`x.permute(*dims)`: dims must name every dimension once."""
    x = _normalize(input_shape)
    if len(dims) != len(x):
        return ShapeResult(None, f"permute{_show(dims)} names {len(dims)} dimensions of a {len(x)}-D tensor")
    try:
        order = [_dim_index(d, len(x)) for d in dims]
    except _Invalid as invalid:
        return ShapeResult(None, f"permute: {invalid}")
    if len(set(order)) != len(order):
        return ShapeResult(None, f"permute{_show(dims)} repeats a dimension")
    return ShapeResult(tuple(x[i] for i in order))


def transpose_shape(input_shape: Shape, dim0: int, dim1: int) -> ShapeResult:
    """`x.transpose(dim0, dim1)`."""
    x = _normalize(input_shape)
    try:
        i, j = _dim_index(dim0, len(x)), _dim_index(dim1, len(x))
    except _Invalid as invalid:
        return ShapeResult(None, f"transpose: {invalid}")
    out = list(x)
    if out:
        out[i], out[j] = out[j], out[i]
    return ShapeResult(tuple(out))


def unsqueeze_shape(input_shape: Shape, dim: int) -> ShapeResult:
    """`x.unsqueeze(dim)`: dim ranges over the output's dimensions."""
    x = _normalize(input_shape)
    try:
        index = _dim_index(dim, len(x) + 1)
    except _Invalid as invalid:
        return ShapeResult(None, f"unsqueeze: {invalid}")
    return ShapeResult((*x[:index], 1, *x[index:]))


def squeeze_shape(input_shape: Shape, dim: int | None = None) -> ShapeResult:
    """`x.squeeze(dim)`; without dim every size-1 dimension goes, so an unknown size leaves the result unknown."""
    x = _normalize(input_shape)
    if dim is None:
        return ShapeResult(None if None in x else tuple(d for d in x if d != 1))
    try:
        index = _dim_index(dim, len(x))
    except _Invalid as invalid:
        return ShapeResult(None, f"squeeze: {invalid}")
    if not x:
        return ShapeResult(())
    if x[index] is None:
        return ShapeResult(None)  # squeezed or not: the rank is not known
    return ShapeResult(x[:index] + x[index + 1 :] if x[index] == 1 else x)


def cat_shape(shapes: Sequence[Shape], dim: int = 0) -> ShapeResult:
    """`torch.cat(shapes, dim)`: same rank, same sizes except in dim, which adds up."""
    tensors = [_normalize(s) for s in shapes if tuple(s) != (0,)]  # torch skips legacy empty 1-D tensors
    if not tensors:
        return ShapeResult((0,) if shapes else None, None if shapes else "cat needs at least one tensor")
    rank = len(tensors[0])
    if rank == 0:
        return ShapeResult(None, "cat cannot concatenate 0-D tensors")
    if any(len(t) != rank for t in tensors):
        return ShapeResult(None, f"cat needs tensors of the same rank, got {', '.join(_show(t) for t in tensors)}")
    try:
        index = _dim_index(dim, rank)
        out = _agree(tensors, index, "cat")
    except _Invalid as invalid:
        return ShapeResult(None, str(invalid))
    sizes = [t[index] for t in tensors]
    out[index] = None if None in sizes else sum(d for d in sizes if d is not None)
    return ShapeResult(tuple(out))


def _agree(tensors: Sequence[Shape], skip: int | None, what: str) -> list[Dim]:
    """The sizes the tensors share (each known size must agree), except at index `skip`."""
    out: list[Dim] = list(tensors[0])
    for number, t in enumerate(tensors[1:], start=1):
        for i, d in enumerate(t):
            if i == skip or d is None:
                continue
            if out[i] is not None and out[i] != d:
                raise _Invalid(
                    f"{what}: sizes must match except in dimension {skip}; tensor {number} has size {d} at dimension {i}, expected {out[i]}"
                )
            out[i] = d
    return out


def stack_shape(shapes: Sequence[Shape], dim: int = 0) -> ShapeResult:
    """`torch.stack(shapes, dim)`: equal shapes, a new dimension of len(shapes) at dim."""
    tensors = [_normalize(s) for s in shapes]
    if not tensors:
        return ShapeResult(None, "stack needs at least one tensor")
    rank = len(tensors[0])
    if any(len(t) != rank for t in tensors):
        return ShapeResult(None, f"stack needs tensors of equal shape, got {', '.join(_show(t) for t in tensors)}")
    try:
        index = _dim_index(dim, rank + 1)
        common = _agree(tensors, None, "stack")
    except _Invalid as invalid:
        return ShapeResult(None, str(invalid))
    return ShapeResult((*common[:index], len(tensors), *common[index:]))
