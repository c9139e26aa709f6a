#!/usr/bin/env python3
"""Write a deterministic multi-package PyTorch project, for measuring how linting scales with the
number of files when scripts read values from the project's other modules and configuration files.

    python benchmarks/make_project.py OUT_DIR [--files 2000] [--seed 0]

The same seed and file count always give the same bytes. The project looks like a research
repository grown over time (make_corpus.py writes independent scripts; this writes one project
whose files import each other):

- `pyproject.toml` (marks the project root), a root `config.py` of constants, and `configs/`
  with YAML and JSON files that scripts read with `yaml.safe_load` / `json.load` on literal paths;
- several top-level packages (`pkg_<word>/`), each with `__init__.py` re-exports
  (`from .config import LR`), its own `config.py` (constants, arithmetic on them, a config class,
  values imported from the root `config.py`), `models/` and `utils/` subpackages (with
  subpackages of their own as they grow), modules that import each other in cycles, and
  `train/` scripts that take their optimizer, scheduler and loop settings from other modules
  through relative imports (`from ..config import LR`, `from ..models import Net`,
  `from ..utils.meters import AverageMeter`) and through `import pkg.config as C; C.LR`;
- a `src/` layout package (`src/core/`) imported by scripts in `scripts/` (`from core.hparams
  import LR`), and root scripts that read `from config import LR`;
- a few mistakes trainlint reports only by reading another file: a learning rate too high in a
  `config.py`, re-exported by a package's `__init__.py`, in a YAML or JSON file, in the `src/`
  package, a config class's attribute (`Hparams.warm_lr`); a momentum out of range, from a
  package's `config.py` through a relative import. One package in ten gets a scaled-up learning rate in
  its `config.py`, which one of its training scripts uses. Every other file is clean.

`--files` counts the `.py` files written (package markers included); configuration files come on
top. `generate()` returns the expected findings: (script, rule code, part of the message).

Only the standard library is used, so any Python can run it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_FILES = 2000
DEFAULT_SEED = 0
FILES_PER_PACKAGE = 100  # roughly: a package grows subpackages past ~15 files in a folder
SUBFOLDER_EVERY = 15

WORDS = [
    "alpha", "atlas", "beacon", "cedar", "delta", "ember", "falcon", "garnet", "harbor", "iris",
    "juniper", "kepler", "lumen", "meridian", "nimbus", "onyx", "pascal", "quartz", "raven", "sierra",
    "tundra", "umbra", "vega", "willow", "xenon", "yarrow", "zephyr", "basalt", "cobalt", "dune",
]  # fmt: skip
TASKS = ["cifar", "mnist", "imagenet", "speech", "text", "tabular", "segment", "detect", "lm", "audio"]


@dataclass(frozen=True)
class Expected:
    """A finding the project is built to have: in `path`, rule `code`, its message containing `text`."""

    path: str
    code: str
    text: str


@dataclass
class Project:
    rng: random.Random
    files: dict[str, str] = field(default_factory=dict)  # relative path -> text (.py and config files)
    expected: list[Expected] = field(default_factory=list)

    def write(self, path: str, text: str) -> None:
        assert path not in self.files, path
        self.files[path] = text

    @property
    def python_files(self) -> int:
        return sum(1 for p in self.files if p.endswith(".py"))


def camel(*parts: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in parts)


def num(value: float) -> str:
    return repr(value)


# -- the fixed part: root config, configuration files, root scripts, the src/ package -------------

ROOT_CONFIG = '''\
"""Defaults shared by every experiment."""

BASE_LR = 0.1
BATCH_SIZE = 256
EPOCHS = 90
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
NUM_WORKERS = 4
SEED = 0
LR = BASE_LR * BATCH_SIZE / 256
# fine-tuning scales the base rate with the batch size (too much: 12.8)
FINETUNE_LR = BASE_LR * BATCH_SIZE / 2
WARMUP_EPOCHS = 5
'''

BASE_YAML = """\
# the default recipe
optim:
  name: sgd
  lr: 0.1
  momentum: 0.9
  weight_decay: 0.0005
sched:
  step_size: 30
  gamma: 0.1
data:
  batch_size: 128
  workers: 4
epochs: 90
"""

FINETUNE_YAML = """\
# fine-tuning recipe
optim:
  name: sgd
  lr: 5.0
  momentum: 0.9
sched:
  step_size: 10
  gamma: 0.5
data:
  batch_size: 64
