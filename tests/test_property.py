"""Property tests: `check` and `--fix` never crash and never turn parsing code into non-parsing code.

Two sources of programs: hypothesmith's grammar-generated programs (which
contain no optimizer, so they exercise robustness but no fix), and random
mutations of the rule pages' bad examples and of examples/ (which do trip the
rules, so fixes are applied). Each test reports how many fixes it applied.
"""

from __future__ import annotations

import random
import re

import hypothesmith
import libcst
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainlint.engine import lint_source
from trainlint.fixes import fix_text
from trainlint.pages import load_pages
from trainlint.settings import default_settings

SETTINGS = default_settings(["ALL"])
APPLIED = {"hypothesmith": 0, "mutations": 0}

SEEDS = [block for page in load_pages().values() for block in page.examples.get("bad", [])]
SEEDS += [path.read_text() for path in sorted((ROOT / "examples").rglob("*.py"))]
# Training loops in the shapes the loop model knows, each with a rule's pattern to trip.
LOOPS = """\
import torch
from torch import nn, optim
model = nn.Linear(4, 2)
optimizer = optim.SGD(model.parameters(), lr=0.1)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=3)
plateau = optim.lr_scheduler.ReduceLROnPlateau(optimizer)
scaler = torch.cuda.amp.GradScaler()

def train(loader, sched):
    model.train()
    for i, (x, y) in enumerate(loader):
        sched.step()
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        scaler.scale(loss).backward()
        if (i + 1) % 2 == 0:
            scaler.step(optimizer)
            scaler.update()

@torch.no_grad()
def evaluate(loader):
    model.eval()
    for x, y in loader:
        model(x)

for epoch in range(10):
    scheduler.step()
    train(train_loader, scheduler)
    evaluate(val_loader)
    plateau.step()
    for x, y in train_loader:
        optimizer.step()
        scheduler.step()
"""
SEEDS += [LOOPS, LOOPS.replace("StepLR(optimizer, step_size=3)", "OneCycleLR(optimizer, 0.1, total_steps=100)")]
# The loop and loss rules' patterns, with fixes to apply (zero_grad, .item(), an inline softmax, log_softmax).
LOSSES = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 3), nn.Softmax(dim=1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
total = 0.0
for epoch in range(3):
    for x, y in train_loader:
        out = model(x)
        loss = F.cross_entropy(F.softmax(out, dim=1), y)
        loss.backward()
        optimizer.step()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        total += loss
        lp = torch.log(torch.softmax(out, dim=1))
    with torch.no_grad():
        for x, y in val_loader:
            model(x)
"""
SEEDS += [LOSSES]
# Models for the capacity and shape rules: containers grown in loops, nested Sequentials, sub-modules,
# view/flatten spellings, functional dropout, a stated input, and fixes to apply (in_features, flatten(1)).
MODELS = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, dilation=1)
        self.bn = nn.BatchNorm2d(c_out)
        self.drop = nn.Dropout2d(0.1)

    def forward(self, x):
        return F.dropout(F.relu(self.bn(self.conv(x))), 0.2)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        for i in range(2):
            layers.append(Block(16 * 2**i, 32 * 2**i, stride=2))
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2))
        self.body = nn.Sequential(*layers)
        self.heads = nn.ModuleList([nn.Linear(64 * 4 * 4, 512) for _ in range(2)])
        self.fc = nn.Linear(64 * 3 * 3, 10)
        self.dropout = nn.Dropout(p=1.0)

    def forward(self, x):
        x = self.body(self.stem(x))
        x = x.view(-1, 64 * 3 * 3)
        y = x.reshape(1, -1)
        z = torch.flatten(x, 1)
        return self.fc(nn.Linear(512, 512)(nn.Linear(512, 512)(z)))


model = Net()
out = model(torch.randn(8, 3, 32, 32))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
"""
SEEDS += [MODELS]

PIPELINES = """\
import torch
from torchvision import datasets, transforms
from torchvision.transforms import v2

normalize = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
steps = [transforms.Resize(64), transforms.ToTensor()]
tfms = {"train": transforms.Compose(steps), "val": transforms.Compose([transforms.ToTensor(), normalize])}
train = datasets.MNIST("d", transform=tfms["train"])
val = datasets.MNIST("d", train=False, transform=tfms["val"])
swapped = transforms.Compose([transforms.Normalize((0.5,), (0.5,)), transforms.ToTensor()])
gray = datasets.CIFAR10("d", transform=transforms.Compose([transforms.Grayscale(), transforms.ToTensor(), normalize]))
raw = datasets.CIFAR10("d", transform=v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]))
folder = datasets.ImageFolder("d", swapped)
"""
SEEDS += [PIPELINES]

LOADERS = """\
import torch
from torch.utils.data import DataLoader, Subset, random_split
from torchvision import datasets, transforms

aug = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor()])
full = datasets.CIFAR10("d", train=True, transform=aug)
train_set, val_set = random_split(full, [45000, 5000])
test_set = datasets.CIFAR10("d", train=False, transform=aug)
train_loader = DataLoader(train_set, batch_size=128, shuffle=False)
val_loader = DataLoader(val_set, batch_size=256)
extra = DataLoader(Subset(full, range(100)), batch_size=8)
model = torch.nn.Linear(3072, 10)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    for x, y in train_loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x.flatten(1)), y).backward()
        opt.step()
    for x, y in extra:
        opt.zero_grad()
        model(x.flatten(1)).sum().backward()
        opt.step()
    with torch.no_grad():
        for x, y in val_loader:
            model(x.flatten(1))
"""
SEEDS += [LOADERS]


def parses(text: str) -> bool:
    try:
        libcst.parse_module(text)
    except Exception:  # noqa: BLE001 - any parser failure means it does not parse
        return False
    return True


def check_and_fix(text: str) -> int:
    """Lint and fix one program; return how many fixes were applied."""
    result = lint_source(text, "prop.py", SETTINGS)
    assert result.internal_errors == 0, [d.message for d in result.diagnostics if d.code == "TL002"]
    assert not any(d.code == "TL002" for d in result.diagnostics)
    outcome = fix_text(text, "prop.py", SETTINGS, unsafe=True)
    assert outcome.internal_errors == 0
    if parses(text):
        assert parses(outcome.text), "a fix turned parsing code into code that does not parse"
        assert outcome.error is None, outcome.error
        again = fix_text(outcome.text, "prop.py", SETTINGS, unsafe=True)
        assert again.text == outcome.text, "a second --fix changed the code again"
    else:
        assert outcome.text == text, "a file that does not parse must not be touched"
    return len(outcome.applied)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles odd but valid code
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_hypothesmith_programs(source):
    APPLIED["hypothesmith"] += check_and_fix(source)


def test_hypothesmith_report(capsys):
    with capsys.disabled():
        print(f"\n[property] hypothesmith programs: {APPLIED['hypothesmith']} fixes applied")


# -- mutations of code that trips the rules -----------------------------------------------------------

NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])")
NOISE = ["10", "0.1", "1e-3", "-0.5", "1.0", "0", "100", "0.999", "1e-8", "2 ** 3", "(1, 2)", "None", "'5'", "x"]
SNIPPETS = [
    "  # noqa: TL101",
    "  # noqa: TL102, TL103",
    "  # noqa",
    "  # NOQA:tl999",
    "  # trainlint: noqa",
    "\nimport torch.optim as optim\nopt = optim.SGD(p, lr=LR)",
    "\nopt = torch.optim.Adam(p, lr=0.5, weight_decay=1e-4)",
    "\nfrom torch.optim import Adam\nopt = Adam(p, weight_decay=5e-4)",
    "\nLR = 10",
    "\ndef f(lr=5.0):\n    return torch.optim.SGD(p, lr=lr)\nf()",
    "\nif True:\n    pass",
    "\n'''é😀'''",
    "  # é",
    "\nfor epoch in range(3):\n    scheduler.step()",
    "\n    scheduler.step()",
    "\n        optimizer.step()",
    "\nscheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2)",
    "\nwhile True:\n    batch = next(it)",
]


