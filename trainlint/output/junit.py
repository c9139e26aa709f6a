"""`--output-format junit`: JUnit XML, the test report format of Jenkins, GitLab and most CI servers.

Each linted file is a test suite; each finding is a failed test case (TL002, an internal error, is an
errored one) whose text is the finding as the `full` format shows it; a clean file is one passing
test case, so the report counts every file checked.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from trainlint.output import FileReport, Options
from trainlint.output.full import render_diagnostic
from trainlint.output.style import Style, visible
from trainlint.source import split_lines


def render(reports: list[FileReport], options: Options) -> str:
    plain = Style(False)
    failures = sum(1 for r in reports for d in r.diagnostics if d.code != "TL002")
    errors = sum(1 for r in reports for d in r.diagnostics if d.code == "TL002")
    tests = sum(len(r.diagnostics) or 1 for r in reports)
    root = ET.Element("testsuites", name="trainlint", tests=str(tests), failures=str(failures), errors=str(errors))
    for report in reports:
        path = visible(report.display)
        classname = path.removesuffix(".py")
        suite_errors = sum(1 for d in report.diagnostics if d.code == "TL002")
        suite = ET.SubElement(
            root,
            "testsuite",
            name=path,
            tests=str(len(report.diagnostics) or 1),
            failures=str(len(report.diagnostics) - suite_errors),
            errors=str(suite_errors),
            skipped="0",
        )
        if not report.diagnostics:
            ET.SubElement(suite, "testcase", name="trainlint", classname=classname, file=path)
            continue
        lines = split_lines(report.source) if report.source is not None else None
        script = report.notebook.script if report.notebook is not None else None
        for d in report.diagnostics:
            line = report.raw(d.span).line  # a notebook's: the line of its JSON text, where CI servers link
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"{d.code} {d.name} at {report.where(d.span)}",
                classname=classname,
                file=path,
                line=str(line),
            )
            outcome = ET.SubElement(
                case, "error" if d.code == "TL002" else "failure", message=visible(d.message), type=d.severity.value
            )
            outcome.text = render_diagnostic(report.display, d, lines, plain, options.unsafe_fixes, script)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
