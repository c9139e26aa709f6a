"""Classes and functions a training script imports from the project's other files
(`from models import Net`, `from engine import train_one_epoch`, model/imports.py): real files on
disk, linted in-process and through the command line with its cache. Parameter counts are
confirmed by building the model with torch on meta tensors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import torch

from trainlint.engine import lint_source
from trainlint.fixes import fix_text
from trainlint.settings import LintSettings, default_settings

ALL = default_settings(["ALL"])

MODELS = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, hidden=2048):
        super().__init__()
        self.fc1 = nn.Linear(3072, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = x.flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
"""

ENGINE = """\
import torch


def train_one_epoch(model, loader, criterion, optimizer, scheduler):
    model.train()
    for images, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), targets)
        loss.backward()
        optimizer.step()
        scheduler.step()


def evaluate(model, loader):
    model.eval()
    with torch.no_grad():
        return sum(model(images).argmax(1).eq(targets).sum().item() for images, targets in loader)
"""

TRAIN = """\
import torch
from torch.utils.data import DataLoader, TensorDataset

from engine import evaluate, train_one_epoch
from models import Net

data = TensorDataset(torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,)))
loader = DataLoader(data, batch_size=16, shuffle=True)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
criterion = torch.nn.CrossEntropyLoss()
for epoch in range(90):
    train_one_epoch(model, loader, criterion, optimizer, scheduler)
    evaluate(model, loader)
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def findings(path: Path, settings: LintSettings = ALL) -> list[tuple[int, str, str]]:
    result = lint_source(path.read_text(encoding="utf-8"), str(path), settings)
    return [(d.span.line, d.code, d.message) for d in result.diagnostics]


def torch_count(code: str, expression: str) -> int:
    namespace: dict = {}
    with torch.device("meta"):
        exec(compile(code, "<models.py>", "exec"), namespace)
        return sum(p.numel() for p in eval(expression, namespace).parameters())


def test_a_model_class_of_another_file(tmp_path: Path):
    """TL301 counts the layers of `Net` from models.py, at the `Net()` of the training script."""
    write(tmp_path, "models.py", MODELS)
    write(tmp_path, "engine.py", ENGINE.replace("        scheduler.step()\n", ""))
    train = write(tmp_path, "train.py", TRAIN.replace("for epoch", "scheduler.step()\nfor epoch"))
    found = findings(train)
    count = torch_count(MODELS, "Net()")
    assert [(line, code) for line, code, _ in found] == [(10, "TL301")], found  # at the optimizer, which its fix edits
    assert found[0][2].startswith(f"Net has {count:,} parameters and is trained by SGD (line 10)")


def test_a_loop_helper_of_another_file(tmp_path: Path):
    """StepLR stepped per batch inside engine.train_one_epoch: reported at this file's call, with the
    line in engine.py, and with no fix (the edit would be in the other file)."""
    write(tmp_path, "models.py", MODELS.replace("hidden=2048", "hidden=32"))
    write(tmp_path, "engine.py", ENGINE)
    train = write(tmp_path, "train.py", TRAIN)
    ((line, code, message),) = findings(train)
    assert (line, code) == (14, "TL203")
    assert message.endswith("(in train_one_epoch, line 11 of engine.py)"), message
    assert "StepLR" in message
    result = lint_source(train.read_text(encoding="utf-8"), str(train), ALL)
    assert result.diagnostics[0].fix is None
    fixed = fix_text(train.read_text(encoding="utf-8"), str(train), ALL, unsafe=True)
    assert fixed.text == train.read_text(encoding="utf-8")


def test_a_helper_that_steps_per_epoch_is_clean(tmp_path: Path):
    """The same project with the step after the batch loop, and a small model: nothing."""
    write(tmp_path, "models.py", MODELS.replace("hidden=2048", "hidden=32"))
    write(tmp_path, "engine.py", ENGINE.replace("        scheduler.step()\n", "    scheduler.step()\n"))
    train = write(tmp_path, "train.py", TRAIN)
    assert findings(train) == []


def test_relative_imports_and_a_package_reexport(tmp_path: Path):
    """`from proj.models import Net`, where proj/models/__init__.py re-exports it from .net, and the
    class itself imports a block from a sibling module: the re-export is followed; the block is not
    linked (one level), so the count is left unknown rather than guessed low."""
    write(tmp_path, "proj/__init__.py", "")
    write(tmp_path, "proj/models/__init__.py", "from .net import Net\n")
    write(tmp_path, "proj/models/net.py", MODELS)
    train = write(tmp_path, "train.py", TRAIN.replace("from models import Net", "from proj.models import Net"))
    write(tmp_path, "engine.py", ENGINE.replace("        scheduler.step()\n", "    scheduler.step()\n"))
    found = findings(train)
    assert [code for _, code, _ in found] == ["TL301"]
    assert found[0][2].startswith(f"Net has {torch_count(MODELS, 'Net()'):,} parameters")

    write(tmp_path, "proj/models/blocks.py", "import torch.nn as nn\n\n\ndef wide():\n    return nn.Linear(2048, 2048)\n")
    write(
        tmp_path,
        "proj/models/net.py",
        MODELS.replace(
            "import torch.nn.functional as F\n", "import torch.nn.functional as F\n\nfrom .blocks import wide\n"
        ).replace("self.fc2 = nn.Linear(hidden, hidden)", "self.fc2 = wide()"),
    )
    assert findings(train) == []


def test_a_syntax_error_in_the_other_file(tmp_path: Path):
    """models.py does not parse: the script's lint goes on without its classes (models.py's own
    lint reports the error)."""
    write(tmp_path, "models.py", MODELS.replace("def forward(self, x):", "def forward(self, x)"))
    write(tmp_path, "engine.py", ENGINE)
    train = write(tmp_path, "train.py", TRAIN)
    assert [code for _, code, _ in findings(train)] == ["TL203"]
    assert [code for _, code, _ in findings(tmp_path / "models.py")] == ["TL001"]


def test_only_training_scripts_link(tmp_path: Path):
    """A file that builds no optimizer links nothing: engine.py, which only calls what it is given,
    depends on no other file, and a finding inside a linked function is engine.py's to own only
    through the script that calls it."""
    write(tmp_path, "models.py", MODELS)
    engine = write(tmp_path, "engine.py", "from models import Net\n\n\ndef build():\n    return Net()\n")
    result = lint_source(engine.read_text(encoding="utf-8"), str(engine), ALL)
    assert result.diagnostics == []
    assert str(tmp_path / "models.py") not in result.dependencies


def test_editing_the_other_file_relints_the_script(project):
    """The cache entry of train.py depends on models.py and engine.py: a wider layer there brings
    TL301, a step moved out of the batch loop clears TL203, both through `check` with its cache."""
    project.write("models.py", MODELS.replace("hidden=2048", "hidden=32"))
    project.write("engine.py", ENGINE)
    project.write("train.py", TRAIN)

    def codes() -> list[str]:
        run = project.run("check", "--output-format", "json", "train.py")
        return [d["code"] for d in json.loads(run.stdout)]

    assert codes() == ["TL203"]
    assert codes() == ["TL203"]  # from the cache
    project.write("models.py", MODELS)
    assert codes() == ["TL301", "TL203"]
    project.write("engine.py", ENGINE.replace("        scheduler.step()\n", "    scheduler.step()\n"))
    assert codes() == ["TL301"]


def test_findings_inside_the_other_file_are_its_own(tmp_path: Path):
    """A layer mismatch inside models.py's Net is reported once, by models.py's lint, with its fix
    there: the script that builds Net shows it not again, and a fix of the script never edits models.py."""
    bad = MODELS.replace("nn.Linear(hidden, 10)", "nn.Linear(64, 10)").replace("hidden=2048", "hidden=32")
    models = write(tmp_path, "models.py", bad)
    write(tmp_path, "engine.py", ENGINE.replace("        scheduler.step()\n", "    scheduler.step()\n"))
    train = write(tmp_path, "train.py", TRAIN)
    own = [code for _, code, _ in findings(models)]
    assert "TL502" in own, own
    assert findings(train) == []
    before = models.read_text(encoding="utf-8")
    fix_text(train.read_text(encoding="utf-8"), str(train), ALL, unsafe=True)
    assert models.read_text(encoding="utf-8") == before


def test_an_optimizer_factory_of_another_file(tmp_path: Path):
    """`build_optimizer(model, 3.0)`: the rate is this file's, so the finding is reported here, at the
    call. `fixed_optimizer(model)` has its rate written in utils.py: utils.py reports it, once."""
    write(
        tmp_path,
        "utils.py",
        """\
        import torch


        def build_optimizer(model, lr):
            return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


        def fixed_optimizer(model):
            return torch.optim.SGD(model.parameters(), lr=5.0)
        """,
    )
    train = write(
        tmp_path,
        "train.py",
        """\
        import torch
        from utils import build_optimizer, fixed_optimizer

        model = torch.nn.Linear(4, 2)
        opt = build_optimizer(model, 3.0)
        opt2 = fixed_optimizer(model)
        other = torch.optim.Adam(model.parameters(), lr=1e-3)
        """,
    )
    tl101 = default_settings(["TL101"])
    ((line, _, message),) = findings(train, tl101)
    assert line == 5
    assert message.startswith("SGD learning rate 3.0 (passed to build_optimizer(), line 5)")
    assert message.endswith("(in build_optimizer, line 5 of utils.py)")
    assert [(line, message.split(" is at")[0]) for line, _, message in findings(tmp_path / "utils.py", tl101)] == [
        (9, "SGD learning rate 5.0")
    ]


def test_a_script_that_imports_itself(tmp_path: Path):
    """`from train import build` inside train.py (run as a script, it is a module of its own too):
    nothing to link, the file's own findings stand."""
    train = write(
        tmp_path,
        "train.py",
        """\
        import torch


        def build():
            return torch.nn.Linear(4, 2)


        if __name__ == "__main__":
            from train import build

            model = build()
            optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
        """,
    )
    assert [(line, code) for line, code, _ in findings(train, default_settings(["TL101"]))] == [(12, "TL101")]


