"""TL401, TL402, TL405 on bad pipelines, and silence on the shapes real pipelines take: normalization
elsewhere, reused objects, v2, dict-held and helper-built pipelines, classes that share torchvision's
names, datasets from other modules, autoencoders."""

from __future__ import annotations

import textwrap

import libcst
import pytest
import torch
from conftest import ROOT, lint, run_cli

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


# -- loaders in the pipeline model -------------------------------------------------------------------

LOOP = """
model = torch.nn.Linear(3072, 10)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(10):
    model.train()
    for x, y in {train}:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x.flatten(1)), y).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        for x, y in {test}:
            model(x.flatten(1))
"""
LOADER_HEAD = HEAD + "from torch.utils.data import DataLoader, Subset, TensorDataset, random_split\n"
AUG = (
    "aug = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor()])\n"
)
PLAIN = "plain = transforms.Compose([transforms.ToTensor()])\n"


def data_codes(code: str, rules: str = "TL403,TL404", train: str = "train_loader", test: str = "test_loader") -> list[str]:
    text = LOADER_HEAD + AUG + PLAIN + textwrap.dedent(code) + LOOP.format(train=train, test=test)
    return sorted(d.code for d in lint(text, rules.split(",")))


def test_loaders_in_the_model():
    text = (
        LOADER_HEAD
        + AUG
        + textwrap.dedent(
            """
        full = datasets.CIFAR10("d", transform=aug)
        train_set, val_set = random_split(full, [45000, 5000])
        train_loader = DataLoader(train_set, batch_size=128, shuffle=True)
        test_loader = DataLoader(val_set, batch_size=128, shuffle=flag)
        tensors = DataLoader(TensorDataset(x, y), 4, True)
        """
        )
        + LOOP.format(train="train_loader", test="test_loader")
    )
    model = ScriptModel(libcst.parse_module(text))
    train, test, tensors = model.pipelines.loaders
    full = model.pipelines.datasets[0]
    assert (train.name, train.use, train.view, train.map_style, train.shuffled, train.roles) == (
        "train_loader",
        full,
        "train_set",
        True,
        True,
        {"train"},
    )
    assert train.split is not None and model.code(train.split.func) == "random_split"
    assert (test.view, test.use, test.shuffled, test.roles, test.for_eval) == ("val_set", full, None, {"eval"}, True)
    assert (tensors.use, tensors.map_style, tensors.shuffled, tensors.roles) == (None, True, None, frozenset())
    assert [model.span(n).line for _, n in train.loops] == [16]  # `for x, y in train_loader`


# -- TL403 -------------------------------------------------------------------------------------------


def test_tl403_test_set_given_the_training_transform():
    code = """
    train_set = datasets.CIFAR10("d", train=True, transform=aug)
    test_set = datasets.CIFAR10("d", train=False, transform=aug)
    train_loader = DataLoader(train_set, batch_size=128, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=128)
    """
    text = LOADER_HEAD + AUG + PLAIN + textwrap.dedent(code) + LOOP.format(train="train_loader", test="test_loader")
    (d,) = lint(text, ["TL403"])
    assert d.span.line == 8 and d.severity.value == "warning"
    assert d.message.startswith(
        "The CIFAR10 data on line 8 is for evaluation (it is built with `train=False`) but is given the pipeline on "
        "line 4, which augments at random (`transforms.RandomCrop(32, padding=4)`, `transforms.RandomHorizontalFlip()`)"
    )


def test_tl403_validation_split_keeps_the_training_transform():
    code = """
    full = datasets.CIFAR10("d", transform=aug)
    train_set, val_set = random_split(full, [45000, 5000])
    train_loader = DataLoader(train_set, batch_size=128, shuffle=True)
    test_loader = DataLoader(val_set, batch_size=128)
    """
    text = LOADER_HEAD + AUG + PLAIN + textwrap.dedent(code) + LOOP.format(train="train_loader", test="test_loader")
    (d,) = lint(text, ["TL403"])
    assert "carved from the CIFAR10 dataset on line 7 by `random_split` (line 8)" in d.message
    assert "`test_loader` feeds only the evaluation loop on line 22" in d.message


