"""TL4xx: data pipelines that feed the model badly scaled or mismatched images."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from trainlint.diagnostics import Applicability, Edit, Fix, Severity
from trainlint.registry import Finding, FixKind, Rule, register
from trainlint.rules.common import fmt_number, insert_after, insert_before, replace
from trainlint.rules.common import line_of as _line
from trainlint.rules.common import one_line as _code

if TYPE_CHECKING:
    import libcst as cst

    from trainlint.model import ScriptModel
    from trainlint.model.pipelines import DatasetUse, LoaderUse, Pipeline, Step

# Parts of names whose presence anywhere in the file may mean the data is normalized some other way
# (a Normalize applied later, `(x - mean) / std`, `self.pixel_mean` in a model): TL401 stays silent.
_NORMALIZING_WORDS = ("normaliz", "mean", "std")
# Losses that compare the output with the input: images in [0, 1] are the target (autoencoders, VAEs).
_RECONSTRUCTION = ("MSELoss", "mse_loss", "BCELoss", "binary_cross_entropy", "L1Loss", "l1_loss", "SmoothL1Loss")
# Transforms that keep the number of channels.
_KEEP_CHANNELS = frozenset(
    {
        "ToTensor", "PILToTensor", "ToImage", "ToDtype", "ConvertImageDtype", "Resize", "CenterCrop", "RandomCrop",
        "RandomResizedCrop", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomAffine",
        "ColorJitter", "Pad", "RandomGrayscale", "GaussianBlur", "RandomErasing", "RandAugment", "AutoAugment",
        "TrivialAugmentWide", "AugMix", "RandomPerspective", "FiveCrop", "TenCrop", "RandomApply",
    }
)  # fmt: skip


class PipelineRule(Rule):
    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"Compose"}),)


@register
class NormalizeBeforeToTensor(PipelineRule):
    code = "TL402"
    name = "normalize-before-totensor"
    severity = Severity.ERROR
    fix = FixKind.SAFE

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"Compose"}), frozenset({"Normalize"}), frozenset({"ToTensor"}))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for pipeline in model.pipelines.pipelines:
            normalize, to_tensor = pipeline.index("Normalize"), pipeline.index("ToTensor")
            if pipeline.version != "v1" or normalize is None or to_tensor is None or normalize > to_tensor:
                continue
            yield self._finding(model, pipeline, pipeline.steps[normalize], pipeline.steps[to_tensor], to_tensor - normalize == 1)

    def _finding(self, model: ScriptModel, pipeline: Pipeline, normalize: Step, to_tensor: Step, adjacent: bool) -> Finding:
        def message() -> str:
            return (
                f"`{_code(model, normalize.node)}` (line {_line(model, normalize.node)}) comes before "
                f"`{_code(model, to_tensor.node)}` (line {_line(model, to_tensor.node)}) in the pipeline on line "
                f"{_line(model, pipeline.node)}: torchvision's Normalize works on tensors, and here it is given the PIL "
                f"image, so the first batch raises TypeError. Put Normalize after ToTensor"
            )

        def fix() -> Fix | None:
            if not adjacent:
                return None  # steps between them: which order was meant is not clear
            edits = (
                replace(model, normalize.node, model.code(to_tensor.node)),
                replace(model, to_tensor.node, model.code(normalize.node)),
            )
            return Fix(Applicability.SAFE, "Move Normalize after ToTensor", edits)

        return Finding(normalize.node, message, fix, refs=[to_tensor.node, pipeline.node])


# v1 transforms that take tensors only, and the steps that turn a PIL image into one.
TENSOR_ONLY = ("Normalize", "RandomErasing", "ConvertImageDtype", "LinearTransformation")
TO_TENSOR = ("ToTensor", "PILToTensor")


@register
class TensorTransformOnPilImage(PipelineRule):
    code = "TL407"
    name = "tensor-transform-on-pil-image"
    severity = Severity.ERROR
    fix = FixKind.SAFE

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"Compose"}), frozenset(TENSOR_ONLY))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        seen: set[int] = set()
        for use in model.pipelines.datasets:  # torchvision's datasets give PIL images
            pipeline = use.pipeline
            if pipeline is None or pipeline.version != "v1" or not pipeline.complete or id(pipeline) in seen:
                continue
            seen.add(id(pipeline))
            for index, step in enumerate(pipeline.steps):
                if step.name in TO_TENSOR or step.name in ("", "Lambda"):
                    break  # converted, or by a step it cannot see into
                if step.name in TENSOR_ONLY:
                    later = any(s.name in TO_TENSOR for s in pipeline.steps[index:])
                    if not (step.name == "Normalize" and later):  # TL402's case
                        yield self._finding(model, use, pipeline, step, later)
                    break

    def _finding(self, model: ScriptModel, use: DatasetUse, pipeline: Pipeline, step: Step, later: bool) -> Finding:
        def message() -> str:
            where = "before the `ToTensor` that follows it" if later else "and the pipeline never converts to a tensor"
            return (
                f"`{_code(model, step.node)}` (line {_line(model, step.node)}) takes tensors, but in the pipeline on "
                f"line {_line(model, pipeline.node)} it is given the PIL images {use.facts.name} loads (line "
                f"{_line(model, use.site.node)}) {where}: the first batch raises TypeError. "
                + ("Move it after `ToTensor`" if later else "Put `ToTensor()` before it")
            )

        def fix() -> Fix | None:
            if later or step.call is None:
                return None  # moving a step past others: which order was meant is not clear
            prefix = _module_prefix(model, step.call)
            if prefix is None:
                return None
            edit = insert_before(model, step.node, f"{prefix}ToTensor(), ")
            return Fix(Applicability.SAFE, f"Add {prefix}ToTensor() before {step.name}", (edit,))

        return Finding(step.node, message, fix, refs=[pipeline.node, use.site.node])


def _channels(model: ScriptModel, use: DatasetUse, steps: list[Step]) -> int | None:
    """The channels after these steps of the dataset's images, when every step is known."""
    channels = use.facts.channels
    for step in steps:
        if step.name == "Grayscale":
            channels = _grayscale(model, step)
        elif step.name not in _KEEP_CHANNELS:
            return None
        if channels is None:
            return None
    return channels