epochs: 20
"""


def sweep_json(lr: float) -> str:
    return json.dumps({"name": "sweep", "lr": lr, "batch_size": 64, "sched": {"step_size": 5, "gamma": 0.5}}, indent=2) + "\n"


def model_class(rng: random.Random, name: str, width: str = "256") -> list[str]:
    """A small network whose layers are used in forward (dropout applied, activations between
    linear layers), so it has no finding of its own."""
    kind = rng.choice(["mlp", "conv"])
    if kind == "mlp":
        act = rng.choice(["nn.ReLU()", "nn.GELU()", "nn.SiLU()"])
        p = rng.choice([0.1, 0.2, 0.3])
        return [
            f"class {name}(nn.Module):",
            '    """A small perceptron."""',
            "",
            f"    def __init__(self, in_features=784, hidden={width}, num_classes=10):",
            "        super().__init__()",
            "        self.body = nn.Sequential(",
            "            nn.Flatten(),",
            "            nn.Linear(in_features, hidden),",
            f"            {act},",
            f"            nn.Dropout({p}),",
            "            nn.Linear(hidden, hidden),",
            f"            {act},",
            "        )",
            "        self.head = nn.Linear(hidden, num_classes)",
            "",
            "    def forward(self, x):",
            "        return self.head(self.body(x))",
        ]
    c = rng.choice([16, 32, 64])
    return [
        f"class {name}(nn.Module):",
        '    """A small convolutional network."""',
        "",
        "    def __init__(self, num_classes=10):",
        "        super().__init__()",
        "        self.features = nn.Sequential(",
        f"            nn.Conv2d(3, {c}, 3, padding=1),",
        f"            nn.BatchNorm2d({c}),",
        "            nn.ReLU(inplace=True),",
        "            nn.MaxPool2d(2),",
        f"            nn.Conv2d({c}, {c * 2}, 3, padding=1),",
        f"            nn.BatchNorm2d({c * 2}),",
        "            nn.ReLU(inplace=True),",
        "            nn.AdaptiveAvgPool2d(1),",
        "        )",
        f"        self.head = nn.Linear({c * 2}, num_classes)",
        "",
        "    def forward(self, x):",
        "        return self.head(torch.flatten(self.features(x), 1))",
    ]


def loop_lines(step_per_epoch: bool = True) -> list[str]:
    """A training function and an evaluation function without mistakes."""
    return [
        "def train_one_epoch(model, loader, optimizer, criterion, device):",
        "    model.train()",
        "    total = 0.0",
        "    for inputs, targets in loader:",
        "        inputs, targets = inputs.to(device), targets.to(device)",
        "        optimizer.zero_grad()",
        "        loss = criterion(model(inputs), targets)",
        "        loss.backward()",
        "        optimizer.step()",
        "        total += loss.item()",
        "    return total / max(1, len(loader))",
        "",
        "",
        "def evaluate(model, loader, criterion, device):",
        "    model.eval()",
        "    total, correct = 0.0, 0",
        "    with torch.no_grad():",
        "        for inputs, targets in loader:",
        "            inputs, targets = inputs.to(device), targets.to(device)",
        "            outputs = model(inputs)",
        "            total += criterion(outputs, targets).item()",
        "            correct += (outputs.argmax(1) == targets).sum().item()",
        "    return total / max(1, len(loader)), correct / max(1, len(loader.dataset))",
    ]


SYNTHETIC = [
    "def synthetic_loader(batch_size, num_workers=0, shuffle=True):",
    "    data = TensorDataset(torch.randn(512, 3, 32, 32), torch.randint(0, 10, (512,)))",
    "    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers)",
]


def script(
    doc: str,
    imports: list[str],
    model_expr: str,
    optimizer: str,
    scheduler: str,
    batch: str,
    epochs: str,
    setup: list[str] | None = None,
    inline_model: list[str] | None = None,
) -> str:
    """A training script: imports, optional setup lines, synthetic data, a loop, main()."""
    head = [
        f'"""{doc}"""',
        "",
        "import torch",
        "import torch.nn as nn",
        "from torch.optim import lr_scheduler",
        "from torch.utils.data import DataLoader, TensorDataset",
        "",
        *imports,
    ]
    body = ["", "", *SYNTHETIC, "", "", *loop_lines()]
    if inline_model:
        body += ["", "", *inline_model]
    main = [
        "",
        "",
        "def main():",
        *("    " + line for line in (setup or [])),
        '    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")',
        f"    model = {model_expr}.to(device)",
        "    criterion = nn.CrossEntropyLoss()",
        f"    optimizer = {optimizer}",
        f"    scheduler = {scheduler}",
        f"    train_loader = synthetic_loader({batch})",
        f"    val_loader = synthetic_loader({batch}, shuffle=False)",
        f"    for epoch in range({epochs}):",
        "        loss = train_one_epoch(model, train_loader, optimizer, criterion, device)",
        "        val_loss, acc = evaluate(model, val_loader, criterion, device)",
        "        scheduler.step()",
        '        print(f"epoch {epoch}: train {loss:.4f} val {val_loss:.4f} acc {acc:.3f}")',
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
    ]
    return "\n".join(head + body + main) + "\n"


def fixed_part(p: Project) -> None:
    p.write("pyproject.toml", '[project]\nname = "generated-project"\nversion = "0.1.0"\n\n[tool.trainlint]\n')
    p.write("config.py", ROOT_CONFIG)
    p.write("configs/base.yaml", BASE_YAML)
    p.write("configs/finetune.yaml", FINETUNE_YAML)
    p.write("configs/sweep.json", sweep_json(3.0))
    p.write("configs/small.json", sweep_json(0.05))
    # root scripts: `from config import LR`
    p.write(
        "train.py",
        script(
            "Train the default model with the shared defaults.",
            ["from config import BATCH_SIZE, EPOCHS, LR, MOMENTUM, WEIGHT_DECAY", "from pkg_0.models import build_model"],
            'build_model("default")',
            "torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)",
            "lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)",
            "BATCH_SIZE",
            "EPOCHS",
        ),
    )
    p.write(
        "finetune.py",
        script(
            "Fine-tune with a rate scaled to the batch size.",
            ["import config as C", "from pkg_0.models import build_model"],
            'build_model("default")',
            "torch.optim.SGD(model.parameters(), lr=C.FINETUNE_LR, momentum=C.MOMENTUM)",
            "lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)",
            "C.BATCH_SIZE",
            "C.WARMUP_EPOCHS * 4",
        ),
    )
    p.expected.append(Expected("finetune.py", "TL101", "SGD learning rate 12.8 (FINETUNE_LR in config.py, line 12)"))
    # a value re-exported by a package's __init__.py (written with pkg_0)
    p.write(
        "train_adam.py",
        script(
            "Train with Adam, at the rate the package exports.",
            ["from pkg_0 import BATCH_SIZE, PRETRAIN_LR", "from pkg_0.models import build_model"],
            'build_model("default")',
            "torch.optim.Adam(model.parameters(), lr=PRETRAIN_LR)",
            "lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)",
            "BATCH_SIZE",
            "30",
        ),
    )
    p.expected.append(Expected("train_adam.py", "TL101", "Adam learning rate 0.3 (PRETRAIN_LR in pkg_0/config.py, line 8)"))
    # configuration files read on literal paths
    yaml_setup = ["with open(CONFIG) as handle:", "    cfg = yaml.safe_load(handle)"]
    for name, yaml_file, bad in (("train_yaml.py", "base.yaml", False), ("finetune_yaml.py", "finetune.yaml", True)):
        p.write(
            f"scripts/{name}",
            script(
                f"Train with the recipe in configs/{yaml_file}.",
                ["import yaml", "", "from pkg_0.models import build_model", "", f'CONFIG = "configs/{yaml_file}"'],
                'build_model("default")',
                'torch.optim.SGD(model.parameters(), lr=cfg["optim"]["lr"], momentum=cfg["optim"]["momentum"])',
                'lr_scheduler.StepLR(optimizer, step_size=cfg["sched"]["step_size"], gamma=cfg["sched"]["gamma"])',
                'cfg["data"]["batch_size"]',
                'cfg["epochs"]',
                setup=yaml_setup,
            ),
        )
        if bad:
            p.expected.append(
                Expected(f"scripts/{name}", "TL101", "SGD learning rate 5.0 (optim.lr in ../configs/finetune.yaml, line 4)")
            )
    for name, json_file, bad in (("sweep.py", "sweep.json", True), ("sweep_small.py", "small.json", False)):
        p.write(
            f"scripts/{name}",
            script(
                f"One point of a sweep, from configs/{json_file}.",
                ["import json", "", "from pkg_0.models import build_model"],
                'build_model("default")',
                'torch.optim.SGD(model.parameters(), lr=cfg["lr"])',
                'lr_scheduler.StepLR(optimizer, step_size=cfg["sched"]["step_size"], gamma=cfg["sched"]["gamma"])',
                'cfg["batch_size"]',
                "10",
                setup=[f'with open("configs/{json_file}") as handle:', "    cfg = json.load(handle)"],
            ),
        )
        if bad:
            p.expected.append(Expected(f"scripts/{name}", "TL101", "SGD learning rate 3.0 (lr in ../configs/sweep.json, line 3)"))
    # the src/ layout: src/core is importable as `core` from scripts/
    p.write("src/core/__init__.py", '"""Core library (src layout)."""\n\nfrom .hparams import HIDDEN, LR\n')
    p.write(
        "src/core/hparams.py",
        '"""Hyperparameters of the core library."""\n\nfrom config import BATCH_SIZE\n\nHIDDEN = 512\nLR = 4.0\nSAFE_LR = 0.05\n'
        "BATCH = BATCH_SIZE // 2\n",
    )
    p.write(
        "src/core/nets.py",
        '"""Networks of the core library."""\n\nimport torch\nimport torch.nn as nn\n\nfrom .hparams import HIDDEN\n\n\n'
        + "\n".join(model_class(p.rng, "CoreNet", "HIDDEN"))
        + "\n",
    )
    for name, lr_name, bad in (("train_core.py", "LR", True), ("train_core_safe.py", "SAFE_LR", False)):
        p.write(
            f"scripts/{name}",
            script(
                "Train the core library's network.",
                [f"from core.hparams import BATCH, {lr_name}", "from core.nets import CoreNet"],
                "CoreNet()",
                f"torch.optim.SGD(model.parameters(), lr={lr_name}, momentum=0.9)",
                "lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)",
                "BATCH",
                "90",
            ),
        )
        if bad:
            p.expected.append(
                Expected(f"scripts/{name}", "TL101", "SGD learning rate 4.0 (LR in ../src/core/hparams.py, line 6)")
            )


# -- packages ----------------------------------------------------------------------------------------


def package_config(index: int, rng: random.Random, scaled: bool) -> tuple[str, dict[str, int]]:
    """A package's config.py, and the line of each name in it."""
    lines = [
        f'"""Settings of package {index}."""',
        "",
        "from config import BATCH_SIZE, EPOCHS, SEED",
        "",
        f"HIDDEN = {rng.choice([128, 256, 512])}",
        f"LR = {num(rng.choice([0.1, 0.05, 0.01]))}",
        f"ADAM_LR = {num(rng.choice([1e-3, 3e-4, 5e-4]))}",
        f"PRETRAIN_LR = {num(0.3 if index == 0 else 3e-4)}",  # re-exported by __init__.py
        f"MOMENTUM = {num(rng.choice([0.9, 0.95]))}",
        f"HEAVY_MOMENTUM = {num(1.5 if index == 1 else 0.99)}",
        f"WEIGHT_DECAY = {num(rng.choice([1e-4, 5e-4]))}",
        f"STEP_SIZE = {rng.choice([10, 20, 30])}",
        "GAMMA = 0.1",
        "TOTAL_EPOCHS = EPOCHS // 3",
        "BATCH = BATCH_SIZE // 4",
        f"LOCAL_BATCH = {4096 if scaled else 64}",
        "SCALED_LR = LR * LOCAL_BATCH / 16",
        "",
        "",
        "class Hparams:",
        "    lr = 0.05",
        f"    warm_lr = {num(2.0 if index == 1 else 0.02)}",
        "    epochs = 30",
        "    seed = 0",
    ]
    where = {line.split(" = ")[0].strip(): n for n, line in enumerate(lines, 1) if " = " in line}
    return "\n".join(lines) + "\n", where