@pytest.mark.parametrize(
    "code",
    [
        # an ImageFolder named for validation, a Subset iterated only under no_grad
        'train_loader = DataLoader(datasets.ImageFolder("d/train", aug), shuffle=True)\nval_dataset = datasets.ImageFolder(valdir, aug)\ntest_loader = DataLoader(val_dataset)\n',
        'full = datasets.CIFAR10("d", transform=aug)\ntrain_loader = DataLoader(full, shuffle=True)\ntest_loader = DataLoader(Subset(full, range(500)))\n',
    ],
)
def test_tl403_fires(code: str):
    assert data_codes(code, "TL403") == ["TL403"]


@pytest.mark.parametrize(
    "code",
    [
        # the evaluation data has its own pipeline; the training data alone is augmented
        'train_loader = DataLoader(datasets.CIFAR10("d", transform=aug), shuffle=True)\ntest_loader = DataLoader(datasets.CIFAR10("d", train=False, transform=plain))\n',
        # a split whose dataset is given another transform afterwards
        'full = datasets.CIFAR10("d", transform=aug)\ntrain_set, val_set = random_split(full, [9, 1])\nval_set.dataset.transform = plain\ntrain_loader = DataLoader(train_set, shuffle=True)\ntest_loader = DataLoader(val_set)\n',
        # the split's parts are built from two dataset objects, one per pipeline
        'idx = list(range(100))\ntrain_loader = DataLoader(Subset(datasets.CIFAR10("d", transform=aug), idx[:90]), shuffle=True)\ntest_loader = DataLoader(Subset(datasets.CIFAR10("d", transform=plain), idx[90:]))\n',
        # a pipeline from a helper, a dataset from another module, test-time augmentation it cannot tell
        'train_loader = DataLoader(datasets.CIFAR10("d", transform=aug), shuffle=True)\ntest_loader = DataLoader(datasets.CIFAR10("d", train=False, transform=make_eval_transform()))\n',
        'from mydata import Faces\ntrain_loader = DataLoader(Faces("d", transform=aug), shuffle=True)\ntest_loader = DataLoader(Faces("d", train=False, transform=aug))\n',
        # user classes that share torchvision's names
        'class RandomCrop:\n    def __call__(self, x):\n        return x\n\nmine = transforms.Compose([RandomCrop(), transforms.ToTensor()])\ntrain_loader = DataLoader(datasets.CIFAR10("d", transform=aug), shuffle=True)\ntest_loader = DataLoader(datasets.CIFAR10("d", train=False, transform=mine))\n',
    ],
)
def test_tl403_silent(code: str):
    assert data_codes(code, "TL403") == []


# -- TL404 -------------------------------------------------------------------------------------------


def test_tl404_and_its_fix():
    code = 'train_loader = DataLoader(datasets.MNIST("d", transform=plain), batch_size=64)\ntest_loader = DataLoader(datasets.MNIST("d", train=False, transform=plain))\n'
    text = LOADER_HEAD + AUG + PLAIN + code + LOOP.format(train="train_loader", test="test_loader")
    (d,) = lint(text, ["TL404"])
    assert d.message.startswith(
        "`train_loader` (line 6) over MNIST feeds the training loop on line 13 and has no `shuffle=True` and no sampler"
    )
    assert d.fix is not None and d.fix.applicability.value == "unsafe"
    outcome = fix_text(text, "x.py", default_settings(["TL404"]), unsafe=True)
    assert 'DataLoader(datasets.MNIST("d", transform=plain), batch_size=64, shuffle=True)' in outcome.text
    assert lint(outcome.text, ["TL404"]) == []
    assert fix_text(outcome.text, "x.py", default_settings(["TL404"]), unsafe=True).text == outcome.text


def test_tl404_shuffle_false_through_a_helper():
    code = """
    def train(model, loader, opt):
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

    ds = TensorDataset(torch.rand(100, 4), torch.randint(0, 2, (100,)))
    loader = DataLoader(ds, batch_size=10, shuffle=False)
    net = torch.nn.Linear(4, 2)
    train(net, loader, torch.optim.SGD(net.parameters(), lr=0.1))
    """
    (d,) = lint(LOADER_HEAD + textwrap.dedent(code), ["TL404"])
    assert "has `shuffle=False` and no sampler" in d.message
    outcome = fix_text(LOADER_HEAD + textwrap.dedent(code), "x.py", default_settings(["TL404"]), unsafe=True)
    assert "DataLoader(ds, batch_size=10, shuffle=True)" in outcome.text


