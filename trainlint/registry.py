"""Rules: what each one is (code, name, severity, fix, options) and how they are selected.

This module and the rule modules import no libcst at import time, so the CLI
can list rules, validate configuration and answer from the cache without the
parser.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from trainlint.diagnostics import Fix, Severity

if TYPE_CHECKING:
    from trainlint.model import ScriptModel


class FixKind(str, enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"
    NONE = "none"


@dataclass(frozen=True)
class NoOptions:
    pass


@dataclass
class Finding:
    """What a rule reports, before positions are known.

    `message` and `fix` are called once the engine has computed the ranges of
    `node` and of every node in `refs` (the places the message cites), so they
    can quote line numbers at no extra cost.
    """

    node: Any
    message: Callable[[], str]
    fix: Callable[[], Fix | None] | None = None
    refs: Sequence[Any] = ()
    severity: Severity | None = None  # lower than the rule's when the evidence is weaker
    # Where the reported value was written (a constant, an argparse default): a noqa comment there counts too.
    suppressible_at: Sequence[Any] = ()
    # Places the message cites, each with a short label ("default of --lr"): shown beside those lines
    # by the `full` output and as SARIF related locations. Their nodes get ranges like `refs`.
    related: Sequence[tuple[Any, str]] = ()


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    fix: ClassVar[FixKind] = FixKind.NONE
    Options: ClassVar[type] = NoOptions
    engine: ClassVar[bool] = False  # reported by the engine itself, not by check()
    # On unless the configuration selects otherwise. Rules that are opinions or hygiene rather than
    # a training failure are opt-in: ALL, their prefix or their code turns them on (as in ruff).
    default: ClassVar[bool] = True

    @classmethod
    def trigger_words(cls) -> frozenset[str] | None:
        """Words without which the rule cannot fire: a file containing none of them is not parsed
        for this rule. None: no such shortcut."""
        return None

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        """Groups of words the text must contain one of each (more groups: fewer files parsed). By
        default the one group of trigger_words()."""
        words = cls.trigger_words()
        return (words,) if words is not None else ()

    @classmethod
    def could_fire(cls, text: str | bytes, looked_up: dict[str, bool] | None = None) -> bool:
        """Whether the text contains a word of every trigger group (bytes: the words in ASCII).
        `looked_up` remembers the words already searched for in this text: rules share many."""
        memo: dict[str, bool] = {} if looked_up is None else looked_up
        for group in _groups(cls, isinstance(text, bytes)):
            for word, spelled in group:
                found = memo.get(word)
                if found is None:
                    found = memo[word] = spelled in text  # type: ignore[operator]
                if found:
                    break
            else:
                return False
        return True

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        return ()


REGISTRY: dict[str, type[Rule]] = {}

# Each rule's trigger groups, as (word, the word as searched for: str or ASCII bytes), by rule and
# kind of text: asked for every file, and the words come from fixed tables.
_GROUPS: dict[tuple[type[Rule], bool], tuple[tuple[tuple[str, str | bytes], ...], ...]] = {}


def _groups(rule: type[Rule], as_bytes: bool) -> tuple[tuple[tuple[str, str | bytes], ...], ...]:
    groups = _GROUPS.get((rule, as_bytes))
    if groups is None:
        groups = tuple(tuple((w, w.encode() if as_bytes else w) for w in sorted(group)) for group in rule.trigger_groups())
        _GROUPS[(rule, as_bytes)] = groups
    return groups


def register(cls: type[Rule]) -> type[Rule]:
    assert cls.code not in REGISTRY, cls.code
    assert dataclasses.is_dataclass(cls.Options)
    REGISTRY[cls.code] = cls
    return cls


def all_rules() -> list[type[Rule]]:
    import trainlint.rules  # noqa: F401  (registers every rule)

    return [REGISTRY[code] for code in sorted(REGISTRY)]


def by_name() -> dict[str, type[Rule]]:
    return {rule.name: rule for rule in all_rules()}


def find_rule(key: str) -> type[Rule] | None:
    """A rule by code (any case) or kebab-case name."""
    all_rules()
    return REGISTRY.get(key.upper()) or by_name().get(key.lower())


class SelectorError(ValueError):
    pass


def expand_selector(selector: str) -> tuple[list[str], int]:
    """The codes a selector names, and how specific it is (ruff's precedence)."""
    rules = all_rules()
    text = selector.strip()
    if text.upper() == "ALL":
        return [r.code for r in rules], 0
    rule = find_rule(text)
    if rule is not None:
        return [rule.code], 10
    prefix = text.upper()
    if prefix.startswith("TL") and prefix[2:].isdigit():
        codes = [r.code for r in rules if r.code.startswith(prefix)]
        if codes:
            return codes, len(prefix)
    if prefix == "TL":
        return [r.code for r in rules], 2
    raise SelectorError(f"unknown rule selector {selector!r}: use a code (TL101), a prefix (TL1), a rule name or ALL")


def default_codes() -> list[str]:
    return [r.code for r in all_rules() if r.default]


def resolve_selection(select: Iterable[str] | None, extend_select: Iterable[str], ignore: Iterable[str]) -> frozenset[str]:
    """Enabled codes: the most specific selector decides; at equal specificity, ignore wins.
    No `select` means the default set, as unspecific as ALL, so any prefix ignores within it."""
    best: dict[str, tuple[int, bool]] = {}
    if select is None:
        best = {code: (0, True) for code in default_codes()}
        select = ()
    for selectors, enabled in ((select, True), (extend_select, True), (ignore, False)):
        for selector in selectors:
            codes, specificity = expand_selector(selector)
            for code in codes:
                current = best.get(code)
                if current is None or specificity > current[0] or (specificity == current[0] and not enabled):
                    best[code] = (specificity, enabled)
    return frozenset(code for code, (_, enabled) in best.items() if enabled)
