"""Data pipelines the script builds: torchvision transform pipelines and the datasets they reach.

A pipeline is a `transforms.Compose([...])` (v1 or v2): its steps in order, each a transform call
with its qualified name (so a user class named `Normalize` is not torchvision's). The list may be
written in the call or bound to a name first; a list that is appended to or built elsewhere makes
the pipeline incomplete. A dataset use is a `torchvision.datasets` call with the pipeline its
`transform=` reaches (the call itself, a name bound to it, or a key of a dict literal:
`data_transforms['train']`, a same-file helper that returns one) and whether it is training data (`train=True`, the default).

A loader use is a `DataLoader(...)` call: the dataset it wraps (a torchvision dataset, directly or
through `Subset`/`random_split`, a `TensorDataset`, a same-file `Dataset` class), whether it shuffles
or has a sampler, and which loops of the loop model take batches from it (training or evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from trainlint.facts.datasets import DATASETS, DatasetFacts
from trainlint.model.evaluator import Evaluator
from trainlint.model.loops import EVAL_NAME, LoopModel
from trainlint.model.syntax import CallSite, Scope, callee_name, dotted_name
from trainlint.model.values import Frame, FunctionRef, Instance

COMPOSE = {"torchvision.transforms.Compose": "v1", "torchvision.transforms.v2.Compose": "v2"}
_PREFIXES = ("torchvision.transforms.v2.", "torchvision.transforms.")
# torchvision's transforms that draw random numbers each time they run (v1 and v2): augmentation.
RANDOM_TRANSFORMS = frozenset(
    {
        "RandomApply", "RandomChoice", "RandomOrder", "RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip",
        "RandomVerticalFlip", "RandomRotation", "RandomAffine", "RandomPerspective", "RandomGrayscale",
        "RandomErasing", "RandomInvert", "RandomPosterize", "RandomSolarize", "RandomAdjustSharpness",
        "RandomAutocontrast", "RandomEqualize", "RandomChannelPermutation", "RandomPhotometricDistort",
        "RandomZoomOut", "RandomIoUCrop", "RandomShortestSize", "RandomResize", "ScaleJitter", "ColorJitter",
        "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix", "ElasticTransform", "CutMix", "MixUp",
    }
)  # fmt: skip
_DATA = "torch.utils.data."


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

    @property
    def augmentations(self) -> list[Step]:
        return [s for s in self.steps if s.name in RANDOM_TRANSFORMS]


@dataclass(eq=False)
class DatasetUse:
    site: CallSite
    facts: DatasetFacts
    train: bool | None  # None: not known
    pipeline: Pipeline | None  # the transform it is given, when it is a pipeline of this file
    transform: cst.BaseExpression | None  # the argument as written
    name: str | None = None  # the name it is bound to (`val_set`), or its folder's (`valdir`)


@dataclass(eq=False)
class LoaderUse:
    """A `DataLoader(...)` the file builds, what it wraps and which loops take batches from it."""

    site: CallSite
    name: str | None  # the name it is bound to: `train_loader`
    use: DatasetUse | None  # the torchvision dataset it reads, directly or through a split
    split: cst.Call | None  # the `Subset(...)`/`random_split(...)` between the dataset and the loader
    view: str | None  # the name of the dataset it is given: `val_set`
    map_style: bool | None  # a dataset indexed by position (None: not known; False: an IterableDataset)
    shuffle: cst.Arg | None  # the `shuffle=` argument, None when not given (the default is False)
    shuffled: bool | None  # its value (False when not given; None: not known)
    sampler: bool  # a `sampler=` or `batch_sampler=` decides the order
    # `batch_size=` or the second positional argument; None when not given, and then the default, 1,
    # applies unless `*args`/`**kwargs` may pass it
    batch_size: cst.BaseExpression | None
    spread: bool  # `*args` or `**kwargs` in the call
    loops: tuple[tuple[str, cst.For | cst.While], ...]  # the loops that take batches from it, with their role

    @property
    def roles(self) -> frozenset[str]:
        """ "train" / "eval" for each kind of loop that iterates it."""
        return frozenset(role for role, _ in self.loops)

    @property
    def for_eval(self) -> bool:
        """Only evaluation loops iterate it; or no loop is seen and its names say validation or test."""
        if self.roles:
            return self.roles == {"eval"}
        return any(n is not None and EVAL_NAME.search(n) is not None for n in (self.name, self.view))


class Pipelines:
    def __init__(self, evaluator: Evaluator, loops: LoopModel) -> None:
        self.ev = evaluator
        self.loops = loops

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

    def pipeline_of(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> Pipeline | None:
        """The pipeline a transform argument reaches: `t`, `transforms.Compose(...)`, `tfms['train']`,
        or what a same-file helper with one `return` gives (`build_transform()`)."""
        if depth > 4:
            return None
        if isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Name) and len(expr.slice) == 1:
            index = expr.slice[0].slice
            mapping = self._single_assignment(expr.value.value, scope)
            if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString) and isinstance(mapping, cst.Dict):
                key = index.value.evaluated_value
                for element in mapping.elements:
                    if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                        if element.key.evaluated_value == key:
                            return self.pipeline_of(element.value, scope, depth + 1)
            return None
        call = self._call_of(expr, scope)
        if call is None:
            return None
        pipeline = self._by_node.get(call)
        if pipeline is not None:
            return pipeline
        helper = self.ev.single(call.func, scope)
        if helper is None or not isinstance(helper.value, FunctionRef):
            return None
        returns = helper.value.function.returns
        if len(returns) != 1 or returns[0].value is None:
            return None  # several returns: which one is taken depends on the arguments
        return self.pipeline_of(returns[0].value, helper.value.function.scope, depth + 1)

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
        train = self._training_split(site, facts, frame, keywords, len(positional))
        pipeline = self.pipeline_of(transform, site.scope) if transform is not None else None
        name = _bound_name(site)
        if name is None and facts.name == "ImageFolder" and positional:
            name = dotted_name(positional[0])  # `ImageFolder(valdir, ...)`
        return DatasetUse(site, facts, train, pipeline, transform, name)

    def _training_split(
        self, site: CallSite, facts: DatasetFacts, frame: Frame, keywords: dict[str, cst.BaseExpression], positional: int
    ) -> bool | None:
        """Whether the dataset call picks the training part: `train=True` (the default), `split="extra"`."""
        keyword = facts.split_keyword
        if keyword is None:
            return None  # a folder's split is in its path
        if keyword in keywords:
            found = self.ev.single(keywords[keyword], site.scope, frame)
            if keyword == "train":
                return found.value if found is not None and isinstance(found.value, bool) else None
            return found.value in facts.training_splits if found is not None and isinstance(found.value, str) else None
        if positional >= 2 or any(a.star for a in site.node.args):
            return None  # `MNIST(root, False)`, `SVHN(root, "test")` or **kwargs: not read
        return True

    @cached_property
    def loaders(self) -> list[LoaderUse]:
        iterated: dict[int, dict[tuple[str, int], tuple[str, cst.For | cst.While]]] = {}
        for loop in self.loops.trace_loops:
            role = self.loops.role(loop)
            if role is not None:
                for loader in self.loops.loaders(loop):
                    iterated.setdefault(id(loader.node), {})[(role, id(loop.node))] = (role, loop.node)
        out = []
        for site in self.ev.tables.calls_named("DataLoader"):
            if self.ev.qualname(site.node.func, site.scope, self.ev.frame_of(site)) != _DATA + "DataLoader":
                continue
            out.append(self._loader(site, tuple(iterated.get(id(site.node), {}).values())))
        return out

    @cached_property
    def _uses_by_node(self) -> dict[cst.Call, DatasetUse]:
        return {use.site.node: use for use in self.datasets}

    def _loader(self, site: CallSite, loops: tuple[tuple[str, cst.For | cst.While], ...]) -> LoaderUse:
        args = site.node.args
        keywords = {a.keyword.value: a for a in args if a.keyword is not None}
        positional = [a.value for a in args if a.keyword is None and not a.star]
        dataset = keywords["dataset"].value if "dataset" in keywords else positional[0] if positional else None
        use, split, map_style = self._source(dataset, site.scope, 0) if dataset is not None else (None, None, None)
        shuffle = keywords.get("shuffle")
        shuffled: bool | None = False
        if shuffle is not None:
            found = self.ev.single(shuffle.value, site.scope, self.ev.frame_of(site))
            shuffled = found.value if found is not None and isinstance(found.value, bool) else None
        spread = any(a.star for a in args)
        if shuffle is None and (len(positional) > 2 or spread):
            shuffled = None  # `DataLoader(ds, 64, True)` or `**kwargs`
        sampler = any(k in keywords for k in ("sampler", "batch_sampler"))
        view = dotted_name(dataset) if dataset is not None else None
        batch = keywords["batch_size"].value if "batch_size" in keywords else positional[1] if len(positional) > 1 else None
        return LoaderUse(site, _bound_name(site), use, split, view, map_style, shuffle, shuffled, sampler, batch, spread, loops)

    def _source(
        self, expr: cst.BaseExpression, scope: Scope, depth: int
    ) -> tuple[DatasetUse | None, cst.Call | None, bool | None]:
        """(the torchvision dataset, the split between, whether it is map-style) for a loader's dataset."""
        if depth > 4:
            return None, None, None
        if isinstance(expr, cst.Name):
            _, bindings = scope.lookup(expr.value)
            if len(bindings) != 1 or bindings[0].kind != "assign" or bindings[0].value is None:
                return None, None, None
            value = bindings[0].value
            if bindings[0].unpack_index is not None:  # `train_set, val_set = random_split(full, [n, m])`
                if not (isinstance(value, cst.Call) and self._data_call(value, scope) == "random_split" and value.args):
                    return None, None, None
                use, _, map_style = self._source(value.args[0].value, scope, depth + 1)
                return use, value, map_style
            return self._source(value, scope, depth + 1)
        if not isinstance(expr, cst.Call):
            return None, None, None
        use = self._uses_by_node.get(expr)
        if use is not None:
            return use, None, True
        kind = self._data_call(expr, scope)
        if kind == "Subset" and expr.args:
            use, _, map_style = self._source(expr.args[0].value, scope, depth + 1)
            return use, expr, map_style
        if kind in ("TensorDataset", "ConcatDataset"):
            return None, None, True
        return None, None, self._map_style_class(expr, scope)

    def _data_call(self, call: cst.Call, scope: Scope) -> str | None:
        """`Subset`, `random_split`, `TensorDataset`, ... for a call of torch.utils.data."""
        if callee_name(call.func) not in ("Subset", "random_split", "TensorDataset", "ConcatDataset"):
            return None
        qualname = self.ev.qualname(call.func, scope) or ""
        if not qualname.startswith(_DATA):
            return None
        return qualname.rsplit(".", 1)[-1]

    def _map_style_class(self, call: cst.Call, scope: Scope) -> bool | None:
        """A same-file Dataset class: True for one indexed by position, False for an IterableDataset."""
        found = self.ev.single(call, scope)
        if found is None or not isinstance(found.value, Instance):
            return None
        classes = self.ev.classes
        bases = {q for cls in classes.mro(found.value.cls) for q in classes.base_qualnames(cls)}
        if any(q.startswith(_DATA) and q.endswith("IterableDataset") for q in bases):
            return False
        if any(q in (_DATA + "Dataset", _DATA + "dataset.Dataset") for q in bases):
            return "__getitem__" in classes.all_methods(found.value.cls) or None
        return None


def _bound_name(site: CallSite) -> str | None:
    """`val_set` in `val_set = datasets.MNIST(...)`."""
    statement = site.statement
    if isinstance(statement, cst.Assign) and statement.value is site.node and len(statement.targets) == 1:
        return dotted_name(statement.targets[0].target)
    return None
