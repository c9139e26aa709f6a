#!/usr/bin/env python3
"""Write a deterministic corpus of PyTorch training code for the speed benchmarks.

    python benchmarks/make_corpus.py OUT_DIR [--files 200] [--seed 0]

The same seed and file count always give the same bytes. The corpus looks like
a research repository: training scripts with argparse CLIs, config dicts or
dataclasses, nn.Module classes built from nn.Sequential, optimizers with
schedulers, training and evaluation loops, helper modules, packages with
`__init__.py`, and some plain-Python files that never mention the framework.
About one training script in eight is given a mistake trainlint reports (a
learning rate far too high through a constant, an argparse default, a config
dict or a dataclass; Adam with coupled weight decay; a momentum out of range),
and some others use Adam with weight decay as real scripts do: with the
defaults, about one file in ten has a finding.

Only the standard library is used, so any Python can run it.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Callable
from pathlib import Path

DEFAULT_FILES = 200
DEFAULT_SEED = 0
DEFAULT_BUGGY = 0.13  # the share of training scripts given a mistake
MIN_LINES, MAX_LINES = 100, 400

WORDS = [
    "alpha",
    "atlas",
    "beacon",
    "cedar",
    "delta",
    "ember",
    "falcon",
    "garnet",
    "harbor",
    "iris",
    "juniper",
    "kepler",
    "lumen",
    "meridian",
    "nimbus",
    "onyx",
    "pascal",
    "quartz",
    "raven",
    "sierra",
    "tundra",
    "umbra",
    "vega",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
    "basalt",
    "cobalt",
    "dune",
]
TASKS = ["cifar", "mnist", "imagenet", "speech", "text", "tabular", "segmentation", "detection", "lm", "audio"]
PACKAGES = ["models", "utils", "data", "scripts", "experiments", "engine", "tools", "layers", "configs"]

# Plain-Python files must not contain this word anywhere: build it so this file can say it too.
FRAMEWORK = "tor" + "ch"


def indent(lines: list[str], level: int = 1) -> list[str]:
    pad = "    " * level
    return [pad + line if line else "" for line in lines]


def camel(*parts: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in parts)


class File:
    """One module being written: its imports and a list of blocks of lines."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.imports: list[str] = []
        self.blocks: list[list[str]] = []
        self.names: set[str] = set()

    def need(self, line: str) -> None:
        if line not in self.imports:
            self.imports.append(line)

    def add(self, lines: list[str]) -> None:
        self.blocks.append(lines)

    def fresh(self, base: str) -> str:
        name, n = base, 2
        while name in self.names:
            name, n = f"{base}{n}", n + 1
        self.names.add(name)
        return name

    @property
    def lines(self) -> int:
        return len(self.imports) + sum(len(b) + 2 for b in self.blocks)

    def render(self, docstring: str, tail: list[str] | None = None) -> str:
        def third_party(line: str) -> bool:
            return line.split()[1].split(".")[0] in (FRAMEWORK, "numpy")

        def order(line: str) -> tuple[str, bool]:
            return (line.split()[1], line.startswith("from"))

        out = [f'"""{docstring}"""', ""]
        stdlib = sorted((i for i in self.imports if not third_party(i)), key=order)
        third = sorted((i for i in self.imports if third_party(i)), key=order)
        out += stdlib + ([""] if stdlib and third else []) + third
        for block in self.blocks:
            out += ["", ""] + block
        if tail:
            out += ["", ""] + tail
        return "\n".join(out) + "\n"


# -- hyperparameters ---------------------------------------------------------------------------

OPTIMIZERS = {
    # name: (usual learning rates, far too high ones)
    "SGD": ([0.1, 0.05, 0.01, 0.2], [10, 5.0, 20]),
    "Adam": ([1e-3, 3e-4, 5e-4, 1e-4], [0.1, 0.05, 1.0]),
    "AdamW": ([1e-3, 3e-4, 6e-4, 2e-4], [0.1, 0.5]),
    "RMSprop": ([1e-3, 5e-4, 0.01], [1.0, 2.0]),
    "Adagrad": ([0.01, 0.05], [5.0]),
}


class Hyper:
    """The optimizer a training script uses and where its settings come from."""

    def __init__(self, rng: random.Random, bad: str | None) -> None:
        self.name = rng.choice(["SGD", "SGD", "Adam", "AdamW", "AdamW", "RMSprop", "Adagrad"])
        usual, high = OPTIMIZERS[self.name]
        self.lr = rng.choice(usual)
        self.weight_decay = rng.choice([0.0, 1e-4, 5e-4, 0.01, 0.05])
        self.momentum = rng.choice([0.9, 0.9, 0.95, 0.0])
        self.batch_size = rng.choice([16, 32, 64, 128, 256])
        self.epochs = rng.choice([10, 20, 30, 90, 100, 200])
        self.bad = bad
        if bad == "lr":
            self.lr = rng.choice(high)
        elif bad == "adam_wd":
            self.name, self.lr, self.weight_decay = "Adam", rng.choice(OPTIMIZERS["Adam"][0]), rng.choice([0.01, 0.05, 0.1])
        elif bad == "momentum":
            self.name, self.momentum = "SGD", rng.choice([1.5, 1.0, -0.9])
            self.lr = rng.choice(OPTIMIZERS["SGD"][0])


def num(value: float) -> str:
    text = repr(value)
    if "e" not in text and isinstance(value, float) and 0 < abs(value) < 1e-3:
        text = f"{value:.0e}".replace("e-0", "e-")
    return text


# -- configuration styles ----------------------------------------------------------------------


