"""`--output-format json` and `json-lines`: one object per diagnostic, with exactly the documented keys."""

from __future__ import annotations

import json
from typing import Any

from trainlint.output import FileReport, Options


def _items(reports: list[FileReport]) -> list[dict[str, Any]]:
    return [{"path": report.display, **d.to_json()} for report in reports for d in report.diagnostics]


def render(reports: list[FileReport], options: Options) -> str:
    return json.dumps(_items(reports), indent=2, ensure_ascii=False) + "\n"


def render_lines(reports: list[FileReport], options: Options) -> str:
    """JSON Lines: each object on a line of its own, for tools that stream or `grep` the report."""
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in _items(reports))
