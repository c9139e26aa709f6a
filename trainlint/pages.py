"""The rule pages (`rules/*.md`): the one source of rule text for the CLI, hover and SARIF.

In a built wheel the pages live in `trainlint/_pages/`; in a source checkout
(an editable install) they are read from the repository's `rules/` folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# Where the pages are published: SARIF's helpUri and the editor's links point here.
RULES_BASE_URL = "https://github.com/trainlint/trainlint/blob/main/rules/"

_TITLE = re.compile(r"^# (TL\d{3}) ([a-z0-9-]+)\s*$")
_FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass
class RulePage:
    code: str
    name: str
    summary: str
    text: str  # the whole Markdown page
    sections: dict[str, str] = field(default_factory=dict)  # "## heading" -> body
    examples: dict[str, list[str]] = field(default_factory=dict)  # "bad"/"good" -> code blocks
    facts: dict[str, str] = field(default_factory=dict)  # the metadata table: Severity, Fix, ...

    @property
    def url(self) -> str:
        return page_url(self.code, self.name)

    @property
    def rationale(self) -> str:
        return self.sections.get("Why it hurts training", self.summary)


def page_url(code: str, name: str) -> str:
    return f"{RULES_BASE_URL}{code}-{name}.md"


def pages_dir() -> Path:
    packaged = Path(__file__).resolve().parent / "_pages"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def parse_page(text: str) -> RulePage:
    lines = text.splitlines()
    match = _TITLE.match(lines[0]) if lines else None
    if match is None:
        raise ValueError("a rule page starts with '# TLnnn kebab-name'")
    page = RulePage(code=match.group(1), name=match.group(2), summary="", text=text)
    section: str | None = None
    body: list[str] = []
    in_code: str | None = None
    block: list[str] = []
    paragraphs: list[str] = []
    for line in lines[1:]:
        fence = _FENCE.match(line)
        if in_code is not None:
            if line.strip() == "```":
                if section in ("Bad", "Good") and in_code == "python":
                    page.examples.setdefault(section.lower(), []).append("\n".join(block) + "\n")
                in_code = None
                block = []
            else:
                block.append(line)
            body.append(line)
            continue
        if fence:
            in_code = fence.group(1)
            body.append(line)
            continue
        if line.startswith("## "):
            if section is not None:
                page.sections[section] = "\n".join(body).strip()
            section, body = line[3:].strip(), []
            continue
        if section is None:
            if line.startswith("|") and not set(line) <= set("|- "):
                cells = [c.strip() for c in line.strip("|").split("|")]
                if len(cells) == 2 and cells[0]:
                    page.facts[cells[0]] = cells[1]
            elif line.strip() and not line.startswith("|"):
                paragraphs.append(line.strip())
        else:
            body.append(line)
    if section is not None:
        page.sections[section] = "\n".join(body).strip()
    page.summary = " ".join(paragraphs)
    return page


@lru_cache(maxsize=1)
def load_pages() -> dict[str, RulePage]:
    out = {}
    directory = pages_dir()
    for path in sorted(directory.glob("TL*.md")):
        page = parse_page(path.read_text(encoding="utf-8"))
        out[page.code] = page
    return out


def get_page(code: str) -> RulePage | None:
    return load_pages().get(code)


def first_paragraph(markdown: str) -> str:
    """The first paragraph of a section, as one line of plain text."""
    paragraph: list[str] = []
    for line in markdown.splitlines():
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return re.sub(r"[`*]", "", " ".join(paragraph))


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\"'])")


def lead_paragraph(markdown: str, limit: int) -> str:
    """The first paragraph of a section, as Markdown, kept to the whole sentences (or list items) that
    fit in `limit` characters, at least one; `…` marks a cut."""
    lines: list[str] = []
    for line in markdown.splitlines():
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line.strip())
    if lines and lines[0].startswith("- "):
        units: list[str] = []  # list items, each with its continuation lines
        for line in lines:
            if line.startswith("- ") or not units:
                units.append(line)
            else:
                units[-1] += f" {line}"
        separator = "\n"
    else:
        units = _SENTENCE_BREAK.split(" ".join(lines))
        separator = " "
    kept = units[:1]
    for unit in units[1:]:
        if len(separator.join([*kept, unit])) > limit:
            break
        kept.append(unit)
    text = separator.join(kept)
    return text if len(kept) == len(units) else f"{text} …"