def cycle_pair(a: str, b: str) -> tuple[str, str]:
    """Two modules importing each other (an import cycle, resolved at call time)."""
    first = (
        f'"""Registry half {a} (imports {b}, which imports it back)."""\n\n'
        f"from . import {b}\n"
        f"from ..config import HIDDEN\n\n"
        f"REGISTRY = {{}}\n\n\n"
        f"def register(name, value):\n    REGISTRY[name] = value\n    return {b}.describe(name)\n\n\n"
        f"def width():\n    return HIDDEN\n"
    )
    second = (
        f'"""Registry half {b}."""\n\n'
        f"from .{a} import REGISTRY, width\n\n\n"
        f'def describe(name):\n    return f"{{name}}: {{REGISTRY.get(name)!r}} ({{width()}} wide)"\n'
    )
    return first, second


def helper_module(rng: random.Random, doc: str, rel: str, kind: str | None = None) -> str:
    """A utility module: meters, seeding, checkpoints, reading values from the package's config."""
    kind = kind or rng.choice(["meters", "seed", "checkpoint", "plain", "plain"])
    if kind == "meters":
        body = [
            "class AverageMeter:",
            '    """Running average of a quantity."""',
            "",
            "    def __init__(self, name):",
            "        self.name = name",
            "        self.reset()",
            "",
            "    def reset(self):",
            "        self.sum, self.count = 0.0, 0",
            "",
            "    def update(self, value, n=1):",
            "        self.sum += value * n",
            "        self.count += n",
            "",
            "    @property",
            "    def avg(self):",
            "        return self.sum / max(1, self.count)",
        ]
        imports: list[str] = []
    elif kind == "seed":
        imports = ["import random", "", "import torch", "", f"from {rel}config import SEED"]
        body = [
            "def seed_everything(seed=SEED):",
            "    random.seed(seed)",
            "    torch.manual_seed(seed)",
            "    return seed",
        ]
    elif kind == "checkpoint":
        imports = ["import os", "", "import torch"]
        body = [
            "def save_checkpoint(model, optimizer, epoch, folder):",
            "    os.makedirs(folder, exist_ok=True)",
            '    path = os.path.join(folder, f"epoch{epoch:03d}.pt")',
            '    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}, path)',
            "    return path",
            "",
            "",
            "def load_checkpoint(model, optimizer, path):",
            '    state = torch.load(path, map_location="cpu")',
            '    model.load_state_dict(state["model"])',
            '    optimizer.load_state_dict(state["optimizer"])',
            '    return state["epoch"]',
        ]
    else:
        imports = ["import csv", "import statistics", "", f"from {rel}config import BATCH, STEP_SIZE"]
        body = []
        for n in range(rng.randint(2, 6)):
            body += [
                f"def summarize_{rng.choice(TASKS)}_{n}(rows):",
                '    """Mean and spread of a column of numbers."""',
                "    values = [float(r) for r in rows if r]",
                "    if not values:",
                "        return 0.0, 0.0",
                "    return statistics.fmean(values), statistics.pstdev(values) * BATCH / STEP_SIZE",
                "",
                "",
                f"def write_rows_{n}(path, rows):",
                '    with open(path, "w", newline="") as handle:',
                "        writer = csv.writer(handle)",
                "        for row in rows:",
                "            writer.writerow(row)",
                "",
                "",
            ]
        body = body[:-2]
    return "\n".join([f'"""{doc}"""', "", *imports, "", "", *body]) + "\n"


