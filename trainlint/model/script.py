"""The script model: one per file, built once, queried by every rule.

Its layers depend one way, each on the ones before it:

1. `syntax.py`: one pass over the tree records scopes, bindings, calls, stores,
   functions, classes and loops (`positions.py` gives source ranges on demand);
   the definitions of the project's other files this one calls join them
   (`imports.link_definitions`), before anything is evaluated;
2. `values.py`: what a value can be, with the trail of where it came from;
3. `evaluator.py` (with `classes.py`): what an expression can evaluate to;
4. recognizers, which teach the evaluator their objects and answer questions
   about them: `imports.py` and `config_files.py` (values from the project's other files and its configuration files), `cli_args.py` (argparse), `torch_objects.py` (optimizers,
   schedulers, layers, modules), `networks.py` (what each model is made of,
   and its parameter count), `inputs.py` (the input sizes a file states),
   `shapes.py` (tensor shapes through `forward`),
   `uses.py` (where each object goes) and
   `loops.py` (what the training loop does, event by event);
5. this façade, which wires them together lazily, so a rule pays only for what
   it asks.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import libcst as cst

from trainlint.facts import TorchFacts, torch_facts
from trainlint.model.cli_args import ArgparseModel
from trainlint.model.config_files import ConfigFiles
from trainlint.model.evaluator import Evaluator
from trainlint.model.imports import Links, ProjectImports, link_definitions
from trainlint.model.positions import Positions
from trainlint.model.syntax import CallSite, SyntaxTables, build_tables
from trainlint.model.torch_objects import TorchModel
from trainlint.model.values import Frame

if TYPE_CHECKING:
    from trainlint.diagnostics import Span
    from trainlint.model.loops import LoopModel
    from trainlint.model.networks import Networks
    from trainlint.model.pipelines import Pipelines
    from trainlint.model.shapes import Shapes
    from trainlint.model.uses import Uses
    from trainlint.project import ProjectModules


class ScriptModel:
    def __init__(
        self,
        module: cst.Module,
        path: str = "<string>",
        facts: TorchFacts | None = None,
        project: ProjectModules | None = None,
        text: str | None = None,
    ) -> None:
        self.module = module
        self.path = path
        self.text = text
        self.facts = facts or torch_facts()
        self.project = project  # the project's other files, for the values this one imports
        self.tables: SyntaxTables = build_tables(module)
        self.positions = Positions(module, text)  # the text (when given) makes most ranges cheap
        # Classes and functions of the project's other files this file calls, linked into its tables.
        self.links = Links()
        if project is not None:
            triggers = (f.name for kind in ("optimizer", "scheduler") for f in self.facts.of_kind(kind))
            self.links = link_definitions(self.tables, project, triggers)
            if self.links.files:
                files = {module: (d.text, d.shown) for module, d in self.links.files.items()}
                self.positions.link(files, self.links.nodes)

    @cached_property
    def _taught(self) -> tuple[Evaluator, ArgparseModel, TorchModel]:
        """The evaluator and the recognizers that teach it before it evaluates anything (`args.lr`,
        `model = Net().to(device)`)."""
        evaluator = Evaluator(self.tables, self.facts)
        if self.project is not None:
            ProjectImports(evaluator, self.project, self.links)
            ConfigFiles(evaluator, self.project)
        return evaluator, ArgparseModel(evaluator), TorchModel(evaluator)

    @cached_property
    def evaluator(self) -> Evaluator:
        return self._taught[0]

    @cached_property
    def argparse(self) -> ArgparseModel:
        return self._taught[1]

    @cached_property
    def torch(self) -> TorchModel:
        return self._taught[2]

    @cached_property
    def uses(self) -> Uses:
        from trainlint.model.uses import Uses

        return Uses(self.evaluator, self.torch)

    @cached_property
    def networks(self) -> Networks:
        from trainlint.model.networks import Networks

        return Networks(self.evaluator, self.torch)

    @cached_property
    def shapes(self) -> Shapes:
        from trainlint.model.inputs import Inputs
        from trainlint.model.shapes import Shapes

        return Shapes(self.evaluator, self.networks, Inputs(self.evaluator))

    @cached_property
    def pipelines(self) -> Pipelines:
        from trainlint.model.pipelines import Pipelines

        return Pipelines(self.evaluator, self.loops)

    @cached_property
    def loops(self) -> LoopModel:
        from trainlint.model.loops import LoopModel

        return LoopModel(self.evaluator, self.torch)

    # -- shortcuts rules use -------------------------------------------------------------

    def code(self, node: cst.CSTNode) -> str:
        return self.tables.code(node)

    @cached_property
    def lines(self) -> list[str]:
        """The file's lines, each with its line break, as fixes edit them. The text when given: libcst
        writes it back unchanged except for a form feed that starts a line, which it drops (and
        generating the whole module's code is a pass over every node)."""
        code = self.text if self.text is not None and "\f" not in self.text else self.module.code
        return code.splitlines(keepends=True)

    def span(self, node: cst.CSTNode) -> Span:
        return self.positions.span(node)

    def calls_named(self, *names: str) -> list[CallSite]:
        return self.tables.calls_named(*names)

    def frame_of(self, site: CallSite) -> Frame:
        return self.evaluator.frame_of(site)