@pytest.mark.parametrize(
    "code",
    [
        'train_loader = DataLoader(datasets.MNIST("d", transform=plain), batch_size=64, shuffle=True)\ntest_loader = None\n',
        'train_loader = DataLoader(datasets.MNIST("d", transform=plain), sampler=sampler)\ntest_loader = None\n',
        'train_loader = DataLoader(datasets.MNIST("d", transform=plain), shuffle=args.shuffle)\ntest_loader = None\n',
        'train_loader = DataLoader(datasets.MNIST("d", transform=plain), **kwargs)\ntest_loader = None\n',
        # an IterableDataset, a dataset from another module
        "class Stream(torch.utils.data.IterableDataset):\n    def __iter__(self):\n        yield 1\n\ntrain_loader = DataLoader(Stream(), batch_size=4)\ntest_loader = None\n",
        'from mydata import Faces\ntrain_loader = DataLoader(Faces("d"), batch_size=4)\ntest_loader = None\n',
        # sequence data with a recurrent model
        "rnn = torch.nn.LSTM(8, 16)\ntrain_loader = DataLoader(TensorDataset(seqs, targets), batch_size=4)\ntest_loader = None\n",
    ],
)
def test_tl404_silent(code: str):
    assert data_codes(code, "TL404", test="[]") == []


def test_tl404_not_for_evaluation_loaders():
    code = 'train_loader = DataLoader(datasets.MNIST("d", transform=plain), shuffle=True)\ntest_loader = DataLoader(datasets.MNIST("d", train=False, transform=plain))\n'
    assert data_codes(code, "TL404") == []


# -- TL406 -------------------------------------------------------------------------------------------

_TRAIN = 'train_loader = DataLoader(datasets.MNIST("d", train=True, transform=plain), shuffle=True)\n'


def test_tl406_test_set_without_train_false_and_its_fix():
    code = _TRAIN + 'test_set = datasets.MNIST("d", transform=plain)\ntest_loader = DataLoader(test_set, batch_size=1000)\n'
    text = LOADER_HEAD + AUG + PLAIN + code + LOOP.format(train="train_loader", test="test_loader")
    (d,) = lint(text, ["TL406"])
    assert d.message.startswith(
        "`test_set` is evaluation data, read by the evaluation loop on line 20, but the MNIST dataset on line 7 is "
        "its training split (`train=` is not given, and its default picks the training part)"
    )
    assert d.message.endswith("Pass `train=False`")
    assert d.fix is not None and d.fix.applicability.value == "unsafe"
    outcome = fix_text(text, "x.py", default_settings(["TL406"]), unsafe=True)
    assert 'test_set = datasets.MNIST("d", transform=plain, train=False)' in outcome.text
    assert lint(outcome.text, ["TL406"]) == []
    assert fix_text(outcome.text, "x.py", default_settings(["TL406"]), unsafe=True).text == outcome.text


def test_tl406_explicit_train_true_is_turned_false():
    code = _TRAIN + 'test_loader = DataLoader(datasets.CIFAR10("d", train=True, transform=plain))\n'
    text = LOADER_HEAD + AUG + PLAIN + code + LOOP.format(train="train_loader", test="test_loader")
    (d,) = lint(text, ["TL406"])
    assert "`test_loader` is evaluation data" in d.message and "(`train=True`)" in d.message
    assert model_text(d.span, text) == "True"
    fixed = fix_text(text, "x.py", default_settings(["TL406"]), unsafe=True).text
    assert 'datasets.CIFAR10("d", train=False, transform=plain)' in fixed


def model_text(span, text: str) -> str:
    line = text.splitlines()[span.line - 1]
    return line[span.column : span.end_column]


@pytest.mark.parametrize(
    "code",
    [
        # split= datasets: reported, no fix (the evaluation split's name differs between datasets)
        _TRAIN + 'val_set = datasets.SVHN("d", split="train", transform=plain)\ntest_loader = DataLoader(val_set)\n',
        # no loop at all: the names alone, with the loader reading the whole dataset
        _TRAIN + 'valid_loader = DataLoader(datasets.FashionMNIST("d", transform=plain))\ntest_loader = valid_loader\n',
    ],
)
def test_tl406_fires(code: str):
    assert data_codes(code, "TL406") == ["TL406"]


