"""Values a script imports from the project's other files (trainlint/project.py, model/imports.py):
real files on disk, linted in-process and through the command line with its cache."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from trainlint.engine import lint_source
from trainlint.settings import LintSettings, default_settings

SETTINGS = default_settings(["TL101"])
HEAD = "import torch\nmodel = torch.nn.Linear(2, 2)\n"


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def lint_file(path: Path, settings: LintSettings = SETTINGS) -> list[str]:
    """`line: message start` of each TL101 the file gets, read from disk like `check` reads it."""
    result = lint_source(path.read_text(), str(path), settings)
    return [f"{d.span.line}: {d.message.split(' is at')[0]}" for d in result.diagnostics]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "from config import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n",
            "SGD learning rate 1.6 (LR in config.py, line 3)",
        ),
        (
            "import config\nopt = torch.optim.SGD(model.parameters(), lr=config.LR)\n",
            "SGD learning rate 1.6 (LR in config.py, line 3)",
        ),
        (
            "import config as C\nopt = torch.optim.SGD(model.parameters(), lr=C.OPTIM['lr'])\n",
            "SGD learning rate 3.0 (OPTIM in config.py, line 4)",
        ),
        (
            "from config import Config\nopt = torch.optim.SGD(model.parameters(), lr=Config.lr)\n",
            "SGD learning rate 2.0 (Config.lr in config.py, line 6)",
        ),
        (
            "from config import LRS\nopt = torch.optim.SGD(model.parameters(), lr=LRS[-1])\n",
            "SGD learning rate 5.0 (LRS in config.py, line 7)",
        ),
        # a package, and a name it imports from a module of its own
        (
            "from pkg.settings import ADAM_LR\nopt = torch.optim.Adam(model.parameters(), lr=ADAM_LR)\n",
            "Adam learning rate 0.3 (ADAM_LR in pkg/defaults.py, line 1)",
        ),
        (
            "import pkg.defaults\nopt = torch.optim.Adam(model.parameters(), lr=pkg.defaults.ADAM_LR)\n",
            "Adam learning rate 0.3 (ADAM_LR in pkg/defaults.py, line 1)",
        ),
        # computed in one module from a name it imports from another
        (
            "from pkg.settings import SCALED_LR\nopt = torch.optim.Adam(model.parameters(), lr=SCALED_LR)\n",
            "Adam learning rate 0.4 (SCALED_LR in pkg/settings.py, line 2)",
        ),
    ],
)
def test_a_constant_of_another_file(tmp_path: Path, script: str, expected: str):
    write(tmp_path, "config.py", CONFIG)
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/defaults.py", "ADAM_LR = 0.3\nBATCH = 1024\n")
    write(tmp_path, "pkg/settings.py", "from .defaults import ADAM_LR, BATCH\nSCALED_LR = 0.1 * BATCH / 256\n")
    train = write(tmp_path, "train.py", HEAD + script)
    assert lint_file(train) == [f"4: {expected}"]


CONFIG = """\
BATCH = 256
BASE = 0.1
LR = BASE * BATCH / 16
OPTIM = {"lr": 3.0, "weight_decay": 0.0}
class Config:
    lr = 2.0
