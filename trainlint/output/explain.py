"""`trainlint explain` reports: text for a terminal (with the learning-rate curve as a plot), Markdown
for a pull request or a notebook, JSON for tools (keys documented in README's "trainlint explain"),
and one self-contained HTML file with each curve drawn as SVG (written here: no dependency)."""

from __future__ import annotations

import html as escape
import json
import math
from typing import Any

from trainlint.explain import Curve, Report
from trainlint.output.style import BOLD, SEVERITY_COLOR, Style
from trainlint.rules.common import fmt_number

FORMATS = ("text", "markdown", "json", "html")
JSON_VERSION = 1
_VERDICT_COLOR = {"ok": "1;92", "problem": "1;91", "unknown": "1;93"}
_PLOT_WIDTH, _PLOT_HEIGHT = 60, 8


def render(report: Report, fmt: str, color: bool = False) -> str:
    if fmt == "json":
        return json.dumps(to_json(report), indent=2) + "\n"
    if fmt == "markdown":
        return markdown(report)
    if fmt == "html":
        return html(report)
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
                    {
                        "code": d.code,
                        "name": d.name,
                        "severity": d.severity.value,
                        **_place(report, d.span.line),
                        "message": d.message,
                    }
                    for d in stage.findings
                ],
                "curves": [
                    {"scheduler": c.scheduler, **_place(report, c.line), "per": c.per, "learning_rates": c.values}
                    for c in stage.curves
                ],
            }
            for stage in report.stages
        ],
    }


def _place(report: Report, line: int) -> dict[str, int | None]:
    """`line`, and `cell`: in a notebook the line counts from the start of that cell; null for a script."""
    cell, local = report.where(line)
    return {"cell": cell, "line": local}


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
            lines.append(f"   {style(d.code, SEVERITY_COLOR[d.severity])} {report.cite(d.span.line)}: {d.message}")
        for curve in stage.curves:
            lines.append(f"   learning rate of {curve.scheduler} ({report.cite(curve.line)}), stepped {_per(curve)}:")
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
        lines += [f"- **{d.code}** ({d.severity.value}, {report.cite(d.span.line)}): {d.message}" for d in stage.findings]
        for curve in stage.curves:
            lines += ["", f"Learning rate of {curve.scheduler} ({report.cite(curve.line)}), stepped {_per(curve)}:", "", "```"]
            lines += plot(curve.values)
            lines.append("```")
        lines.append("")
    return "\n".join(lines)


_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #1f2328; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
code { font: 0.9em ui-monospace, monospace; background: #f3f4f6; padding: 0 0.2em; }
.ok { color: #1a7f37; } .problem { color: #cf222e; } .unknown { color: #9a6700; }
.finding { margin: 0.3em 0; } .code { font-weight: 600; }
svg { background: #fafafa; border: 1px solid #d0d7de; margin: 0.5em 0; }
"""


def html(report: Report) -> str:
    e = escape.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>trainlint explain {e(report.path)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>trainlint explain <code>{e(report.path)}</code></h1>",
    ]
    if report.error:
        out.append(f"<p>{e(report.error)}</p>")
    for number, stage in enumerate(report.stages, 1):
        out.append(f'<h2>{number}. {e(stage.title)}: <span class="{stage.verdict}">{stage.verdict}</span></h2>')
        if stage.unknown and not report.error:
            out.append(f"<p>Unknown: {e(stage.unknown)}</p>")
        if stage.facts:
            out.append("<ul>" + "".join(f"<li>{e(fact)}</li>" for fact in stage.facts) + "</ul>")
        for d in stage.findings:
            out.append(
                f'<p class="finding {d.severity.value}"><span class="code">{d.code}</span> '
                f"({d.severity.value}, {report.cite(d.span.line)}): {e(d.message)}</p>"
            )
        for curve in stage.curves:
            out.append(f"<p>Learning rate of {e(curve.scheduler)} ({report.cite(curve.line)}), stepped {_per(curve)}:</p>")
            out.append(svg(curve.values))
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def svg(values: list[float], width: int = 640, height: int = 220) -> str:
    """The curve as an SVG line chart with its axes' end values."""
    left, right, top, bottom = 70, 10, 10, 30
    high, low = max(values), min(values)
    span = (high - low) or 1.0
    steps = max(1, len(values) - 1)

    def x(i: int) -> float:
        return left + (width - left - right) * i / steps

    def y(v: float) -> float:
        return top + (height - top - bottom) * (high - v) / span

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    axis = f"M{left},{top} V{height - bottom} H{width - right}"
    labels = [
        (left - 6, y(high) + 4, "end", fmt_number(_round(high))),
        (left - 6, y(low) + 4, "end", fmt_number(_round(low))),
        (left, height - 10, "start", "0"),
        (width - right, height - 10, "end", f"step {len(values) - 1}"),
    ]
    text = "".join(f'<text x="{tx}" y="{ty:.1f}" text-anchor="{anchor}">{t}</text>' for tx, ty, anchor, t in labels)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="12" '
        f'font-family="sans-serif" role="img" aria-label="learning rate per step">'
        f'<path d="{axis}" fill="none" stroke="#57606a"/>'
        f'<polyline points="{points}" fill="none" stroke="#0969da" stroke-width="2"/>{text}</svg>'
    )
