"""trainlint/facts/layers.py against torch itself: every layer kind over a generated grid of arguments
and input shapes. torch builds each layer and runs it on an input of each shape; the formulas must give
torch's output shape, an error where torch raises, and torch's parameter count.

Layers run on meta tensors (no memory, no compute), except the recurrent and attention layers: their
meta kernels go through Python decompositions about 100 times slower than the CPU on the tiny sizes
used here, so they run on the CPU.
"""

from __future__ import annotations

import inspect
import itertools
import typing
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import nn

from trainlint.facts import torch_facts
from trainlint.facts.layers import (
    InputDim,
    ShapeResult,
    argument_error,
    cat_shape,
    flatten_shape,
    known_layers,
    output_shape,
    parameter_count,
    permute_shape,
    squeeze_shape,
    stack_shape,
    transpose_shape,
    unsqueeze_shape,
    view_shape,
)

Size = tuple[int, ...]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny CPU ops: idle worker threads spinning between them slow the meta runs down tenfold on 2 cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@dataclass
class Case:
    layer: str
    args: dict[str, Any]
    inputs: list[Size]
    device: str = "meta"
    build: Callable[[], nn.Module] | None = None  # default: getattr(nn, layer)(**args)
    feed: Callable[[nn.Module, torch.Tensor], Any] | None = None  # default: module(x)
    dtype: torch.dtype = torch.float32
    train: bool = True
    batched_ranks: tuple[
        int, ...
    ] = ()  # inputs of these ranks are batched: an unknown batch size must give an unknown batch size
    compare: Callable[[Size, tuple[int | None, ...]], bool] | None = None  # default: equal shapes
    counted: bool = True  # compare parameter counts (not for lazy layers)
    empty_unknown: bool = False  # the facts may not know an empty output, which torch refuses or returns by backend


@dataclass
class Tally:
    cases: int = 0
    torch_errors: int = 0
    built: int = 0
    cross_checked: int = 0
    mode_dependent: int = 0
    unknown: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, case: Case, shape: Size | None, message: str) -> None:
        self.failures.append(f"{case.layer}({case.args}) on {shape}: {message}")


def _torch_output(case: Case, module: nn.Module, shape: Size) -> Size | Exception:
    x = torch.zeros(shape, device=case.device, dtype=case.dtype)  # zeros: valid indices for embeddings
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            out = case.feed(module, x) if case.feed else module(x)
    except Exception as exc:  # noqa: BLE001 - whatever torch raises is what the formulas must foresee
        return exc
    return tuple((out[0] if isinstance(out, tuple) else out).shape)


def _build(case: Case, device: str | None = None) -> nn.Module | Exception:
    try:
        with warnings.catch_warnings(), torch.device(device or case.device):
            warnings.simplefilter("ignore")
            module = case.build() if case.build else getattr(nn, case.layer)(**case.args)
    except Exception as exc:  # noqa: BLE001 - torch refusing the arguments is one of the outcomes to compare
        return exc
    return module.train(case.train)


def run_case(case: Case, tally: Tally) -> None:
    module = _build(case)
    if isinstance(module, Exception):
        tally.cases += 1
        tally.torch_errors += 1
        if argument_error(case.layer, case.args) is None or output_shape(case.layer, case.args, case.inputs[0]).error is None:
            tally.fail(case, None, f"torch refuses the arguments ({module!r}) but the facts do not")
        if case.counted and parameter_count(case.layer, case.args) is not None:
            tally.fail(case, None, "a parameter count for arguments torch refuses")
        return
    if case.counted:
        expected = sum(p.numel() for p in module.parameters())
        if parameter_count(case.layer, case.args) != expected:
            tally.fail(case, None, f"parameter_count {parameter_count(case.layer, case.args)} but torch has {expected}")
    tally.built += 1
    on_cpu = _build(case, "cpu") if case.device == "meta" and tally.built % 5 == 0 else None
    for shape in case.inputs:
        if case.layer.startswith("Lazy"):
            module = _build(case)
            assert isinstance(module, nn.Module)
        tally.cases += 1
        got = _torch_output(case, module, shape)
        if isinstance(on_cpu, nn.Module):
            _cross_check(case, on_cpu, shape, got, tally)
        _compare(case, module, shape, got, tally)


def _cross_check(case: Case, on_cpu: nn.Module, shape: Size, got: Size | Exception, tally: Tally) -> None:
    """Meta kernels may check less than the CPU ones (ConvTranspose's do): a sample runs on both."""
    if case.layer.startswith("Lazy"):
        on_cpu = _build(case, "cpu")  # type: ignore[assignment]
    cpu = _torch_output(Case(case.layer, case.args, [], "cpu", feed=case.feed, dtype=case.dtype), on_cpu, shape)
    tally.cross_checked += 1
    if isinstance(cpu, Exception) != isinstance(got, Exception) or (not isinstance(cpu, Exception) and cpu != got):
        tally.fail(case, shape, f"meta gives {got!r} but the CPU {cpu!r}: run this layer on the CPU")