class Config:
    """How a script names its settings: `ref("lr")` is the expression that reads one."""

    def __init__(self, style: str, hyper: Hyper, rng: random.Random) -> None:
        self.style = style
        self.hyper = hyper
        self.rng = rng
        self.var = {"argparse": "args", "dict": "config", "dataclass": "cfg", "constants": ""}[style]
        self.nested = style == "dict" and rng.random() < 0.4
        self.dry_run = False

    def ref(self, key: str) -> str:
        if self.style == "argparse":
            return f"args.{key}"
        if self.style == "dataclass":
            return f"cfg.{key}"
        if self.style == "constants":
            return key.upper()
        if self.nested and key in ("lr", "weight_decay", "momentum"):
            return f'config["optim"]["{key}"]'
        return f'config["{key}"]'

    def values(self) -> dict[str, object]:
        h = self.hyper
        return {
            "lr": h.lr,
            "weight_decay": h.weight_decay,
            "momentum": h.momentum,
            "batch_size": h.batch_size,
            "epochs": h.epochs,
            "seed": self.rng.choice([0, 1, 42, 1234]),
            "log_interval": self.rng.choice([10, 50, 100]),
            "num_workers": self.rng.choice([0, 2, 4, 8]),
            "grad_clip": self.rng.choice([0.0, 1.0, 5.0]),
            "out_dir": self.rng.choice(["runs", "checkpoints", "out", "results"]),
        }

    def block(self, f: File) -> list[str]:
        values = self.values()
        if self.style == "argparse":
            f.need("import argparse")
            lines = [
                "def parse_args(argv=None):",
                f'    parser = argparse.ArgumentParser(description="{self.rng.choice(TASKS)} training")',
            ]
            helps = {
                "lr": "learning rate",
                "weight_decay": "weight decay",
                "momentum": "SGD momentum",
                "batch_size": "input batch size for training",
                "epochs": "number of epochs to train",
                "seed": "random seed",
                "log_interval": "how many batches to wait before logging",
                "num_workers": "data loading workers",
                "grad_clip": "max gradient norm (0 disables)",
                "out_dir": "where to write checkpoints",
            }
            for key, value in values.items():
                flag = "--" + key.replace("_", "-")
                kind = type(value).__name__
                default = f'"{value}"' if isinstance(value, str) else num(value)
                if kind == "str":
                    lines.append(f'    parser.add_argument("{flag}", default={default}, help="{helps[key]}")')
                else:
                    lines.append(
                        f'    parser.add_argument("{flag}", type={kind}, default={default}, metavar="N", help="{helps[key]}")'
                    )
            lines.append(
                '    parser.add_argument("--no-cuda", action="store_true", default=False, help="disables CUDA training")'
            )
            if self.rng.random() < 0.5:
                self.dry_run = True
                lines.append('    parser.add_argument("--dry-run", action="store_true", help="quickly check a single pass")')
            lines.append("    return parser.parse_args(argv)")
            return lines
        if self.style == "dataclass":
            f.need("from dataclasses import dataclass, field")
            lines = ["@dataclass", "class TrainConfig:"]
            for key, value in values.items():
                kind = type(value).__name__
                default = f'"{value}"' if isinstance(value, str) else num(value)
                lines.append(f"    {key}: {kind} = {default}")
            lines.append("    milestones: list = field(default_factory=lambda: [30, 60, 80])")
            lines += ["", "    def describe(self) -> str:", '        return ", ".join(f"{k}={v}" for k, v in vars(self).items())']
            return lines
        if self.style == "constants":
            return [f"{key.upper()} = {repr(value) if isinstance(value, str) else num(value)}" for key, value in values.items()]
        # a dict, maybe with a nested optimizer section
        lines = ["config = {"]
        optim_keys = ("lr", "weight_decay", "momentum")
        for key, value in values.items():
            if self.nested and key in optim_keys:
                continue
            lines.append(f'    "{key}": {repr(value) if isinstance(value, str) else num(value)},')
        if self.nested:
            lines.append('    "optim": {')
            for key in optim_keys:
                lines.append(f'        "{key}": {num(values[key])},')
            lines.append("    },")
        lines.append("}")
        return lines

    def setup(self) -> list[str]:
        if self.style == "argparse":
            return ["args = parse_args()"]
        if self.style == "dataclass":
            return ["cfg = TrainConfig()"]
        return []


# -- nn.Module classes ---------------------------------------------------------------------------


def model_mlp(f: File, name: str) -> list[str]:
    r = f.rng
    dims = [r.choice([784, 512, 256, 128, 64, 32])]
    for _ in range(r.randint(2, 4)):
        dims.append(r.choice([1024, 512, 256, 128, 64]))
    act = r.choice(["nn.ReLU()", "nn.GELU()", "nn.SiLU()", "nn.Tanh()"])
    p = r.choice([0.1, 0.2, 0.5])
    layers = []
    for a, b in itertools.pairwise(dims):
        layers += [f"nn.Linear({a}, {b}),", f"{act},", f"nn.Dropout({p}),"]
    out = r.choice([10, 100, 1, 2])
    lines = [
        f"class {name}(nn.Module):",
        f'    """A {len(dims)}-layer perceptron."""',
        "",
        f"    def __init__(self, num_classes={out}):",
        "        super().__init__()",
        "        self.flatten = nn.Flatten()",
        "        self.layers = nn.Sequential(",
        *indent(layers, 3),
        "        )",
        f"        self.head = nn.Linear({dims[-1]}, num_classes)",
        "",
        "    def forward(self, x):",
        "        x = self.flatten(x)",
        "        return self.head(self.layers(x))",
    ]
    return lines


def model_conv(f: File, name: str) -> list[str]:
    r = f.rng
    f.need("import torch.nn.functional as F")
    chans = [r.choice([1, 3])] + sorted(r.sample([16, 32, 64, 128, 256], r.randint(2, 4)))
    body = []
    for a, b in itertools.pairwise(chans):
        body += [f"nn.Conv2d({a}, {b}, kernel_size=3, padding=1, bias=False),", f"nn.BatchNorm2d({b}),", "nn.ReLU(inplace=True),"]
        if r.random() < 0.6:
            body.append("nn.MaxPool2d(2),")
    classes = r.choice([10, 100, 1000])
    return [
        f"class {name}(nn.Module):",
        f"    def __init__(self, num_classes={classes}, dropout={r.choice([0.0, 0.25, 0.5])}):",
        "        super().__init__()",
        "        self.features = nn.Sequential(",
        *indent(body, 3),
        "        )",
        "        self.pool = nn.AdaptiveAvgPool2d((1, 1))",
        "        self.dropout = nn.Dropout(dropout)",
        f"        self.fc = nn.Linear({chans[-1]}, num_classes)",
        "",
        "    def forward(self, x):",
        "        x = self.features(x)",
        "        x = torch.flatten(self.pool(x), 1)",
        "        x = self.dropout(x)",
        "        return F.log_softmax(self.fc(x), dim=1)" if r.random() < 0.4 else "        return self.fc(x)",
    ]


