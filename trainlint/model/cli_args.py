"""argparse, a recognizer: the parsers a script builds, their options, and what `args.<dest>` defaults to.

It teaches the evaluator three things: `argparse.ArgumentParser(...)` builds a
parser, `parser.parse_args()` returns its namespace (groups and subparsers add
to the same one), and `args.<dest>` is the option's default.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property

import libcst as cst

from trainlint.model.evaluator import Evaluator
from trainlint.model.syntax import CallSite, Scope
from trainlint.model.values import MODULE_FRAME, Builtin, Candidates, Frame, Known, Origin, Unknown


@dataclass(frozen=True, repr=False)
class ArgParser:
    """An argparse.ArgumentParser, identified by the call that built it."""

    node: cst.Call


@dataclass(frozen=True, repr=False)
class ArgSubparsers:
    parser: ArgParser


@dataclass(frozen=True, repr=False)
class ArgNamespace:
    """What `parser.parse_args()` returns."""

    parser: ArgParser


@dataclass(eq=False, repr=False)
class ArgOption:
    parser: ArgParser
    site: CallSite  # the add_argument call
    flags: tuple[str, ...]
    dest: str
    keywords: dict[str, cst.Arg]

    @property
    def label(self) -> str:
        """How a user names the option: its first long flag, else its first flag or name."""
        longs = [f for f in self.flags if f.startswith("--")]
        return (longs or list(self.flags) or [self.dest])[0]


def _dest(flags: list[str]) -> str | None:
    if not flags:
        return None
    if not flags[0].startswith("-"):
        return flags[0]  # positional argument
    longs = [f for f in flags if f.startswith("--")]
    chosen = longs[0] if longs else flags[0]
    return chosen.lstrip("-").replace("-", "_") or None


class ArgparseModel:
    def __init__(self, evaluator: Evaluator) -> None:
        self.ev: Evaluator = weakref.proxy(evaluator)  # the evaluator holds our handlers: no cycle
        evaluator.on_call("argparse.ArgumentParser", self._parser)
        evaluator.on_method(ArgParser, self._parser_method)
        evaluator.on_method(ArgSubparsers, self._subparsers_method)
        evaluator.on_member(ArgNamespace, self._namespace_member)

    # -- what the evaluator learns ----------------------------------------------------

    def _parser(self, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        return [Known(ArgParser(node))]

    def _parser_method(self, parser: Known, name: str, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        obj = parser.value
        if name == "parse_args" and _defaults_only(node):
            return [Known(ArgNamespace(obj))]
        if name == "parse_known_args" and _defaults_only(node):
            return [Known((ArgNamespace(obj), Unknown()))]
        if name in ("add_argument_group", "add_mutually_exclusive_group"):
            return [Known(obj)]
        if name == "add_subparsers":
            return [Known(ArgSubparsers(obj))]
        return []

    def _subparsers_method(self, subparsers: Known, name: str, node: cst.Call, scope: Scope, frame: Frame) -> Candidates:
        # subcommand options land in the same namespace
        return [Known(subparsers.value.parser)] if name == "add_parser" else []

    def _namespace_member(self, namespace: Known, dest: str) -> Candidates:
        return self.option_default(namespace.value, dest)

    # -- options ---------------------------------------------------------------------

    @cached_property
    def options(self) -> dict[ArgParser, list[ArgOption]]:
        out: dict[ArgParser, list[ArgOption]] = {}
        for site, base in self.ev.method_calls("add_argument"):
            if isinstance(base.value, ArgParser):
                option = self._option(base.value, site)
                if option is not None:
                    out.setdefault(base.value, []).append(option)
        return out

    @cached_property
    def set_defaults(self) -> dict[ArgParser, dict[str, list[cst.Arg]]]:
        out: dict[ArgParser, dict[str, list[cst.Arg]]] = {}
        for site, base in self.ev.method_calls("set_defaults"):
            if isinstance(base.value, ArgParser):
                for arg in site.node.args:
                    key = arg.keyword.value if arg.keyword is not None else "**"
                    out.setdefault(base.value, {}).setdefault(key, []).append(arg)
        return out

    def _option(self, parser: ArgParser, site: CallSite) -> ArgOption | None:
        flags: list[str] = []
        keywords: dict[str, cst.Arg] = {}
        for arg in site.node.args:
            if arg.star:
                return None
            if arg.keyword is None:
                known = self.ev.single(arg.value, site.scope)
                if known is None or not isinstance(known.value, str):
                    return None
                flags.append(known.value)
            else:
                keywords[arg.keyword.value] = arg
        dest = _dest(flags)
        if "dest" in keywords:
            known = self.ev.single(keywords["dest"].value, site.scope)
            dest = known.value if known is not None and isinstance(known.value, str) else None
        if dest is None:
            return None
        return ArgOption(parser, site, tuple(flags), dest, keywords)

    def find(self, namespace: ArgNamespace, dest: str) -> list[ArgOption]:
        return [o for o in self.options.get(namespace.parser, ()) if o.dest == dest]

    def option_default(self, namespace: ArgNamespace, dest: str) -> Candidates:
        """What `args.<dest>` is when the option is not given on the command line."""
        options = self.find(namespace, dest)
        if len(options) != 1 or self.namespace_mutated(namespace, dest):
            return []
        option = options[0]
        overrides = self.set_defaults.get(namespace.parser, {})
        if "**" in overrides:
            return []
        ev = self.ev
        if dest in overrides:
            if len(overrides[dest]) != 1:
                return []
            arg = overrides[dest][0]
            origin = Origin(f"set_defaults({dest}=...)", arg)
            return [k.hop(origin) for k in ev.eval(arg.value, option.site.scope)]
        keywords = option.keywords
        if "required" in keywords:
            required = ev.single(keywords["required"].value, option.site.scope)
            if required is None or required.value:
                return []
        if "default" not in keywords:
            action = ev.single(keywords["action"].value, option.site.scope) if "action" in keywords else None
            name = action.value if action is not None and isinstance(action.value, str) else None
            implied = {"store_true": False, "store_false": True}.get(name) if name else None
            return [Known(implied, (Origin(f"default of {option.label}", option.site.node),))]
        default = keywords["default"]
        converter = None
        if "type" in keywords:
            types = ev.eval(keywords["type"].value, option.site.scope)
            converter = types[0].value.name if len(types) == 1 and isinstance(types[0].value, Builtin) else "?"
        origin = Origin(f"default of {option.label}", default)
        out = []
        for known in ev.eval(default.value, option.site.scope, ev.frame_for(option.site.scope, MODULE_FRAME)):
            value = known.value
            if isinstance(value, str) and converter not in (None, "str"):
                # argparse passes string defaults through `type`.
                if converter not in ("float", "int"):
                    continue
                try:
                    value = float(value) if converter == "float" else int(value)
                except ValueError:
                    continue
                known = Known(value, known.trail, None)
            out.append(known.hop(origin))
        return out

    def namespace_mutated(self, namespace: ArgNamespace, attr: str) -> bool:
        """`args.lr = ...` (or `setattr(args, ...)`) somewhere: the default may not be what runs."""
        for store in self.ev.tables.attribute_stores.get(attr, ()):
            if self.ev.refers_to(store.base, store.scope, namespace):
                return True
        return self.ev.opaque_mutation(namespace)


def _defaults_only(node: cst.Call) -> bool:
    """`parse_args()` (the defaults, unless the command line changes them) or `parse_args([])`, a
    notebook's way of taking exactly the defaults; any other argument list sets values not known here."""
    if not node.args:
        return True
    if len(node.args) != 1 or node.args[0].star or (node.args[0].keyword is not None and node.args[0].keyword.value != "args"):
        return False
    value = node.args[0].value
    return isinstance(value, (cst.List, cst.Tuple)) and not value.elements
