"""`--output-format json`: one object per diagnostic, with exactly the documented keys."""

from __future__ import annotations

import json

from trainlint.output import FileReport


def render_json(reports: list[FileReport]) -> str:
    items = [{"path": report.display, **d.to_json()} for report in reports for d in report.diagnostics]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