def model_resnet(f: File, name: str) -> list[str]:
    r = f.rng
    block = f.fresh("BasicBlock")
    widths = r.choice([[64, 128, 256, 512], [32, 64, 128], [16, 32, 64]])
    depth = r.choice([1, 2, 3])
    lines = [
        f"class {block}(nn.Module):",
        "    expansion = 1",
        "",
        "    def __init__(self, in_planes, planes, stride=1):",
        "        super().__init__()",
        "        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)",
        "        self.bn1 = nn.BatchNorm2d(planes)",
        "        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)",
        "        self.bn2 = nn.BatchNorm2d(planes)",
        "        self.shortcut = nn.Sequential()",
        "        if stride != 1 or in_planes != planes:",
        "            self.shortcut = nn.Sequential(",
        "                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),",
        "                nn.BatchNorm2d(planes),",
        "            )",
        "",
        "    def forward(self, x):",
        "        out = torch.relu(self.bn1(self.conv1(x)))",
        "        out = self.bn2(self.conv2(out))",
        "        return torch.relu(out + self.shortcut(x))",
        "",
        "",
        f"class {name}(nn.Module):",
        f"    def __init__(self, num_blocks=({', '.join(str(depth) for _ in widths)}), num_classes={r.choice([10, 100])}):",
        "        super().__init__()",
        f"        self.in_planes = {widths[0]}",
        f"        self.stem = nn.Sequential(nn.Conv2d(3, {widths[0]}, 3, padding=1, bias=False), nn.BatchNorm2d({widths[0]}), nn.ReLU())",
    ]
    for i, w in enumerate(widths):
        lines.append(f"        self.layer{i + 1} = self._make_layer({w}, num_blocks[{i}], stride={1 if i == 0 else 2})")
    lines += [
        f"        self.linear = nn.Linear({widths[-1]}, num_classes)",
        "",
        "    def _make_layer(self, planes, count, stride):",
        "        layers = []",
        "        for s in [stride] + [1] * (count - 1):",
        f"            layers.append({block}(self.in_planes, planes, s))",
        "            self.in_planes = planes",
        "        return nn.Sequential(*layers)",
        "",
        "    def forward(self, x):",
        "        out = self.stem(x)",
    ]
    for i in range(len(widths)):
        lines.append(f"        out = self.layer{i + 1}(out)")
    lines += [
        "        out = nn.functional.adaptive_avg_pool2d(out, 1).flatten(1)",
        "        return self.linear(out)",
    ]
    return lines


def model_transformer(f: File, name: str) -> list[str]:
    r = f.rng
    f.need("import math")
    attn = f.fresh("SelfAttention")
    block = f.fresh("Block")
    d = r.choice([128, 256, 384, 512])
    heads = r.choice([4, 8])
    return [
        f"class {attn}(nn.Module):",
        "    def __init__(self, dim, heads, dropout=0.1):",
        "        super().__init__()",
        "        assert dim % heads == 0",
        "        self.heads = heads",
        "        self.qkv = nn.Linear(dim, 3 * dim)",
        "        self.proj = nn.Linear(dim, dim)",
        "        self.drop = nn.Dropout(dropout)",
        "",
        "    def forward(self, x, mask=None):",
        "        b, t, c = x.shape",
        "        q, k, v = self.qkv(x).split(c, dim=2)",
        "        q = q.view(b, t, self.heads, c // self.heads).transpose(1, 2)",
        "        k = k.view(b, t, self.heads, c // self.heads).transpose(1, 2)",
        "        v = v.view(b, t, self.heads, c // self.heads).transpose(1, 2)",
        "        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))",
        "        if mask is not None:",
        "            att = att.masked_fill(mask[:, :, :t, :t] == 0, float('-inf'))",
        "        att = self.drop(torch.softmax(att, dim=-1))",
        "        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)",
        "        return self.proj(y)",
        "",
        "",
        f"class {block}(nn.Module):",
        "    def __init__(self, dim, heads, mlp_ratio=4):",
        "        super().__init__()",
        "        self.ln1 = nn.LayerNorm(dim)",
        f"        self.attn = {attn}(dim, heads)",
        "        self.ln2 = nn.LayerNorm(dim)",
        "        self.mlp = nn.Sequential(",
        "            nn.Linear(dim, mlp_ratio * dim),",
        "            nn.GELU(),",
        "            nn.Linear(mlp_ratio * dim, dim),",
        f"            nn.Dropout({r.choice([0.0, 0.1])}),",
        "        )",
        "",
        "    def forward(self, x):",
        "        x = x + self.attn(self.ln1(x))",
        "        return x + self.mlp(self.ln2(x))",
        "",
        "",
        f"class {name}(nn.Module):",
        f"    def __init__(self, vocab_size={r.choice([256, 5000, 32000, 50304])}, block_size={r.choice([64, 128, 256, 1024])}, dim={d}, depth={r.choice([2, 4, 6, 12])}, heads={heads}):",
        "        super().__init__()",
        "        self.block_size = block_size",
        "        self.tok = nn.Embedding(vocab_size, dim)",
        "        self.pos = nn.Embedding(block_size, dim)",
        f"        self.blocks = nn.Sequential(*[{block}(dim, heads) for _ in range(depth)])",
        "        self.ln_f = nn.LayerNorm(dim)",
        "        self.head = nn.Linear(dim, vocab_size, bias=False)",
        "        self.apply(self._init_weights)",
        "",
        "    def _init_weights(self, module):",
        "        if isinstance(module, nn.Linear):",
        "            nn.init.normal_(module.weight, mean=0.0, std=0.02)",
        "            if module.bias is not None:",
        "                nn.init.zeros_(module.bias)",
        "        elif isinstance(module, nn.Embedding):",
        "            nn.init.normal_(module.weight, mean=0.0, std=0.02)",
        "",
        "    def forward(self, idx):",
        "        t = idx.size(1)",
        "        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)",
        "        x = self.tok(idx) + self.pos(pos)",
        "        x = self.blocks(x)",
        "        return self.head(self.ln_f(x))",
    ]


def model_rnn(f: File, name: str) -> list[str]:
    r = f.rng
    cell = r.choice(["LSTM", "GRU"])
    return [
        f"class {name}(nn.Module):",
        f'    """Embedding, a {cell} and a linear decoder."""',
        "",
        f"    def __init__(self, ntoken={r.choice([10000, 33278, 5000])}, ninp={r.choice([200, 256, 650])}, nhid={r.choice([200, 256, 650])}, nlayers={r.choice([1, 2, 3])}, dropout={r.choice([0.2, 0.5])}):",
        "        super().__init__()",
        "        self.drop = nn.Dropout(dropout)",
        "        self.encoder = nn.Embedding(ntoken, ninp)",
        f"        self.rnn = nn.{cell}(ninp, nhid, nlayers, dropout=dropout, batch_first=True)",
        "        self.decoder = nn.Linear(nhid, ntoken)",
        "        self.nhid = nhid",
        "        self.nlayers = nlayers",
        "        self.init_weights()",
        "",
        "    def init_weights(self, initrange=0.1):",
        "        nn.init.uniform_(self.encoder.weight, -initrange, initrange)",
        "        nn.init.zeros_(self.decoder.bias)",
        "        nn.init.uniform_(self.decoder.weight, -initrange, initrange)",
        "",
        "    def forward(self, tokens, hidden=None):",
        "        emb = self.drop(self.encoder(tokens))",
        "        output, hidden = self.rnn(emb, hidden)",
        "        output = self.drop(output)",
        "        return self.decoder(output), hidden",
    ]


