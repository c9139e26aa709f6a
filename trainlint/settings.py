"""The settings one file is linted with, after configuration and command line are merged."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainlint.diagnostics import Severity

if TYPE_CHECKING:
    from trainlint.registry import Rule


@dataclass(frozen=True)
class LintSettings:
    enabled: frozenset[str]
    severities: dict[str, Severity] = field(default_factory=dict)  # code -> override
    rule_options: dict[str, Any] = field(default_factory=dict)  # code -> options dataclass
    root: str | None = None  # the project root (the configuration file's folder), for imports
    sources: tuple[str, ...] = ()  # the `src` folders, searched for imports after the root

    def severity(self, code: str, default: Severity) -> Severity:
        return self.severities.get(code, default)

    def options(self, rule: type[Rule]) -> Any:
        return self.rule_options.get(rule.code) or rule.Options()

    def without(self, codes: frozenset[str]) -> LintSettings:
        return dataclasses.replace(self, enabled=self.enabled - codes)

    def fingerprint(self) -> str:
        """Stable across runs: part of the cache key."""
        data = {
            "enabled": sorted(self.enabled),
            "severities": {k: v.value for k, v in sorted(self.severities.items())},
            "options": {k: dataclasses.asdict(v) for k, v in sorted(self.rule_options.items())},
            "root": self.root,
            "sources": list(self.sources),
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=repr).encode()).hexdigest()[:16]

    def __hash__(self) -> int:
        return hash(self.fingerprint())


def default_settings(select: list[str] | None = None) -> LintSettings:
    from trainlint.registry import resolve_selection

    return LintSettings(resolve_selection(select, [], []))