SHAPES_MODELS = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5, padding=2)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5, padding=2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        return self.fc2(F.relu(self.fc1(x)))
"""

CIFAR_TRAIN = """\
import torch
import torchvision
import torchvision.transforms as T
from torch.utils.data import DataLoader

from models import Net

transform = T.Compose([T.ToTensor(), T.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))])
train_set = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=transform)
loader = DataLoader(train_set, batch_size=64, shuffle=True)
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
criterion = torch.nn.CrossEntropyLoss()
for epoch in range(10):
    for images, labels in loader:
        optimizer.zero_grad()
        criterion(model(images), labels).backward()
        optimizer.step()
"""

# The same script with its batch loop in engine.py's train_one_epoch.
CIFAR_TRAIN_WITH_ENGINE = CIFAR_TRAIN.replace(
    "from models import Net\n", "from engine import train_one_epoch\nfrom models import Net\n"
).replace(
    CIFAR_TRAIN[CIFAR_TRAIN.index("for epoch") :],
    "for epoch in range(10):\n    train_one_epoch(model, loader, criterion, optimizer)\n",
)


def test_a_shape_of_another_files_class_from_this_files_data(tmp_path: Path):
    """The CIFAR-10 images are this file's, the convolutions models.py's: the flatten mismatch only
    the two together show is reported at `Net()` here, each step with its file. models.py alone
    knows no input size and reports nothing. torch agrees on meta tensors: the view cannot take the
    batch, and each sample has 16 * 8 * 8 values."""
    write(tmp_path, "models.py", SHAPES_MODELS)
    train = write(tmp_path, "train.py", CIFAR_TRAIN)
    ((line, code, message),) = findings(train)
    assert (line, code) == (11, "TL501")
    namespace: dict = {}
    exec(compile(SHAPES_MODELS, "<models.py>", "exec"), namespace)
    with torch.device("meta"):
        net = namespace["Net"]()
        x = torch.empty(64, 3, 32, 32)
        features = net.pool(torch.relu(net.conv2(net.pool(torch.relu(net.conv1(x))))))
        per_sample = features[0].numel()
        try:
            net(x)
            raised = False
        except RuntimeError:
            raised = True
    assert per_sample == 1024 and raised
    assert message.startswith(f"x.view(-1, 16 * 5 * 5) takes 400 values per sample, but each sample has {per_sample}: "), message
    assert "from CIFAR10 images (3, 32, 32) (line 9) -> conv1 (line 15 of models.py)" in message
    assert message.endswith("(in Net, line 17 of models.py)")
    assert findings(tmp_path / "models.py") == []


def test_a_loop_classic_in_a_helper_of_another_file(tmp_path: Path):
    """TL601 through engine.py: its train_one_epoch never clears the gradients of the optimizer this
    file builds; engine.py alone does not know what it is given and says nothing."""
    write(tmp_path, "models.py", SHAPES_MODELS.replace("16 * 5 * 5", "16 * 8 * 8"))
    write(
        tmp_path,
        "engine.py",
        """\
        def train_one_epoch(model, loader, criterion, optimizer):
            model.train()
            for images, labels in loader:
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
        """,
    )
    train = write(tmp_path, "train.py", CIFAR_TRAIN_WITH_ENGINE)
    ((line, code, message),) = findings(train)
    assert (line, code) == (16, "TL601")
    assert "`optimizer.step()` (line 6 of engine.py)" in message, message
    assert message.endswith("(in train_one_epoch, line 6 of engine.py)")
    assert findings(tmp_path / "engine.py") == []


def test_a_loader_of_this_file_fed_to_another_files_loop(tmp_path: Path):
    """TL404: this file's loader, never shuffled, feeds the training loop of engine.py."""
    write(tmp_path, "models.py", SHAPES_MODELS.replace("16 * 5 * 5", "16 * 8 * 8"))
    write(
        tmp_path,
        "engine.py",
        """\
        def train_one_epoch(model, loader, criterion, optimizer):
            model.train()
            for images, labels in loader:
                optimizer.zero_grad()
                criterion(model(images), labels).backward()
                optimizer.step()
        """,
    )
    train = write(tmp_path, "train.py", CIFAR_TRAIN_WITH_ENGINE.replace(", shuffle=True", ""))
    ((line, code, message),) = findings(train)
    assert (line, code) == (11, "TL404")
    assert "feeds the training loop on line 3 of engine.py" in message, message
    assert findings(write(tmp_path, "train.py", CIFAR_TRAIN_WITH_ENGINE)) == []


