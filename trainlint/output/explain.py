"""`trainlint explain` reports: text for a terminal (with the learning-rate curve as a plot), Markdown
for a pull request or a notebook, JSON for tools (keys documented in README's "trainlint explain")."""

from __future__ import annotations

import json
import math
from typing import Any

from trainlint.explain import Curve, Report
from trainlint.output.style import BOLD, SEVERITY_COLOR, Style
from trainlint.rules.common import fmt_number

FORMATS = ("text", "markdown", "json")
JSON_VERSION = 1
_VERDICT_COLOR = {"ok": "1;92", "problem": "1;91", "unknown": "1;93"}
_PLOT_WIDTH, _PLOT_HEIGHT = 60, 8


def render(report: Report, fmt: str, color: bool = False) -> str:
    if fmt == "json":
        return json.dumps(to_json(report), indent=2) + "\n"
    if fmt == "markdown":
        return markdown(report)
    return text(report, Style(color))


def to_json(report: Report) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "path": report.path,
        "error": report.error,
        "stages": [
            {
                "key": stage.key,
                "title": stage.title,
                "verdict": stage.verdict,
                "unknown": stage.unknown,
                "facts": stage.facts,
                "findings": [
                    {"code": d.code, "name": d.name, "severity": d.severity.value, "line": d.span.line, "message": d.message}
                    for d in stage.findings
                ],
                "curves": [
                    {"scheduler": c.scheduler, "line": c.line, "per": c.per, "learning_rates": c.values} for c in stage.curves
                ],
            }
            for stage in report.stages
        ],
    }


def _per(curve: Curve) -> str:
    return {"batch": "per batch", "epoch": "per epoch"}.get(curve.per, "per step of unknown length")


def text(report: Report, style: Style) -> str:
    lines = [style(f"trainlint explain {report.path}", BOLD)]
    if report.error:
        lines.append(f"  {report.error}")
    for number, stage in enumerate(report.stages, 1):
        lines.append("")
        verdict = style(stage.verdict.upper(), _VERDICT_COLOR[stage.verdict])
        lines.append(f"{number}. {style(stage.title, BOLD)}: {verdict}")
        if stage.unknown and not report.error:
            lines.append(f"   unknown: {stage.unknown}")
        lines += [f"   - {fact}" for fact in stage.facts]
        for d in stage.findings:
            lines.append(f"   {style(d.code, SEVERITY_COLOR[d.severity])} line {d.span.line}: {d.message}")
        for curve in stage.curves:
            lines.append(f"   learning rate of {curve.scheduler} (line {curve.line}), stepped {_per(curve)}:")
            lines += ["     " + row for row in plot(curve.values)]
    return "\n".join(lines) + "\n"


def plot(values: list[float], width: int = _PLOT_WIDTH, height: int = _PLOT_HEIGHT) -> list[str]:
    """A terminal plot: rows from the highest rate down, one column per step (sampled to `width`)."""
    if not values:
        return []
    count = min(width, len(values))
    columns = [values[i * len(values) // count] for i in range(count)]
    high, low = max(values), min(values)
    rows_used = height if high > low else 1
    grid = [[" "] * len(columns) for _ in range(rows_used)]
    for x, value in enumerate(columns):
        row = round((high - value) / (high - low) * (rows_used - 1)) if high > low else 0
        grid[row][x] = "*"
    rows = []
    for r, cells in enumerate(grid):
        label = fmt_number(_round(high)) if r == 0 else fmt_number(_round(low)) if r == rows_used - 1 else ""
        rows.append(f"{label:>10} |{''.join(cells).rstrip()}")
    rows.append(f"{'':>10} +{'-' * len(columns)}")
    end = f"step {len(values) - 1}"
    rows.append(f"{'':>10}  0{end:>{max(len(end), len(columns) - 1)}}")
    return rows


def _round(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, 3 - math.floor(math.log10(abs(value))))


def markdown(report: Report) -> str:
    lines = [f"# trainlint explain `{report.path}`", ""]
    if report.error:
        lines += [report.error, ""]
    for number, stage in enumerate(report.stages, 1):
        lines.append(f"## {number}. {stage.title}: **{stage.verdict}**")
        lines.append("")
        if stage.unknown and not report.error:
            lines += [f"Unknown: {stage.unknown}", ""]
        lines += [f"- {fact}" for fact in stage.facts]
        lines += [f"- **{d.code}** ({d.severity.value}, line {d.span.line}): {d.message}" for d in stage.findings]
        for curve in stage.curves:
            lines += ["", f"Learning rate of {curve.scheduler} (line {curve.line}), stepped {_per(curve)}:", "", "```"]
            lines += plot(curve.values)
            lines.append("```")
        lines.append("")
    return "\n".join(lines)