LRS = [0.1, 5.0]
SMALL = 0.01
"""


def test_relative_imports_and_a_src_layout(tmp_path: Path):
    write(tmp_path, "pyproject.toml", "[tool.trainlint]\n")
    write(tmp_path, "src/proj/__init__.py", "")
    write(tmp_path, "src/proj/hparams.py", "LR = 4.0\n")
    inner = write(
        tmp_path,
        "src/proj/engine/train.py",
        HEAD + "from ..hparams import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n",
    )
    write(tmp_path, "src/proj/engine/__init__.py", "")
    assert lint_file(inner) == ["4: SGD learning rate 4.0 (LR in ../hparams.py, line 1)"]
    # from a script at the root: `src/` is searched (the configuration file marks the root)
    script = write(
        tmp_path, "scripts/run.py", HEAD + "from proj.hparams import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n"
    )
    settings = LintSettings(SETTINGS.enabled, root=str(tmp_path))
    assert lint_file(script, settings) == ["4: SGD learning rate 4.0 (LR in ../src/proj/hparams.py, line 1)"]
    assert lint_file(script) == []  # without a root, only the script's own folder


@pytest.mark.parametrize(
    ("files", "script"),
    [
        # not constants: assigned twice, computed by a call, read from the environment
        ({"config.py": "LR = 0.1\nif FAST:\n    LR = 5.0\n"}, "from config import LR"),
        ({"config.py": "import os\nLR = float(os.environ['LR'])\n"}, "from config import LR"),
        # a module that is not there, or not Python, or does not parse, or too big
        ({}, "from config import LR"),
        ({"config.py": "LR = = 5.0\n"}, "from config import LR"),
        ({"config.py": "\x00\x01\x02LR = 5.0"}, "from config import LR"),
        ({"config.py": "LR = 5.0\n" + "# padding\n" * 250_000}, "from config import LR"),
        # an import cycle of re-exports, and of constants computed from each other
        ({"a.py": "from b import LR\n", "b.py": "from a import LR\n"}, "from a import LR"),
        ({"a.py": "from b import B\nLR = B * 2\n", "b.py": "from a import LR\nB = LR * 2\n"}, "from a import LR"),
        # computed from an imported name that is not a constant
        ({"a.py": "from b import scale\nLR = scale() * 5.0\n", "b.py": "def scale():\n    return 1\n"}, "from a import LR"),
        ({"a.py": "from b import N\nLR = N * 5.0\n", "b.py": "N = 1\nN = 2\n"}, "from a import LR"),
        # a package of site-packages or the standard library is never read
        ({}, "from json import LR"),
        # the value is small
        ({"config.py": CONFIG}, "from config import SMALL as LR"),
        # an Enum's attributes are its members, not the values written (ignite's Events, timm's Format)
        ({"config.py": "import enum\nclass Rates(enum.Enum):\n    HIGH = 5.0\n"}, "from config import Rates\nLR = Rates.HIGH"),
        ({"config.py": "class Rates(metaclass=Meta):\n    HIGH = 5.0\n"}, "from config import Rates\nLR = Rates.HIGH"),
    ],
)
def test_unknown_or_fine_stays_silent(tmp_path: Path, files: dict[str, str], script: str):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    train = write(tmp_path, "train.py", HEAD + script + "\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n")
    assert lint_file(train) == []


def test_a_value_from_another_file_gets_no_fix(tmp_path: Path):
    write(tmp_path, "config.py", "LR = 5.0\n")
    train = write(tmp_path, "train.py", HEAD + "from config import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n")
    (d,) = lint_source(train.read_text(), str(train), SETTINGS).diagnostics
    assert d.fix is None  # the literal is in config.py: a fix of train.py cannot rewrite it
    assert [label for _, label in d.related] == ["LR in config.py, line 1"]


def test_standard_input_reads_no_other_file(tmp_path: Path):
    write(tmp_path, "config.py", "LR = 5.0\n")
    text = HEAD + "from config import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n"
    assert lint_source(text, "-", SETTINGS).diagnostics == []


def test_dependencies_are_recorded(tmp_path: Path):
    write(tmp_path, "config.py", "LR = 5.0\n")
    train = write(tmp_path, "train.py", HEAD + "from config import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n")
    result = lint_source(train.read_text(), str(train), SETTINGS)
    assert str(tmp_path / "config.py") in result.dependencies
    assert str(tmp_path) in result.dependencies  # the folder searched: a new module there changes the answer


# -- the cache: a result that read another file is served only while that file is unchanged -------


def test_editing_the_dependency_relints_the_script(project):
    project.write("config.py", "LR = 0.01\n")
    project.write("train.py", HEAD + "from config import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n")
    assert project.run("check", "--select", "TL101", "train.py").returncode == 0
    assert project.run("check", "--select", "TL101", "train.py").returncode == 0  # from the cache
    path = project.write("config.py", "LR = 5.0\n")
    os.utime(path, ns=(1, 1))  # even with an old modification time: the content decides
    run = project.run("check", "--select", "TL101", "--output-format", "concise", "train.py")
    assert run.returncode == 1 and "SGD learning rate 5.0 (LR in config.py, line 1)" in run.stdout, run.stdout
    project.write("config.py", "LR = 0.01\n")
    assert project.run("check", "--select", "TL101", "train.py").returncode == 0


def test_a_new_module_relints_the_script(project):
    project.write("train.py", HEAD + "from config import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n")
    assert project.run("check", "--select", "TL101", "train.py").returncode == 0
    project.write("config.py", "LR = 5.0\n")
    run = project.run("check", "--select", "TL101", "--output-format", "concise", "train.py")
    assert run.returncode == 1 and "(LR in config.py, line 1)" in run.stdout, run.stdout


def test_without_a_configuration_file_the_repository_is_the_root(tmp_path: Path):
    """pre-commit runs `trainlint check scripts/train.py`: with no pyproject.toml, the git repository
    marks the project, so its `src/` is searched."""
    (tmp_path / ".git").mkdir()
    write(tmp_path, "src/proj/__init__.py", "")
    write(tmp_path, "src/proj/hparams.py", "LR = 4.0\n")
    script = write(
        tmp_path, "scripts/run.py", HEAD + "from proj.hparams import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n"
    )
    assert lint_file(script) == ["4: SGD learning rate 4.0 (LR in ../src/proj/hparams.py, line 1)"]


def test_the_src_setting_adds_folders(project):
    """`src = ["lib"]` (ruff's setting): `from hparams import LR` is found in lib/, and the result
    changes with the setting (it is part of the cache key)."""
    project.write("lib/hparams.py", "LR = 4.0\n")
    project.write("scripts/train.py", HEAD + "from hparams import LR\nopt = torch.optim.SGD(model.parameters(), lr=LR)\n")
    project.write("pyproject.toml", "[tool.trainlint]\n")
    assert project.run("check", "--select", "TL101", "scripts/train.py").returncode == 0
    project.write("pyproject.toml", '[tool.trainlint]\nsrc = ["lib"]\n')
    run = project.run("check", "--select", "TL101", "--output-format", "concise", "scripts/train.py")
    assert run.returncode == 1 and "SGD learning rate 4.0 (LR in ../lib/hparams.py, line 1)" in run.stdout, run.stdout