@pytest.mark.parametrize(
    "code",
    [
        _TRAIN + 'test_loader = DataLoader(datasets.MNIST("d", train=False, transform=plain))\n',
        # a held-out part of the training set, the right way to validate
        (
            'full = datasets.MNIST("d", transform=plain)\ntrain_set, val_set = random_split(full, [50000, 10000])\n'
            "train_loader = DataLoader(train_set, shuffle=True)\ntest_loader = DataLoader(val_set)\n"
        ),
        (
            'idx = list(range(60000))\ntrain_loader = DataLoader(Subset(datasets.MNIST("d", transform=aug), idx[:50000]), shuffle=True)\n'
            'val_set = datasets.MNIST("d", transform=plain)\ntest_loader = DataLoader(Subset(val_set, idx[50000:]))\n'
        ),
        # training accuracy measured on purpose
        _TRAIN + 'eval_train_loader = DataLoader(datasets.MNIST("d", transform=plain))\ntest_loader = eval_train_loader\n',
        # the split is not read: positional, unknown, **kwargs
        _TRAIN + 'test_loader = DataLoader(datasets.MNIST("d", False, transform=plain))\n',
        _TRAIN + 'test_loader = DataLoader(datasets.SVHN("d", "test", transform=plain))\n',
        _TRAIN + 'test_loader = DataLoader(datasets.MNIST("d", train=args.train, transform=plain))\n',
        _TRAIN + 'kw = dict(root="d", train=False)\ntest_loader = DataLoader(datasets.MNIST(**kw, transform=plain))\n',
        # EMNIST's split= names the subset, not the part
        _TRAIN + 'test_loader = DataLoader(datasets.EMNIST("d", split="balanced", train=False, transform=plain))\n',
        _TRAIN + 'test_loader = DataLoader(datasets.SVHN("d", split="test", transform=plain))\n',
        # an ImageFolder's part is its folder
        _TRAIN + 'test_loader = DataLoader(datasets.ImageFolder("d/val", plain))\n',
    ],
)
def test_tl406_silent(code: str):
    assert data_codes(code, "TL406") == []


def test_tl406_silent_when_a_training_loop_reads_it():
    code = 'test_set = datasets.MNIST("d", transform=plain)\ntest_loader = DataLoader(test_set, shuffle=True)\n'
    assert data_codes(code, "TL406", train="test_loader", test="test_loader") == []


# -- pipelines from same-file helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("helper", "expected"),
    [
        # one return: the pipeline is known
        ("def eval_transform():\n    return transforms.Compose([transforms.RandomCrop(28), transforms.ToTensor()])\n", ["TL403"]),
        (
            "def eval_transform():\n    t = transforms.Compose([transforms.RandomCrop(28), transforms.ToTensor()])\n    return t\n",
            ["TL403"],
        ),
        ("def eval_transform():\n    return transforms.Compose([transforms.ToTensor()])\n", []),
        # two returns: which one the call takes depends on its arguments
        (
            "def eval_transform(train=False):\n    if train:\n        return aug\n    return transforms.Compose([transforms.ToTensor()])\n",
            [],
        ),
        # a list built up before the Compose: incomplete, silent
        (
            (
                "def eval_transform():\n    steps = [transforms.ToTensor()]\n    steps.append(transforms.RandomCrop(28))\n"
                "    return transforms.Compose(steps)\n"
            ),
            [],
        ),
    ],
)
def test_pipeline_from_a_helper(helper: str, expected: list[str]):
    code = helper + _TRAIN + 'test_loader = DataLoader(datasets.MNIST("d", train=False, transform=eval_transform()))\n'
    assert data_codes(code, "TL403") == expected


def test_missing_normalize_through_a_helper():
    code = (
        "def get_transform():\n    return transforms.Compose([transforms.ToTensor()])\n"
        'train_loader = DataLoader(datasets.MNIST("d", transform=get_transform()), shuffle=True)\n'
        'test_loader = DataLoader(datasets.MNIST("d", train=False, transform=get_transform()))\n'
    )
    assert data_codes(code, "TL401") == ["TL401"]  # one pipeline, one finding, at the helper's Compose


