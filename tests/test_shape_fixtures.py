"""TL501-TL503 on model fixtures, each confirmed by torch on meta tensors.

Every fixture is linted, then run by torch under `torch.device("meta")` on the input size it states
(or, for code that states none, on a probe input): a case trainlint flags must raise in torch, or,
for TL503, fold the batch dimension; a clean case must run and keep it. The numbers trainlint
reports are torch's too: the sizes a mismatch names, the shape hints after each line of `forward`
and the parameter counts it claims to know exactly.
"""

from __future__ import annotations

import math
import re
import sys
import textwrap
from dataclasses import dataclass
from types import FrameType
from typing import Any

import pytest
import torch
from torch import nn

from trainlint.engine import lint_source
from trainlint.settings import default_settings

HEADER = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
FILENAME = "<fixture>"


@dataclass
class Case:
    name: str
    code: str
    codes: tuple[str, ...] = ()  # what trainlint reports (TL5xx)
    probe: tuple[str, tuple[int, ...]] | None = None  # code that states no input: run `name` on this size

    @property
    def text(self) -> str:
        return HEADER + textwrap.dedent(self.code)


# A convolution stack on MNIST-sized input; {fc} is the first Linear's in_features.
def mnist_net(fc: str, flatten: str = "torch.flatten(x, 1)", conv1: str = "nn.Conv2d(1, 32, 3, 1)") -> str:
    return f"""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = {conv1}
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.fc1 = nn.Linear({fc}, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = {flatten}
            x = F.relu(self.fc1(x))
            return self.fc2(x)


    model = Net()
    out = model(torch.randn(64, 1, 28, 28))
    """


def lenet(fc: str, view: str) -> str:
    return f"""
    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear({fc}, 120)
            self.fc2 = nn.Linear(120, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = {view}
            return self.fc2(F.relu(self.fc1(x)))


    net = LeNet()
    out = net(torch.randn(8, 3, 32, 32))
    """


def sequential(layers: str, size: str) -> str:
    return f"""
    model = nn.Sequential(
        {layers}
    )
    out = model(torch.randn({size}))
    """


def one_conv(conv: str, fc: str, size: str, pool: str = "x") -> str:
    return f"""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = {conv}
            self.fc = nn.Linear({fc}, 10)

        def forward(self, x):
            x = F.relu(self.conv(x))
            x = {pool}
            x = x.view(x.size(0), -1)
            return self.fc(x)


    model = Net()
    out = model(torch.randn({size}))
    """


def submodule(fc: str) -> str:
    return f"""
    class Features(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv1 = nn.Conv2d(3, channels, 3, padding=1)
            self.conv2 = nn.Conv2d(channels, channels * 2, 3, stride=2, padding=1)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            return F.relu(self.conv2(x))


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = Features(16)
            self.pool = nn.MaxPool2d(2)
            self.classifier = nn.Linear({fc}, 10)

        def forward(self, x):
            x = self.pool(self.features(x))
            x = x.reshape(x.shape[0], -1)
            return self.classifier(x)


    model = Net()
    out = model(torch.zeros(4, 3, 32, 32))
    """


def nested(fc: str) -> str:
    return f"""
    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
                nn.Sequential(nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
            )
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear({fc}, 10))

        def forward(self, x):
            return self.classifier(self.features(x))


    model = Net()
    out = model(torch.randn(16, 3, 32, 32))
    """


def head(fc2_in: str) -> str:
    return f"""
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(512, 256)
            self.fc2 = nn.Linear({fc2_in}, 10)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))
    """


def folding(view: str, train: bool = False, batch: int = 32) -> str:
    optimizer = "\n    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)" if train else ""
    return f"""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3)
            self.fc = nn.Linear(8 * 26 * 26, 10)

        def forward(self, x):
            x = F.relu(self.conv(x))
            x = {view}
            return self.fc(x)


    model = Net(){optimizer}
    out = model(torch.randn({batch}, 1, 28, 28))
    """


