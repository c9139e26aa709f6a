"""Values imported from the project's other files: `from config import LR`, `import config as C; C.LR`.

The engine gives the model a `ProjectModules` (trainlint/project.py), which reads the other files;
this recognizer only turns what it finds into values whose trail names the other file and line, so
messages say `lr 0.5 (LR in config.py, line 3)`. A value from another file has no source literal in
this one: fixes that rewrite a literal leave it alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from trainlint.model.values import Candidates, Known, Origin

if TYPE_CHECKING:
    from trainlint.model.evaluator import Evaluator
    from trainlint.project import ProjectModules


class ProjectImports:
    def __init__(self, evaluator: Evaluator, modules: ProjectModules) -> None:
        self.modules = modules
        evaluator.on_import(self._value)

    def _value(self, qualname: str, node: cst.CSTNode) -> Candidates:
        found = self.modules.value(qualname)
        if found is None:
            return []
        return [Known(found.value, (Origin(found.name, node, f"{found.file}, line {found.line}"),))]
