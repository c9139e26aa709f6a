"""The data rules' facts about torchvision, read from its wheel's sources with `ast` (torchvision
cannot be imported beside the CPU torch used here): which transforms draw random numbers (TL403),
which take tensors only (TL407), and which keyword picks each dataset's training part (TL406)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from trainlint.facts.datasets import DATASETS
from trainlint.model.pipelines import RANDOM_TRANSFORMS
from trainlint.rules.data import TENSOR_ONLY, TO_TENSOR

# Random only when given a range (`sigma=(0.1, 2.0)`, `quality=(5, 50)`); with one value they are
# deterministic, so trainlint does not count them as augmentation.
RANDOM_FOR_A_RANGE = {"GaussianBlur", "JPEG"}
# Calls that draw random numbers in a transform's code.
_DRAWS = re.compile(
    r"^(torch\.(rand|randint|randn|randperm|multinomial|bernoulli|normal|poisson)|random\.\w+"
    r"|.*\.(uniform_|bernoulli_|normal_|random_|exponential_)|.*_sample_dirichlet|.*_dist\.sample)$"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    folder = tmp_path_factory.mktemp("wheel")
    download = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "torchvision==0.28.0",
            "-d",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wheels = list(Path(folder).glob("torchvision-*.whl"))
    if download.returncode or not wheels:
        pytest.skip(f"the torchvision wheel cannot be had here: {download.stderr.strip()[-300:]}")
    return zipfile.ZipFile(wheels[0])


def _classes(wheel: zipfile.ZipFile, *paths: str) -> dict[str, tuple[ast.ClassDef, str]]:
    out: dict[str, tuple[ast.ClassDef, str]] = {}
    for path in paths:
        for node in ast.parse(wheel.read(path).decode()).body:
            if isinstance(node, ast.ClassDef):
                out[node.name] = (node, path)
    return out


def _transform_classes(wheel: zipfile.ZipFile) -> dict[str, tuple[ast.ClassDef, str]]:
    v2 = [n for n in wheel.namelist() if n.startswith("torchvision/transforms/v2/_") and n.endswith(".py")]
    return _classes(wheel, "torchvision/transforms/transforms.py", "torchvision/transforms/autoaugment.py", *v2)


def test_random_transforms_are_those_that_draw_random_numbers(wheel: zipfile.ZipFile):
    classes = _transform_classes(wheel)

    def draws(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name not in classes or name in seen:
            return False
        node, _ = classes[name]
        if any(isinstance(c, ast.Call) and _DRAWS.match(ast.unparse(c.func)) for c in ast.walk(node)):
            return True
        return any(draws(ast.unparse(b).rsplit(".", 1)[-1], seen | {name}) for b in node.bases)

    public_random = {name for name in classes if not name.startswith("_") and draws(name)}
    assert len(public_random) > 30
    assert public_random - RANDOM_FOR_A_RANGE == RANDOM_TRANSFORMS


def test_tensor_only_and_conversion_steps_are_v1_transforms(wheel: zipfile.ZipFile):
    v1 = _classes(wheel, "torchvision/transforms/transforms.py")
    assert set(TENSOR_ONLY) | set(TO_TENSOR) <= set(v1)
    functional = wheel.read("torchvision/transforms/functional.py").decode()
    # What makes them tensor-only: the functional they call refuses anything else.
    for name in ("normalize", "erase", "convert_image_dtype"):
        body = functional.split(f"\ndef {name}(", 1)[1].split("\ndef ", 1)[0]
        assert re.search(r"raise TypeError|isinstance\(\w+, torch\.Tensor\)", body), name


def _init(classes: dict[str, tuple[ast.ClassDef, str]], name: str) -> list[ast.FunctionDef]:
    """The `__init__`s a dataset's keyword arguments go through: its own, then its bases' past **kwargs."""
    node, _ = classes[name]
    init = next((b for b in node.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"), None)
    bases = [ast.unparse(b) for b in node.bases if ast.unparse(b) in classes]
    if init is None:
        return _init(classes, bases[0]) if bases else []
    return [init, *(_init(classes, bases[0]) if init.args.kwarg is not None and bases else [])]


@pytest.mark.parametrize("name", sorted(n for n, f in DATASETS.items() if f.split_keyword is not None))
def test_dataset_split_keyword_and_default(wheel: zipfile.ZipFile, name: str):
    files = [n for n in wheel.namelist() if n.startswith("torchvision/datasets/") and n.endswith(".py")]
    classes = _classes(wheel, *files)
    facts = DATASETS[name]
    for init in _init(classes, name):
        args = init.args.args
        defaults = dict(zip([a.arg for a in args][len(args) - len(init.args.defaults) :], init.args.defaults, strict=False))
        if facts.split_keyword in defaults:
            default = ast.literal_eval(defaults[facts.split_keyword])
            assert default is True if facts.split_keyword == "train" else default in facts.training_splits
            break
    else:
        pytest.fail(f"{name} takes no {facts.split_keyword}= with a default")
    source = ast.unparse(classes[name][0])
    assert all(f"'{split}'" in source for split in facts.training_splits), name