def _compare(case: Case, module: nn.Module, shape: Size, got: Size | Exception, tally: Tally) -> None:
    result = output_shape(case.layer, case.args, shape)
    if isinstance(got, Exception) and case.train:
        # Refused in training mode only (batch statistics of a single value, feature dropout of a 1-D input):
        # the facts cannot see the mode and answer for evaluation mode.
        in_eval = _torch_output(case, module.eval(), shape)
        module.train()
        if not isinstance(in_eval, Exception):
            tally.mode_dependent += 1
            got = in_eval
    empty = "too small" in str(got) if isinstance(got, Exception) else 0 in got
    if case.empty_unknown and empty and result.shape is None and result.error is None:
        tally.unknown += 1
        return
    if isinstance(got, Exception):
        tally.torch_errors += 1
        if result.error is None:
            tally.fail(case, shape, f"torch raises {got!r} but the facts say {result}")
        return
    same = case.compare(got, result.shape) if case.compare and result.shape is not None else result.shape == got
    if result.error is not None or not same:
        tally.fail(case, shape, f"torch gives {got} but the facts say {result}")
        return
    if len(shape) in case.batched_ranks and result.shape:
        unknown_batch = output_shape(case.layer, case.args, (None, *shape[1:]))
        if unknown_batch.shape != (None, *result.shape[1:]):
            tally.fail(case, shape, f"with an unknown batch size the facts say {unknown_batch}")
    _less_known(case, shape, got, tally)


def _generalizes(vague: tuple[int | None, ...] | None, exact: tuple[int | None, ...]) -> bool:
    return vague is None or (len(vague) == len(exact) and all(v is None or v == e for v, e in zip(vague, exact, strict=True)))


def _less_known(case: Case, shape: Size, got: Size, tally: Tally) -> None:
    """With one input size or one argument unknown, the facts may know less, never something else:
    no error for an input torch takes, no size torch would not give."""
    result = output_shape(case.layer, case.args, shape)
    if not shape or result.shape is None:
        return
    i = tally.cases % len(shape)
    vague = output_shape(case.layer, case.args, (*shape[:i], None, *shape[i + 1 :]))
    if vague.error is not None or not _generalizes(vague.shape, result.shape):
        tally.fail(case, shape, f"with size {i} unknown the facts say {vague}")
    if case.build is None and case.args:
        names = sorted(case.args)
        name = names[tally.cases % len(names)]
        vague = output_shape(case.layer, case.args | {name: None}, shape)
        if vague.error is not None or not _generalizes(vague.shape, result.shape):
            tally.fail(case, shape, f"with {name} unknown the facts say {vague}")
        count = parameter_count(case.layer, case.args | {name: None})
        if count is not None and case.counted and count != parameter_count(case.layer, case.args):
            tally.fail(case, shape, f"with {name} unknown the count is {count}")


def check(cases: Iterable[Case], minimum: int) -> Tally:
    tally = Tally()
    for case in cases:
        run_case(case, tally)
    assert not tally.failures, f"{len(tally.failures)} of {tally.cases} cases disagree with torch:\n" + "\n".join(
        tally.failures[:30]
    )
    assert tally.cases >= minimum, f"only {tally.cases} cases"
    assert 0 < tally.torch_errors < tally.cases, "the grid must cover inputs torch accepts and inputs it rejects"
    return tally


def shapes(lead: Iterable[Size], channels: Iterable[int], spatial: Iterable[Size]) -> list[Size]:
    return [(*n, c, *s) for n, c, s in itertools.product(lead, channels, spatial)]


def cube(sizes: Iterable[int], n: int, extra: Iterable[Size] = ()) -> list[Size]:
    """Square spatial sizes (and a few others) for a spatial rank n."""
    return [(s,) * n for s in sizes] + list(extra)


# ---------------------------------------------------------------- grids

_CHANNELS = [(1, 2, 1), (4, 6, 2), (3, 3, 3), (2, 3, 2), (2, 2, 0)]  # (in, out, groups): the last two are refused


def linear_cases() -> Iterator[Case]:
    for i, o, bias in itertools.product((1, 4, 7), (1, 3), (True, False)):
        inputs = [(*lead, last) for lead in ((), (2,), (2, 3)) for last in (i, i + 1)] + [()]
        yield Case("Linear", {"in_features": i, "out_features": o, "bias": bias}, inputs)
        yield Case("LazyLinear", {"out_features": o, "bias": bias}, inputs[:4], counted=False)
    for i1, i2, o, bias in itertools.product((1, 3), (2,), (1, 4), (True, False)):
        inputs = [(*lead, last) for lead in ((2,), (2, 3)) for last in (i1, i1 + 1)]
        yield Case(
            "Bilinear",
            {"in1_features": i1, "in2_features": i2, "out_features": o, "bias": bias},
            inputs,
            feed=lambda m, x, i2=i2: m(x, torch.empty((*x.shape[:-1], i2), device=x.device)),
        )
    yield Case("Identity", {}, [(), (3,), (2, 3, 4)])