@dataclass
class Package:
    name: str
    index: int
    config_lines: dict[str, int]
    models: list[tuple[str, str]] = field(default_factory=list)  # (module relative to the package, class)
    helpers: list[str] = field(default_factory=list)  # utils modules, relative to the package
    scripts: int = 0


def write_package(p: Project, index: int, budget: int, root: str = "") -> Package:
    """A package of about `budget` .py files under `root`."""
    rng = p.rng
    name = f"pkg_{index}"
    base = f"{root}{name}"
    scaled = index % 10 == 5
    config_text, where = package_config(index, rng, scaled)
    pkg = Package(name, index, where)
    p.write(f"{base}/config.py", config_text)
    # models/: a subpackage, with sub-subpackages (families) as it grows
    p.write(f"{base}/utils/__init__.py", '"""Utilities."""\n')
    p.write(f"{base}/train/__init__.py", '"""Training entry points."""\n')
    p.write(f"{base}/utils/meters.py", helper_module(rng, "Meters.", "..", "meters"))
    first, second = cycle_pair("registry_a", "registry_b")
    p.write(f"{base}/utils/registry_a.py", first)
    p.write(f"{base}/utils/registry_b.py", second)
    pkg.helpers += ["utils.meters"]
    used = 7  # config, 2 package markers, meters, two cycle halves, the package's __init__ (below)
    model_folders: list[str] = ["models"]
    model_files: dict[str, list[tuple[str, str]]] = {"models": []}
    util_folders: list[str] = ["utils"]
    used += 1  # models/__init__.py
    n = 0
    while used < budget:
        roll = rng.random()
        n += 1
        if roll < 0.40:  # a model module
            folder = model_folders[-1]
            if len(model_files[folder]) >= SUBFOLDER_EVERY and used + 2 < budget:
                folder = f"models/{rng.choice(WORDS)}_{len(model_folders)}"
                model_folders.append(folder)
                model_files[folder] = []
                used += 1
            module = f"{rng.choice(WORDS)}_{rng.choice(['net', 'blocks', 'arch'])}_{n}"
            cls = camel(rng.choice(WORDS), "Net", str(n))
            rel = "." * (folder.count("/") + 2)
            lines = [
                f'"""The {cls} network."""',
                "",
                "import torch",
                "import torch.nn as nn",
                "",
                f"from {rel}config import HIDDEN",
                "",
                "",
                *model_class(rng, cls, "HIDDEN"),
            ]
            if model_files[folder] and rng.random() < 0.3:  # a module that imports a sibling, which imports it
                other_module, other_cls = model_files[folder][-1]
                lines[5:5] = [f"from .{other_module} import {other_cls}"]
                lines += ["", "", f"def as_{other_cls.lower()}():", f"    return {other_cls}()"]
            p.write(f"{base}/{folder}/{module}.py", "\n".join(lines) + "\n")
            model_files[folder].append((module, cls))
            pkg.models.append((f"{folder.replace('/', '.')}.{module}", cls))
            used += 1
        elif roll < 0.62:  # a utility module
            folder = util_folders[-1]
            if (
                sum(1 for h in pkg.helpers if h.rsplit(".", 1)[0] == folder.replace("/", ".")) >= SUBFOLDER_EVERY
                and used + 2 < budget
            ):
                folder = f"utils/{rng.choice(['io', 'metrics', 'dist', 'vis'])}_{len(util_folders)}"
                util_folders.append(folder)
                p.write(f"{base}/{folder}/__init__.py", f'"""Utilities: {folder}."""\n')
                used += 1
            module = f"{rng.choice(['misc', 'helpers', 'metrics', 'io', 'logging'])}_{n}"
            rel = "." * (folder.count("/") + 2)
            p.write(f"{base}/{folder}/{module}.py", helper_module(rng, f"Helpers {n}.", rel))
            pkg.helpers.append(f"{folder.replace('/', '.')}.{module}")
            used += 1
        else:  # a training script of the package
            used += 1
            write_package_script(p, pkg, base, rng, scaled and pkg.scripts == 0)
            pkg.scripts += 1
    # markers of model folders, with their re-exports
    for folder, entries in model_files.items():
        exports = "".join(f"from .{m} import {c}\n" for m, c in entries)
        text = f'"""Models: {folder}."""\n\n{exports}'
        if folder == "models":
            text += '\n\ndef build_model(name, **kwargs):\n    """A model by name (only the default one here)."""\n' + (
                f"    return {entries[0][1]}(**kwargs)\n" if entries else '    raise ValueError(f"no models: {name}")\n'
            )
        p.write(f"{base}/{folder}/__init__.py", text)
    p.write(
        f"{base}/__init__.py",
        f'"""Package {index}."""\n\nfrom .config import BATCH, HIDDEN, LR, PRETRAIN_LR\nfrom .config import BATCH as BATCH_SIZE\n'
        "from .models import build_model\n",
    )
    return pkg