def model_autoencoder(f: File, name: str) -> list[str]:
    r = f.rng
    inp = r.choice([784, 1024, 3072])
    hid = r.choice([400, 512, 256])
    z = r.choice([2, 16, 20, 32])
    return [
        f"class {name}(nn.Module):",
        f"    def __init__(self, input_dim={inp}, hidden={hid}, latent={z}):",
        "        super().__init__()",
        "        self.encoder = nn.Sequential(nn.Linear(input_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden // 2), nn.ReLU())",
        "        self.mu = nn.Linear(hidden // 2, latent)",
        "        self.logvar = nn.Linear(hidden // 2, latent)",
        "        self.decoder = nn.Sequential(",
        "            nn.Linear(latent, hidden // 2),",
        "            nn.ReLU(),",
        "            nn.Linear(hidden // 2, hidden),",
        "            nn.ReLU(),",
        "            nn.Linear(hidden, input_dim),",
        "            nn.Sigmoid(),",
        "        )",
        "",
        "    def reparameterize(self, mu, logvar):",
        "        std = torch.exp(0.5 * logvar)",
        "        return mu + torch.randn_like(std) * std",
        "",
        "    def forward(self, x):",
        "        h = self.encoder(x.view(x.size(0), -1))",
        "        mu, logvar = self.mu(h), self.logvar(h)",
        "        return self.decoder(self.reparameterize(mu, logvar)), mu, logvar",
    ]


MODELS: list[tuple[Callable[[File, str], list[str]], str, str]] = [
    # (builder, name suffix, input kind)
    (model_mlp, "MLP", "flat"),
    (model_conv, "ConvNet", "image"),
    (model_resnet, "ResNet", "image"),
    (model_transformer, "GPT", "tokens"),
    (model_rnn, "RNNModel", "tokens"),
    (model_autoencoder, "VAE", "flat"),
]


def add_model(f: File) -> tuple[str, str]:
    builder, suffix, kind = f.rng.choice(MODELS)
    name = f.fresh(camel(f.rng.choice(WORDS)) + suffix)
    f.need("import torch")
    f.need("import torch.nn as nn")
    f.add(builder(f, name))
    return name, kind


# -- data and helpers -----------------------------------------------------------------------------


def dataset_block(f: File, kind: str) -> tuple[str, list[str]]:
    r = f.rng
    name = f.fresh(camel(r.choice(TASKS)) + "Dataset")
    f.need("from torch.utils.data import DataLoader, Dataset")
    sample = {
        "flat": "torch.randn(784)",
        "image": "torch.randn(3, 32, 32)",
        "tokens": "torch.randint(0, 256, (self.block_size,))",
    }[kind]
    target = "torch.randint(0, 256, (self.block_size,))" if kind == "tokens" else "torch.randint(0, 10, ()).item()"
    return name, [
        f"class {name}(Dataset):",
        '    """Synthetic samples, so the script runs without downloads."""',
        "",
        f"    def __init__(self, size={r.choice([1000, 5000, 60000])}, block_size=64, transform=None):",
        "        self.size = size",
        "        self.block_size = block_size",
        "        self.transform = transform",
        "        self.generator = torch.Generator().manual_seed(0)",
        "",
        "    def __len__(self):",
        "        return self.size",
        "",
        "    def __getitem__(self, index):",
        f"        x = {sample}",
        f"        y = {target}",
        "        if self.transform is not None:",
        "            x = self.transform(x)",
        "        return x, y",
    ]


HELPERS: dict[str, Callable[[File], list[str]]] = {}


def helper(fn: Callable[[File], list[str]]) -> Callable[[File], list[str]]:
    HELPERS[fn.__name__.removeprefix("helper_")] = fn
    return fn


@helper
def helper_average_meter(f: File) -> list[str]:
    return [
        "class AverageMeter:",
        '    """Computes and stores the average and current value."""',
        "",
        '    def __init__(self, name, fmt=":f"):',
        "        self.name = name",
        "        self.fmt = fmt",
        "        self.reset()",
        "",
        "    def reset(self):",
        "        self.val = 0",
        "        self.avg = 0",
        "        self.sum = 0",
        "        self.count = 0",
        "",
        "    def update(self, val, n=1):",
        "        self.val = val",
        "        self.sum += val * n",
        "        self.count += n",
        "        self.avg = self.sum / self.count",
        "",
        "    def __str__(self):",
        '        fmtstr = "{name} {val" + self.fmt + "} ({avg" + self.fmt + "})"',
        "        return fmtstr.format(**self.__dict__)",
    ]


@helper
def helper_accuracy(f: File) -> list[str]:
    f.need("import torch")
    return [
        "def accuracy(output, target, topk=(1,)):",
        '    """The accuracy over the k top predictions for each k."""',
        "    with torch.no_grad():",
        "        maxk = max(topk)",
        "        batch_size = target.size(0)",
        "        _, pred = output.topk(maxk, 1, True, True)",
        "        pred = pred.t()",
        "        correct = pred.eq(target.view(1, -1).expand_as(pred))",
        "        res = []",
        "        for k in topk:",
        "            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)",
        "            res.append(correct_k.mul_(100.0 / batch_size))",
        "        return res",
    ]


@helper
def helper_seed(f: File) -> list[str]:
    f.need("import random")
    f.need("import torch")
    np = f.rng.random() < 0.5
    if np:
        f.need("import numpy as np")
    return [
        "def set_seed(seed):",
        "    random.seed(seed)",
        *(["    np.random.seed(seed)"] if np else []),
        "    torch.manual_seed(seed)",
        "    if torch.cuda.is_available():",
        "        torch.cuda.manual_seed_all(seed)",
    ]


@helper
def helper_checkpoint(f: File) -> list[str]:
    f.need("import os")
    f.need("import shutil")
    f.need("import torch")
    return [
        'def save_checkpoint(state, is_best, directory, filename="checkpoint.pth.tar"):',
        "    os.makedirs(directory, exist_ok=True)",
        "    path = os.path.join(directory, filename)",
        "    torch.save(state, path)",
        "    if is_best:",
        '        shutil.copyfile(path, os.path.join(directory, "model_best.pth.tar"))',
        "",
        "",
        'def load_checkpoint(path, model, optimizer=None, map_location="cpu"):',
        "    state = torch.load(path, map_location=map_location)",
        '    model.load_state_dict(state["state_dict"])',
        '    if optimizer is not None and "optimizer" in state:',
        '        optimizer.load_state_dict(state["optimizer"])',
        '    return state.get("epoch", 0), state.get("best_acc1", 0.0)',
    ]