def conv_cases() -> Iterator[Case]:
    spatial = {
        1: (cube((1, 2, 3, 4, 5, 8), 1), [1, 2, 3, 5], [1, 2, 3], [0, 1, 2, "same", "valid"], [1, 2, 3]),
        2: (cube((1, 2, 3, 5, 8), 2, [(5, 2)]), [1, 2, 3, (3, 1)], [1, 2, (1, 2)], [0, 1, 2, (2, 0), "same", "valid"], [1, 2]),
        3: (cube((1, 2, 4), 3, [(3, 1, 2)]), [1, 2, 3], [1, 2], [0, 1, "same"], [1, 2]),
    }
    count = 0
    for n, (sizes, kernels, strides, paddings, dilations) in spatial.items():
        grid = itertools.product(_CHANNELS, kernels, strides, paddings, dilations, ("zeros", "reflect", "replicate", "circular"))
        for (cin, cout, groups), k, s, p, d, mode in grid:
            count += 1
            args = {"in_channels": cin, "out_channels": cout, "kernel_size": k, "stride": s, "padding": p, "dilation": d}
            args |= {"groups": groups, "bias": count % 3 != 0, "padding_mode": mode}
            inputs = shapes([(2,), ()], [cin], sizes) + [(2, cin + 1, *sizes[-1]), sizes[-1]]
            yield Case(f"Conv{n}d", args, inputs, batched_ranks=(n + 2,))
            if count % 17 == 0 and groups == 1:
                lazy = {key: v for key, v in args.items() if key != "in_channels"}
                yield Case(f"LazyConv{n}d", lazy, inputs[:3], counted=False)


def conv_transpose_cases() -> Iterator[Case]:
    sizes = {1: cube((1, 2, 3, 5), 1), 2: cube((1, 2, 4), 2, [(3, 1)]), 3: cube((1, 3), 3)}
    count = 0
    for n, spatial in sizes.items():
        grid = itertools.product(_CHANNELS, (1, 2, 3), (1, 2, 3), (0, 1, 2), (0, 1, 2), (1, 2))
        for (cin, cout, groups), k, s, p, extra, d in grid:
            count += 1
            if n == 3 and count % 3:
                continue
            args = {"in_channels": cin, "out_channels": cout, "kernel_size": k, "stride": s, "padding": p}
            args |= {"output_padding": extra, "dilation": d, "groups": groups, "bias": count % 2 == 0}
            inputs = shapes([(2,), ()], [cin], spatial) + [(2, cin + 1, *spatial[0])]
            yield Case(f"ConvTranspose{n}d", args, inputs, device="cpu", batched_ranks=(n + 2,), empty_unknown=True)
            if count % 29 == 0 and groups == 1:
                lazy = {key: v for key, v in args.items() if key != "in_channels"}
                yield Case(f"LazyConvTranspose{n}d", lazy, inputs[:3], device="cpu", counted=False, empty_unknown=True)
        yield Case(
            f"ConvTranspose{n}d",
            {"in_channels": 2, "out_channels": 2, "kernel_size": 2, "padding_mode": "reflect"},
            [(2, 2, *spatial[0])],
        )


def pool_cases() -> Iterator[Case]:
    sizes = {1: cube(range(1, 10), 1), 2: cube((1, 2, 3, 4, 5, 7), 2, [(6, 3)]), 3: cube((1, 2, 3, 5), 3, [(4, 2, 3)])}
    for n, spatial in sizes.items():
        inputs = shapes([(2,), ()], [3], spatial) + [(2, 3, 4, *spatial[0])]
        grid = itertools.product((1, 2, 3, 4), ("absent", 1, 2, 3), (0, 1, 2), (1, 2), (False, True))
        for count, (k, s, p, d, ceil) in enumerate(grid):
            args: dict[str, Any] = {"kernel_size": k, "padding": p, "ceil_mode": ceil}
            if s != "absent":
                args["stride"] = s
            yield Case(f"MaxPool{n}d", args | {"dilation": d, "return_indices": count % 2 == 0}, inputs, batched_ranks=(n + 2,))
            if d == 1:
                yield Case(f"AvgPool{n}d", args | {"count_include_pad": count % 2 == 0}, inputs, batched_ranks=(n + 2,))
            if d == 1 and p == 0:
                yield Case(f"LPPool{n}d", {"norm_type": 2, **{key: v for key, v in args.items() if key != "padding"}}, inputs)
        yield Case(f"MaxPool{n}d", {"kernel_size": (2,) * n, "stride": (1, 2, 1)[:n]}, inputs)
        yield Case(f"AvgPool{n}d", {"kernel_size": (3, 1, 2)[:n], "padding": (1, 0, 1)[:n]}, inputs)
        for target in (1, 3, 5, (2, None, 1)[:n], (None, 3, None)[:n], (0,) * n):
            for kind in ("Avg", "Max"):
                zero = shapes([(2,)], [3], [(0,) * n])
                # on the CPU: the meta kernel of adaptive_avg_pool accepts empty inputs the CPU one refuses
                yield Case(
                    f"Adaptive{kind}Pool{n}d", {"output_size": target}, inputs + zero, device="cpu", batched_ranks=(n + 2,)
                )


