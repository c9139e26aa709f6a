"""Configuration files a script reads (`yaml.safe_load(open("configs/train.yaml"))`), with the line of
each entry, so a message can say `lr0 in configs/hyp.yaml, line 7`.

YAML needs PyYAML, imported only when a script reads a YAML file; without it the values stay unknown
(`pip install trainlint[yaml]`). JSON and TOML use the standard library (tomli before Python 3.11);
neither parser reports positions, so an entry's line is where its key is first written after its
table's, which is exact for the files people write by hand.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from trainlint.source import LineIndex

MAX_BYTES = 1_000_000  # bigger is data, not configuration
CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")


@dataclass
class Table:
    """A mapping of the file: each key's value (a nested Table, or plain data) and its line."""

    entries: dict[Any, tuple[Any, int]] = field(default_factory=dict)
    file: str | None = None  # set when merged from several files (Hydra): the file this table comes from
    package: str | None = None  # a Hydra `# @package` directive at the top of the file


def merged(base: Table, over: Table) -> Table:
    """`over`'s entries on top of `base`'s, nested tables merged key by key (OmegaConf.merge's rule)."""
    out = Table(dict(base.entries), over.file or base.file)
    for key, (value, line) in over.entries.items():
        below = out.entries.get(key)
        if below is not None and isinstance(below[0], Table) and isinstance(value, Table):
            out.entries[key] = (merged(below[0], value), line)
        else:
            out.entries[key] = (value, line)
    return out


def in_file(table: Table, file: str) -> Table:
    """A copy of `table` (and of its nested tables) that names the file it comes from."""
    entries = {k: (in_file(v, file) if isinstance(v, Table) else v, line) for k, (v, line) in table.entries.items()}
    return Table(entries, file, table.package)


def parse(data: bytes, suffix: str) -> Table | None:
    """The file's top-level mapping, or None when it is not one, cannot be parsed, or needs a parser
    that is not installed."""
    if len(data) > MAX_BYTES or b"\0" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    try:
        if suffix in (".yaml", ".yml"):
            table = _yaml(text)
            if table is not None:
                directive = re.match(r"(?:[ \t]*(?:#[^\n]*)?\n)*?[ \t]*#[ \t]*@package[ \t]+(\S+)", text)
                table.package = directive.group(1) if directive else None
            return table
        if suffix == ".json":
            return _scanned(json.loads(text), text, _json_key)
        if suffix == ".toml":
            return _scanned(_toml(text), text, _toml_key)
    except (ValueError, RecursionError, MemoryError):  # JSONDecodeError and TOMLDecodeError are ValueErrors
        return None
    return None


def _toml(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    return tomllib.loads(text)


def _yaml(text: str) -> Table | None:
    try:
        import yaml  # type: ignore[import-untyped]  # optional: trainlint[yaml]
    except ImportError:
        return None
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return _yaml_table(node, loader, yaml) if isinstance(node, yaml.MappingNode) else None
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()


def _yaml_table(node: Any, loader: Any, yaml: Any) -> Table:
    table = Table()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node, deep=True)
        if isinstance(value_node, yaml.MappingNode):
            value: Any = _yaml_table(value_node, loader, yaml)
        else:
            value = loader.construct_object(value_node, deep=True)
        table.entries[key] = (value, key_node.start_mark.line + 1)
    return table


def _json_key(key: str) -> str:
    return re.escape(json.dumps(key)) + r"\s*:"


def _toml_key(key: str) -> str:
    """`key =`, `"key" =`, or a table header naming it: `[key]`, `[optim.key]`."""
    return rf"""(?m)^[ \t]*(?:\[\[?[^\]\n]*?)?["']?{re.escape(key)}["']?[ \t]*[=\].]"""


def _scanned(data: Any, text: str, pattern: Any) -> Table | None:
    """Plain parsed data as Tables, each key's line found by searching the text from its table's."""
    if not isinstance(data, dict):
        return None
    lines = LineIndex(text)

    def line_of(offset: int) -> int:
        return lines.position(offset)[0]

    def table(mapping: dict[Any, Any], offset: int) -> tuple[Table, int]:
        """The Table, and the offset its last key ends at: keys follow each other in the text, so
        each is searched after the one before and its nested entries."""
        out = Table()
        for key, value in mapping.items():
            found = re.compile(pattern(str(key))).search(text, offset) if isinstance(key, str) else None
            line = line_of(found.start()) if found else line_of(offset)
            if found:
                offset = found.end()
            if isinstance(value, dict):
                value, offset = table(value, offset)
            out.entries[key] = (value, line)
        return out, offset

    return table(data, 0)[0]
