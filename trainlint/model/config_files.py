"""Configuration files a script reads: `yaml.safe_load(open("configs/train.yaml"))`, `json.load(f)` in
`with open(path) as f`, `tomllib.load(f)`, `OmegaConf.load("conf.yaml")`.

The file is found and parsed by the project (trainlint/project.py, trainlint/configfiles.py); this
recognizer turns it into a `ConfigMap`, whose entries the evaluator reads with the file and line
they were written on (`lr0 in data/hyp.yaml, line 7`). A path only known at run time, or a file
that is missing or malformed, leaves the value unknown.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import libcst as cst

from trainlint.model.values import Candidates, ConfigMap, Known, OpenedFile

if TYPE_CHECKING:
    from trainlint.model.evaluator import Evaluator
    from trainlint.model.syntax import Scope
    from trainlint.model.values import Frame
    from trainlint.project import ProjectModules

# Loaders of an open file; and of a path or an open file, with whether entries read as attributes.
_FROM_FILE = ("yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load", "json.load", "tomllib.load", "tomli.load")
_FROM_PATH = {"toml.load": False, "omegaconf.OmegaConf.load": True}


class ConfigFiles:
    def __init__(self, evaluator: Evaluator, modules: ProjectModules) -> None:
        self.ev = evaluator
        self.modules = modules
        self._loaded: dict[cst.Call, ConfigMap | None] = {}
        for qualname in _FROM_FILE:
            evaluator.on_call(qualname, partial(self._load, takes_path=False, attributes=False))
        for qualname, attributes in _FROM_PATH.items():
            evaluator.on_call(qualname, partial(self._load, takes_path=True, attributes=attributes))

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