def norm_cases() -> Iterator[Case]:
    inputs = [
        shape
        for rank in range(1, 6)
        for c in (3, 4)
        for shape in ((2, c, 5, 3, 2)[:rank], (1, c, 1, 1, 1)[:rank], (c, 4, 5, 2)[:rank])
    ]
    for n, affine, track, bias in itertools.product((1, 2, 3), (True, False), (True, False), (True, False)):
        args = {"num_features": 3, "affine": affine, "track_running_stats": track, "bias": bias}
        for train in (True, False):
            yield Case(f"BatchNorm{n}d", args, inputs, train=train)
            yield Case(f"InstanceNorm{n}d", args, inputs, train=train)
        lazy = {key: v for key, v in args.items() if key != "num_features"}
        yield Case(f"LazyBatchNorm{n}d", lazy, inputs, train=False, counted=False)
        yield Case(f"LazyInstanceNorm{n}d", lazy, inputs, train=False, counted=False)
    yield Case("SyncBatchNorm", {"num_features": 3}, inputs, train=False)
    yield Case("SyncBatchNorm", {"num_features": 3, "affine": False, "bias": False}, inputs[:3], train=False)
    layer_inputs = [(4,), (3, 4), (2, 3, 4), (2, 2, 3, 4), (2, 4, 3), (3,), ()]
    for normalized, affine, bias in itertools.product((4, (3, 4), (2, 3, 4), (4, 3)), (True, False), (True, False)):
        yield Case("LayerNorm", {"normalized_shape": normalized, "elementwise_affine": affine, "bias": bias}, layer_inputs)
        yield Case("RMSNorm", {"normalized_shape": normalized, "elementwise_affine": affine}, layer_inputs)
    group_inputs = [(2, c, *s) for c in (4, 5, 6) for s in ((), (5,), (3, 3))] + [(4,), (6, 2)]
    for (groups, channels), affine in itertools.product(((1, 4), (2, 4), (4, 4), (3, 4), (2, 6), (0, 4)), (True, False)):
        yield Case("GroupNorm", {"num_groups": groups, "num_channels": channels, "affine": affine}, group_inputs)
    for size in (1, 2, 5):
        yield Case("LocalResponseNorm", {"size": size}, [(2, 3), (2, 3, 4), (2, 3, 4, 4), (2, 3, 2, 2, 2)])


def embedding_cases() -> Iterator[Case]:
    inputs = [(), (5,), (2, 5), (2, 3, 4)]
    for rows, dim, padding_idx in itertools.product((1, 10), (1, 4), (None, 0, 9, 10, -1, -11)):
        args = {"num_embeddings": rows, "embedding_dim": dim, "padding_idx": padding_idx}
        if padding_idx is None:
            del args["padding_idx"]
        yield Case("Embedding", args, inputs, dtype=torch.long)
        for mode in ("mean", "sum", "max"):
            yield Case("EmbeddingBag", args | {"mode": mode}, [(2, 5), (3, 1)], dtype=torch.long)


def _rnn_feed(module: nn.Module, x: torch.Tensor) -> Any:
    return module(x)


def rnn_cases() -> Iterator[Case]:
    inputs = [(2, 3, 3), (2, 3), (4, 1, 3), (2, 3, 4), (2, 4), (1, 2, 3, 3), (3,)]
    grid = itertools.product(
        ("RNN", "LSTM", "GRU"), (4, 5), (1, 2, 3), (True, False), (True, False), (True, False), (0, 2, 4, -1)
    )
    for layer, hidden, layers, bias, batch_first, bidirectional, proj in grid:
        args = {"input_size": 3, "hidden_size": hidden, "num_layers": layers, "bias": bias, "batch_first": batch_first}
        args["bidirectional"] = bidirectional
        if layer == "LSTM":
            args["proj_size"] = proj
        elif proj:
            continue
        if layer == "RNN":
            args["nonlinearity"] = "relu" if layers == 2 else "tanh"
        yield Case(layer, args, inputs, device="cpu")
    for layer, hidden, bias in itertools.product(("RNN", "LSTM", "GRU"), (4, 0), (True, False)):
        yield Case(
            layer,
            {"input_size": 3, "hidden_size": hidden, "bias": bias, "dropout": 1.5 if hidden == 0 else 0.5},
            inputs[:1],
            device="cpu",
        )
        yield Case(
            f"{layer}Cell",
            {"input_size": 3, "hidden_size": hidden, "bias": bias},
            [(2, 3), (3,), (2, 4), (1, 2, 3)],
            device="cpu",
        )
    yield Case("RNN", {"input_size": 3, "hidden_size": 4, "nonlinearity": "sigmoid"}, inputs[:1], device="cpu")
    yield Case("RNNCell", {"input_size": 3, "hidden_size": 4, "nonlinearity": "relu"}, [(2, 3)], device="cpu")


