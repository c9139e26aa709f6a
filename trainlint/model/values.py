"""Values with provenance: what an expression can evaluate to, and where that came from.

A `Known` is one candidate value with its *trail* of origins (the literal it
was written as, the constant, argparse option, config entry or call site it
travelled through); the evaluator (`evaluator.py`) returns lists of them, and
an empty list means unknown: rules stay silent then.

Values are plain Python literals or the symbolic objects below (a dict literal,
an instance of a class of this file, an instance of a torch class); recognizers
add their own (an argparse parser, in `cli_args.py`). Nothing is imported or
executed from the code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from trainlint.configfiles import Table
from trainlint.facts import ClassFacts
from trainlint.model.syntax import CallSite, Class, Function, Scope


@dataclass(frozen=True, eq=False, repr=False)
class Origin:
    """A place a value was written or passed through: `label, line N` in messages."""

    label: str
    node: cst.CSTNode  # in this file (for a value from another file: where this file reads it)
    elsewhere: str | None = None  # `config.py, line 3`: where another file of the project wrote it


@dataclass(frozen=True, eq=False, repr=False)
class Known:
    value: Any
    trail: tuple[Origin, ...] = ()
    # The literal the value was written as, when it was written as one: what a fix edits.
    source: cst.BaseExpression | None = None

    def hop(self, origin: Origin) -> Known:
        return Known(self.value, self.trail + (origin,), self.source)


Candidates = list[Known]


# -- frames -----------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class Frame:
    """Where an expression is evaluated: a function invoked from one call site, or from any, and for a
    method, on which instance (two instances of one class built with different arguments are two frames)."""

    function: Function | None = None
    call: CallSite | None = None  # None: any caller (every call site and defaults)
    caller: Frame | None = None  # the frame the call's arguments are evaluated in
    self_value: Known | None = None  # the bound instance for methods

    @property
    def _key(self) -> tuple[Any, ...]:
        return (self.function, self.call, self.caller, _receiver(self.self_value))

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Frame) and self._key == other._key)

    def __hash__(self) -> int:
        # Frames nest through their callers and key every memo: hash each chain once.
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash(self._key)
            object.__setattr__(self, "_hash", cached)
        return cached


def _receiver(known: Known | None) -> Any:
    """What identifies a bound instance: an instance of a class of the file by where it was built (a fresh
    `Instance(cls)` for "any instance" equals another), anything else by identity."""
    if known is None:
        return None
    value = known.value
    if isinstance(value, Instance):
        return (value.cls, value.call, value.frame)
    return id(value)


MODULE_FRAME = Frame()


# -- symbolic objects ---------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Imported:
    """A module or object imported by name: only its qualified name is known."""

    qualname: str


@dataclass(frozen=True, repr=False)
class Builtin:
    name: str


@dataclass(frozen=True, eq=False, repr=False)
class Sequence:
    """A tuple or list literal, its elements evaluated on demand."""

    node: cst.Tuple | cst.List
    scope: Scope
    frame: Frame


@dataclass(frozen=True, eq=False, repr=False)
class Mapping:
    """A dict literal, `dict(...)`, `SimpleNamespace(...)` or similar config object."""

    node: cst.CSTNode
    entries: dict[str, Any]  # key -> expression
    scope: Scope
    frame: Frame
    attribute_access: bool  # SimpleNamespace/EasyDict: cfg.lr; dict: cfg['lr']


@dataclass(frozen=True, repr=False)
class OpenedFile:
    """`open("configs/train.yaml")`: a file of the project a script reads, by its path as written."""

    path: str


@dataclass(frozen=True, eq=False, repr=False)
class ConfigMap:
    """A mapping read from a configuration file (`yaml.safe_load(f)`, `OmegaConf.load(path)`)."""

    table: Table
    file: str  # as shown in messages: `configs/train.yaml`
    prefix: str  # the keys leading here, for messages: `optim.`
    node: cst.CSTNode  # the load call
    attribute_access: bool  # OmegaConf: cfg.optim.lr; yaml, json: cfg['optim']['lr']
    nested: dict[Any, ConfigMap] = field(default_factory=dict)  # one object per nested table, for identity

    def entry(self, key: Any) -> tuple[Any, int] | None:
        """(value, line) of one key; a nested table as a ConfigMap of its own."""
        found = self.table.entries.get(key)
        if found is None:
            return None
        value, line = found
        if isinstance(value, Table):
            if key not in self.nested:
                file = value.file or self.file  # Hydra: a group's entries come from the group's file
                self.nested[key] = ConfigMap(value, file, f"{self.prefix}{key}.", self.node, self.attribute_access)
            value = self.nested[key]
        return value, line


@dataclass(frozen=True, repr=False)
class ClassRef:
    cls: Class


@dataclass(frozen=True, eq=False, repr=False)
class Instance:
    """An instance of a class of this file, built at `call` (None: any instance)."""

    cls: Class
    call: CallSite | None = None
    frame: Frame = MODULE_FRAME


@dataclass(frozen=True, repr=False)
class FunctionRef:
    function: Function
    self_value: Known | None = field(default=None, compare=False)


@dataclass(frozen=True, eq=False, repr=False)
class Super:
    cls: Class
    self_value: Known | None


@dataclass(frozen=True, eq=False, repr=False)
class HyperParameters:
    """Lightning's `self.hparams` after `self.save_hyperparameters(...)` in `__init__`."""

    instance: Known  # the module instance
    init: Function
    saved: cst.Call  # the save_hyperparameters call


