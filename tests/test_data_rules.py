"""TL401, TL402, TL405 on bad pipelines, and silence on the shapes real pipelines take: normalization
elsewhere, reused objects, v2, dict-held and helper-built pipelines, classes that share torchvision's
names, datasets from other modules, autoencoders."""

from __future__ import annotations

import textwrap

import libcst
import pytest
import torch
from conftest import lint

from trainlint.engine import lint_source
from trainlint.facts.datasets import DATASETS
from trainlint.fixes import fix_text
from trainlint.model import ScriptModel
from trainlint.settings import default_settings

HEAD = "import torch\nfrom torchvision import datasets, transforms\n"


def codes(code: str, rules: str = "TL4") -> list[str]:
    return [d.code for d in lint(HEAD + textwrap.dedent(code), [rules])]


def test_the_pipeline_model():
    model = ScriptModel(
        libcst.parse_module(
            HEAD
            + textwrap.dedent(
                """
                normalize = transforms.Normalize((0.5,), (0.5,))
                steps = [transforms.Resize(32), transforms.ToTensor(), normalize]
                tfms = {"train": transforms.Compose(steps), "val": transforms.Compose([transforms.ToTensor()])}
                train = datasets.MNIST("d", transform=tfms["train"])
                test = datasets.MNIST("d", train=False, transform=tfms["val"])
                folder = datasets.ImageFolder("d/train", tfms["train"])
                """
            )
        )
    )
    pipelines = model.pipelines
    assert [[s.name for s in p.steps] for p in pipelines.pipelines] == [["Resize", "ToTensor", "Normalize"], ["ToTensor"]]
    uses = pipelines.datasets
    assert [(u.facts.name, u.train) for u in uses] == [("MNIST", True), ("MNIST", False), ("ImageFolder", None)]
    assert [u.pipeline is pipelines.pipelines[i] for u, i in zip(uses, (0, 1, 0), strict=True)] == [True, True, True]


# -- TL401 -------------------------------------------------------------------------------------------

MNIST_NO_NORMALIZE = """
transform = transforms.Compose([transforms.ToTensor()])
train_set = datasets.MNIST("data", train=True, transform=transform)
"""


def test_tl401_and_its_fix():
    (d,) = lint(HEAD + MNIST_NO_NORMALIZE, ["TL401"])
    assert "line 4 feeds MNIST images (line 5) as tensors in [0, 1] (`transforms.ToTensor()`, line 4)" in d.message
    assert "Add `Normalize((0.1307,), (0.3081,))` after it (MNIST: pytorch/examples" in d.message
    outcome = fix_text(HEAD + MNIST_NO_NORMALIZE, "x.py", default_settings(["TL401"]), unsafe=True)
    assert "transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])" in outcome.text
    assert lint_source(outcome.text, "x.py", default_settings(["TL4"])).diagnostics == []
    again = fix_text(outcome.text, "x.py", default_settings(["TL401"]), unsafe=True)
    assert again.text == outcome.text


def test_tl401_statistics_per_dataset_and_channels():
    cifar = codes_and_messages("transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.ToTensor()])", "CIFAR10")
    assert "Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.201))" in cifar
    svhn = codes_and_messages("transforms.Compose([transforms.ToTensor()])", "SVHN", split="'train'")
    assert "Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))" in svhn and "no published statistics" in svhn
    gray = codes_and_messages("transforms.Compose([transforms.Grayscale(), transforms.ToTensor()])", "CIFAR10")
    assert "Normalize((0.5,), (0.5,))" in gray


def codes_and_messages(pipeline: str, dataset: str, split: str | None = None) -> str:
    argument = f"split={split}" if split else "train=True"
    code = f"t = {pipeline}\nds = datasets.{dataset}('d', {argument}, transform=t)\n"
    return " ".join(d.message for d in lint(HEAD + code, ["TL401"]))


def test_tl401_v2():
    code = """
    from torchvision.transforms import v2
    t = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
    ds = datasets.CIFAR10("d", transform=t)
    """
    assert codes(code) == ["TL401"]
    outcome = fix_text(HEAD + textwrap.dedent(code), "x.py", default_settings(["TL401"]), unsafe=True)
    assert "v2.ToDtype(torch.float32, scale=True), v2.Normalize(" in outcome.text