def test_the_loader_example_and_its_fixes(tmp_path):
    """examples/buggy/cifar_loaders.py: one finding per slip; the unsafe fixes make it clean of TL4xx."""
    run = run_cli("check", "--no-cache", "--output-format", "concise", str(ROOT / "examples" / "buggy" / "cifar_loaders.py"))
    found = [(line.split(":")[1], line.split(": warning: ")[1][:5]) for line in run.stdout.splitlines() if ": warning: " in line]
    assert found == [("18", "TL404"), ("19", "TL403"), ("21", "TL406")], run.stdout
    copy = tmp_path / "cifar_loaders.py"
    copy.write_text((ROOT / "examples" / "buggy" / "cifar_loaders.py").read_text())
    run_cli("check", "--no-cache", "--fix", "--unsafe-fixes", "--select", "TL4", str(copy))
    fixed = copy.read_text()
    assert "DataLoader(train_set, batch_size=128, shuffle=True)" in fixed
    assert 'datasets.CIFAR10("data", download=True, transform=plain, train=False)' in fixed
    assert run_cli("check", "--no-cache", "--select", "TL404,TL406", str(copy)).returncode == 0


# -- TL407 -------------------------------------------------------------------------------------------


def test_tl407_no_conversion_and_its_fix():
    text = (
        HEAD
        + "t = transforms.Compose([transforms.Resize(32), transforms.Normalize((0.5,), (0.5,))])\n"
        + 'train_set = datasets.MNIST("d", transform=t)\n'
    )
    (d,) = lint(text, ["TL407"])
    assert d.severity.value == "error" and d.span.line == 3
    assert d.message.startswith("`transforms.Normalize((0.5,), (0.5,))` (line 3) takes tensors, but in the pipeline on line 3")
    assert d.message.endswith(
        "the pipeline never converts to a tensor: the first batch raises TypeError. Put `ToTensor()` before it"
    )
    fixed = fix_text(text, "x.py", default_settings(["TL407"]), unsafe=False).text
    assert "[transforms.Resize(32), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]" in fixed
    assert lint(fixed, ["TL407"]) == [] and fix_text(fixed, "x.py", default_settings(["TL407"]), unsafe=False).text == fixed


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ("transforms.RandomErasing(), transforms.ToTensor()", ["TL407"]),  # no fix: a ToTensor follows
        ("transforms.ConvertImageDtype(torch.float)", ["TL407"]),
        ("transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,)), transforms.RandomErasing()", []),
        ("transforms.PILToTensor(), transforms.ConvertImageDtype(torch.float)", []),
        # TL402's case
        ("transforms.Normalize((0.5,), (0.5,)), transforms.ToTensor()", []),
        # a step it cannot see into converts, maybe
        ("transforms.Lambda(to_array), transforms.Normalize((0.5,), (0.5,))", []),
        ("MyToTensor(), transforms.Normalize((0.5,), (0.5,))", []),
    ],
)
def test_tl407_cases(steps: str, expected: list[str]):
    text = HEAD + f"t = transforms.Compose([{steps}])\ntrain_set = datasets.MNIST('d', transform=t)\n"
    found = lint(text, ["TL407"])
    assert sorted(d.code for d in found) == expected
    if "ToTensor" in steps and expected:  # a ToTensor follows: moving steps is left to the user
        assert found[0].fix is None and fix_text(text, "x.py", default_settings(["TL407"]), unsafe=False).text == text


@pytest.mark.parametrize(
    "code",
    [
        # not given to a torchvision dataset: the input may be tensors
        "norm = transforms.Compose([transforms.Normalize((0.5,), (0.5,))])\nx = norm(torch.rand(1, 28, 28))\n",
        # v2 transforms handle more input types
        "from torchvision.transforms import v2\nt = v2.Compose([v2.Normalize((0.5,), (0.5,))])\ntrain_set = datasets.MNIST('d', transform=t)\n",
        # a pipeline built up elsewhere
        (
            "steps = [transforms.Normalize((0.5,), (0.5,))]\nsteps.insert(0, transforms.ToTensor())\n"
            "train_set = datasets.MNIST('d', transform=transforms.Compose(steps))\n"
        ),
    ],
)
def test_tl407_silent(code: str):
    assert lint(HEAD + code, ["TL407"]) == []
