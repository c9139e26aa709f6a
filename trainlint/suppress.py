"""`# noqa` suppressions: parsing them, applying them, and finding the unused ones."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from trainlint.source import LineIndex

_CANDIDATE = re.compile(r"noqa", re.IGNORECASE)
_NOQA = re.compile(
    r"#\s*noqa(?P<sep>\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:(?:\s*,\s*|\s+)[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_FILE_NOQA = re.compile(
    r"#\s*trainlint\s*:\s*noqa(?:\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:(?:\s*,\s*|\s+)[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


@dataclass
class Noqa:
    line: int
    column: int  # of the `#`, 0-based code points
    end_column: int  # end of the noqa comment (with its codes)
    codes: list[tuple[str, int, int]] | None  # (CODE, start, end) columns; None for a bare noqa
    comment: str
    used: set[str] = field(default_factory=set)


@dataclass
class Suppressions:
    by_line: dict[int, list[Noqa]]
    logical: dict[int, tuple[int, int]]  # physical line -> (first, last) line of its statement
    file_all: bool = False  # `# trainlint: noqa` on its own line
    file_codes: set[str] = field(default_factory=set)  # `# trainlint: noqa: TL101`

    def match(self, code: str, line: int, end_line: int, more: tuple[int, ...] = ()) -> Noqa | None:
        """The noqa that suppresses `code` reported at these lines, if any: on the diagnostic's
        lines, the first or last line of its statement, or the `more` lines (where its value
        was written)."""
        first, last = self.logical.get(line, (line, line))
        end_first, end_last = self.logical.get(end_line, (end_line, end_line))
        for candidate in dict.fromkeys((line, first, last, end_line, end_first, end_last, *more)):
            for noqa in self.by_line.get(candidate, ()):
                if noqa.codes is None or any(c == code for c, _, _ in noqa.codes):
                    return noqa
        return None

    def file_suppresses(self, code: str) -> bool:
        return self.file_all or code in self.file_codes


def scan(text: str) -> tuple[list[tuple[int, int, str]], dict[int, tuple[int, int]]]:
    """Real comments (not `#` inside strings) and each line's logical-line extent."""
    comments: list[tuple[int, int, str]] = []
    logical: dict[int, tuple[int, int]] = {}
    start: int | None = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                comments.append((tok.start[0], tok.start[1], tok.string))
            elif tok.type in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                continue
            if tok.type == tokenize.NEWLINE:
                if start is not None and tok.start[0] > start:
                    for line in range(start, tok.start[0] + 1):
                        logical[line] = (start, tok.start[0])
                start = None
            elif tok.type != tokenize.COMMENT and start is None:
                start = tok.start[0]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return comments, logical


def parse(text: str) -> Suppressions:
    if not _CANDIDATE.search(text):
        return Suppressions({}, {})
    comments, logical = scan(text)
    result = Suppressions({}, logical)
    lines = LineIndex(text)
    for line, column, comment in comments:
        whole = _FILE_NOQA.match(comment)
        if whole:
            if not lines.line_text(line)[:column].strip():  # only on its own line
                if whole.group("codes"):
                    result.file_codes.update(c.upper() for c in _CODE.findall(whole.group("codes")))
                else:
                    result.file_all = True
            continue
        for match in _NOQA.finditer(comment):
            codes = None
            if match.group("codes"):
                base = column + match.start("codes")
                codes = [(m.group().upper(), base + m.start(), base + m.end()) for m in _CODE.finditer(match.group("codes"))]
            result.by_line.setdefault(line, []).append(Noqa(line, column + match.start(), column + match.end(), codes, comment))
            break
    return result
