"""`--output-format gitlab`: a GitLab Code Quality report (`artifacts: reports: codequality:`).

GitLab reads `description`, `check_name`, `fingerprint`, `severity`, `location.path` (relative to the
repository: `$CI_PROJECT_DIR`, else the current directory) and the line; it shows findings with
equal fingerprints once, so each finding has its own, stable while its line is unchanged. In a
notebook the position is in the `.ipynb` file's JSON text and the description starts with the cell
and the line in it; the fingerprint is of the code line, so it survives outputs changing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from trainlint.diagnostics import Severity
from trainlint.output import FileReport, Fingerprints, Options
from trainlint.source import split_lines

# GitLab's scale is info, minor, major, critical, blocker.
_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def _relative(display: str, root: str) -> str:
    absolute = os.path.abspath(display)
    return Path(os.path.relpath(absolute, root)).as_posix()


def render(reports: list[FileReport], options: Options) -> str:
    root = os.path.abspath(os.environ.get("CI_PROJECT_DIR") or options.root or os.getcwd())
    issues: list[dict[str, Any]] = []
    for report in reports:
        path = _relative(report.display, root)
        lines = split_lines(report.source) if report.source is not None else None
        fingerprints = Fingerprints()
        for d in report.diagnostics:
            line_text = lines[d.span.line - 1] if lines and d.span.line <= len(lines) else d.message
            span = report.raw(d.span)  # a notebook's: the JSON text's line, which GitLab shows
            issues.append(
                {
                    "description": f"{report.label(d.span)}{d.code} {d.message}",
                    "check_name": d.code,
                    "fingerprint": hashlib.sha256(fingerprints.of(d, path, line_text).encode()).hexdigest()[:32],
                    "severity": _SEVERITY[d.severity],
                    "location": {
                        "path": path,
                        "positions": {
                            "begin": {"line": span.line, "column": span.column + 1},
                            "end": {"line": span.end_line, "column": span.end_column + 1},
                        },
                    },
                }
            )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