def write_package_script(p: Project, pkg: Package, base: str, rng: random.Random, scaled: bool) -> None:
    """A training script in the package's train/ folder: values from ..config, models from ..models."""
    n = pkg.scripts
    path = f"{base}/train/train_{rng.choice(TASKS)}_{n}.py"
    style = (
        "bad-momentum"
        if pkg.index == 1 and n == 0
        else "bad-class"
        if pkg.index == 1 and n == 1
        else rng.choice(["relative", "absolute", "class"])
    )
    if scaled:
        style = "scaled"
    model_import, model_expr = "from ..models import build_model", 'build_model("default")'
    if pkg.models and rng.random() < 0.5:
        module, cls = rng.choice(pkg.models)
        model_import, model_expr = f"from ..{module} import {cls}", f"{cls}()"
    helper = "from ..utils.meters import AverageMeter"
    where = pkg.config_lines
    config_file = "../config.py"
    if style == "relative":
        text = script(
            f"Train a model of {pkg.name} (relative imports).",
            ["from ..config import BATCH, LR, MOMENTUM, STEP_SIZE, GAMMA, TOTAL_EPOCHS", model_import, helper],
            model_expr,
            "torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)",
            "lr_scheduler.StepLR(optimizer, step_size=STEP_SIZE, gamma=GAMMA)",
            "BATCH",
            "TOTAL_EPOCHS",
        )
    elif style == "absolute":
        text = script(
            f"Train a model of {pkg.name} (the package's config as a module).",
            [f"import {pkg.name}.config as C", model_import, helper],
            model_expr,
            "torch.optim.AdamW(model.parameters(), lr=C.ADAM_LR, weight_decay=C.WEIGHT_DECAY)",
            "lr_scheduler.CosineAnnealingLR(optimizer, T_max=C.TOTAL_EPOCHS)",
            "C.BATCH",
            "C.TOTAL_EPOCHS",
        )
    elif style == "class":
        text = script(
            f"Train a model of {pkg.name} (a config class).",
            ["from ..config import BATCH, Hparams", model_import],
            model_expr,
            "torch.optim.SGD(model.parameters(), lr=Hparams.lr, momentum=0.9)",
            "lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)",
            "BATCH",
            "Hparams.epochs",
        )
    elif style == "scaled":
        text = script(
            f"Train a model of {pkg.name} at the batch-scaled rate.",
            ["from ..config import BATCH, SCALED_LR, TOTAL_EPOCHS", model_import],
            model_expr,
            "torch.optim.SGD(model.parameters(), lr=SCALED_LR, momentum=0.9)",
            "lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)",
            "BATCH",
            "TOTAL_EPOCHS",
        )
        p.expected.append(Expected(path, "TL101", f"(SCALED_LR in {config_file}, line {where['SCALED_LR']})"))
    elif style == "bad-momentum":
        text = script(
            f"Train a model of {pkg.name} with heavy momentum.",
            ["from ..config import BATCH, HEAVY_MOMENTUM, LR, TOTAL_EPOCHS", model_import],
            model_expr,
            "torch.optim.SGD(model.parameters(), lr=LR, momentum=HEAVY_MOMENTUM)",
            "lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)",
            "BATCH",
            "TOTAL_EPOCHS",
        )
        p.expected.append(Expected(path, "TL102", f"(HEAVY_MOMENTUM in {config_file}, line {where['HEAVY_MOMENTUM']})"))
    else:  # bad-class: a config class's attribute
        text = script(
            f"Train a model of {pkg.name} with a warm-start rate.",
            ["from ..config import BATCH, Hparams", model_import],
            model_expr,
            "torch.optim.SGD(model.parameters(), lr=Hparams.warm_lr, momentum=0.9)",
            "lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)",
            "BATCH",
            "Hparams.epochs",
        )
        p.expected.append(
            Expected(path, "TL101", f"SGD learning rate 2.0 (Hparams.warm_lr in {config_file}, line {where['warm_lr']})")
        )
    p.write(path, text)


