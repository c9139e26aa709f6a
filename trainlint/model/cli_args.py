"""argparse: the options each parser defines, and what `args.<dest>` defaults to."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from trainlint.model.syntax import CallSite
from trainlint.model.values import ArgNamespace, ArgParser, Builtin, Candidates, Known, Origin

if TYPE_CHECKING:
    from trainlint.model.script import ScriptModel


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
    def __init__(self, model: ScriptModel) -> None:
        self.model = model

    @cached_property
    def options(self) -> dict[ArgParser, list[ArgOption]]:
        out: dict[ArgParser, list[ArgOption]] = {}
        for site, base in self.model.method_calls("add_argument"):
            if isinstance(base.value, ArgParser):
                option = self._option(base.value, site)
                if option is not None:
                    out.setdefault(base.value, []).append(option)
        return out

    @cached_property
    def set_defaults(self) -> dict[ArgParser, dict[str, list[cst.Arg]]]:
        out: dict[ArgParser, dict[str, list[cst.Arg]]] = {}
        for site, base in self.model.method_calls("set_defaults"):
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
                known = self.model.evaluator.single(arg.value, site.scope)
                if known is None or not isinstance(known.value, str):
                    return None
                flags.append(known.value)
            else:
                keywords[arg.keyword.value] = arg
        dest = _dest(flags)
        if "dest" in keywords:
            known = self.model.evaluator.single(keywords["dest"].value, site.scope)
            dest = known.value if known is not None and isinstance(known.value, str) else None
        if dest is None:
            return None
        return ArgOption(parser, site, tuple(flags), dest, keywords)

    def find(self, namespace: ArgNamespace, dest: str) -> list[ArgOption]:
        return [o for o in self.options.get(namespace.parser, ()) if o.dest == dest]

    def option_default(self, namespace: ArgNamespace, dest: str) -> Candidates:
        """What `args.<dest>` is when the option is not given on the command line."""
        options = self.find(namespace, dest)
        if len(options) != 1 or self.model.evaluator.namespace_mutated(namespace, dest):
            return []
        option = options[0]
        overrides = self.set_defaults.get(namespace.parser, {})
        if "**" in overrides:
            return []
        ev = self.model.evaluator
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
        for known in ev.eval(default.value, option.site.scope, ev.frame_for(option.site.scope, self.model.module_frame)):
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
