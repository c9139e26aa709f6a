"""`--output-format github`: workflow commands that GitHub Actions turns into annotations.

In a notebook the annotation points at the line of the `.ipynb` file (its JSON text) that holds the
code, which is what GitHub can show; the message starts with the cell and the line in it.
"""

from __future__ import annotations

from trainlint.diagnostics import Severity
from trainlint.output import FileReport, Options

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(reports: list[FileReport], options: Options) -> str:
    lines = []
    for report in reports:
        for d in report.diagnostics:
            span = report.raw(d.span)
            props = (
                f"file={_property(report.display)},line={span.line},col={span.column + 1},"
                f"endLine={span.end_line},endColumn={span.end_column + 1},title={_property(f'{d.code} ({d.name})')}"
            )
            lines.append(f"::{_COMMAND[d.severity]} {props}::{_data(f'{report.label(d.span)}{d.code} {d.message}')}")
    return "".join(line + "\n" for line in lines)