def _grayscale(model: ScriptModel, step: Step) -> int | None:
    call = step.call
    if call is None:
        return None
    for i, arg in enumerate(call.args):
        if (arg.keyword is not None and arg.keyword.value == "num_output_channels") or (arg.keyword is None and i == 0):
            found = model.evaluator.single(arg.value, model.tables.module_scope)
            return found.value if found is not None and isinstance(found.value, int) else None
    return 1


def _length(model: ScriptModel, expr: cst.BaseExpression) -> int | None:
    """How many values a mean or std holds: a list or tuple written out (directly or through a name)."""
    import libcst as cst

    if isinstance(expr, cst.Name):
        _, bindings = model.tables.module_scope.lookup(expr.value)
        expr = bindings[0].value if len(bindings) == 1 and bindings[0].value is not None else expr
    if isinstance(expr, (cst.List, cst.Tuple)):
        if any(isinstance(e, cst.StarredElement) for e in expr.elements):
            return None
        return len(expr.elements)
    return None


def _normalize_arguments(step: Step) -> tuple[cst.BaseExpression | None, cst.BaseExpression | None]:
    call = step.call
    if call is None:
        return None, None
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    keywords = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    mean = keywords.get("mean", positional[0] if positional else None)
    std = keywords.get("std", positional[1] if len(positional) > 1 else None)
    return mean, std


@register
class NormalizeChannelMismatch(PipelineRule):
    code = "TL405"
    name = "normalize-channel-mismatch"
    severity = Severity.ERROR

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"Compose"}), frozenset({"Normalize"}))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        seen: set[int] = set()
        for use in model.pipelines.datasets:
            pipeline = use.pipeline
            if pipeline is None or id(pipeline) in seen:
                continue
            index = pipeline.index("Normalize")
            if index is None:
                continue
            channels = _channels(model, use, pipeline.steps[:index])
            step = pipeline.steps[index]
            mean, std = _normalize_arguments(step)
            lengths = {n for n in (_length(model, mean) if mean else None, _length(model, std) if std else None) if n}
            if channels is None or len(lengths) != 1:
                continue
            (given,) = lengths
            if given == channels:
                continue
            seen.add(id(pipeline))
            yield self._finding(model, use, step, channels, given)

    def _finding(self, model: ScriptModel, use: DatasetUse, step: Step, channels: int, given: int) -> Finding:
        broadcast = given == 1  # one value for every channel: it runs, with one channel's statistics
        built = step.call if step.call is not None and step.call is not step.node else None

        def message() -> str:
            quoted = f"`{_code(model, step.node)}` (line {_line(model, step.node)})"
            if built is not None:
                quoted = f"`{_code(model, step.node)}` (`{_code(model, built)}`, line {_line(model, built)})"
            images = (
                f"{use.facts.name} images (line {_line(model, use.site.node)}) have {channels} channel{'s' * (channels > 1)} here"
            )
            if broadcast:
                return (
                    f"{quoted} gives 1 mean and std, but the "
                    f"{images}: every channel is normalized with one channel's statistics, which are likely another "
                    f"dataset's. Give one mean and one std per channel"
                )
            return (
                f"{quoted} gives {given} means and stds, but the "
                f"{images}: the first batch raises (the statistics do not broadcast to the image). Give "
                f"{channels} value{'s' * (channels > 1)} each, the statistics of this dataset"
            )

        severity = Severity.WARNING if broadcast else None
        refs = [use.site.node] + ([built] if built is not None else [])
        return Finding(step.node, message, refs=refs, severity=severity)


