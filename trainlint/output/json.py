"""`--output-format json` and `json-lines`: one object per diagnostic, with exactly the documented keys.

`cell` is the notebook cell (1-based, counting every cell) and the lines are lines in that cell; it
is null in a Python file. Each edit of a fix has its own `cell`: a fix can edit another cell.
"""

from __future__ import annotations

import json
from typing import Any

from trainlint.diagnostics import Diagnostic
from trainlint.output import FileReport, Options


def _item(report: FileReport, d: Diagnostic) -> dict[str, Any]:
    cell, span = report.position(d.span)
    item = {"path": report.display, "cell": cell, **d.to_json(), **span.to_json()}
    if d.fix is not None:
        edits = []
        for edit in d.fix.edits:
            edit_cell, edit_span = report.position(edit.span)
            edits.append({"cell": edit_cell, **edit_span.to_json(), "content": edit.content})
        item["fix"] = {**item["fix"], "edits": edits}
    return item


def _items(reports: list[FileReport]) -> list[dict[str, Any]]:
    return [_item(report, d) for report in reports for d in report.diagnostics]


def render(reports: list[FileReport], options: Options) -> str:
    return json.dumps(_items(reports), indent=2, ensure_ascii=False) + "\n"


def render_lines(reports: list[FileReport], options: Options) -> str:
    """JSON Lines: each object on a line of its own, for tools that stream or `grep` the report."""
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in _items(reports))
