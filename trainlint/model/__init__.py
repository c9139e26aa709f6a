"""The per-file script model that every rule queries."""

from trainlint.model.script import ScriptModel

__all__ = ["ScriptModel"]
