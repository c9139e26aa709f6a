"""One line per finding: `concise` (for scripts and editors' problem matchers), `grouped` (by file)
and `pylint` (the parseable form Jenkins' Warnings plugin reads)."""

from __future__ import annotations

from trainlint.fixes import is_applicable
from trainlint.output import FileReport, Options
from trainlint.output.style import BOLD, SEVERITY_COLOR, Style, visible


def render(reports: list[FileReport], options: Options) -> str:
    """`path:line:column: severity: CODE [*] message`: the shape compilers print, which problem
    matchers (VS Code's `$gcc`, Vim's errorformat, Emacs' compilation mode) already read. In a
    notebook: `path:cell 4:3:9: ...`, as ruff prints it."""
    style = Style(options.color)
    out = []
    for report in reports:
        path = style(visible(report.display), BOLD)
        for d in report.diagnostics:
            mark = "[*] " if is_applicable(d, options.unsafe_fixes) else ""
            severity = style(d.severity.value, SEVERITY_COLOR[d.severity])
            out.append(f"{path}:{report.where(d.span)}: {severity}: {style(d.code, BOLD)} {mark}{visible(d.message)}\n")
    return "".join(out)


def render_grouped(reports: list[FileReport], options: Options) -> str:
    """Each file's name once, then its findings indented: `  line:column severity CODE [*] message`."""
    style = Style(options.color)
    out = []
    for report in reports:
        if not report.diagnostics:
            continue
        out.append(f"{style(visible(report.display), BOLD)}:\n")
        positions = [report.where(d.span) for d in report.diagnostics]
        position_width = max(len(p) for p in positions)
        severity_width = max(len(d.severity.value) for d in report.diagnostics)
        for position, d in zip(positions, report.diagnostics, strict=True):
            mark = "[*] " if is_applicable(d, options.unsafe_fixes) else ""
            severity = style(d.severity.value, SEVERITY_COLOR[d.severity]) + " " * (severity_width - len(d.severity.value))
            out.append(f"  {position:<{position_width}} {severity} {style(d.code, BOLD)} {mark}{visible(d.message)}\n")
        out.append("\n")
    return "".join(out)


def render_pylint(reports: list[FileReport], options: Options) -> str:
    """`path:line: [CODE] message` (`path:cell 4:3: ...` in a notebook), as ruff writes it for pylint's consumers."""
    return "".join(
        f"{report.display}:{report.where(d.span).rsplit(':', 1)[0]}: [{d.code}] {visible(d.message)}\n"
        for report in reports
        for d in report.diagnostics
    )