CASES = [
    # -- TL501: a flattened size that is not the Linear's in_features --------------------------------
    Case("mnist-padding-forgotten", mnist_net("64 * 14 * 14"), ("TL501",)),
    Case("mnist", mnist_net("64 * 12 * 12")),
    Case("mnist-view-spelling", mnist_net("9216", "x.view(x.size(0), -1)")),
    Case("mnist-view-spelling-wrong", mnist_net("64 * 13 * 13", "x.view(x.size(0), -1)"), ("TL501",)),
    Case("mnist-padded-conv", mnist_net("64 * 13 * 13", conv1="nn.Conv2d(1, 32, 3, 1, padding=1)")),
    Case("mnist-padded-conv-wrong", mnist_net("64 * 12 * 12", conv1="nn.Conv2d(1, 32, 3, 1, padding=1)"), ("TL501",)),
    Case("lenet-cifar", lenet("16 * 5 * 5", "x.view(-1, 16 * 5 * 5)")),
    Case("lenet-cifar-mnist-arithmetic", lenet("16 * 4 * 4", "x.view(-1, 16 * 4 * 4)"), ("TL501",)),
    Case("lenet-flatten-keyword", lenet("400", "torch.flatten(x, start_dim=1)")),
    Case("lenet-flatten-keyword-wrong", lenet("256", "torch.flatten(x, start_dim=1)"), ("TL501",)),
    Case("stride-2", one_conv("nn.Conv2d(3, 16, 3, stride=2, padding=1)", "16 * 16 * 16", "8, 3, 32, 32")),
    Case("stride-2-wrong", one_conv("nn.Conv2d(3, 16, 3, stride=2, padding=1)", "16 * 32 * 32", "8, 3, 32, 32"), ("TL501",)),
    Case("dilation", one_conv("nn.Conv2d(1, 8, 3, dilation=2)", "8 * 24 * 24", "2, 1, 28, 28")),
    Case("dilation-wrong", one_conv("nn.Conv2d(1, 8, 3, dilation=2)", "8 * 26 * 26", "2, 1, 28, 28"), ("TL501",)),
    Case("ceil-mode", one_conv("nn.Conv2d(1, 4, 3)", "4 * 4 * 4", "2, 1, 9, 9", "F.max_pool2d(x, 2, ceil_mode=True)")),
    Case(
        "ceil-mode-wrong",
        one_conv("nn.Conv2d(1, 4, 3)", "4 * 3 * 3", "2, 1, 9, 9", "F.max_pool2d(x, 2, ceil_mode=True)"),
        ("TL501",),
    ),
    Case("avg-pool-padding", one_conv("nn.Conv2d(3, 8, 3)", "8 * 16 * 16", "2, 3, 32, 32", "F.avg_pool2d(x, 2, padding=1)")),
    Case(
        "avg-pool-padding-wrong",
        one_conv("nn.Conv2d(3, 8, 3)", "8 * 15 * 15", "2, 3, 32, 32", "F.avg_pool2d(x, 2, padding=1)"),
        ("TL501",),
    ),
    Case("adaptive-pool", one_conv("nn.Conv2d(3, 128, 3)", "128", "2, 3, 64, 64", "F.adaptive_avg_pool2d(x, 1)")),
    Case(
        "adaptive-pool-wrong",
        one_conv("nn.Conv2d(3, 128, 3)", "256", "2, 3, 64, 64", "F.adaptive_avg_pool2d(x, 1)"),
        ("TL501",),
    ),
    Case("conv1d", one_conv("nn.Conv1d(1, 16, 5)", "16 * 96", "4, 1, 100")),
    Case("conv1d-wrong", one_conv("nn.Conv1d(1, 16, 5)", "16 * 100", "4, 1, 100"), ("TL501",)),
    Case("conv3d", one_conv("nn.Conv3d(1, 4, 3, padding=1)", "4 * 8 * 8 * 8", "2, 1, 8, 8, 8")),
    Case("conv3d-wrong", one_conv("nn.Conv3d(1, 4, 3)", "4 * 8 * 8 * 8", "2, 1, 8, 8, 8"), ("TL501",)),
    Case("transposed", one_conv("nn.ConvTranspose2d(8, 4, 2, stride=2)", "4 * 14 * 14", "2, 8, 7, 7")),
    Case("transposed-wrong", one_conv("nn.ConvTranspose2d(8, 4, 2, stride=2)", "4 * 7 * 7", "2, 8, 7, 7"), ("TL501",)),
    Case("submodule", submodule("32 * 8 * 8")),
    Case("submodule-wrong", submodule("32 * 16 * 16"), ("TL501",)),
    Case("nested-sequential", nested("64 * 8 * 8")),
    Case("nested-sequential-wrong", nested("64 * 7 * 7"), ("TL501",)),
    Case(
        "flatten-module",
        sequential("nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10)", "2, 1, 28, 28"),
    ),
    Case(
        "flatten-module-wrong",
        sequential("nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 28 * 28, 10)", "2, 1, 28, 28"),
        ("TL501",),
    ),
    Case(
        "upsample",
        sequential("nn.Conv2d(3, 4, 1), nn.Upsample(scale_factor=2), nn.Flatten(), nn.Linear(4 * 16 * 16, 2)", "2, 3, 8, 8"),
    ),
    Case(
        "upsample-wrong",
        sequential("nn.Conv2d(3, 4, 1), nn.Upsample(scale_factor=2), nn.Flatten(), nn.Linear(4 * 8 * 8, 2)", "2, 3, 8, 8"),
        ("TL501",),
    ),
    # -- TL502: consecutive layers that disagree ----------------------------------------------------
    Case(
        "conv-channels",
        sequential("nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.Conv2d(32, 64, 3)", "2, 3, 16, 16"),
    ),
    Case(
        "conv-channels-wrong",
        """
        features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(64, 128, 3, padding=1),
        )
        """,
        ("TL502",),
        probe=("features", (2, 3, 16, 16)),
    ),
    Case(
        "batchnorm-features-wrong",
        sequential("nn.Conv2d(3, 16, 3), nn.BatchNorm2d(32), nn.ReLU()", "2, 3, 16, 16"),
        ("TL502",),
    ),
    Case("linear-chain", head("256"), probe=("Head()", (2, 512))),
    Case("linear-chain-wrong", head("128"), ("TL502",), probe=("Head()", (2, 512))),
    Case(
        "grouped-conv",
        sequential("nn.Conv2d(3, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3, groups=4)", "2, 3, 16, 16"),
    ),
    Case(
        "grouped-conv-wrong",
        sequential("nn.Conv2d(3, 16, 3), nn.ReLU(), nn.Conv2d(32, 64, 3, groups=4)", "2, 3, 16, 16"),
        ("TL502",),
    ),
    # -- TL503: a view that folds the batch --------------------------------------------------------
    Case("fold-view-minus-one", folding("x.view(-1)"), ("TL503",)),
    Case("fold-reshape-minus-one", folding("x.reshape(-1)"), ("TL503",)),
    Case("fold-flatten-all", folding("x.flatten()"), ("TL503",)),
    Case("fold-view-one-row-trained", folding("x.view(1, -1)", train=True), ("TL503",)),
    Case("per-sample-flatten", folding("x.flatten(1)")),
    Case("per-sample-view", folding("x.view(x.size(0), -1)", train=True)),
    Case("one-sample-inference", folding("x.view(1, -1)", batch=1)),
    Case(
        "mnist-mlp-view",
        """
        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 256)
                self.fc2 = nn.Linear(256, 10)

            def forward(self, x):
                x = x.view(-1, 784)
                return self.fc2(F.relu(self.fc1(x)))


        model = MLP()
        out = model(torch.randn(32, 1, 28, 28))
        """,
    ),
    # -- other clean shapes real code takes ---------------------------------------------------------
    Case(
        "channels-last-linear",
        """
        class Mixer(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 16, 3, padding=1)
                self.proj = nn.Linear(16, 32)

            def forward(self, x):
                x = self.conv(x)
                x = x.permute(0, 2, 3, 1)
                return self.proj(x)


        model = Mixer()
        out = model(torch.randn(2, 3, 8, 8))
        """,
    ),
    Case(
        "two-branches-cat",
        """
        class TwoTower(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = nn.Linear(20, 8)
                self.b = nn.Linear(20, 24)
                self.out = nn.Linear(32, 1)

            def forward(self, x):
                y = torch.cat([self.a(x), self.b(x)], dim=1)
                return self.out(y)


        model = TwoTower()
        out = model(torch.randn(5, 20))
        """,
    ),
    Case(
        "tokens",
        """
        class Block(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.norm = nn.LayerNorm(dim)
                self.fc1 = nn.Linear(dim, 4 * dim)
                self.fc2 = nn.Linear(4 * dim, dim)

            def forward(self, x):
                return x + self.fc2(F.gelu(self.fc1(self.norm(x))))


        model = Block(64)
        out = model(torch.randn(3, 10, 64))
        """,
    ),
    Case(
        "lazy-linear",
        sequential("nn.Conv2d(1, 4, 3), nn.Flatten(), nn.LazyLinear(10)", "2, 1, 28, 28"),
    ),
]