@register
class MissingNormalize(PipelineRule):
    code = "TL401"
    name = "missing-normalize"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"Compose"}), frozenset({"ToTensor", "ToImage"}))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        tables = model.tables
        if any(tables.name_count(n) for n in _RECONSTRUCTION) or any(
            word in name.lower() for name in tables.names for word in _NORMALIZING_WORDS
        ):
            return
        seen: set[int] = set()
        for use in model.pipelines.datasets:
            pipeline = use.pipeline
            if pipeline is None or not pipeline.complete or use.train is False or id(pipeline) in seen:
                continue
            converts = _conversion(pipeline)
            if converts is None:
                continue
            channels = _channels(model, use, pipeline.steps[: converts + 1])
            if channels is None:
                continue
            seen.add(id(pipeline))
            yield self._finding(model, use, pipeline, converts, channels)

    def _finding(self, model: ScriptModel, use: DatasetUse, pipeline: Pipeline, converts: int, channels: int) -> Finding:
        from trainlint.facts.datasets import IMAGENET, statistics

        step = pipeline.steps[converts]
        facts = IMAGENET if use.facts.name in ("ImageFolder", "ImageNet") and _pretrained(model) else use.facts
        mean, std, source = statistics(facts, channels)
        written = f"Normalize({_tuple(mean)}, {_tuple(std)})"

        def message() -> str:
            return (
                f"The pipeline on line {_line(model, pipeline.node)} feeds {use.facts.name} images (line "
                f"{_line(model, use.site.node)}) as tensors in [0, 1] (`{_code(model, step.node)}`, line "
                f"{_line(model, step.node)}) and nothing normalizes them: inputs that are all positive and not "
                f"centred slow training down and make the first layers' learning rate hard to set. Add "
                f"`{written}` after it ({facts.name if facts is IMAGENET else use.facts.name}: {source})"
            )

        def fix() -> Fix | None:
            call = step.call
            if call is None:
                return None
            prefix = _module_prefix(model, call)
            if prefix is None:
                return None
            edit: Edit = insert_after(model, step.node, f", {prefix}{written}")
            return Fix(Applicability.UNSAFE, f"Add {prefix}{written} after {step.name}", (edit,))

        return Finding(step.node, message, fix, refs=[pipeline.node, use.site.node])


def _conversion(pipeline: Pipeline) -> int | None:
    """The step that makes [0, 1] tensors: ToTensor (v1), or v2's ToDtype after ToImage."""
    index = pipeline.index("ToTensor")
    if index is not None:
        return index
    if pipeline.index("ToImage") is not None:
        return pipeline.index("ToDtype")
    return None


def _pretrained(model: ScriptModel) -> bool:
    """A torchvision model built with pretrained weights: ImageNet's statistics are the ones it needs."""
    return any(model.tables.name_count(n) for n in ("weights", "pretrained")) and model.tables.name_count("models") > 0


def _tuple(values: tuple[float, ...]) -> str:
    inner = ", ".join(fmt_number(v) for v in values)
    return f"({inner},)" if len(values) == 1 else f"({inner})"


def _module_prefix(model: ScriptModel, call: cst.Call) -> str | None:
    """`transforms.` in `transforms.ToTensor()`: where Normalize is found too."""
    import libcst as cst

    func = call.func
    if isinstance(func, cst.Attribute):
        return model.code(func.value) + "."
    return None


# Words one of which an augmentation's name holds.
_AUGMENTATION_WORDS = frozenset(
    {"Random", "ColorJitter", "Augment", "AugMix", "ElasticTransform", "CutMix", "MixUp", "ScaleJitter"}
)


