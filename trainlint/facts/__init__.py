"""PyTorch facts generated from torch itself (tools/gen_torch_facts.py).

trainlint never imports torch: which optimizers, schedulers, layers, losses,
data loaders and grad scalers exist, their argument order and their defaults
come from `torch.json`, which a test compares with the pinned torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ClassFacts:
    name: str
    qualname: str
    kind: str  # optimizer | scheduler | layer | loss | data | amp
    positional: tuple[str, ...]
    keyword_only: tuple[str, ...]
    defaults: dict[str, Any]

    def accepts(self, name: str) -> bool:
        return name in self.positional or name in self.keyword_only


@dataclass(frozen=True)
class FunctionFacts:
    """A function of torch that trainlint recognizes (today: the functional losses)."""

    name: str
    qualname: str
    kind: str  # loss
    positional: tuple[str, ...]


@dataclass
class TorchFacts:
    torch_version: str
    by_qualname: dict[str, ClassFacts]
    functions: dict[str, FunctionFacts]

    def lookup(self, qualname: str | None) -> ClassFacts | None:
        return self.by_qualname.get(qualname) if qualname else None

    def function(self, qualname: str | None) -> FunctionFacts | None:
        return self.functions.get(qualname) if qualname else None

    def of_kind(self, kind: str) -> list[ClassFacts]:
        return self._kinds.get(kind, [])

    @cached_property
    def _kinds(self) -> dict[str, list[ClassFacts]]:
        out: dict[str, dict[int, ClassFacts]] = {}
        for f in self.by_qualname.values():
            out.setdefault(f.kind, {})[id(f)] = f
        return {kind: sorted(found.values(), key=lambda f: f.name) for kind, found in out.items()}


_KINDS = {
    "optimizers": "optimizer",
    "schedulers": "scheduler",
    "layers": "layer",
    "losses": "loss",
    "data": "data",
    "amp": "amp",
}
_FUNCTION_KINDS = {"loss_functions": "loss"}


@lru_cache(maxsize=1)
def torch_facts() -> TorchFacts:
    raw = json.loads(Path(__file__).with_name("torch.json").read_text(encoding="utf-8"))
    by_qualname: dict[str, ClassFacts] = {}
    for section, kind in _KINDS.items():
        for key, entry in raw[section].items():
            facts = ClassFacts(
                name=entry.get("name", key),
                qualname=entry["qualname"],
                kind=kind,
                positional=tuple(entry["positional"]),
                keyword_only=tuple(entry["keyword_only"]),
                defaults=entry["defaults"],
            )
            for qualname in (entry["qualname"], *entry["aliases"]):
                by_qualname.setdefault(qualname, facts)
    functions = {
        entry["qualname"]: FunctionFacts(name, entry["qualname"], kind, tuple(entry["positional"]))
        for section, kind in _FUNCTION_KINDS.items()
        for name, entry in raw[section].items()
    }
    return TorchFacts(raw["torch_version"], by_qualname, functions)
