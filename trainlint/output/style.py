"""Terminal text: colours (rustc's palette), source lines made safe to print, display widths."""

from __future__ import annotations

import unicodedata

from trainlint.diagnostics import Severity

_RESET = "\x1b[0m"
# Bright and bold, as rustc and ruff colour their diagnostics.
SEVERITY_COLOR = {Severity.ERROR: "1;91", Severity.WARNING: "1;93", Severity.INFO: "1;96"}
GUTTER = "1;94"  # line numbers, `|`, `-->` and the secondary labels
HELP = "1;96"
BOLD = "1"


class Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, color: str) -> str:
        return f"\x1b[{color}m{text}{_RESET}" if self.enabled and text else text


# Control characters would move the cursor, ring the bell or start escape sequences when printed
# (a file can hold any of them): C0 and DEL show as their Unicode control pictures, C1 and the two
# noncharacters XML forbids as U+FFFD. The result is safe in a terminal and in XML alike.
_VISIBLE = (
    {code: 0x2400 + code for code in range(0x20)}
    | {0x7F: 0x2421}
    | {code: 0xFFFD for code in (*range(0x80, 0xA0), 0xFFFE, 0xFFFF)}
)
TAB = "    "  # a tab shows as four spaces (as ruff shows it), so carets line up


def visible(text: str) -> str:
    """The text with tabs expanded and control characters replaced, one character by one."""
    if text.isprintable():
        return text
    return text.replace("\t", TAB).translate(_VISIBLE)


def width(text: str) -> int:
    """Terminal columns of visible text: wide East Asian characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    total = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) == "Cf":
            continue
        total += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return total