@register
class AugmentationInEval(Rule):
    code = "TL403"
    name = "augmentation-in-eval-transform"
    severity = Severity.WARNING

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"Compose"}), _AUGMENTATION_WORDS)

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        import libcst as cst

        pipelines = model.pipelines
        # `val_set.transform = ...` / `val_set.dataset.transform = ...`: the data is given another pipeline later.
        retransformed = {
            model.code(store.base if not _is_dataset_attribute(store.base) else store.base.value)  # type: ignore[attr-defined]
            for attr in ("transform", "transforms")
            for store in model.tables.attribute_stores.get(attr, ())
        }
        loaders = pipelines.loaders
        for use in pipelines.datasets:
            if use.pipeline is None or not use.pipeline.augmentations or use.name in retransformed:
                continue
            evidence = self._evaluation(model, use, [lo for lo in loaders if lo.use is use and lo.split is None])
            if evidence is not None and isinstance(use.transform, cst.BaseExpression):
                yield self._finding(model, use, use.transform, evidence, split=None)
        reported: set[int] = set()
        for loader in loaders:
            source, split = loader.use, loader.split
            if source is None or split is None or source.pipeline is None or not source.pipeline.augmentations:
                continue
            if not loader.for_eval or loader.view in retransformed or source.name in retransformed or id(split) in reported:
                continue
            reported.add(id(split))
            yield self._finding(model, source, loader.site.node, self._loader_evidence(model, loader), split=split)

    def _evaluation(self, model: ScriptModel, use: DatasetUse, loaders: list[LoaderUse]) -> str | None:
        """Why this dataset is evaluation data, or None when nothing says so."""
        from trainlint.model.loops import EVAL_NAME

        if use.train is False:
            return "it is built with `train=False`" if use.facts.name != "ImageFolder" else "it is the evaluation split"
        if use.train is None and use.name is not None and EVAL_NAME.search(use.name):
            return f"it is named `{use.name}`"
        if loaders and all(lo.for_eval and lo.roles for lo in loaders):
            return self._loader_evidence(model, loaders[0])
        return None

    @staticmethod
    def _loader_evidence(model: ScriptModel, loader: LoaderUse) -> str:
        loop = next((node for role, node in loader.loops if role == "eval"), None)
        what = f"`{loader.name}`" if loader.name else f"the loader on line {_line(model, loader.site.node)}"
        if loop is not None:
            return f"{what} feeds only the evaluation loop on line {_line(model, loop)}"
        return f"it feeds {what}"

    def _finding(self, model: ScriptModel, use: DatasetUse, node: cst.CSTNode, evidence: str, split: cst.Call | None) -> Finding:
        pipeline = use.pipeline
        assert pipeline is not None
        randoms = pipeline.augmentations

        def message() -> str:
            shown = ", ".join(f"`{_code(model, s.node)}`" for s in randoms[:3]) + (", ..." if len(randoms) > 3 else "")
            pipe = f"the pipeline on line {_line(model, pipeline.node)}, which augments at random ({shown})"
            if split is not None:
                head = (
                    f"This evaluation data is carved from the {use.facts.name} dataset on line "
                    f"{_line(model, use.site.node)} by `{_code(model, split.func)}` (line {_line(model, split)}) and "
                    f"keeps that dataset's transform, {pipe}; {evidence}"
                )
                fix = (
                    "Split the indices instead and build the evaluation part from a second dataset object with a "
                    "deterministic pipeline (`Subset(datasets.X(..., transform=eval_transform), val_indices)`)"
                )
            else:
                head = f"The {use.facts.name} data on line {_line(model, use.site.node)} is for evaluation ({evidence}) but is given {pipe}"
                fix = "Give the evaluation data a pipeline without random transforms (resize or center-crop, ToTensor, Normalize)"
            return (
                f"{head}: evaluation then scores randomly altered images, so its accuracy is noisy, lower than the "
                f"model's, and differs from run to run. {fix}"
            )

        refs = [pipeline.node, use.site.node, *(s.node for s in randoms)] + ([split] if split is not None else [])
        return Finding(node, message, refs=refs)


def _is_dataset_attribute(base: cst.BaseExpression) -> bool:
    """`val_set.dataset` in `val_set.dataset.transform = ...`: the Subset's underlying dataset."""
    import libcst as cst

    return isinstance(base, cst.Attribute) and base.attr.value == "dataset"


# Recurrent layers: a file that builds one may iterate sequence data whose order is the point.
_RECURRENT = frozenset({"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"})