def test_only_what_the_script_calls_is_linked(tmp_path: Path):
    """models.py holds two networks; the script builds one. The other is not taken in (nothing of
    it runs here), while the block class the built one uses is, so its parameters count."""
    write(
        tmp_path,
        "models.py",
        """\
        import torch.nn as nn


        class Block(nn.Module):
            def __init__(self, width):
                super().__init__()
                self.fc = nn.Linear(width, width)

            def forward(self, x):
                return self.fc(x)


        class Wide(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.Sequential(Block(2048), Block(2048), Block(2048))

            def forward(self, x):
                return self.blocks(x)


        class Broken(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.Sequential(nn.Linear(8, 16), nn.Linear(32, 4))
        """,
    )
    train = write(
        tmp_path,
        "train.py",
        "import torch\nfrom models import Wide\n\nmodel = Wide()\noptimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n",
    )
    script = lint_source(train.read_text(encoding="utf-8"), str(train), ALL)
    assert script.model is not None
    linked = {c.name for c in script.model.tables.classes.values()}
    assert linked == {"Wide", "Block"}
    code = (tmp_path / "models.py").read_text(encoding="utf-8")
    assert [(d.code, d.message.split(" has ")[0]) for d in script.diagnostics] == [("TL301", "Wide")]
    assert f"Wide has {torch_count(code, 'Wide()'):,} parameters" in script.diagnostics[0].message


def test_a_helper_no_rule_could_use_is_not_linked(tmp_path: Path):
    """log_utils.py only logs: no rule's trigger word is in it, so its own lint does not even parse
    it, and the script that calls `rank_log` does not take it in either (it stays a dependency:
    an edit that adds torch code to it re-lints the script)."""
    write(
        tmp_path, "log_utils.py", "import logging\n\n\ndef rank_log(rank, message):\n    logging.info('%d %s', rank, message)\n"
    )
    train = write(
        tmp_path,
        "train.py",
        "import torch\nfrom log_utils import rank_log\n\nmodel = torch.nn.Linear(4, 2)\n"
        "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)\nrank_log(0, 'start')\n",
    )
    result = lint_source(train.read_text(encoding="utf-8"), str(train), ALL)
    assert result.model is not None and not result.model.links.files
    assert str(tmp_path / "log_utils.py") in result.dependencies
