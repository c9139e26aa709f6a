"""`--output-format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

In a notebook, regions are in the `.ipynb` file's JSON text (the characters of the JSON string that
holds the code), which GitHub can show, and the message starts with the cell and the line in it. A
fix is offered as replacements of that text (its content JSON-escaped) when each edit lies within
one JSON string.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from trainlint import __version__
from trainlint.diagnostics import Diagnostic, Severity, Span
from trainlint.output import FileReport, Fingerprints, Options, relative_path
from trainlint.pages import first_paragraph, get_page, page_url
from trainlint.registry import Rule, all_rules
from trainlint.source import split_lines

INFORMATION_URI = "https://github.com/trainlint/trainlint"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_LIMIT = 1000  # GitHub rejects rule descriptions of 1024 characters or more


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1].rstrip() + "…"


def _rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    page = get_page(rule.code)
    summary = page.summary if page else rule.name
    rationale = first_paragraph(page.rationale) if page else summary
    url = page_url(rule.code, rule.name)
    return {
        "id": rule.code,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": _clip(summary)},
        "fullDescription": {"text": _clip(rationale)},
        "help": {"text": f"{_clip(rationale)} See {url}", "markdown": page.text if page else summary},
        "helpUri": url,
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"tags": ["pytorch", "training"], "fix": rule.fix.value},
    }


def _uri(display: str, root: Path) -> str:
    path = relative_path(display, root)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def _region(span: Span) -> dict[str, Any]:
    return {
        "startLine": span.line,
        "startColumn": span.column + 1,
        "endLine": span.end_line,
        "endColumn": span.end_column + 1,
    }


def _replacements(report: FileReport, d: Diagnostic) -> list[dict[str, Any]] | None:
    """The fix's edits as replacements of the file's text (None: one cannot be expressed so)."""
    if d.fix is None:
        return None
    notebook = report.notebook
    if notebook is None:
        return [{"deletedRegion": _region(e.span), "insertedContent": {"text": e.content}} for e in d.fix.edits]
    out = []
    for e in d.fix.edits:
        edit = notebook.raw_edit(e.span, e.content)
        if edit is None:
            return None
        region, content = edit
        out.append({"deletedRegion": _region(region), "insertedContent": {"text": content}})
    return out


def render(reports: list[FileReport], options: Options) -> str:
    root = (options.root or Path.cwd()).resolve()
    rules = all_rules()
    index = {rule.code: i for i, rule in enumerate(rules)}
    results = []
    for report in reports:
        uri = _uri(report.display, root)
        location = {"uri": uri, "uriBaseId": "%SRCROOT%"} if not uri.startswith("file:") else {"uri": uri}
        lines = split_lines(report.source) if report.source is not None else None
        fingerprints = Fingerprints()
        for d in report.diagnostics:
            line_text = lines[d.span.line - 1] if lines and d.span.line <= len(lines) else d.message
            result = {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": _LEVEL[d.severity],
                "message": {"text": report.label(d.span) + d.message},
                "locations": [{"physicalLocation": {"artifactLocation": location, "region": _region(report.raw(d.span))}}],
                "partialFingerprints": {"trainlint/v1": fingerprints.of(d, uri, line_text)},
            }
            if d.related:
                result["relatedLocations"] = [
                    {
                        "id": i,
                        "physicalLocation": {"artifactLocation": location, "region": _region(report.raw(span))},
                        "message": {"text": label},
                    }
                    for i, (span, label) in enumerate(d.related, start=1)
                ]
            replacements = _replacements(report, d)
            if d.fix is not None and replacements is not None:
                result["fixes"] = [
                    {
                        "description": {"text": f"{d.fix.message} ({d.fix.applicability.value} fix)"},
                        "artifactChanges": [{"artifactLocation": location, "replacements": replacements}],
                    }
                ]
            results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "trainlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule_descriptor(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