def _lint(case: Case) -> Any:
    return lint_source(case.text, "fixture.py", default_settings(["TL5"]))


@dataclass
class TorchRun:
    out: Any
    error: BaseException | None
    batch: int  # the first dimension of the input the model is given
    calls: list[tuple[nn.Module, tuple[int, ...]]]  # each module called, with its input's shape
    after: dict[int, dict[str, tuple[int, ...]]]  # line -> the tensors of its frame once the line has run
    namespace: dict[str, Any]


def _run_in_torch(case: Case) -> TorchRun:
    """Run the fixture on meta tensors, recording every module call and the tensors after each line."""
    namespace: dict[str, Any] = {}
    after: dict[int, dict[str, tuple[int, ...]]] = {}
    previous: dict[int, int] = {}
    calls: list[tuple[nn.Module, tuple[int, ...]]] = []

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != FILENAME:
            return None
        if event in ("line", "return") and id(frame) in previous:
            tensors = {k: tuple(v.shape) for k, v in frame.f_locals.items() if isinstance(v, torch.Tensor)}
            after.setdefault(previous[id(frame)], tensors)
        if event == "line":
            previous[id(frame)] = frame.f_lineno
        return tracer

    def record(module: nn.Module, args: tuple[Any, ...]) -> None:
        if args and isinstance(args[0], torch.Tensor):
            calls.append((module, tuple(args[0].shape)))

    code = compile(case.text, FILENAME, "exec")
    error: BaseException | None = None
    hook = nn.modules.module.register_module_forward_pre_hook(record)
    sys.settrace(tracer)
    try:
        with torch.device("meta"):
            exec(code, namespace)
            if case.probe is not None:
                model = eval(case.probe[0], namespace)
                namespace["out"] = model(torch.randn(*case.probe[1]))
    except RuntimeError as exc:
        error = exc
    finally:
        sys.settrace(None)
        hook.remove()
    assert calls, "the fixture calls no module"
    return TorchRun(namespace.get("out"), error, calls[0][1][0], calls, after, namespace)


