"""torchvision's model constructors, generated from the torchvision wheel (tools/gen_torchvision_facts.py).

trainlint never imports torchvision: what `torchvision.models.resnet50()` or `vit_b_16(weights=...)` builds
(its parameter count, what each class adds, its smallest input, its Weights enum) comes from
`torchvision.json`, whose numbers torch confirmed when the table was generated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class WeightsEntry:
    name: str  # IMAGENET1K_V2
    num_params: int  # of the model these weights build (their classes; ViT's image size)
    min_size: tuple[int, int]  # (H, W)
    num_categories: int | None


@dataclass(frozen=True)
class WeightsEnum:
    qualname: str  # torchvision.models.resnet.ResNet50_Weights
    aliases: tuple[str, ...]
    default: str | None  # the entry DEFAULT stands for
    entries: dict[str, WeightsEntry]

    def entry(self, name: str) -> WeightsEntry | None:
        """An entry by name, `DEFAULT` included (torchvision also takes the name as a string)."""
        return self.entries.get(self.default if name == "DEFAULT" and self.default else name)


@dataclass(frozen=True)
class Constructor:
    qualname: str  # torchvision.models.resnet.resnet50
    aliases: tuple[str, ...]  # torchvision.models.resnet50
    name: str  # its name for torchvision.models.get_model
    task: str  # classification | detection | segmentation | video | quantization | optical_flow
    num_params: int  # with its default arguments (weights=None)
    num_classes: int | None  # the default
    params_per_class: int | None  # what each class adds (exact), None if num_classes is not an argument
    classifier_in_features: int | None  # when one Linear layer depends on num_classes
    min_size: tuple[int, int]  # (H, W) the default model takes
    weights: tuple[str, ...]  # qualnames of the Weights enums its weights= takes
    batch_norm: bool  # the default model has BatchNorm layers
    dropout: bool  # ... Dropout layers with p > 0
    stochastic_depth: bool  # ... StochasticDepth with p > 0

    def parameter_count(self, num_classes: int | None = None) -> int | None:
        """The count for another num_classes (exact), None when that cannot be told."""
        if num_classes is None or num_classes == self.num_classes:
            return self.num_params
        if self.params_per_class is None or self.num_classes is None:
            return None
        return self.num_params + self.params_per_class * (num_classes - self.num_classes)


@dataclass(frozen=True)
class TorchvisionFacts:
    version: str
    generated: dict[str, str]  # by, from, torch, on (the date)
    constructors: dict[str, Constructor]  # by qualname and alias
    weights: dict[str, WeightsEnum]  # by qualname and alias

    def constructor(self, qualname: str | None) -> Constructor | None:
        return self.constructors.get(qualname) if qualname else None

    def weights_enum(self, qualname: str | None) -> WeightsEnum | None:
        return self.weights.get(qualname) if qualname else None

    def weights_entry(self, constructor: Constructor, name: str) -> WeightsEntry | None:
        """`weights=<enum>.<name>` (or the string) given to a constructor: the entry of its enums. A quantization
        builder's entries describe other models (quantized, or float with auxiliary classifiers): None."""
        if constructor.task == "quantization":
            return None
        for qualname in constructor.weights:
            entry = self.weights[qualname].entry(name)
            if entry is not None:
                return entry
        return None


def _size(value: Any) -> tuple[int, int]:
    return (int(value[0]), int(value[1]))


@lru_cache(maxsize=1)
def torchvision_facts() -> TorchvisionFacts:
    raw = json.loads(Path(__file__).with_name("torchvision.json").read_text(encoding="utf-8"))
    weights: dict[str, WeightsEnum] = {}
    for qualname, enum in raw["weights"].items():
        entries = {
            name: WeightsEntry(name, e["num_params"], _size(e["min_size"]), e["num_categories"])
            for name, e in enum["entries"].items()
        }
        facts = WeightsEnum(qualname, tuple(enum["aliases"]), enum["default"], entries)
        for name in (qualname, *enum["aliases"]):
            weights.setdefault(name, facts)
    constructors: dict[str, Constructor] = {}
    for qualname, c in raw["constructors"].items():
        built = Constructor(
            qualname=qualname,
            aliases=tuple(c["aliases"]),
            name=c["name"],
            task=c["task"],
            num_params=c["num_params"],
            num_classes=c["num_classes"],
            params_per_class=c["params_per_class"],
            classifier_in_features=c["classifier_in_features"],
            min_size=_size(c["min_size"]),
            weights=tuple(c["weights"]),
            batch_norm=c["batch_norm"],
            dropout=c["dropout"],
            stochastic_depth=c["stochastic_depth"],
        )
        for name in (qualname, *c["aliases"]):
            constructors.setdefault(name, built)
    return TorchvisionFacts(raw["torchvision_version"], raw["generated"], constructors, weights)