@dataclass(frozen=True, eq=False, repr=False)
class TorchObject:
    """An instance of a torch class (an optimizer, a scheduler, a layer)."""

    facts: ClassFacts
    node: cst.Call
    scope: Scope
    frame: Frame


@dataclass(frozen=True, eq=False, repr=False)
class Partial:
    """`functools.partial(torch.optim.SGD, lr=0.1)`: a torch class with some arguments given; calling it
    constructs the object (a `TorchObject` built at that call)."""

    facts: ClassFacts
    node: cst.Call  # the partial(...) call, whose arguments after the class come first
    scope: Scope
    frame: Frame


@dataclass(frozen=True, repr=False)
class Unknown:
    """A value that exists but is not known (an element of `parse_known_args()`)."""


# -- argument binding -----------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Argument:
    """The expression a parameter receives at a call, and where it is evaluated."""

    expr: cst.BaseExpression
    scope: Scope
    frame: Frame
    node: cst.CSTNode  # the Arg (or dict entry) to point at
    label: str | None = None  # names an entry of a `**config` spread, for messages


@dataclass
class BoundArguments:
    arguments: dict[str, Argument]
    complete: bool  # False when *args/**kwargs could fill parameters we cannot see


def literal_value(node: cst.BaseExpression) -> tuple[bool, Any]:
    # Exact types: isinstance on libcst's abstract classes is slow when it fails, and these are leaves.
    try:
        if type(node) is cst.Integer:
            return True, int(node.value.replace("_", ""), 0)
        if type(node) is cst.Float:
            return True, float(node.value.replace("_", ""))
        if type(node) is cst.SimpleString:
            raw = node.raw_value
            if node.prefix.lower() in ("", "r") and "\r" not in raw and (node.prefix or "\\" not in raw):
                return True, raw  # the common case, without a parse
        if type(node) is cst.SimpleString or type(node) is cst.ConcatenatedString:
            return True, ast.literal_eval(_string_code(node))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        pass
    return False, None


def _string_code(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.SimpleString):
        return node.value
    if isinstance(node, cst.ConcatenatedString):
        return _string_code(node.left) + " " + _string_code(node.right)
    raise ValueError("not a plain string")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_numeric_literal(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float)) and not node.lpar


def is_literal(node: cst.CSTNode) -> bool:
    """A value written out as it is: numbers, strings, True/False/None, tuples and lists of those."""
    if is_numeric_literal(node) or isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return True
    if isinstance(node, cst.Name):
        return node.value in ("True", "False", "None")
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(isinstance(e, cst.Element) and is_literal(e.value) for e in node.elements)
    return False


def merge_trails(a: tuple[Origin, ...], b: tuple[Origin, ...]) -> tuple[Origin, ...]:
    return a + tuple(o for o in b if all(o.node is not x.node for x in a))
