"""The editor's settings (initializationOptions, workspace/didChangeConfiguration)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trainlint.config import PREFERENCES, ConfigError, Overrides, _check_selectors, _check_severity
from trainlint.diagnostics import Severity


@dataclass
class EditorSettings:
    enable: bool = True
    run: str = "onType"  # onType | onSave
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, Severity] = field(default_factory=dict)
    configuration_preference: str = "filesystemFirst"
    inlay_hints: bool = False  # resolved argument values after calls' arguments
    shape_hints: bool = False  # the tensor shape after each line of `forward`

    def overrides(self) -> Overrides:
        return Overrides(select=self.select, extend_select=self.extend_select, ignore=self.ignore, severity=self.severity)

    def rule_settings_set(self) -> list[str]:
        """The rule settings the user set (the ones a configuration file replaces under filesystemFirst)."""
        given = {
            "trainlint.select": self.select is not None,
            "trainlint.extendSelect": bool(self.extend_select),
            "trainlint.ignore": bool(self.ignore),
            "trainlint.severity": bool(self.severity),
        }
        return [name for name, is_set in given.items() if is_set]


def parse(raw: Any) -> tuple[EditorSettings, list[str]]:
    """Settings from the client's JSON; problems are returned (and skipped), never raised."""
    if isinstance(raw, dict) and isinstance(raw.get("settings"), dict):
        raw = raw["settings"]  # initializationOptions: {"settings": {...}}
    if isinstance(raw, dict) and isinstance(raw.get("trainlint"), dict):
        raw = raw["trainlint"]  # didChangeConfiguration: {"trainlint": {...}}
    settings = EditorSettings()
    problems: list[str] = []
    if not isinstance(raw, dict):
        return settings, problems

    def take(key: str, check: Callable[[Any, str], Any], attribute: str) -> None:
        if key not in raw or raw[key] is None:
            return
        try:
            setattr(settings, attribute, check(raw[key], f"trainlint.{key}"))
        except ConfigError as exc:
            problems.append(str(exc))

    def boolean(value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value

    def choice(options: tuple[str, ...]) -> Callable[[Any, str], str]:
        def check(value: Any, where: str) -> str:
            if not isinstance(value, str) or value not in options:
                raise ConfigError(f"{where}: expected one of {', '.join(options)}, got {value!r}")
            return value

        return check

    take("enable", boolean, "enable")
    take("run", choice(("onType", "onSave")), "run")
    take("select", _check_selectors, "select")
    take("extendSelect", _check_selectors, "extend_select")
    take("ignore", _check_selectors, "ignore")
    take("severity", _check_severity, "severity")
    take("configurationPreference", choice(PREFERENCES), "configuration_preference")
    take("inlayHints", boolean, "inlay_hints")
    take("shapeHints", boolean, "shape_hints")
    return settings, problems