@pytest.mark.parametrize(
    "code",
    [
        # normalized later, or by hand, or inside the model
        MNIST_NO_NORMALIZE + "normalize = transforms.Normalize((0.1307,), (0.3081,))\n",
        MNIST_NO_NORMALIZE + "def prep(x):\n    return (x - 0.1307) / 0.3081 if False else (x - x.mean()) / x.std()\n",
        MNIST_NO_NORMALIZE
        + "class Net(torch.nn.Module):\n    def forward(self, x):\n        return self.body((x - self.pixel_mean) / self.pixel_std)\n",
        # an autoencoder or a VAE: the images in [0, 1] are the targets
        MNIST_NO_NORMALIZE + "loss = torch.nn.functional.binary_cross_entropy(torch.rand(1), torch.rand(1))\n",
        MNIST_NO_NORMALIZE + "criterion = torch.nn.MSELoss()\n",
        # evaluation data alone, a dataset from another module, a list built up elsewhere, a custom step
        'ds = datasets.MNIST("d", train=False, transform=transforms.Compose([transforms.ToTensor()]))\n',
        'from mydata import Faces\nds = Faces("d", transform=transforms.Compose([transforms.ToTensor()]))\n',
        'steps = [transforms.ToTensor()]\nsteps.append(extra)\nds = datasets.MNIST("d", transform=transforms.Compose(steps))\n',
        'ds = datasets.MNIST("d", transform=transforms.Compose([MyScale(), transforms.ToTensor()]))\n',
        # a transform that is not a pipeline of this file
        'ds = datasets.MNIST("d", transform=make_transform())\n',
    ],
)
def test_tl401_silent(code: str):
    assert codes(code, "TL401") == []


# -- TL402 -------------------------------------------------------------------------------------------


def test_tl402_and_its_fix():
    code = (
        'ds = datasets.MNIST("d", transform=transforms.Compose([transforms.Normalize((0.5,), (0.5,)), transforms.ToTensor()]))\n'
    )
    (d,) = lint(HEAD + code, ["TL402"])
    assert d.message.startswith("`transforms.Normalize((0.5,), (0.5,))` (line 3) comes before `transforms.ToTensor()` (line 3)")
    outcome = fix_text(HEAD + code, "x.py", default_settings(["TL402"]), unsafe=False)
    assert "transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])" in outcome.text
    assert fix_text(outcome.text, "x.py", default_settings(["TL402"]), unsafe=False).text == outcome.text


def test_tl402_no_fix_with_steps_between():
    code = "t = transforms.Compose([transforms.Normalize((0.5,), (0.5,)), transforms.Resize(32), transforms.ToTensor()])\n"
    (d,) = lint(HEAD + code, ["TL402"])
    assert d.fix is None


@pytest.mark.parametrize(
    "code",
    [
        # a class of the file named Normalize, and a v2 pipeline (v2's Normalize takes tensors too, but
        # ToTensor is deprecated there: not this rule's business)
        "class Normalize:\n    def __call__(self, x):\n        return x\n\nt = transforms.Compose([Normalize(), transforms.ToTensor()])\n",
        "from torchvision.transforms import v2\nt = v2.Compose([v2.Normalize((0.5,), (0.5,)), v2.ToTensor()])\n",
        "t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])\n",
    ],
)
def test_tl402_silent(code: str):
    assert codes(code, "TL402") == []


# -- TL405 -------------------------------------------------------------------------------------------


def test_tl405_three_values_on_grayscale_raise_in_torch():
    code = """
    normalize = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    ds = datasets.MNIST("d", download=True, transform=transforms.Compose([transforms.Resize(64), transforms.ToTensor(), normalize]))
    """
    (d,) = lint(HEAD + textwrap.dedent(code), ["TL405"])
    assert d.severity.value == "error"
    assert "gives 3 means and stds, but the MNIST images (line 5) have 1 channel here" in d.message
    image = torch.rand(1, 64, 64)  # what ToTensor makes of an MNIST image
    with pytest.raises(RuntimeError, match="broadcast"):
        image.sub_(torch.tensor([0.5, 0.5, 0.5]).view(-1, 1, 1))  # what Normalize does


def test_tl405_one_value_on_rgb_is_a_warning():
    code = 'ds = datasets.CIFAR10("d", transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]))\n'
    (d,) = lint(HEAD + code, ["TL405"])
    assert d.severity.value == "warning" and "gives 1 mean and std, but the CIFAR10 images" in d.message


@pytest.mark.parametrize(
    "code",
    [
        'ds = datasets.MNIST("d", transform=transforms.Compose([transforms.Grayscale(3), transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)]))\n',
        'ds = datasets.MNIST("d", transform=transforms.Compose([transforms.Grayscale(3), transforms.ToTensor(), transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])]))\n',
        'ds = datasets.MNIST("d", transform=transforms.Compose([Rgb(), transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)]))\n',
        'ds = datasets.CIFAR10("d", transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize(0.5, 0.5)]))\n',
        'ds = datasets.ImageFolder("d", transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)]))\n',
    ],
)
def test_tl405_silent(code: str):
    assert codes(code, "TL405") == []


def test_dataset_table_shape():
    for facts in DATASETS.values():
        assert facts.channels in (1, 3)
        if facts.mean is not None:
            assert facts.std is not None and len(facts.mean) == len(facts.std) == facts.channels
            assert all(0 < v < 1 for v in (*facts.mean, *facts.std)) and facts.source