@register
class TrainLoaderNotShuffled(Rule):
    code = "TL404"
    name = "train-loader-not-shuffled"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"DataLoader"}),)

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        recurrent = any(layer.name in _RECURRENT for layer in model.torch.layers)
        for loader in model.pipelines.loaders:
            if "train" not in loader.roles or loader.shuffled is not False or loader.sampler:
                continue
            if loader.map_style is not True or (recurrent and loader.use is None):
                continue  # an iterable or unknown dataset, or sequence data that may be meant to stay in order
            yield self._finding(model, loader)

    def _finding(self, model: ScriptModel, loader: LoaderUse) -> Finding:
        import libcst as cst

        loop = next(node for role, node in loader.loops if role == "train")
        call = loader.site.node

        def message() -> str:
            what = (
                f"`{loader.name}` (line {_line(model, call)})" if loader.name else f"The DataLoader on line {_line(model, call)}"
            )
            given = f"`{_code(model, loader.shuffle)}`" if loader.shuffle is not None else "no `shuffle=True`"
            data = f" over {loader.use.facts.name}" if loader.use is not None else ""
            return (
                f"{what[0].upper()}{what[1:]}{data} feeds the training loop on line {_line(model, loop)} and has "
                f"{given} and no sampler: every epoch sees the same batches in the same order (datasets are often "
                f"stored sorted or grouped by class), so the gradient steps are biased by that order and the loss "
                f"can stall or swing. Pass `shuffle=True` (or a sampler)"
            )

        def fix() -> Fix | None:
            if loader.shuffle is not None:
                value = loader.shuffle.value
                if isinstance(value, cst.Name) and value.value == "False":
                    return Fix(Applicability.UNSAFE, "Set shuffle=True", (replace(model, value, "True"),))
                return None
            args = call.args
            if not args or any(a.star for a in args):
                return None
            edit = insert_after(model, args[-1].value, ", shuffle=True")
            return Fix(Applicability.UNSAFE, "Add shuffle=True", (edit,))

        return Finding(loader.shuffle.value if loader.shuffle is not None else call, message, fix, refs=[call, loop])


@register
class EvalSetFromTrainingSplit(Rule):
    code = "TL406"
    name = "eval-set-from-training-split"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        from trainlint.facts.datasets import DATASETS

        return (frozenset({"DataLoader"}), frozenset(n for n, f in DATASETS.items() if f.split_keyword is not None))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        from trainlint.model.loops import EVAL_NAME

        loaders = model.pipelines.loaders
        for use in model.pipelines.datasets:
            if use.train is not True or use.facts.split_keyword is None:
                continue
            readers = [lo for lo in loaders if lo.use is use]
            # Only loaders that read the whole dataset and only evaluate: a part carved out by `Subset` or
            # `random_split` is a held-out validation set, the right way to validate on training data.
            if not readers or any(lo.split is not None or "train" in lo.roles for lo in readers):
                continue
            names = [n for n in (use.name, *(lo.name for lo in readers), *(lo.view for lo in readers)) if n]
            evaluation = [n for n in names if EVAL_NAME.search(n)]
            if evaluation and not any("train" in n.lower() for n in names):
                yield self._finding(model, use, readers[0], evaluation[0])

    def _finding(self, model: ScriptModel, use: DatasetUse, loader: LoaderUse, name: str) -> Finding:
        import libcst as cst

        keyword = use.facts.split_keyword
        given = next((a for a in use.site.node.args if a.keyword is not None and a.keyword.value == keyword), None)
        call = use.site.node

        def message() -> str:
            how = (
                f"`{keyword}={_code(model, given.value)}`"
                if given is not None
                else f"`{keyword}=` is not given, and its default picks the training part"
            )
            loop = next((node for role, node in loader.loops if role == "eval"), None)
            where = f", read by the evaluation loop on line {_line(model, loop)}" if loop is not None else ""
            pick = "`train=False`" if keyword == "train" else f"the evaluation `{keyword}=`"
            return (
                f"`{name}` is evaluation data{where}, but the {use.facts.name} dataset on line {_line(model, call)} "
                f"is its training split ({how}): the model is scored on the images it trains on, so the accuracy "
                f"measures memorization, not generalization, and hides overfitting. Pass {pick}"
            )

        def fix() -> Fix | None:
            if keyword != "train":
                return None  # the evaluation split's name differs between datasets ("test", "val")
            if given is not None:
                if isinstance(given.value, cst.Name) and given.value.value == "True":
                    return Fix(Applicability.UNSAFE, "Set train=False", (replace(model, given.value, "False"),))
                return None
            args = call.args
            if not args or any(a.star for a in args):
                return None
            return Fix(Applicability.UNSAFE, "Add train=False", (insert_after(model, args[-1].value, ", train=False"),))

        return Finding(given.value if given is not None else call, message, fix, refs=[call, loader.site.node])