@helper
def helper_count(f: File) -> list[str]:
    return [
        "def count_parameters(model, trainable_only=True):",
        "    params = model.parameters()",
        "    if trainable_only:",
        "        params = (p for p in params if p.requires_grad)",
        "    return sum(p.numel() for p in params)",
        "",
        "",
        "def human_count(n):",
        '    for unit in ["", "K", "M", "B"]:',
        "        if abs(n) < 1000:",
        '            return f"{n:.1f}{unit}"',
        "        n /= 1000.0",
        '    return f"{n:.1f}T"',
    ]


@helper
def helper_ema(f: File) -> list[str]:
    f.need("import copy")
    f.need("import torch")
    return [
        "class ModelEma:",
        '    """An exponential moving average of a model\'s weights."""',
        "",
        f"    def __init__(self, model, decay={f.rng.choice([0.999, 0.9998, 0.9999])}):",
        "        self.module = copy.deepcopy(model).eval()",
        "        self.decay = decay",
        "        for p in self.module.parameters():",
        "            p.requires_grad_(False)",
        "",
        "    @torch.no_grad()",
        "    def update(self, model):",
        "        for ema_v, model_v in zip(self.module.state_dict().values(), model.state_dict().values()):",
        "            if ema_v.dtype.is_floating_point:",
        "                ema_v.mul_(self.decay).add_(model_v.detach(), alpha=1.0 - self.decay)",
        "            else:",
        "                ema_v.copy_(model_v)",
    ]


@helper
def helper_warmup(f: File) -> list[str]:
    f.need("import math")
    return [
        "def cosine_with_warmup(step, warmup_steps, total_steps, min_ratio=0.1):",
        '    """A multiplier for LambdaLR: linear warm-up, then cosine decay."""',
        "    if step < warmup_steps:",
        "        return float(step + 1) / float(max(1, warmup_steps))",
        "    progress = (step - warmup_steps) / float(max(1, total_steps - warmup_steps))",
        "    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))",
    ]


@helper
def helper_device(f: File) -> list[str]:
    f.need("import torch")
    return [
        "def pick_device(prefer_cuda=True):",
        "    if prefer_cuda and torch.cuda.is_available():",
        '        return torch.device("cuda")',
        '    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():',
        '        return torch.device("mps")',
        '    return torch.device("cpu")',
    ]


@helper
def helper_logging(f: File) -> list[str]:
    f.need("import logging")
    f.need("import sys")
    return [
        "def setup_logging(level=logging.INFO, filename=None):",
        '    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"',
        "    handlers = [logging.StreamHandler(sys.stdout)]",
        "    if filename:",
        "        handlers.append(logging.FileHandler(filename))",
        "    logging.basicConfig(level=level, format=fmt, handlers=handlers)",
        "    return logging.getLogger(__name__)",
    ]


@helper
def helper_param_groups(f: File) -> list[str]:
    return [
        "def param_groups_weight_decay(model, weight_decay=1e-5, no_weight_decay_list=()):",
        '    """No weight decay for biases and normalization weights."""',
        "    decay, no_decay = [], []",
        "    for name, param in model.named_parameters():",
        "        if not param.requires_grad:",
        "            continue",
        '        if param.ndim <= 1 or name.endswith(".bias") or name in no_weight_decay_list:',
        "            no_decay.append(param)",
        "        else:",
        "            decay.append(param)",
        "    return [",
        '        {"params": no_decay, "weight_decay": 0.0},',
        '        {"params": decay, "weight_decay": weight_decay},',
        "    ]",
    ]


@helper
def helper_timer(f: File) -> list[str]:
    f.need("import time")
    return [
        "class Timer:",
        "    def __init__(self):",
        "        self.start = time.perf_counter()",
        "        self.laps = []",
        "",
        "    def lap(self):",
        "        now = time.perf_counter()",
        "        self.laps.append(now - self.start)",
        "        self.start = now",
        "        return self.laps[-1]",
        "",
        "    @property",
        "    def mean(self):",
        "        return sum(self.laps) / len(self.laps) if self.laps else 0.0",
    ]


# -- optimizers, schedulers, loops ---------------------------------------------------------------------


def optimizer_block(f: File, h: Hyper, c: Config, groups: bool) -> list[str]:
    lr, wd, mom = c.ref("lr"), c.ref("weight_decay"), c.ref("momentum")
    style = f.rng.choice(["optim", "torch.optim"])
    if style == "optim":
        f.need("import torch.optim as optim")
        prefix = "optim"
    else:
        f.need("import torch")
        prefix = "torch.optim"
    params = "param_groups_weight_decay(model, " + wd + ")" if groups else "model.parameters()"
    extra = ""
    if h.name == "SGD":
        extra = f", momentum={mom}" + (", nesterov=True" if f.rng.random() < 0.3 and h.momentum > 0 else "")
        if not groups:
            extra += f", weight_decay={wd}"
    elif h.name in ("Adam", "AdamW"):
        extra = f", betas=({f.rng.choice([0.9, 0.8])}, {f.rng.choice([0.999, 0.95, 0.98])})" if f.rng.random() < 0.5 else ""
        if not groups:
            extra += f", weight_decay={wd}"
    elif h.name == "RMSprop":
        extra = f", alpha=0.99, eps=1e-08, momentum={mom}"
    return [f"optimizer = {prefix}.{h.name}({params}, lr={lr}{extra})"]


def scheduler_block(f: File, c: Config) -> tuple[list[str], str]:
    """Lines that make a scheduler, and when it steps: 'epoch', 'batch', 'metric' or ''."""
    kind = f.rng.choice(["step", "multistep", "cosine", "onecycle", "lambda", "plateau", "none"])
    f.need("from torch.optim import lr_scheduler")
    epochs = c.ref("epochs")
    if kind == "step":
        return [
            f"scheduler = lr_scheduler.StepLR(optimizer, step_size={f.rng.choice([1, 10, 30])}, gamma={f.rng.choice([0.1, 0.5, 0.7])})"
        ], "epoch"
    if kind == "multistep":
        return ["scheduler = lr_scheduler.MultiStepLR(optimizer, milestones=[30, 60, 80], gamma=0.1)"], "epoch"
    if kind == "cosine":
        return [f"scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max={epochs})"], "epoch"
    if kind == "onecycle":
        return [
            f"scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr={c.ref('lr')}, total_steps={epochs} * len(train_loader))"
        ], "batch"
    if kind == "lambda":
        if "warmup" not in f.names:
            f.names.add("warmup")
            f.add(helper_warmup(f))
        return [
            f"total_steps = {epochs} * len(train_loader)",
            "scheduler = lr_scheduler.LambdaLR(optimizer, lambda s: cosine_with_warmup(s, total_steps // 20, total_steps))",
        ], "batch"
    if kind == "plateau":
        return ['scheduler = lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=5)'], "metric"
    return [], ""


