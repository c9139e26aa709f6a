"""Data pipelines the script builds: torchvision transform pipelines and the datasets they reach.

A pipeline is a `transforms.Compose([...])` (v1 or v2): its steps in order, each a transform call
with its qualified name (so a user class named `Normalize` is not torchvision's). The list may be
written in the call or bound to a name first; a list that is appended to or built elsewhere makes
the pipeline incomplete. A dataset use is a `torchvision.datasets` call with the pipeline its
`transform=` reaches (the call itself, a name bound to it, or a key of a dict literal:
`data_transforms['train']`) and whether it is training data (`train=True`, the default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from trainlint.facts.datasets import DATASETS, DatasetFacts
from trainlint.model.evaluator import Evaluator
from trainlint.model.syntax import CallSite, Scope
from trainlint.model.values import Frame

COMPOSE = {"torchvision.transforms.Compose": "v1", "torchvision.transforms.v2.Compose": "v2"}
_PREFIXES = ("torchvision.transforms.v2.", "torchvision.transforms.")


@dataclass(eq=False)
class Step:
    """One transform of a pipeline: `transforms.ToTensor()`."""

    name: str  # ToTensor, Normalize, ... ("" when not a torchvision transform)
    qualname: str | None
    node: cst.BaseExpression  # the list element
    call: cst.Call | None  # the transform's construction


@dataclass(eq=False)
class Pipeline:
    node: cst.Call  # the Compose call
    version: str  # v1 | v2
    steps: list[Step] = field(default_factory=list)
    complete: bool = True  # every step is known (no list built elsewhere or appended to)
    elements: cst.List | cst.Tuple | None = None  # the list literal, for fixes

    def index(self, *names: str) -> int | None:
        return next((i for i, s in enumerate(self.steps) if s.name in names), None)


@dataclass(eq=False)
class DatasetUse:
    site: CallSite
    facts: DatasetFacts
    train: bool | None  # None: not known
    pipeline: Pipeline | None  # the transform it is given, when it is a pipeline of this file
    transform: cst.BaseExpression | None  # the argument as written


class Pipelines:
    def __init__(self, evaluator: Evaluator) -> None:
        self.ev = evaluator

    @cached_property
    def pipelines(self) -> list[Pipeline]:
        out = []
        for site in self.ev.tables.calls_named("Compose"):
            version = COMPOSE.get(self.ev.qualname(site.node.func, site.scope, self.ev.frame_of(site)) or "")
            if version is not None:
                out.append(self._pipeline(site, version))
        return out

    @cached_property
    def _by_node(self) -> dict[cst.Call, Pipeline]:
        return {p.node: p for p in self.pipelines}

    def _pipeline(self, site: CallSite, version: str) -> Pipeline:
        pipeline = Pipeline(site.node, version)
        args = site.node.args
        if not args or args[0].keyword is not None or args[0].star:
            pipeline.complete = False
            return pipeline
        elements = self._list(args[0].value, site.scope)
        if elements is None:
            pipeline.complete = False
            return pipeline
        pipeline.elements = elements
        frame = self.ev.frame_of(site)
        for element in elements.elements:
            if isinstance(element, cst.StarredElement):
                pipeline.complete = False
                continue
            call = self._call_of(element.value, site.scope)
            qualname = self.ev.qualname(call.func, site.scope, frame) if call is not None else None
            name = ""
            if qualname is not None and qualname.startswith(_PREFIXES):
                name = qualname.rsplit(".", 1)[-1]
            pipeline.steps.append(Step(name, qualname, element.value, call))
        return pipeline

    def _list(self, expr: cst.BaseExpression, scope: Scope) -> cst.List | cst.Tuple | None:
        """The list literal of a pipeline's steps: written in the call, or bound once to a name that is
        never appended to."""
        if isinstance(expr, (cst.List, cst.Tuple)):
            return expr
        if not isinstance(expr, cst.Name):
            return None
        binding = self._single_assignment(expr.value, scope)
        if binding is None or not isinstance(binding, (cst.List, cst.Tuple)):
            return None
        if any(isinstance(s.node.func, cst.Attribute) for s in self._method_calls_on(expr.value)):
            return None  # `steps.append(...)`: built up elsewhere
        return binding

    def _method_calls_on(self, name: str) -> list[CallSite]:
        out = []
        for site in self.ev.tables.calls_named("append", "insert", "extend", "remove", "pop"):
            func = site.node.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == name:
                out.append(site)
        return out

    def _single_assignment(self, name: str, scope: Scope) -> cst.BaseExpression | None:
        _, bindings = scope.lookup(name)
        if len(bindings) != 1 or bindings[0].kind != "assign" or bindings[0].unpack_index is not None:
            return None
        return bindings[0].value

    def _call_of(self, expr: cst.BaseExpression, scope: Scope) -> cst.Call | None:
        """The call an expression stands for: the call itself, or a name bound once to one."""
        if isinstance(expr, cst.Call):
            return expr
        if isinstance(expr, cst.Name):
            value = self._single_assignment(expr.value, scope)
            return value if isinstance(value, cst.Call) else None
        return None

    def pipeline_of(self, expr: cst.BaseExpression, scope: Scope) -> Pipeline | None:
        """The pipeline a transform argument reaches: `t`, `transforms.Compose(...)`, `tfms['train']`."""
        if isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Name) and len(expr.slice) == 1:
            index = expr.slice[0].slice
            mapping = self._single_assignment(expr.value.value, scope)
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString) and isinstance(mapping, cst.Dict):
                key = index.value.evaluated_value
                for element in mapping.elements:
                    if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                        if element.key.evaluated_value == key:
                            return self.pipeline_of(element.value, scope)
            return None
        call = self._call_of(expr, scope)
        return self._by_node.get(call) if call is not None else None

    @cached_property
    def datasets(self) -> list[DatasetUse]:
        out = []
        for site in self.ev.tables.calls_named(*DATASETS):
            frame = self.ev.frame_of(site)
            qualname = self.ev.qualname(site.node.func, site.scope, frame) or ""
            if not qualname.startswith("torchvision.datasets."):
                continue
            facts = DATASETS.get(qualname.rsplit(".", 1)[-1])
            if facts is None:
                continue
            out.append(self._use(site, facts, frame))
        return out

    def _use(self, site: CallSite, facts: DatasetFacts, frame: Frame) -> DatasetUse:
        keywords = {a.keyword.value: a.value for a in site.node.args if a.keyword is not None}
        positional = [a.value for a in site.node.args if a.keyword is None and not a.star]
        transform = keywords.get("transform")
        if transform is None and facts.name == "ImageFolder" and len(positional) >= 2:
            transform = positional[1]
        train: bool | None = None if facts.name == "ImageFolder" else True  # a folder's split is in its path
        if "train" in keywords:
            found = self.ev.single(keywords["train"], site.scope, frame)
            train = found.value if found is not None and isinstance(found.value, bool) else None
        elif "split" in keywords:
            found = self.ev.single(keywords["split"], site.scope, frame)
            train = found.value == "train" if found is not None and isinstance(found.value, str) else None
        elif any(a.star for a in site.node.args) or (facts.name in ("MNIST", "CIFAR10") and len(positional) >= 2):
            train = None  # `MNIST(root, False)` or **kwargs: not known
        pipeline = self.pipeline_of(transform, site.scope) if transform is not None else None
        return DatasetUse(site, facts, train, pipeline, transform)
