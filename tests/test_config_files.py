"""Configuration files a script reads (trainlint/configfiles.py, model/config_files.py): YAML, JSON
and TOML read through their loaders on a path the file states, with the file and line in the message;
real files on disk, linted in-process and through the command line with its cache."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_project_imports import HEAD, SETTINGS, lint_file, write

from trainlint.configfiles import parse
from trainlint.settings import LintSettings

YAML = """\
optim:
  name: sgd
  lr: 5.0
  momentum: 0.9
epochs: 10
"""


@pytest.mark.parametrize(
    ("files", "script", "expected"),
    [
        (
            {"configs/train.yaml": YAML},
            (
                'import yaml\nwith open("configs/train.yaml") as f:\n    cfg = yaml.safe_load(f)\n'
                'opt = torch.optim.SGD(model.parameters(), lr=cfg["optim"]["lr"])\n'
            ),
            "SGD learning rate 5.0 (optim.lr in configs/train.yaml, line 3)",
        ),
        (  # the path is an argparse default, the loader yaml.load with a Loader
            {"hyp.yaml": "lr0: 2.5\nmomentum: 0.9\n"},
            (
                "import argparse, yaml\np = argparse.ArgumentParser()\np.add_argument('--hyp', default='hyp.yaml')\n"
                "args = p.parse_args()\nhyp = yaml.load(open(args.hyp), Loader=yaml.SafeLoader)\n"
                "opt = torch.optim.SGD(model.parameters(), lr=hyp['lr0'], momentum=hyp.get('momentum'))\n"
            ),
            "SGD learning rate 2.5 (lr0 in hyp.yaml, line 1)",
        ),
        (
            {"config.json": '{\n  "data": {"lr": 0.1},\n  "lr": 3\n}\n'},
            (
                "import json\nwith open('config.json') as f:\n    cfg = json.load(f)\n"
                "opt = torch.optim.SGD(model.parameters(), lr=cfg['lr'])\n"
            ),
            "SGD learning rate 3.0 (lr in config.json, line 3)",
        ),
        (
            {"train.toml": "epochs = 3\n\n[optim]\nlr = 4.0\n"},
            (
                "import tomllib\nwith open('train.toml', 'rb') as f:\n    cfg = tomllib.load(f)\n"
                "opt = torch.optim.SGD(model.parameters(), lr=cfg['optim']['lr'])\n"
            ),
            "SGD learning rate 4.0 (optim.lr in train.toml, line 4)",
        ),
        (  # OmegaConf: a path, and attribute access
            {"conf/base.yaml": YAML},
            (
                "from omegaconf import OmegaConf\ncfg = OmegaConf.load('conf/base.yaml')\n"
                "opt = torch.optim.SGD(model.parameters(), lr=cfg.optim.lr)\n"
            ),
            "SGD learning rate 5.0 (optim.lr in conf/base.yaml, line 3)",
        ),
    ],
)
def test_a_value_of_a_config_file(tmp_path: Path, files: dict[str, str], script: str, expected: str):
    for name, text in files.items():
        write(tmp_path, name, text)
    train = write(tmp_path, "train.py", HEAD + script)
    assert lint_file(train) == [f"{HEAD.count(chr(10)) + script.count(chr(10))}: {expected}"]


def test_the_project_root_is_searched_too(tmp_path: Path):
    """`python scripts/train.py` run from the root: `configs/` lies beside `scripts/`, not in it."""
    write(tmp_path, "pyproject.toml", "[tool.trainlint]\n")
    write(tmp_path, "configs/train.yaml", YAML)
    script = 'import yaml\ncfg = yaml.safe_load(open("configs/train.yaml"))\nopt = torch.optim.SGD(model.parameters(), lr=cfg["optim"]["lr"])\n'
    train = write(tmp_path, "scripts/train.py", HEAD + script)
    settings = LintSettings(SETTINGS.enabled, root=str(tmp_path))  # as `check` finds it from pyproject.toml
    assert lint_file(train, settings) == ["5: SGD learning rate 5.0 (optim.lr in ../configs/train.yaml, line 3)"]


LOAD = 'import yaml\nwith open("train.yaml") as f:\n    cfg = yaml.safe_load(f)\n'
USE = 'opt = torch.optim.SGD(model.parameters(), lr=cfg["optim"]["lr"])\n'


@pytest.mark.parametrize(
    ("config", "script"),
    [
        (YAML.replace("5.0", "0.05"), LOAD + USE),  # fine
        (YAML, LOAD + "cfg['optim']['lr'] = 0.01\n" + USE),  # overridden in the script
        (YAML, LOAD + "cfg['optim'].update(overrides)\n" + USE),
        (YAML, LOAD + "cfg.update(vars(args))\n" + USE),
        (YAML, LOAD + "for k, v in extra.items():\n    cfg['optim'][k] = v\n" + USE),
        (YAML, 'import yaml\ncfg = yaml.safe_load("optim: {lr: 5.0}")\n' + USE),  # a string, not a path
        (YAML, "import yaml, sys\ncfg = yaml.safe_load(open(sys.argv[1]))\n" + USE),  # a path known at run time
        (None, LOAD + USE),  # no such file
        ("optim: [lr: 5.0\n", LOAD + USE),  # a YAML syntax error
        ("- 1\n- 2\n", LOAD + USE),  # not a mapping
        (b"\x89PNG\r\n\x1a\n\0\0", LOAD + USE),  # a binary file
        (YAML, LOAD + "cfg = {'optim': {'lr': 0.1}}\n" + USE),  # rebound
        (YAML, LOAD.replace('"train.yaml"', '"/etc/train.yaml"') + USE),  # absolute: outside the project
    ],
)
def test_unknown_or_fine_stays_silent(tmp_path: Path, config: str | bytes | None, script: str):
    if isinstance(config, bytes):
        (tmp_path / "train.yaml").write_bytes(config)
    elif config is not None:
        write(tmp_path, "train.yaml", config)
    train = write(tmp_path, "train.py", HEAD + script)
    assert lint_file(train) == []


def test_lines_of_json_and_toml_keys():
    json_table = parse(b'{"optim": {"lr": 0.5, "wd": 0},\n "lr": 2}\n', ".json")
    assert json_table is not None
    assert json_table.entries["lr"] == (2, 2)
    toml = parse(b"lr = 1\n[optim]\nlr = 0.5\n[data.aug]\nlr = 3\n", ".toml")
    assert toml is not None
    assert toml.entries["lr"] == (1, 1)
    assert toml.entries["optim"][0].entries["lr"] == (0.5, 3)
    assert toml.entries["data"][0].entries["aug"][0].entries["lr"] == (3, 5)


def test_without_pyyaml_a_yaml_value_is_unknown(tmp_path: Path):
    """PyYAML is optional: a blocked import leaves the value unknown, and the run goes on."""
    import subprocess
    import sys

    write(tmp_path, "train.yaml", YAML)
    write(tmp_path, "train.py", HEAD + LOAD + USE)
    code = textwrap.dedent(
        """
        import sys
        sys.modules["yaml"] = None  # import yaml raises ImportError
        from trainlint.cli import main
        sys.exit(main(["check", "--no-cache", "--select", "TL101", "train.py"]))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "All checks passed" in run.stdout