def train_fn(f: File, kind: str, step_when: str, c: Config) -> list[str]:
    r = f.rng
    amp = r.random() < 0.3
    accum = r.random() < 0.25
    clip = r.random() < 0.5
    f.need("import torch")
    f.need("import torch.nn.functional as F")
    loss = {
        "flat": "F.cross_entropy(output, target)",
        "image": "criterion(output, target)",
        "tokens": "F.cross_entropy(output.view(-1, output.size(-1)), target.view(-1), ignore_index=-1)",
    }[kind]
    args = ["model", "train_loader", "optimizer", "epoch", "device"]
    if step_when == "batch":
        args.append("scheduler")
    if kind == "image":
        args.append("criterion")
    if amp:
        args.append("scaler")
    lines = [f"def train_one_epoch({', '.join(args)}, log_interval=10, grad_clip=1.0):", "    model.train()"]
    if accum:
        lines.append(f"    accum_steps = {r.choice([2, 4, 8])}")
    lines += [
        "    running = 0.0",
        "    for batch_idx, (data, target) in enumerate(train_loader):",
        "        data, target = data.to(device, non_blocking=True), target.to(device, non_blocking=True)",
    ]
    if not accum:
        lines.append("        optimizer.zero_grad(set_to_none=True)")
    if amp:
        lines += [
            "        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):",
            "            output = model(data)",
            f"            loss = {loss}",
        ]
    else:
        lines += ["        output = model(data)", f"        loss = {loss}"]
    if accum:
        lines.append("        loss = loss / accum_steps")
    lines.append("        scaler.scale(loss).backward()" if amp else "        loss.backward()")
    step_lines = []
    if clip:
        if amp:
            step_lines.append("scaler.unscale_(optimizer)")
        step_lines.append("torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)")
    step_lines += ["scaler.step(optimizer)", "scaler.update()"] if amp else ["optimizer.step()"]
    if step_when == "batch":
        step_lines.append("scheduler.step()")
    if accum:
        lines.append("        if (batch_idx + 1) % accum_steps == 0:")
        lines += indent(step_lines + ["optimizer.zero_grad(set_to_none=True)"], 3)
    else:
        lines += indent(step_lines, 2)
    lines += [
        "        running += loss.item()",
        "        if batch_idx % log_interval == 0:",
        '            print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}]\\tLoss: {loss.item():.6f}")',
        "    return running / max(1, len(train_loader))",
    ]
    return lines


def eval_fn(f: File, kind: str) -> list[str]:
    ctx = f.rng.choice(["torch.no_grad()", "torch.inference_mode()"])
    if kind == "tokens":
        return [
            "def evaluate(model, loader, device):",
            "    model.eval()",
            "    total, count = 0.0, 0",
            f"    with {ctx}:",
            "        for data, target in loader:",
            "            data, target = data.to(device), target.to(device)",
            "            output = model(data)",
            '            total += F.cross_entropy(output.view(-1, output.size(-1)), target.view(-1), reduction="sum").item()',
            "            count += target.numel()",
            "    loss = total / max(1, count)",
            '    print(f"eval loss {loss:.4f} ppl {math.exp(min(loss, 20)):.2f}")',
            "    return loss",
        ]
    f.need("import torch.nn.functional as F")
    return [
        "def evaluate(model, loader, device):",
        "    model.eval()",
        "    test_loss = 0.0",
        "    correct = 0",
        f"    with {ctx}:",
        "        for data, target in loader:",
        "            data, target = data.to(device), target.to(device)",
        "            output = model(data)",
        '            test_loss += F.cross_entropy(output, target, reduction="sum").item()',
        "            pred = output.argmax(dim=1, keepdim=True)",
        "            correct += pred.eq(target.view_as(pred)).sum().item()",
        "    test_loss /= len(loader.dataset)",
        "    acc = 100.0 * correct / len(loader.dataset)",
        '    print(f"\\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(loader.dataset)} ({acc:.0f}%)\\n")',
        "    return test_loss",
    ]


def main_fn(f: File, model: str, dataset: str, kind: str, h: Hyper, c: Config, groups: bool) -> list[str]:
    r = f.rng
    if kind == "tokens":
        f.need("import math")
    sched, step_when = scheduler_block(f, c)
    train = train_fn(f, kind, step_when, c)
    f.add(train)
    f.add(eval_fn(f, kind))
    amp = "scaler" in train[0]
    lines = ["def main():"]
    body = c.setup()
    body += [
        f"torch.manual_seed({c.ref('seed')})",
        'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")',
        f"train_set = {dataset}()",
        f"test_set = {dataset}(size=1000)",
        f"train_loader = DataLoader(train_set, batch_size={c.ref('batch_size')}, shuffle=True, num_workers={c.ref('num_workers')}, pin_memory=True)",
        f"test_loader = DataLoader(test_set, batch_size={c.ref('batch_size')} * 2, shuffle=False)",
        f"model = {model}().to(device)",
    ]
    if r.random() < 0.3:
        body.append("model = torch.compile(model)")
    body += optimizer_block(f, h, c, groups)
    body += sched
    if "criterion" in train[0]:
        body.append(f"criterion = nn.CrossEntropyLoss(label_smoothing={r.choice([0.0, 0.1])}).to(device)")
    if amp:
        body.append('scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda")')
    body.append('best = float("inf")')
    call_args = ["model", "train_loader", "optimizer", "epoch", "device"]
    if step_when == "batch":
        call_args.append("scheduler")
    if "criterion" in train[0]:
        call_args.append("criterion")
    if amp:
        call_args.append("scaler")
    loop = [
        f"for epoch in range(1, {c.ref('epochs')} + 1):",
        f"    train_loss = train_one_epoch({', '.join(call_args)}, log_interval={c.ref('log_interval')}, grad_clip={c.ref('grad_clip')})",
        "    val_loss = evaluate(model, test_loader, device)",
    ]
    if step_when == "epoch":
        loop.append("    scheduler.step()")
    elif step_when == "metric":
        loop.append("    scheduler.step(val_loss)")
    if "checkpoint" in f.names:
        loop += [
            "    is_best = val_loss < best",
            "    best = min(val_loss, best)",
            f'    save_checkpoint({{"epoch": epoch, "state_dict": model.state_dict(), "optimizer": optimizer.state_dict()}}, is_best, {c.ref("out_dir")})',
        ]
    else:
        loop += [
            "    if val_loss < best:",
            "        best = val_loss",
            f'        torch.save(model.state_dict(), "{r.choice(WORDS)}_best.pt")',
        ]
    if c.dry_run:
        loop += ["    if args.dry_run:", "        break"]
    body += loop
    body.append('print(f"best validation loss {best:.4f}")')
    return lines + indent(body)


# -- whole files --------------------------------------------------------------------------------------


