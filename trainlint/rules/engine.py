"""TL0xx: findings the engine itself reports (they have pages and codes like any rule)."""

from __future__ import annotations

from trainlint.diagnostics import Severity
from trainlint.registry import FixKind, Rule, register


@register
class SyntaxErrorRule(Rule):
    code = "TL001"
    name = "syntax-error"
    severity = Severity.ERROR
    engine = True


@register
class InternalError(Rule):
    code = "TL002"
    name = "internal-error"
    severity = Severity.ERROR
    engine = True


@register
class UnusedSuppression(Rule):
    code = "TL003"
    name = "unused-suppression"
    severity = Severity.WARNING
    fix = FixKind.SAFE
    engine = True


@register
class UnreadableFile(Rule):
    code = "TL004"
    name = "unreadable-file"
    severity = Severity.ERROR
    engine = True