def _attention_feed(kdim: int | None, vdim: int | None) -> Callable[[nn.Module, torch.Tensor], Any]:
    def feed(module: nn.Module, query: torch.Tensor) -> Any:
        lead = query.shape[:-1]
        key = torch.zeros((*lead, kdim or query.shape[-1]))
        value = torch.zeros((*lead, vdim or query.shape[-1]))
        return module(query, key, value)

    return feed


def attention_cases() -> Iterator[Case]:
    inputs = [(3, 2, 8), (3, 8), (1, 1, 8), (3, 2, 6), (3, 6), (2, 3, 2, 8)]
    grid = itertools.product((8, 6, 0), (1, 2, 4, 3), (True, False), (True, False), (None, 3), (None, 5), (True, False))
    for embed, heads, bias, bias_kv, kdim, vdim, batch_first in grid:
        args: dict[str, Any] = {
            "embed_dim": embed,
            "num_heads": heads,
            "bias": bias,
            "add_bias_kv": bias_kv,
            "batch_first": batch_first,
        }
        args |= {name: v for name, v in (("kdim", kdim), ("vdim", vdim)) if v is not None}
        yield Case("MultiheadAttention", args, inputs, device="cpu", feed=_attention_feed(kdim, vdim))
    yield Case(
        "MultiheadAttention",
        {"embed_dim": 8, "num_heads": 2, "dropout": 1.5},
        inputs[:1],
        device="cpu",
        feed=_attention_feed(None, None),
    )


def _decoder_feed(batch_first: bool) -> Callable[[nn.Module, torch.Tensor], Any]:
    def feed(module: nn.Module, tgt: torch.Tensor) -> Any:
        memory = list(tgt.shape)
        memory[1 if batch_first and tgt.dim() == 3 else 0] = 5  # a memory of another length than tgt
        return module(tgt, torch.zeros(memory))

    return feed


