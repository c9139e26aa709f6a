"""PyTorch facts generated from torch itself (tools/gen_torch_facts.py).

trainlint never imports torch: which optimizers, schedulers and layers exist,
their argument order and their defaults come from `torch.json`, which a test
compares with the pinned torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class ClassFacts:
    name: str
    qualname: str
    kind: str  # optimizer | scheduler | layer
    positional: tuple[str, ...]
    keyword_only: tuple[str, ...]
    defaults: dict[str, Any]

    def accepts(self, name: str) -> bool:
        return name in self.positional or name in self.keyword_only


@dataclass
class TorchFacts:
    torch_version: str
    by_qualname: dict[str, ClassFacts]

    def lookup(self, qualname: str | None) -> ClassFacts | None:
        return self.by_qualname.get(qualname) if qualname else None

    def of_kind(self, kind: str) -> list[ClassFacts]:
        return self._kinds[kind]

    @cached_property
    def _kinds(self) -> dict[str, list[ClassFacts]]:
        out: dict[str, dict[int, ClassFacts]] = {}
        for f in self.by_qualname.values():
            out.setdefault(f.kind, {})[id(f)] = f
        return {kind: sorted(found.values(), key=lambda f: f.name) for kind, found in out.items()}


_KINDS = {"optimizers": "optimizer", "schedulers": "scheduler", "layers": "layer"}


@lru_cache(maxsize=1)
def torch_facts() -> TorchFacts:
    raw = json.loads(resources.files(__package__).joinpath("torch.json").read_text(encoding="utf-8"))
    by_qualname: dict[str, ClassFacts] = {}
    for section, kind in _KINDS.items():
        for name, entry in raw[section].items():
            facts = ClassFacts(
                name=name,
                qualname=entry["qualname"],
                kind=kind,
                positional=tuple(entry["positional"]),
                keyword_only=tuple(entry["keyword_only"]),
                defaults=entry["defaults"],
            )
            for qualname in (entry["qualname"], *entry["aliases"]):
                by_qualname.setdefault(qualname, facts)
    return TorchFacts(raw["torch_version"], by_qualname)