def test_check_does_not_import_pyyaml_for_a_script_without_yaml(tmp_path: Path):
    import subprocess
    import sys

    write(tmp_path, "config.json", '{"lr": 3}')
    write(tmp_path, "train.py", HEAD + "import json\ncfg = json.load(open('config.json'))\n" + USE)
    code = "import sys\nfrom trainlint.cli import main\nmain(['check', '--no-cache', 'train.py'])\nprint('yaml' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert run.stdout.strip().endswith("False"), run.stdout + run.stderr


def test_editing_the_config_file_relints_the_script(project):
    project.write("train.yaml", YAML.replace("5.0", "0.05"))
    project.write("train.py", HEAD + LOAD + USE)
    assert project.run("check", "--select", "TL101", "train.py").returncode == 0
    assert project.run("check", "--select", "TL101", "train.py").returncode == 0  # from the cache
    project.write("train.yaml", YAML)
    run = project.run("check", "--select", "TL101", "--output-format", "concise", "train.py")
    assert run.returncode == 1 and "(optim.lr in train.yaml, line 3)" in run.stdout, run.stdout


def test_a_config_file_that_appears_relints_the_script(project):
    project.write("train.py", HEAD + LOAD + USE)
    assert project.run("check", "--select", "TL101", "train.py").returncode == 0
    project.write("train.yaml", YAML)
    run = project.run("check", "--select", "TL101", "--output-format", "concise", "train.py")
    assert run.returncode == 1 and "(optim.lr in train.yaml, line 3)" in run.stdout, run.stdout


