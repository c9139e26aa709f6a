"""What a lint run produces: diagnostics, their fixes and edits.

Plain data with no libcst in sight: the cache, the output formats and the
language server all handle these without importing the parser.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Span:
    """A range in a file: 1-based lines, 0-based code-point columns, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    def to_json(self) -> dict[str, Any]:
        """As JSON output states ranges: 1-based columns, end exclusive."""
        return {"line": self.line, "column": self.column + 1, "end_line": self.end_line, "end_column": self.end_column + 1}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Span:
        return cls(data["line"], data["column"] - 1, data["end_line"], data["end_column"] - 1)


@dataclass(frozen=True)
class Edit:
    span: Span
    content: str

    def to_json(self) -> dict[str, Any]:
        return {**self.span.to_json(), "content": self.content}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Edit:
        return cls(Span.from_json(data), data["content"])


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    message: str
    edits: tuple[Edit, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability.value,
            "message": self.message,
            "edits": [e.to_json() for e in self.edits],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fix:
        return cls(Applicability(data["applicability"]), data["message"], tuple(Edit.from_json(e) for e in data["edits"]))


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    message: str
    severity: Severity
    span: Span
    fix: Fix | None = None
    # More lines whose noqa comment suppresses this diagnostic (where its value was written).
    suppression_lines: tuple[int, ...] = field(default=(), compare=False)
    # The places the message cites (an argparse default, a constant), each with a short label: the
    # `full` output shows them as secondary labels, SARIF as related locations.
    related: tuple[tuple[Span, str], ...] = field(default=(), compare=False)

    @property
    def sort_key(self) -> tuple[Span, str, str]:
        return (self.span, self.code, self.message)

    def to_json(self, related: bool = False) -> dict[str, Any]:
        """The JSON output's object, minus `path` (added by the caller). `related`: also the cited
        places, which the cache keeps but the documented JSON output does not have."""
        data: dict[str, Any] = {
            **self.span.to_json(),
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "severity": self.severity.value,
            "fix": self.fix.to_json() if self.fix else None,
        }
        if related and self.related:
            data["related"] = [{**span.to_json(), "label": label} for span, label in self.related]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        return cls(
            code=data["code"],
            name=data["name"],
            message=data["message"],
            severity=Severity(data["severity"]),
            span=Span.from_json(data),
            fix=Fix.from_json(data["fix"]) if data["fix"] else None,
            related=tuple((Span.from_json(r), r["label"]) for r in data.get("related", ())),
        )