def _takes(module: nn.Module) -> tuple[int, int] | None:
    """(what the layer takes, the dimension of its input that must match) for sized layers."""
    if isinstance(module, nn.Linear):
        return module.in_features, -1
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        return module.in_channels, 1
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return module.num_features, 1
    return None


def _torch_sizes(run: TorchRun) -> tuple[int, int]:
    """(what is asked for, what is given) where torch failed: a view's per-sample size against the
    sample's, or the layer's input size against its input's."""
    invalid = re.search(r"shape '\[([-\d, ]+)\]' is invalid for input of size (\d+)", str(run.error))
    if invalid:
        dims = [int(d) for d in invalid.group(1).split(",")]
        return math.prod(dims[1:]), int(invalid.group(2)) // run.batch
    failing, shape = run.calls[-1]
    takes = _takes(failing)
    assert takes is not None, f"torch failed in {failing}: {run.error}"
    return takes[0], shape[takes[1]]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    result = _lint(case)
    assert [d.code for d in result.diagnostics] == list(case.codes), [d.message for d in result.diagnostics]
    run = _run_in_torch(case)
    if "TL501" in case.codes or "TL502" in case.codes:
        assert run.error is not None, "torch runs what trainlint flags"
        # What torch fails on, and the sizes trainlint names: the same.
        (mismatch,) = result.model.shapes.mismatches
        expected, got = _torch_sizes(run)
        assert (mismatch.expected, mismatch.got) == (expected, got)
        assert f"{expected}" in result.diagnostics[0].message and f"{got}" in result.diagnostics[0].message
    elif "TL503" in case.codes:
        assert run.error is not None or run.out.shape[0] != run.batch, "the view keeps the batch in torch"
    else:
        assert run.error is None, f"torch raises on a clean fixture: {run.error}"
        assert run.out.shape[0] == run.batch
        assert _hints(result) == _torch_hints(result, run)
    for name, count in _counts(result).items():
        assert count == _torch_count(run, name), name


def _hints(result: Any) -> dict[int, tuple[int | None, ...]]:
    """The shape hints trainlint gives, by line."""
    return {result.model.positions.line(node): shape for node, shape in result.model.shapes.hints.items()}


def _torch_hints(result: Any, run: TorchRun) -> dict[int, tuple[int | None, ...]]:
    """The shapes torch computes on the same lines (for the name each assigns), where trainlint knows
    every size; a size trainlint leaves unknown (None) is unknown here too."""
    out = {}
    for node, shape in result.model.shapes.hints.items():
        line = result.model.positions.line(node)
        target = result.model.code(node).strip().split("=", 1)[0].strip()
        actual = run.after[line][target]
        out[line] = tuple(None if mine is None else size for mine, size in zip(shape, actual, strict=True))
    return out


def _counts(result: Any) -> dict[str, int]:
    """The parameter counts trainlint knows exactly, by model class (built once in the fixture)."""
    out: dict[str, int] = {}
    for part in result.model.networks.models:
        count = result.model.networks.count(part)
        if part.cls is not None and count.exact and not count.approximate:
            out[part.cls.name] = count.total
    return out


def _torch_count(run: TorchRun, class_name: str) -> int:
    built = {id(m): m for m, _ in run.calls if type(m).__name__ == class_name}
    built |= {id(v): v for v in run.namespace.values() if type(v).__name__ == class_name}
    (module,) = built.values()
    return sum(p.numel() for p in module.parameters())


def test_the_fixtures_cover_the_issue():
    """At least 40 fixtures, half of them clean; hints and exact counts are checked on many."""
    clean = [c for c in CASES if not c.codes]
    assert len(CASES) >= 40 and 2 * len(clean) >= len(CASES)
    hinted = [c for c in clean if c.probe is None and _hints(_lint(c))]
    counted = [c for c in CASES if _counts(_lint(c))]
    assert len(hinted) >= 15 and len(counted) >= 25