def test_the_example_project(tmp_path: Path):
    """examples/buggy/yaml_project: the learning rate is in configs/train.yaml, the path an argparse
    default, and the scheduler is stepped per batch in engine.py's train_one_epoch, with its period
    in the YAML file too."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    run = subprocess.run(
        [sys.executable, "-m", "trainlint", "check", "--no-cache", "--output-format", "concise", "examples/buggy/yaml_project"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1
    assert run.stdout.splitlines()[:-1] == [
        (
            "examples/buggy/yaml_project/train.py:28:50: warning: TL101 Adam learning rate 3.0 (optim.lr in configs/train.yaml,"
            " line 7) is at or above 0.01, about ten times common practice: steps this large make the loss oscillate or diverge"
            " instead of going down. Use about 0.001"
        ),
        (
            "examples/buggy/yaml_project/train.py:33:12: warning: TL203 `scheduler.step()` runs once per batch (in the batch"
            " loop on line 6 of engine.py, next to `optimizer.step()` on line 10 of engine.py), but StepLR's step_size=8"
            " (lr_step_epochs in configs/train.yaml, line 10) counts epochs: the epoch loop on line 32 runs for 20 (epochs in"
            " configs/train.yaml, line 9). The schedule runs through in 8 batches instead of 8 epochs, so the learning rate"
            " collapses early. Step it once per epoch, after the batch loop (or give the period in steps)"
            " (in train_one_epoch, line 11 of engine.py)"
        ),
    ]


# -- Hydra: the config @hydra.main gives the function, composed from its defaults list -------------

HYDRA_SCRIPT = """\
import hydra
import torch


@hydra.main(version_base=None, config_path="../conf", config_name="config")
def main(cfg):
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.optimizer.lr, momentum=cfg.optimizer.momentum)


if __name__ == "__main__":
    main()
"""
PRIMARY = "defaults:\n  - optimizer: sgd\n  - logger: null\n  - optional local: default\n  - _self_\n\nepochs: 10\n"
SGD = "name: sgd\nlr: 2.0\nmomentum: 0.9\n"


def hydra_project(root: Path, primary: str = PRIMARY, sgd: str = SGD, extra: dict[str, str] | None = None) -> Path:
    write(root, "conf/config.yaml", primary)
    write(root, "conf/optimizer/sgd.yaml", sgd)
    for name, text in (extra or {}).items():
        write(root, name, text)
    return write(root, "src/train.py", HYDRA_SCRIPT)


def test_a_value_of_a_hydra_config_group(tmp_path: Path):
    assert lint_file(hydra_project(tmp_path)) == ["8: SGD learning rate 2.0 (optimizer.lr in ../conf/optimizer/sgd.yaml, line 2)"]


def test_a_hydra_primary_config_without_defaults(tmp_path: Path):
    train = hydra_project(tmp_path, primary="optimizer:\n  lr: 3.0\n  momentum: 0.9\n")
    assert lint_file(train) == ["8: SGD learning rate 3.0 (optimizer.lr in ../conf/config.yaml, line 2)"]


@pytest.mark.parametrize(
    ("primary", "sgd", "extra"),
    [
        (PRIMARY, SGD.replace("2.0", "0.05"), None),  # fine
        (PRIMARY + "optimizer:\n  lr: 0.01\n", SGD, None),  # the primary's own entry wins (`_self_` last)
        (PRIMARY.replace("  - _self_\n", "") + "optimizer:\n  lr: 0.01\n", SGD, None),  # `_self_` is last by default
        (PRIMARY, "# @package _global_\n" + SGD, None),  # placed at the top, not under optimizer
        (PRIMARY.replace("optimizer: sgd", "optimizer: ${oc.env:OPT}"), SGD, None),  # interpolated
        (PRIMARY.replace("optimizer: sgd", "optimizer: adam"), SGD, None),  # the chosen file is missing
        (PRIMARY.replace("- optimizer: sgd", "- base"), SGD, {"conf/base.yaml": "optimizer:\n  lr: 5.0\n"}),  # not followed
    ],
)
def test_hydra_configs_it_cannot_follow_or_that_are_fine(tmp_path: Path, primary: str, sgd: str, extra: dict[str, str] | None):
    assert lint_file(hydra_project(tmp_path, primary, sgd, extra)) == []


def test_the_primary_before_its_defaults_is_overridden_by_them(tmp_path: Path):
    primary = "defaults:\n  - _self_\n  - optimizer: sgd\n\noptimizer:\n  lr: 0.01\n"
    assert lint_file(hydra_project(tmp_path, primary)) == [
        "8: SGD learning rate 2.0 (optimizer.lr in ../conf/optimizer/sgd.yaml, line 2)"
    ]


def test_editing_a_hydra_group_file_relints_the_script(project):
    hydra_project(project.root, sgd=SGD.replace("2.0", "0.05"))
    assert project.run("check", "--select", "TL101", "src/train.py").returncode == 0
    project.write("conf/optimizer/sgd.yaml", SGD)
    run = project.run("check", "--select", "TL101", "--output-format", "concise", "src/train.py")
    assert run.returncode == 1 and "(optimizer.lr in ../conf/optimizer/sgd.yaml, line 2)" in run.stdout, run.stdout
