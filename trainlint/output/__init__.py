"""Output formats. Each takes the run's reports and returns the text to print."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trainlint.diagnostics import Diagnostic

FORMATS = ("text", "json", "sarif", "github")


@dataclass
class FileReport:
    display: str  # the path as shown to the user (relative, as given)
    diagnostics: list[Diagnostic]
    source: str | None = None  # the text, when known (SARIF fingerprints use its lines)


def render(fmt: str, reports: list[FileReport], **options: Any) -> str:
    if fmt == "json":
        from trainlint.output.json import render_json

        return render_json(reports)
    if fmt == "sarif":
        from trainlint.output.sarif import render_sarif

        return render_sarif(reports, **options)
    if fmt == "github":
        from trainlint.output.github import render_github

        return render_github(reports)
    raise ValueError(fmt)