def _stack(layer: type[nn.Module], stack: type[nn.Module], args: dict[str, Any], key: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        norm = nn.LayerNorm(**args["norm"]) if "norm" in args else None
        return stack(layer(**args[key]), args["num_layers"], norm=norm)

    return build


def transformer_cases() -> Iterator[Case]:
    inputs = [(3, 2, 8), (3, 8), (3, 2, 6), (2, 3, 2, 8)]
    for d_model, nhead, bias, batch_first, norm_first in itertools.product(
        (8, 6), (1, 2, 3), (True, False), (True, False), (True, False)
    ):
        args = {
            "d_model": d_model,
            "nhead": nhead,
            "dim_feedforward": 5,
            "bias": bias,
            "batch_first": batch_first,
            "norm_first": norm_first,
        }
        yield Case("TransformerEncoderLayer", args, inputs, device="cpu")
        yield Case("TransformerDecoderLayer", args, inputs, device="cpu", feed=_decoder_feed(batch_first))
        if norm_first or nhead == 3:
            continue
        for layers, norm in itertools.product((1, 3), (None, {"normalized_shape": d_model, "bias": bias})):
            common: dict[str, Any] = {"num_layers": layers} | ({"norm": norm} if norm else {})
            stack = common | {"encoder_layer": args}
            encoder = _stack(nn.TransformerEncoderLayer, nn.TransformerEncoder, stack, "encoder_layer")
            yield Case("TransformerEncoder", stack, inputs, device="cpu", build=encoder)
            stack = common | {"decoder_layer": args}
            decoder = _stack(nn.TransformerDecoderLayer, nn.TransformerDecoder, stack, "decoder_layer")
            yield Case("TransformerDecoder", stack, inputs, device="cpu", build=decoder, feed=_decoder_feed(batch_first))
    for d_model, nhead, encoders, decoders, bias, batch_first in itertools.product(
        (8, 6), (2, 4), (1, 2), (1, 3), (True, False), (True, False)
    ):
        args = {"d_model": d_model, "nhead": nhead, "num_encoder_layers": encoders, "num_decoder_layers": decoders}
        args |= {"dim_feedforward": 5, "bias": bias, "batch_first": batch_first}
        yield Case("Transformer", args, inputs, device="cpu", feed=_transformer_feed(batch_first), compare=_tgt_unknown)

    for layer in ("TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer"):
        yield Case(layer, {"d_model": 8, "nhead": 2, "dropout": 1.5}, inputs[:1], device="cpu")


def _transformer_feed(batch_first: bool) -> Callable[[nn.Module, torch.Tensor], Any]:
    def feed(module: nn.Module, src: torch.Tensor) -> Any:
        tgt = list(src.shape)
        tgt[1 if batch_first and src.dim() == 3 else 0] = 4  # a target of another length than src
        return module(src, torch.zeros(tgt))

    return feed


def _tgt_unknown(got: Size, facts: tuple[int | None, ...]) -> bool:
    """The facts leave tgt's length unknown (None) and must agree everywhere else."""
    return len(got) == len(facts) and facts.count(None) == 1 and all(f is None or f == g for f, g in zip(facts, got, strict=True))


def reshape_cases() -> Iterator[Case]:
    inputs = [(), (3,), (2, 3), (2, 3, 4), (2, 1, 4, 5)]
    for start, end in itertools.product(range(-4, 4), range(-4, 4)):
        yield Case("Flatten", {"start_dim": start, "end_dim": end}, inputs)
    yield Case("Flatten", {}, inputs)
    for dim, sizes in itertools.product((0, 1, -1, 2), ((2, 2), (-1, 2), (3, 4), (1, -1), (2, -1, -1))):
        yield Case("Unflatten", {"dim": dim, "unflattened_size": sizes}, [(4,), (2, 4), (2, 12, 4), (4, 4, 2)])
    pixel_inputs = [(2, 8, 3, 4), (8, 4, 6), (2, 9, 3, 3), (1, 2, 4, 6, 6), (4, 4)]
    for r in (1, 2, 3):
        yield Case("PixelShuffle", {"upscale_factor": r}, pixel_inputs)
        yield Case("PixelUnshuffle", {"downscale_factor": r}, pixel_inputs)
    for groups in (1, 2, 3):
        yield Case("ChannelShuffle", {"groups": groups}, [(2, 6, 3), (2, 4, 2, 2), (6, 2, 2), (2, 6)])


def upsample_cases() -> Iterator[Case]:
    inputs = [(2, 3, 5), (2, 3, 4, 5), (2, 3, 3, 4, 5), (3, 5), (2, 3, 7, 3)]
    sizes: list[dict[str, Any]] = [{"size": 4}, {"size": (6, 3)}, {"size": (2, 2, 2)}, {}, {"size": 4, "scale_factor": 2}]
    sizes += [{"scale_factor": s} for s in (2, 3, 1.5, 0.5, 0.34, 2.7, (2, 0.5))]
    modes = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
    for size, mode, align in itertools.product(sizes, modes, (None, True)):
        args = size | {"mode": mode} | ({"align_corners": align} if align is not None else {})
        yield Case("Upsample", args, inputs, batched_ranks=(3, 4, 5))
    for size in sizes:
        yield Case("UpsamplingNearest2d", size, inputs)
        yield Case("UpsamplingBilinear2d", size, inputs)


def pad_cases() -> Iterator[Case]:
    for n, kind in itertools.product((1, 2, 3), ("Zero", "Constant", "Reflection", "Replication", "Circular")):
        inputs = [
            (2, 3, *(4, 3, 2)[:n]),
            (3, *(4, 3, 2)[:n]),
            (2, 3, *(1, 2, 1)[:n]),
            (*(5, 2, 3)[:n],),
            (2, 2, 3, 4, 4, 4)[: n + 3],
        ]
        paddings: list[Any] = [0, 1, 2, 3, 4, (1, 0, 2, 1, 0, 3)[: 2 * n], (0, 2, 1, 0, 2, 0)[: 2 * n]]
        if kind in ("Zero", "Constant"):
            paddings += [-1, -2, (-1, 1, 0, -2, 1, 0)[: 2 * n], (-4, 0, 0, 0, 0, 0)[: 2 * n]]
        for padding in paddings:
            args = {"padding": padding} | ({"value": 0.5} if kind == "Constant" else {})
            yield Case(f"{kind}Pad{n}d", args, inputs)


def dropout_cases() -> Iterator[Case]:
    inputs = [(), (3,), (2, 3), (2, 3, 4), (2, 3, 4, 4), (2, 3, 2, 2, 2), (1, 2, 3, 2, 2, 2)]
    for layer, p in itertools.product(
        ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"), (0.0, 0.5, 1, 1.5, -0.1)
    ):
        yield Case(layer, {"p": p}, inputs)


def activation_cases() -> Iterator[Case]:
    """On the CPU: the meta kernel of softmax accepts any dim."""
    inputs = [(), (3,), (2, 3), (2, 3, 4), (2, 3, 4, 4), (2, 4, 2, 2)]
    simple = (
        "ReLU", "ReLU6", "LeakyReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "LogSigmoid",
        "Hardsigmoid", "Tanh", "Hardtanh", "Hardswish", "Tanhshrink", "Softsign", "Softplus", "Softshrink", "Hardshrink",
    )  # fmt: skip
    for layer in simple:
        yield Case(layer, {}, inputs, device="cpu")
    yield Case("Threshold", {"threshold": 0.1, "value": 0.0}, inputs, device="cpu")
    for count in (1, 3, 4):
        yield Case("PReLU", {"num_parameters": count}, inputs, device="cpu")
    for layer, dim in itertools.product(("Softmax", "LogSoftmax", "Softmin", "GLU"), (None, 0, 1, -1, 2, 3, -4)):
        args = {} if dim is None else {"dim": dim}
        yield Case(layer, args, [*inputs, (2, 5)], device="cpu")
    yield Case("Softmax2d", {}, inputs, device="cpu")


GRIDS = {
    "linear": (linear_cases, 150),
    "conv": (conv_cases, 20000),
    "conv_transpose": (conv_transpose_cases, 5000),
    "pool": (pool_cases, 5000),
    "norm": (norm_cases, 2000),
    "embedding": (embedding_cases, 100),
    "rnn": (rnn_cases, 500),
    "attention": (attention_cases, 500),
    "transformer": (transformer_cases, 200),
    "reshape": (reshape_cases, 300),
    "upsample": (upsample_cases, 500),
    "pad": (pad_cases, 300),
    "dropout": (dropout_cases, 100),
    "activation": (activation_cases, 200),
}


@pytest.mark.parametrize("grid", sorted(GRIDS))
def test_layer_facts_agree_with_torch(grid):
    torch.manual_seed(0)
    cases, minimum = GRIDS[grid]
    check(cases(), minimum)


def test_every_known_layer_is_a_torch_layer_and_checked():
    checked = {case.layer for cases, _ in GRIDS.values() for case in cases()}
    for name in known_layers():
        assert inspect.isclass(getattr(nn, name, None)) and issubclass(getattr(nn, name), nn.Module), name
    assert known_layers() <= checked, sorted(known_layers() - checked)
    assert len(known_layers()) >= 100


def _torch_defaults(cls: type) -> dict[str, Any]:
    signature = inspect.signature(cls.__init__)
    overloads = [inspect.signature(o) for o in typing.get_overloads(cls.__init__)] if inspect.isfunction(cls.__init__) else []
    declared = next((o for o in overloads if len(o.parameters) > 3), signature)
    return {p.name: p.default for p in declared.parameters.values() if p.default is not p.empty}


def test_defaults_used_are_torchs():
    """The formulas fill missing arguments from torch_facts(); those are torch's own defaults."""
    for name in known_layers():
        facts = torch_facts().lookup(f"torch.nn.{name}")
        assert facts is not None, name
        for param, default in _torch_defaults(getattr(nn, name)).items():
            if isinstance(default, (bool, int, float, str)) or default is None:
                assert facts.defaults[param] == default, (name, param)
            elif isinstance(default, tuple):
                assert tuple(facts.defaults[param]) == default, (name, param)


def test_unknown_values_give_unknown_dims_never_a_guess():
    conv = {"in_channels": 3, "out_channels": 8, "kernel_size": 3}
    assert output_shape("Conv2d", conv | {"stride": None}, (None, 3, 32, 32)).shape == (None, 8, None, None)
    assert output_shape("MaxPool2d", {"kernel_size": 2, "stride": None}, (None, 8, 32, 32)).shape == (None, 8, None, None)
    assert output_shape("Linear", {"in_features": None, "out_features": 10}, (None, 800)).shape == (None, 10)
    assert output_shape("Conv2d", conv, (None, 3, None, 32)).shape == (None, 8, None, 30)
    assert parameter_count("Linear", {"in_features": None, "out_features": 10}) is None
    assert parameter_count("MultiheadAttention", {"embed_dim": 8, "num_heads": 2, "kdim": None}) is None
    assert parameter_count("LazyLinear", {"out_features": 10}) is None
    assert output_shape("NoSuchLayer", {}, (1, 2)).shape is None
    assert output_shape("Conv2d", {"kernel_size": object()}, (1, 2, 5, 5)) == ShapeResult((1, None, None, None))
    assert parameter_count("Conv2d", {"kernel_size": "x", "in_channels": [1]}) is None


def test_messages_name_the_numbers():
    assert (
        output_shape("Linear", {"in_features": 784, "out_features": 10}, (None, 800)).error
        == "Linear expects 784 input features but gets 800"
    )
    conv = {"in_channels": 3, "out_channels": 8, "kernel_size": 3}
    assert output_shape("Conv2d", conv, (None, 1, 28, 28)).error == "Conv2d expects 3 input channels but gets 1"
    assert (
        output_shape("MaxPool2d", {"kernel_size": 2}, (None, 8, 1, 1)).error
        == "MaxPool2d(kernel_size=2) needs spatial size >= 2, got 1"
    )
    assert (
        argument_error("GroupNorm", {"num_groups": 3, "num_channels": 32})
        == "GroupNorm: num_groups=3 must divide num_channels=32"
    )
    assert argument_error("Conv2d", conv) is None


def test_transformer_containers_take_the_layer_args():
    layer = {"d_model": 512, "nhead": 8}
    one = parameter_count("TransformerEncoderLayer", layer)
    assert parameter_count("TransformerEncoder", {"num_layers": 6, "encoder_layer": layer}) == 6 * one
    assert parameter_count("TransformerEncoder", {"num_layers": 6}) is None
    assert parameter_count("TransformerEncoder", {"num_layers": 6, "encoder_layer": layer, "norm": None}) is None
    with torch.device("meta"):
        assert parameter_count("Transformer", {}) == sum(p.numel() for p in nn.Transformer().parameters())


# ---------------------------------------------------------------- tensor methods


def _torch_shape(fn: Callable[[], torch.Tensor]) -> Size | None:
    try:
        return tuple(fn().shape)
    except Exception:  # noqa: BLE001 - torch refusing is an outcome to compare
        return None


def _agrees(result, got: Size | None) -> bool:
    return result.error is not None and result.shape is None if got is None else result.error is None and result.shape == got


def test_view_flatten_permute_agree_with_torch():
    tensors = [(), (1,), (6,), (2, 3), (2, 3, 4), (4, 1, 28, 28), (2, 5, 1, 3)]
    sizes = [
        (-1,),
        (6,),
        (-1, 6),
        (2, -1),
        (3, 2, -1),
        (-1, 784),
        (1, -1),
        (-1, -1),
        (4, 0),
        (12, 2),
        (-1, 3, 4),
        (24,),
        (-2, 3),
        (0, -1),
    ]
    failures, cases = [], 0
    for shape in tensors:
        x = torch.empty(shape, device="meta")
        for s in sizes:
            if s == (0, -1):
                continue  # torch: a 0 with -1 is ambiguous, the facts say unknown
            cases += 1
            if not _agrees(view_shape(shape, s), _torch_shape(lambda x=x, s=s: x.view(*s))):
                failures.append(("view", shape, s, view_shape(shape, s)))
        for start, end in itertools.product(range(-5, 5), repeat=2):
            cases += 1
            if not _agrees(flatten_shape(shape, start, end), _torch_shape(lambda x=x, a=start, b=end: torch.flatten(x, a, b))):
                failures.append(("flatten", shape, start, end, flatten_shape(shape, start, end)))
        for dims in itertools.chain.from_iterable(itertools.permutations(range(-1, 3), r) for r in range(len(shape) + 2)):
            cases += 1
            if not _agrees(permute_shape(shape, dims), _torch_shape(lambda x=x, d=dims: torch.permute(x, d))):
                failures.append(("permute", shape, dims, permute_shape(shape, dims)))
        for a, b in itertools.product(range(-4, 4), repeat=2):
            cases += 1
            if not _agrees(transpose_shape(shape, a, b), _torch_shape(lambda x=x, a=a, b=b: x.transpose(a, b))):
                failures.append(("transpose", shape, a, b, transpose_shape(shape, a, b)))
        for d in [None, *range(-5, 5)]:
            cases += 2
            if not _agrees(squeeze_shape(shape, d), _torch_shape(lambda x=x, d=d: x.squeeze() if d is None else x.squeeze(d))):
                failures.append(("squeeze", shape, d, squeeze_shape(shape, d)))
            if d is not None and not _agrees(unsqueeze_shape(shape, d), _torch_shape(lambda x=x, d=d: x.unsqueeze(d))):
                failures.append(("unsqueeze", shape, d, unsqueeze_shape(shape, d)))
    assert not failures, failures[:20]
    assert cases > 1500


def test_view_with_an_unknown_batch_keeps_the_sample_size():
    assert view_shape((None, 1, 28, 28), (InputDim(0), -1)).shape == (None, 784)
    assert view_shape((None, 1, 28, 28), (-1, 784)).shape == (None, 784)
    assert view_shape((None, 1, 28, 28), (-1, 800)).error is None  # 25 samples fit: no finding
    assert view_shape((None, 1, 28, 28), (InputDim(0), 800)).error is not None  # no batch size fits
    assert view_shape((None, 1, 28, 28), (InputDim(0), 28, -1)).shape == (None, 28, 28)
    assert view_shape((None, 1, 28, 28), (InputDim(0), InputDim(0), -1)).shape == (None, None, None)
    assert view_shape((None, 1, 28, 28), (None, -1)).shape == (None, None)
    for batch in (1, 3):
        x = torch.empty(batch, 1, 28, 28, device="meta")
        assert view_shape(tuple(x.shape), (InputDim(0), -1)).shape == tuple(x.view(x.size(0), -1).shape)
        assert view_shape(tuple(x.shape), (InputDim(-4), 28, 28)).shape == tuple(x.view(x.size(-4), 28, 28).shape)


def test_cat_and_stack_agree_with_torch():
    groups = [
        [(2, 3), (2, 4)],
        [(2, 3), (3, 3)],
        [(2, 3), (2, 3, 1)],
        [(0,), (2, 3)],
        [(2, 3, 4)] * 3,
        [(2, 3), (0,)],
        [(), ()],
        [(2, 3), (2, 3)],
    ]
    failures, cases = [], 0
    for group, dim in itertools.product(groups, range(-4, 4)):
        tensors = [torch.empty(s, device="meta") for s in group]
        cases += 2
        if not _agrees(cat_shape(group, dim), _torch_shape(lambda t=tensors, d=dim: torch.cat(t, d))):
            failures.append(("cat", group, dim, cat_shape(group, dim)))
        if not _agrees(stack_shape(group, dim), _torch_shape(lambda t=tensors, d=dim: torch.stack(t, d))):
            failures.append(("stack", group, dim, stack_shape(group, dim)))
    assert not failures, failures
    assert cat_shape([(None, 3), (None, 4)], 1).shape == (None, 7)
    assert cat_shape([(None, 3), (2, None)], 0).shape == (None, 3)
    assert cat_shape([(2, 3), (2, None)], 1).shape == (2, None)
    assert cases > 100
