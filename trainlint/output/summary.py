"""What people read after the findings: the summary line and the `--statistics` table."""

from __future__ import annotations

from collections import Counter

from trainlint.diagnostics import Diagnostic, Severity
from trainlint.fixes import is_applicable


def statistics(diagnostics: list[Diagnostic], unsafe_fixes: bool) -> str:
    """Counts per rule, most frequent first: `count<TAB>code<TAB>[*] name`."""
    counts = Counter(d.code for d in diagnostics)
    fixable = {d.code for d in diagnostics if is_applicable(d, unsafe_fixes)}
    names = {d.code: d.name for d in diagnostics}
    width = max((len(str(n)) for n in counts.values()), default=1)
    rows = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        mark = "[*] " if code in fixable else "    "
        rows.append(f"{count:>{width}}\t{code}\t{mark}{names[code]}\n")
    return "".join(rows)


def summary(diagnostics: list[Diagnostic], fixed: int, mode: str, unsafe_fixes: bool) -> str:
    """`Found 3 findings (1 error, 2 warnings).` and what `--fix` could do about them."""
    total = len(diagnostics)
    if not total:
        if fixed:
            return f"Found {fixed} finding{'s' * (fixed != 1)} ({fixed} fixed, 0 remaining).\n"
        return "All checks passed!\n"
    by_severity = Counter(d.severity for d in diagnostics)
    parts = ", ".join(
        f"{by_severity[s]} {s.value}{'s' * (by_severity[s] != 1 and s is not Severity.INFO)}" for s in Severity if by_severity[s]
    )
    text = f"Found {total + fixed} finding{'s' * (total + fixed != 1)}"
    text += f" ({fixed} fixed, {total} remaining: {parts})." if fixed else f" ({parts})."
    safe = sum(1 for d in diagnostics if is_applicable(d, False))
    unsafe = sum(1 for d in diagnostics if d.fix is not None) - safe
    if mode == "lint" and safe:
        text += f"\n[*] {safe} fixable with the `--fix` option."
    if unsafe and not unsafe_fixes:
        text += f"\n{unsafe} hidden fix{'es' * (unsafe != 1)} can be enabled with the `--unsafe-fixes` option."
    elif unsafe and mode == "lint":
        text += f"\n[*] {unsafe} more fixable with `--fix --unsafe-fixes`."
    return text + "\n"