def training_script(rng: random.Random, bad: str | None) -> str:
    f = File(rng)
    h = Hyper(rng, bad)
    style = rng.choice(["argparse", "argparse", "dict", "dataclass", "constants"])
    c = Config(style, h, rng)
    f.need("import torch")
    f.need("import torch.nn as nn")
    config = c.block(f)
    if style in ("dict", "constants"):
        f.add(config)
    model, kind = add_model(f)
    dataset, dataset_lines = dataset_block(f, kind)
    f.add(dataset_lines)
    groups = h.name in ("AdamW", "SGD") and rng.random() < 0.3 and bad not in ("adam_wd",)
    if groups:
        f.names.add("param_groups")
        f.add(helper_param_groups(f))
    for name in rng.sample(
        ["average_meter", "seed", "checkpoint", "count", "device", "logging", "timer", "ema"], rng.randint(0, 3)
    ):
        f.names.add(name)
        f.add(HELPERS[name](f))
    if style in ("argparse", "dataclass"):
        f.add(config)
    f.add(main_fn(f, model, dataset, kind, h, c, groups))
    target = rng.randint(MIN_LINES, MAX_LINES)
    # Bigger scripts carry more of their own models and helpers, as real ones do.
    while f.lines < target - 60:
        if rng.random() < 0.6:
            add_model(f)
        else:
            left = [n for n in HELPERS if n not in f.names and n not in ("warmup",)]
            if not left:
                add_model(f)
                continue
            name = rng.choice(left)
            f.names.add(name)
            f.add(HELPERS[name](f))
    doc = f"Train a {model} on synthetic {rng.choice(TASKS)} data with {h.name}."
    return f.render(doc, ['if __name__ == "__main__":', "    main()"])


def models_module(rng: random.Random) -> str:
    f = File(rng)
    target = rng.randint(MIN_LINES, MAX_LINES)
    names = []
    while f.lines < target - 25:
        names.append(add_model(f)[0])
    factory = ["MODELS = {"]
    factory += [f'    "{n.lower()}": {n},' for n in names]
    factory += [
        "}",
        "",
        "",
        "def build_model(name, **kwargs):",
        "    try:",
        "        cls = MODELS[name.lower()]",
        "    except KeyError:",
        '        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}") from None',
        "    return cls(**kwargs)",
    ]
    f.add(factory)
    return f.render(f"Model definitions: {', '.join(names)}.")


def utils_module(rng: random.Random) -> str:
    f = File(rng)
    target = rng.randint(MIN_LINES, min(MAX_LINES, 260))
    names = list(HELPERS)
    rng.shuffle(names)
    for name in names:
        f.names.add(name)
        f.add(HELPERS[name](f))
        if f.lines >= target:
            break
    if f.lines < target:
        add_model(f)
    if rng.random() < 0.5:
        # a factory that builds an optimizer from a config mapping, as many training repos have
        f.need("import torch")
        opt = rng.choice(["SGD", "AdamW", "Adam"])
        f.add(
            [
                "def create_optimizer(model, cfg):",
                '    name = cfg.get("opt", "' + opt.lower() + '").lower()',
                '    lr = cfg.get("lr", ' + num(OPTIMIZERS[opt][0][0]) + ")",
                '    wd = cfg.get("weight_decay", 0.0)',
                '    if name == "sgd":',
                '        return torch.optim.SGD(model.parameters(), lr=lr, momentum=cfg.get("momentum", 0.9), weight_decay=wd)',
                '    if name == "adamw":',
                "        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)",
                '    if name == "adam":',
                "        return torch.optim.Adam(model.parameters(), lr=lr)",
                '    raise ValueError(f"unknown optimizer {name}")',
            ]
        )
    return f.render("Training utilities shared by the scripts.")


