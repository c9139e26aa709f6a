"""Configuration files a script reads: `yaml.safe_load(open("configs/train.yaml"))`, `json.load(f)` in
`with open(path) as f`, `tomllib.load(f)`, `OmegaConf.load("conf.yaml")`, and the config Hydra gives
the function `@hydra.main(config_path=..., config_name=...)` decorates, composed from its defaults
list one level deep (`- optimizer: adam` reads `optimizer/adam.yaml` into `cfg.optimizer`).

The file is found and parsed by the project (trainlint/project.py, trainlint/configfiles.py); this
recognizer turns it into a `ConfigMap`, whose entries the evaluator reads with the file and line
they were written on (`lr0 in data/hyp.yaml, line 7`). A path only known at run time, or a file
that is missing or malformed, leaves the value unknown.
"""

from __future__ import annotations

import weakref
from functools import partial
from typing import TYPE_CHECKING, Any

import libcst as cst

from trainlint.configfiles import Table, in_file, merged
from trainlint.model.values import Candidates, ConfigMap, Known, OpenedFile

if TYPE_CHECKING:
    from trainlint.model.evaluator import Evaluator
    from trainlint.model.syntax import Function, Scope
    from trainlint.model.values import Frame
    from trainlint.project import ProjectModules

# Loaders of an open file; and of a path or an open file, with whether entries read as attributes.
_FROM_FILE = ("yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load", "json.load", "tomllib.load", "tomli.load")
_FROM_PATH = {"toml.load": False, "omegaconf.OmegaConf.load": True}


class ConfigFiles:
    def __init__(self, evaluator: Evaluator, modules: ProjectModules) -> None:
        self.ev: Evaluator = weakref.proxy(evaluator)  # the evaluator holds our handlers: no cycle
        self.modules = modules
        self._loaded: dict[cst.Call, ConfigMap | None] = {}
        for qualname in _FROM_FILE:
            evaluator.on_call(qualname, partial(self._load, takes_path=False, attributes=False))
        for qualname, attributes in _FROM_PATH.items():
            evaluator.on_call(qualname, partial(self._load, takes_path=True, attributes=attributes))
        evaluator.on_param(self._hydra_config)
        self._composed: dict[cst.FunctionDef, ConfigMap | None] = {}

    def _load(self, node: cst.Call, scope: Scope, frame: Frame, *, takes_path: bool, attributes: bool) -> Candidates:
        if node not in self._loaded:  # one object per load call, so stores into it are recognized
            self._loaded[node] = self._read(node, scope, frame, takes_path, attributes)
        loaded = self._loaded[node]
        return [Known(loaded)] if loaded is not None else []

    def _read(self, node: cst.Call, scope: Scope, frame: Frame, takes_path: bool, attributes: bool) -> ConfigMap | None:
        if not node.args or node.args[0].keyword is not None or node.args[0].star:
            return None
        source = self.ev.single(node.args[0].value, scope, frame)
        if source is None:
            return None
        if isinstance(source.value, OpenedFile):
            path = source.value.path
        elif takes_path and isinstance(source.value, str):  # yaml.safe_load("...") parses the string itself
            path = source.value
        else:
            return None
        found = self.modules.config(path)
        if found is None:
            return None
        table, shown = found
        return ConfigMap(table, shown, "", node, attributes)

    # -- Hydra ---------------------------------------------------------------------------------------

    def _hydra_config(self, function: Function, param: cst.Param) -> Candidates:
        """The config Hydra passes to `@hydra.main(...) def main(cfg)` (its defaults when the command
        line overrides nothing, as an argparse default is)."""
        node = function.node
        if not isinstance(node, cst.FunctionDef) or function.is_method or not node.decorators:
            return []
        params = node.params.params
        if not params or params[0] is not param:
            return []
        if node not in self._composed:
            self._composed[node] = self._compose_for(node, function)
        composed = self._composed[node]
        return [Known(composed)] if composed is not None else []

    def _compose_for(self, node: cst.FunctionDef, function: Function) -> ConfigMap | None:
        for decorator in node.decorators:
            call = decorator.decorator
            if not isinstance(call, cst.Call) or self.ev.qualname(call.func, function.outer) != "hydra.main":
                continue
            arguments = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
            folder = self._text(arguments.get("config_path"), function) or "."
            name = self._text(arguments.get("config_name"), function)
            table = self._compose(folder, name) if name else None
            return ConfigMap(table, table.file or "", "", call, True) if table is not None else None
        return None

    def _text(self, expr: cst.BaseExpression | None, function: Function) -> str | None:
        known = self.ev.single(expr, function.outer) if expr is not None else None
        return known.value if known is not None and isinstance(known.value, str) else None

    def _file(self, folder: str, name: str) -> Table | None:
        found = self.modules.config(f"{folder}/{name}" if name.endswith((".yaml", ".yml")) else f"{folder}/{name}.yaml")
        return in_file(*found) if found is not None else None

    def _compose(self, folder: str, name: str) -> Table | None:
        """The primary config with its defaults list applied, one level: each `group: option` read from
        `group/option.yaml` under its key, then the primary's own entries on top (where `_self_` is,
        else last). What it cannot follow (an interpolated option, a `# @package` elsewhere than its
        group, a missing required file) makes the whole config unknown rather than half right."""
        primary = self._file(folder, name)
        if primary is None:
            return None
        own = Table({k: v for k, v in primary.entries.items() if k != "defaults"}, primary.file)
        defaults = primary.entries.get("defaults")
        if defaults is None:
            return own
        items, line = defaults
        if not isinstance(items, list):
            return None
        result, own_applied = Table(file=primary.file), False
        for item in items:
            if item == "_self_":
                result, own_applied = merged(result, own), True
                continue
            ok, chosen = self._default(folder, item, line, primary.file)
            if not ok:
                return None
            if chosen is not None:
                result = merged(result, chosen)
        return result if own_applied else merged(result, own)

    def _default(self, folder: str, item: Any, line: int, primary: str | None) -> tuple[bool, Table | None]:
        """One `group: option` of a defaults list: (whether it could be followed, its entries placed
        under the group's keys, or None when it chooses nothing)."""
        if not isinstance(item, dict) or len(item) != 1:
            return False, None  # a config of the primary's own group (`- base`): not followed
        ((group, option),) = item.items()
        if not isinstance(group, str) or not group.split():
            return False, None
        words = group.split()
        group = words[-1]  # `override db`, `optional local`
        if option is None or group.startswith("hydra"):
            return True, None  # `- logger: null`, and Hydra's own settings
        if not isinstance(option, str) or "${" in option or group.startswith("/"):
            return False, None
        chosen = self._file(f"{folder}/{group}", option)
        if chosen is None:
            return words[0] == "optional", None
        if chosen.package not in (None, "_group_"):
            return False, None  # placed elsewhere than its group (`_global_`)
        nested: Table = chosen
        for key in reversed(group.split("/")):
            nested = Table({key: (nested, line)}, primary)
        return True, nested
