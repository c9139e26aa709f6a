"""Source text: decoding bytes as Python does, and line/column <-> offset maps."""

from __future__ import annotations

import bisect
import io
import itertools
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
    except SyntaxError as exc:  # an unknown or conflicting coding cookie, or no text at all
        if "invalid or missing encoding declaration" in exc.msg:
            encoding = "utf-8"  # the first lines are not UTF-8 and declare nothing: say which byte
        else:
            raise DecodeError(f"cannot decode: {exc.msg}", exc.lineno or 1, 0) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, encoding, exc) from None
    return Decoded(text, encoding)


def _undecodable(data: bytes, encoding: str, exc: UnicodeDecodeError) -> DecodeError:
    """The first byte that is not text: its line, and its column in characters (what editors show)."""
    start = exc.start + len(data) - len(exc.object)  # utf-8-sig counts from after the byte order mark
    before = data[:start]
    line = len(NEWLINE_RE.findall(before.decode(encoding, errors="replace"))) + 1
    line_start = max(before.rfind(b"\n"), before.rfind(b"\r")) + 1
    # utf-8-sig drops a byte order mark at the start of the file (as the text does), nowhere else.
    codec = "utf-8" if encoding == "utf-8-sig" and line_start else encoding
    column = len(data[line_start:start].decode(codec, errors="replace"))
    bad = data[start : start + 1].hex()
    return DecodeError(
        f"cannot decode the file as {encoding}: byte 0x{bad} at line {line}, column {column + 1} is invalid "
        f"({exc.reason}); save it as UTF-8 or declare its encoding in a coding comment",
        line,
        column,
    )


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding)


def split_lines(text: str) -> list[str]:
    """The lines of a text as Python counts them (`\\r\\n`, `\\r` or `\\n` ends one), without their
    line breaks; a text ending in a line break ends with an empty string."""
    return NEWLINE_RE.split(text) if "\r" in text else text.split("\n")


class LineIndex:
    """Maps between (1-based line, 0-based code-point column) and string offsets."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def starts(self) -> list[int]:
        text = self.text
        if "\r" not in text:  # the usual case: three times faster than the regular expression
            return [0, *itertools.accumulate(len(line) + 1 for line in text.split("\n")[:-1])]
        return [0] + [m.end() for m in NEWLINE_RE.finditer(text)]

    def offset(self, line: int, column: int) -> int:
        starts = self.starts
        if line > len(starts):
            return len(self.text)
        return min(starts[line - 1] + column, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, column) of a string offset."""
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1]

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