def plain_module(rng: random.Random) -> str:
    """Python without the framework: data preparation, reporting, config files."""
    f = File(rng)
    target = rng.randint(MIN_LINES, MAX_LINES)
    pieces = [_plain_csv, _plain_config, _plain_stats, _plain_report, _plain_paths, _plain_cli]
    rng.shuffle(pieces)
    i = 0
    while f.lines < target:
        f.add(pieces[i % len(pieces)](f, i // len(pieces)))
        i += 1
    f.add(
        [
            "def main(argv=None):",
            "    args = build_cli().parse_args(argv)" if "cli" in f.names else "    args = None",
            "    return 0 if args is None or args else 1",
        ]
    )
    text = f.render(
        f"{rng.choice(['Data preparation', 'Reporting', 'Experiment bookkeeping', 'Dataset statistics'])} helpers.",
        ['if __name__ == "__main__":', "    raise SystemExit(main())"],
    )
    assert FRAMEWORK not in text
    return text


def _plain_csv(f: File, n: int) -> list[str]:
    f.need("import csv")
    name = f.fresh("read_rows")
    return [
        f'def {name}(path, delimiter=",", skip_header=True):',
        "    rows = []",
        '    with open(path, newline="") as handle:',
        "        reader = csv.reader(handle, delimiter=delimiter)",
        "        if skip_header:",
        "            next(reader, None)",
        "        for row in reader:",
        '            if not row or row[0].startswith("#"):',
        "                continue",
        "            rows.append([cell.strip() for cell in row])",
        "    return rows",
        "",
        "",
        f"def {f.fresh('write_rows')}(path, rows, header=None):",
        '    with open(path, "w", newline="") as handle:',
        "        writer = csv.writer(handle)",
        "        if header:",
        "            writer.writerow(header)",
        "        writer.writerows(rows)",
    ]


def _plain_config(f: File, n: int) -> list[str]:
    f.need("import json")
    r = f.rng
    name = f.fresh("DEFAULTS").upper()
    lines = [f"{name} = {{"]
    for key in r.sample(
        ["lr", "batch_size", "epochs", "warmup", "dropout", "seed", "dataset", "image_size", "num_classes", "label_smoothing"], 6
    ):
        value = r.choice(['"' + r.choice(TASKS) + '"', str(r.randint(1, 512)), num(r.choice([0.1, 0.001, 3e-4, 0.5]))])
        lines.append(f'    "{key}": {value},')
    lines += [
        "}",
        "",
        "",
        f"def {f.fresh('load_config')}(path=None, overrides=None):",
        f"    config = dict({name})",
        "    if path:",
        "        with open(path) as handle:",
        "            config.update(json.load(handle))",
        "    for item in overrides or []:",
        '        key, _, value = item.partition("=")',
        "        try:",
        "            config[key] = json.loads(value)",
        "        except ValueError:",
        "            config[key] = value",
        "    return config",
    ]
    return lines


def _plain_stats(f: File, n: int) -> list[str]:
    f.need("import math")
    f.need("from collections import Counter")
    return [
        f"def {f.fresh('mean_std')}(values):",
        "    values = list(values)",
        "    if not values:",
        "        return 0.0, 0.0",
        "    mean = sum(values) / len(values)",
        "    var = sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1)",
        "    return mean, math.sqrt(var)",
        "",
        "",
        f"def {f.fresh('class_balance')}(labels):",
        "    counts = Counter(labels)",
        "    total = sum(counts.values())",
        "    return {label: count / total for label, count in sorted(counts.items())}",
        "",
        "",
        f"def {f.fresh('percentile')}(values, q):",
        "    ordered = sorted(values)",
        "    if not ordered:",
        '        raise ValueError("no values")',
        "    k = (len(ordered) - 1) * q / 100.0",
        "    lo, hi = math.floor(k), math.ceil(k)",
        "    if lo == hi:",
        "        return ordered[int(k)]",
        "    return ordered[lo] * (hi - k) + ordered[hi] * (k - lo)",
    ]


def _plain_report(f: File, n: int) -> list[str]:
    f.need("from dataclasses import dataclass, field")
    name = f.fresh("RunSummary")
    return [
        "@dataclass",
        f"class {name}:",
        "    name: str",
        "    metrics: dict = field(default_factory=dict)",
        "    tags: list = field(default_factory=list)",
        "",
        "    def best(self, key, lower_is_better=True):",
        "        values = self.metrics.get(key, [])",
        "        if not values:",
        "            return None",
        "        return min(values) if lower_is_better else max(values)",
        "",
        "    def to_markdown(self):",
        '        lines = [f"## {self.name}", ""]',
        "        for key, values in sorted(self.metrics.items()):",
        '            lines.append(f"- {key}: last {values[-1]:.4f}, best {self.best(key):.4f}")',
        "        if self.tags:",
        '            lines.append("")',
        '            lines.append("tags: " + ", ".join(self.tags))',
        '        return "\\n".join(lines)',
    ]


def _plain_paths(f: File, n: int) -> list[str]:
    f.need("import os")
    f.need("from pathlib import Path")
    return [
        f'def {f.fresh("find_files")}(root, suffixes=(".jpg", ".png", ".wav")):',
        "    found = []",
        "    for directory, _, files in os.walk(root):",
        "        for name in sorted(files):",
        "            if name.lower().endswith(suffixes):",
        "                found.append(Path(directory) / name)",
        "    return found",
        "",
        "",
        f"def {f.fresh('split_files')}(files, val_fraction=0.1, seed=0):",
        "    import random",
        "",
        "    files = sorted(files)",
        "    random.Random(seed).shuffle(files)",
        "    cut = int(len(files) * (1 - val_fraction))",
        "    return files[:cut], files[cut:]",
    ]


def _plain_cli(f: File, n: int) -> list[str]:
    f.need("import argparse")
    if "cli" in f.names:
        return _plain_stats(f, n)
    f.names.add("cli")
    return [
        "def build_cli():",
        '    parser = argparse.ArgumentParser(description="prepare a dataset split")',
        '    parser.add_argument("root", help="directory with the raw files")',
        '    parser.add_argument("--out", default="splits", help="output directory")',
        '    parser.add_argument("--val-fraction", type=float, default=0.1)',
        '    parser.add_argument("--seed", type=int, default=0)',
        '    parser.add_argument("--verbose", "-v", action="store_true")',
        "    return parser",
    ]


# -- the corpus ------------------------------------------------------------------------------------------


def plan(count: int, rng: random.Random, buggy: float = DEFAULT_BUGGY) -> list[tuple[str, str, str | None]]:
    """(relative path, kind, finding) for each file; kinds in the proportions of a research repository."""
    out: list[tuple[str, str, str | None]] = []
    used: set[str] = set()
    packages = set()
    for _i in range(count):
        roll = rng.random()
        if roll < 0.55:
            kind = "train"
        elif roll < 0.70:
            kind = "models"
        elif roll < 0.82:
            kind = "utils"
        else:
            kind = "plain"
        bad = None
        if kind == "train" and rng.random() < buggy:
            bad = rng.choice(["lr", "lr", "lr", "adam_wd", "momentum"])
        folder = {
            "train": rng.choice(["", "scripts", "experiments", f"experiments/{rng.choice(TASKS)}"]),
            "models": rng.choice(["models", "layers", f"models/{rng.choice(WORDS)}"]),
            "utils": rng.choice(["utils", "engine", "tools"]),
            "plain": rng.choice(["tools", "data", "configs", "scripts"]),
        }[kind]
        stem = {
            "train": f"train_{rng.choice(TASKS)}_{rng.choice(WORDS)}",
            "models": f"{rng.choice(WORDS)}_{rng.choice(['net', 'blocks', 'layers', 'arch'])}",
            "utils": rng.choice(["misc", "helpers", "metrics", "optim_factory", "checkpointing", "distributed"]),
            "plain": f"{rng.choice(['prepare', 'summarize', 'split', 'stats', 'report'])}_{rng.choice(TASKS)}",
        }[kind]
        name, n = stem, 2
        while f"{folder}/{name}" in used:
            name, n = f"{stem}_{n}", n + 1
        used.add(f"{folder}/{name}")
        path = f"{folder}/{name}.py" if folder else f"{name}.py"
        out.append((path, kind, bad))
        if folder and kind in ("models", "utils"):
            packages.add(folder)
    for folder in sorted(packages):
        out.append((f"{folder}/__init__.py", "init", None))
    return out


def generate(out_dir: Path, count: int = DEFAULT_FILES, seed: int = DEFAULT_SEED, buggy: float = DEFAULT_BUGGY) -> list[Path]:
    rng = random.Random(seed)
    written = []
    for index, (relative, kind, bad) in enumerate(plan(count, rng, buggy)):
        file_rng = random.Random(f"{seed}:{index}:{relative}")
        if kind == "train":
            text = training_script(file_rng, bad)
        elif kind == "models":
            text = models_module(file_rng)
        elif kind == "utils":
            text = utils_module(file_rng)
        elif kind == "plain":
            text = plain_module(file_rng)
        else:
            text = '"""Package marker."""\n'
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory to write into (created if missing)")
    parser.add_argument(
        "--files", type=int, default=DEFAULT_FILES, help=f"modules to write, besides package markers (default {DEFAULT_FILES})"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--buggy",
        type=float,
        default=DEFAULT_BUGGY,
        help=f"share of training scripts given a mistake (default {DEFAULT_BUGGY}; 1.0 for a corpus with many findings)",
    )
    args = parser.parse_args(argv)
    written = generate(args.out, args.files, args.seed, args.buggy)
    lines = sum(p.read_text(encoding="utf-8").count("\n") for p in written)
    print(f"wrote {len(written)} files, {lines} lines, to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
