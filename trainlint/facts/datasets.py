"""Image datasets trainlint recognizes: channels, and the normalization statistics a fix may use.

Statistics are shipped only where a published value is cited (`source`); for the others a fix uses
0.5 per channel (which maps [0, 1] to [-1, 1]) and says so. rules/TL401-missing-normalize.md lists
the same table with its sources.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetFacts:
    name: str
    channels: int | None  # None: not known
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    source: str | None = None
    # The keyword that picks the training or evaluation part, with the value (or values) that mean training:
    # `train=True` for MNIST and CIFAR, `split="train"` for SVHN; None where it is not read (ImageFolder's folder).
    split_keyword: str | None = "train"
    training_splits: tuple[str, ...] = ()


IMAGENET = DatasetFacts(
    "ImageNet",
    3,
    (0.485, 0.456, 0.406),
    (0.229, 0.224, 0.225),
    "torchvision's documentation of its pretrained models (`weights.transforms()`, the ImageNet statistics)",
    split_keyword="split",
    training_splits=("train",),
)

DATASETS: dict[str, DatasetFacts] = {
    "MNIST": DatasetFacts(
        "MNIST", 1, (0.1307,), (0.3081,), "pytorch/examples mnist/main.py, the training set's mean and standard deviation"
    ),
    "FashionMNIST": DatasetFacts("FashionMNIST", 1),
    "KMNIST": DatasetFacts("KMNIST", 1),
    "EMNIST": DatasetFacts("EMNIST", 1),
    # QMNIST's `what=` overrides `train=` and takes five values: its split is not read.
    "QMNIST": DatasetFacts("QMNIST", 1, split_keyword=None),
    "CIFAR10": DatasetFacts(
        "CIFAR10",
        3,
        (0.4914, 0.4822, 0.4465),
        (0.2023, 0.1994, 0.2010),
        "kuangliu/pytorch-cifar main.py (CIFAR's std is also quoted as 0.2470, 0.2435, 0.2616: both circulate)",
    ),
    "CIFAR100": DatasetFacts("CIFAR100", 3),
    "SVHN": DatasetFacts("SVHN", 3, split_keyword="split", training_splits=("train", "extra")),
    "STL10": DatasetFacts("STL10", 3, split_keyword="split", training_splits=("train", "unlabeled", "train+unlabeled")),
    "ImageNet": IMAGENET,
    "ImageFolder": DatasetFacts("ImageFolder", 3, split_keyword=None),  # its default loader converts every image to RGB
}


def statistics(facts: DatasetFacts, channels: int) -> tuple[tuple[float, ...], tuple[float, ...], str]:
    """(mean, std, where they come from) for a fix: the dataset's published values, else 0.5 per channel."""
    if facts.mean is not None and facts.std is not None and len(facts.mean) == channels and facts.source:
        return facts.mean, facts.std, facts.source
    half = (0.5,) * channels
    return half, half, "no published statistics shipped for this dataset: 0.5 per channel maps [0, 1] to [-1, 1]"