def generate(out_dir: Path, files: int = DEFAULT_FILES, seed: int = DEFAULT_SEED) -> list[Expected]:
    """Write the project into `out_dir`; the findings it is built to have, in path order."""
    if files < 40:
        raise ValueError("a project needs at least 40 .py files")
    p = Project(random.Random(seed))
    fixed_part(p)
    left = files - p.python_files
    packages = max(2, round(left / FILES_PER_PACKAGE))
    for index in range(packages):
        share = left // (packages - index)
        write_package(p, index, share)
        left = files - p.python_files
    assert p.python_files == files, (p.python_files, files)
    for relative, text in sorted(p.files.items()):
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(p.expected, key=lambda e: (e.path, e.code))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory to write into (created if missing)")
    parser.add_argument("--files", type=int, default=DEFAULT_FILES, help=f".py files to write (default {DEFAULT_FILES})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--expected", type=Path, help="also write the expected findings as JSON")
    args = parser.parse_args(argv)
    expected = generate(args.out, args.files, args.seed)
    py = [p for p in args.out.rglob("*.py")]
    lines = sum(p.read_text(encoding="utf-8").count("\n") for p in py)
    print(f"wrote {len(py)} .py files, {lines} lines, {len(expected)} expected findings, to {args.out}", file=sys.stderr)
    if args.expected:
        args.expected.write_text(json.dumps([e.__dict__ for e in expected], indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