def mutate(source: str, rng: random.Random) -> str:
    lines = source.splitlines(keepends=True) or ["\n"]
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(8)
        i = rng.randrange(len(lines))
        if choice == 0:  # change a number
            numbers = list(NUMBER.finditer(lines[i]))
            if numbers:
                m = rng.choice(numbers)
                lines[i] = lines[i][: m.start()] + rng.choice(NOISE) + lines[i][m.end() :]
        elif choice == 1:  # append a comment or a statement to a line
            line = lines[i].rstrip("\r\n")
            lines[i] = line + rng.choice(SNIPPETS) + "\n"
        elif choice == 2:  # delete a line
            del lines[i]
            lines = lines or ["\n"]
        elif choice == 3:  # duplicate a line
            lines.insert(i, lines[i])
        elif choice == 4:  # truncate a line (half-typed code)
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)] + "\n"
        elif choice == 5:  # swap two lines
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif choice == 6:  # Windows line endings
            lines = [line.replace("\r\n", "\n").replace("\n", "\r\n") for line in lines]
        else:  # indent or dedent a line: moves it in or out of a loop
            lines[i] = "    " + lines[i] if rng.random() < 0.5 else lines[i].removeprefix("    ")
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False))
def test_mutated_examples(seed, rng):
    APPLIED["mutations"] += check_and_fix(mutate(seed, rng))


def test_mutations_report(capsys):
    with capsys.disabled():
        print(f"\n[property] mutated examples: {APPLIED['mutations']} fixes applied")
    assert APPLIED["mutations"] > 0, "the mutations must exercise fixes"
