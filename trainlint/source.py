"""Source text: decoding bytes as Python does, and line/column <-> offset maps."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from functools import cached_property

# The line breaks Python's tokenizer (and libcst's positions) count.
NEWLINE_RE = re.compile(r"\r\n?|\n")


class DecodeError(Exception):
    """The bytes are not text in the file's declared encoding."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # as tokenize names it; "utf-8-sig" when the file starts with a BOM


def decode(data: bytes) -> Decoded:
    """Decode like the interpreter: BOM, then a PEP 263 coding cookie, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown or conflicting coding cookie
        raise DecodeError(f"cannot decode: {exc.msg}", exc.lineno or 1, 0) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1)
        bad = data[exc.start : exc.start + 1].hex()
        raise DecodeError(
            f"cannot decode the file as {encoding}: byte 0x{bad} at line {line} is invalid "
            f"({exc.reason}); save it as UTF-8 or declare its encoding in a coding comment",
            line,
            column,
        ) from None
    return Decoded(text, encoding)


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding)


class LineIndex:
    """Maps between (1-based line, 0-based code-point column) and string offsets."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def starts(self) -> list[int]:
        return [0] + [m.end() for m in NEWLINE_RE.finditer(self.text)]

    def offset(self, line: int, column: int) -> int:
        starts = self.starts
        if line > len(starts):
            return len(self.text)
        return min(starts[line - 1] + column, len(self.text))

    def line_text(self, line: int) -> str:
        """The text of a line, without its line break."""
        starts = self.starts
        if not 1 <= line <= len(starts):
            return ""
        start = starts[line - 1]
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    @property
    def line_count(self) -> int:
        return len(self.starts)
