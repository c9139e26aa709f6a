"""TL3xx: model capacity and regularization."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trainlint.diagnostics import Applicability, Fix, Severity
from trainlint.registry import Finding, FixKind, Rule, register
from trainlint.rules.common import cited, fmt_number, insert_after, replace, with_origin

if TYPE_CHECKING:
    from trainlint.model import ScriptModel
    from trainlint.model.networks import Part
    from trainlint.model.shapes import Step
    from trainlint.model.torch_objects import Optimizer, TorchCall

_MODEL_WORDS = frozenset({"Module", "Sequential", "models", "Linear", "Conv", "LSTM", "Transformer"})
_DROPOUT_WORDS = frozenset({"Dropout", "dropout"})
_DROPOUT_LAYERS = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")
_FUNCTIONAL_DROPOUT = frozenset(
    f"torch.nn.functional.{n}"
    for n in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
)
# Transforms that augment training data (torchvision, v1 and v2), and libraries of augmentations.
_AUGMENT_NAMES = frozenset(
    {
        "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix", "ColorJitter", "GaussianBlur", "MixUp", "CutMix",
        "ElasticTransform", "albumentations", "mixup", "cutmix", "Mixup", "RandomErasing",
    }
)  # fmt: skip
_GENERIC_MODULE_ACCESS = frozenset({"children", "modules", "named_children", "named_modules", "_modules", "getattr", "__dict__"})
# What to suggest per optimizer: the common weight decay of that family.
_SUGGESTED_DECAY = {"SGD": 5e-4, "AdamW": 1e-2}
_DEFAULT_DECAY = 1e-4


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class LargeModelOptions:
    #: Models with at least this many parameters (as far as trainlint can count them) are large.
    min_parameters: int = 5_000_000


@register
class LargeModelWithoutRegularization(Rule):
    code = "TL301"
    name = "large-model-without-regularization"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE
    Options = LargeModelOptions

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        from trainlint.facts import torch_facts

        return (frozenset(f.name for f in torch_facts().of_kind("optimizer")), _MODEL_WORDS)

    def check(self, model: ScriptModel, options: LargeModelOptions) -> Iterable[Finding]:
        file_wide = _file_regularization(model)
        if file_wide:
            return
        for optimizer in model.torch.optimizers:
            decay = _weight_decay(model, optimizer)
            if decay is None or decay > 0:
                continue  # decays, or not known
            for known in optimizer.trained:
                part = model.networks.part(known)
                count = model.networks.count(part)
                if count.total < options.min_parameters:
                    continue
                found, complete = model.networks.regularization(part)
                if found or not complete:
                    continue
                yield self._finding(model, optimizer, part, count.text)
                break

    def _finding(self, model: ScriptModel, optimizer: Optimizer, part: Part, count: str) -> Finding:
        name = _model_name(part)
        suggestion = _SUGGESTED_DECAY.get(optimizer.name, _DEFAULT_DECAY)
        argument = optimizer.argument("weight_decay")

        def message() -> str:
            decay = "weight_decay=0" if argument is not None else f"no weight decay ({optimizer.name}'s default is 0)"
            return (
                f"{name} has {count} parameters and is trained by {optimizer.name} (line {model.positions.line(optimizer.node)}) "
                f"with {decay}, no dropout and no other regularization (no label smoothing or data augmentation in this file): "
                f"a model this large memorizes its training set, so the training loss keeps falling while the validation loss "
                f"rises. Add weight decay (weight_decay={fmt_number(suggestion)}), dropout before the classifier, or augmentation"
            )

        def fix() -> Fix | None:
            if not optimizer.facts.accepts("weight_decay") or not optimizer.arguments.complete:
                return None
            title = f"Add weight_decay={fmt_number(suggestion)} to {optimizer.name}"
            if argument is not None:
                return Fix(Applicability.UNSAFE, title, (replace(model, argument.expr, fmt_number(suggestion)),))
            args = optimizer.node.args
            if not args:
                return None
            return Fix(
                Applicability.UNSAFE, title, (insert_after(model, args[-1].value, f", weight_decay={fmt_number(suggestion)}"),)
            )

        return Finding(optimizer.node, message, fix, refs=[part.node] if part.node is not None else [])


def _model_name(part: Part) -> str:
    if part.cls is not None:
        return part.cls.name
    if part.constructor is not None:
        return f"torchvision's {part.constructor.name}"
    return part.layer or "the model"


def _weight_decay(model: ScriptModel, optimizer: Optimizer) -> float | None:
    """The largest weight decay the optimizer applies to any parameter group, None when not known."""
    if not optimizer.facts.accepts("weight_decay"):
        return 0.0
    argument = optimizer.argument("weight_decay")
    if argument is None:
        if not optimizer.arguments.complete:
            return None
        decays = [float(optimizer.facts.defaults.get("weight_decay") or 0.0)]
    else:
        values = model.evaluator.eval_argument(argument)
        if not values or not all(_is_number(k.value) for k in values):
            return None
        decays = [float(k.value) for k in values]
    for group in optimizer.param_groups:
        group_argument = group.argument("weight_decay")
        if group_argument is None:
            continue
        values = model.evaluator.eval_argument(group_argument)
        if not values or not all(_is_number(k.value) for k in values):
            return None
        decays += [float(k.value) for k in values]
    if len(optimizer.param_groups) and not all(isinstance(g.mapping.entries, dict) for g in optimizer.param_groups):
        return None
    return max(decays)


def _file_regularization(model: ScriptModel) -> bool:
    """Regularization outside the model and the optimizer: label smoothing, data augmentation (a random
    transform, mixup or cutmix), or a penalty on the parameters added to the loss."""
    tables = model.tables
    if any(name.startswith("Random") or name in _AUGMENT_NAMES for name in tables.names):
        return True
    for site in tables.calls_named("CrossEntropyLoss", "cross_entropy"):
        for arg in site.node.args:
            if arg.keyword is not None and arg.keyword.value == "label_smoothing":
                known = model.evaluator.single(arg.value, site.scope, model.frame_of(site))
                if known is None or known.value != 0:
                    return True
    # `sum(p.pow(2).sum() for p in model.parameters())`, `for p in model.parameters(): l2 += p.norm()`
    return any(tables.name_count(n) for n in ("norm", "pow", "square")) and tables.name_count("parameters") > len(
        model.torch.optimizers
    )


# -- configured but never applied ------------------------------------------------------------------


@register
class DropoutNeverApplied(Rule):
    code = "TL302"
    name = "dropout-never-applied"
    severity = Severity.WARNING

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"Dropout"}), frozenset({"forward"}))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        seen: set[int] = set()
        for top in model.networks.models:
            if top.cls is None or id(top.cls) in seen:
                continue
            seen.add(id(top.cls))
            classes = model.evaluator.classes.mro(top.cls)
            methods = model.evaluator.classes.all_methods(top.cls)
            if "forward" not in methods or _generic_access(model, classes):
                continue
            for child in top.children:
                if child.kind != "layer" or not (child.layer or "").endswith(_DROPOUT_LAYERS):
                    continue
                if model.networks.applied(child, top) or child.node is None:
                    continue
                if child.args.get("p", 0.5) == 0 and not child.assumed("p"):
                    continue  # `nn.Dropout(0.0)` unused: no dropout was meant
                others = [r for r in model.networks.regularization(top)[0] if r.node is not child.node]
                yield self._finding(model, top, child, methods["forward"].node, others[0].text if others else None)

    def _finding(self, model: ScriptModel, top: Part, child: Part, forward: Any, other: str | None) -> Finding:
        node = child.node
        assert node is not None

        def message() -> str:
            layer = f"self.{child.name} = {model.code(node)} (line {model.positions.line(node)})"
            if child.assumed("p"):
                p = child.args.get("p")
                layer += f" (its p is {'not known' if p is None else fmt_number(p)} by default; callers may pass more)"
            where = f"{top.cls.name if top.cls else 'the model'}.forward (line {model.positions.line(forward)})"
            if other is not None:
                return (
                    f"{layer} is never used: {where} does not call it (the model applies other dropout, {other}). "
                    f"If it is meant to act, apply it in forward (`x = self.{child.name}(x)`); otherwise remove it"
                )
            return (
                f"{layer} is never used: {where} does not call it, so the model trains without the dropout it was "
                f"given. Apply it in forward (`x = self.{child.name}(x)`), or remove it"
            )

        quiet = other is not None or (
            child.assumed("p") and child.args.get("p") == 0
        )  # another dropout, or p=0 unless callers say
        return Finding(node, message, refs=[forward], severity=Severity.INFO if quiet else None)


def _generic_access(model: ScriptModel, classes: list[Any]) -> bool:
    """`for m in self.children()`, `getattr(self, name)`: modules used without being named."""
    for name in _GENERIC_MODULE_ACCESS:
        if not model.tables.name_count(name):
            continue
        for site in model.tables.calls_named(name):
            if site.function is not None and site.function.cls in classes:
                return True
        if name in ("_modules", "__dict__"):
            return True
    return False


_OPTION_WORDS = frozenset({"weight_decay", "wd", "l2", "l2_reg", "dropout", "drop", "drop_rate", "dropout_rate", "dropout_prob"})


@register
class RegularizationOptionUnused(Rule):
    code = "TL303"
    name = "regularization-option-unused"
    severity = Severity.WARNING

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"add_argument"}), frozenset({"decay", "wd", "drop", "l2"}))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for found in model.argparse.options.values():
            unused = [o for o in found if _is_regularization_option(o.flags, o.dest) and not model.tables.attribute_reads(o.dest)]
            if unused and not _namespace_escapes(model):
                yield from (_unused_option(model, option) for option in unused)


def _is_regularization_option(flags: tuple[str, ...], dest: str) -> bool:
    words = {f.lstrip("-").lower().replace("-", "_") for f in flags} | {dest.lower()}
    return bool(words & _OPTION_WORDS)


def _namespace_escapes(model: ScriptModel) -> bool:
    """Whether the parsed arguments may be read where the file cannot see: handed to a function that is
    not the file's own, returned, or read by name (`vars(args)`, `getattr(args, name)`, `args.__dict__`)."""
    import libcst as cst

    from trainlint.model.cli_args import ArgNamespace
    from trainlint.model.values import MODULE_FRAME, ClassRef, FunctionRef

    if any(model.tables.name_count(n) for n in ("vars", "getattr", "__dict__")):
        return True
    ev = model.evaluator

    def is_namespace(expr: Any, scope: Any, frame: Any) -> bool:
        # Any parser's namespace: `parents=[base_parser]` makes another parser's options part of it.
        return isinstance(expr, (cst.Name, cst.Attribute, cst.Call)) and any(
            isinstance(k.value, ArgNamespace) for k in ev.eval(expr, scope, frame)
        )

    for site in model.tables.calls:
        frame = model.frame_of(site)
        if not any(is_namespace(a.value, site.scope, frame) for a in site.node.args):
            continue
        callees = ev.eval(site.node.func, site.scope, frame)
        if not callees or not all(isinstance(k.value, (FunctionRef, ClassRef)) for k in callees):
            return True
    for function in model.tables.functions.values():
        frame = ev.frame_for(function.scope, MODULE_FRAME)
        if any(r.value is not None and is_namespace(r.value, function.scope, frame) for r in function.returns):
            return True
    return False


def _unused_option(model: ScriptModel, option: Any) -> Finding:
    flag = max(option.flags, key=len)

    def message() -> str:
        return (
            f"{flag} is parsed (line {model.positions.line(option.site.node)}) but `args.{option.dest}` is never read: "
            f"whatever value is passed, training runs without it, and a run launched with {flag} believes it is "
            f"regularized. Pass it where it belongs (`weight_decay=args.{option.dest}` to the optimizer, "
            f"`nn.Dropout(args.{option.dest})`), or remove the option"
        )

    return Finding(option.site.node, message)


# -- values torch refuses or misreads ----------------------------------------------------------------


@register
class DropoutProbabilityOutOfRange(Rule):
    code = "TL304"
    name = "dropout-probability-out-of-range"
    severity = Severity.ERROR

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        return _DROPOUT_WORDS

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for layer in model.torch.layers:
            name = layer.name
            parameter = "p" if name.endswith(_DROPOUT_LAYERS) else "dropout" if layer.facts.accepts("dropout") else None
            if parameter is not None:
                yield from _out_of_range(model, layer, parameter, f"nn.{name}")
        for site in model.tables.calls_named(*(q.rsplit(".", 1)[-1] for q in _FUNCTIONAL_DROPOUT)):
            qualname = model.evaluator.qualname(site.node.func, site.scope, model.frame_of(site))
            if qualname in _FUNCTIONAL_DROPOUT:
                yield from _functional_out_of_range(model, site, qualname)


def _out_of_range(model: ScriptModel, layer: TorchCall, parameter: str, label: str) -> Iterator[Finding]:
    argument = layer.argument(parameter)
    if argument is None:
        return
    for known in model.evaluator.eval_argument(argument):
        if _is_number(known.value) and not 0 <= known.value < 1:
            yield _probability_finding(model, argument.node, known, label, parameter)
            return


def _functional_out_of_range(model: ScriptModel, site: Any, qualname: str) -> Iterator[Finding]:
    args = site.node.args
    arg = next((a for a in args if a.keyword is not None and a.keyword.value == "p"), None)
    positional = [a for a in args if a.keyword is None and not a.star]
    if arg is None and len(positional) > 1:
        arg = positional[1]
    if arg is None:
        return
    for known in model.evaluator.eval(arg.value, site.scope, model.frame_of(site)):
        if _is_number(known.value) and not 0 <= known.value < 1:
            yield _probability_finding(model, arg, known, f"F.{qualname.rsplit('.', 1)[-1]}", "p")
            return


def _probability_finding(model: ScriptModel, node: Any, known: Any, label: str, parameter: str) -> Finding:
    value = known.value

    def message() -> str:
        shown = with_origin(model, f"{parameter}={fmt_number(value)}", known.trail)
        if value == 1:
            return (
                f"{label} with {shown} zeroes every activation in training: nothing reaches the layers after it, so "
                f"the loss cannot go down. {parameter} is the probability of dropping (PyTorch), not of keeping "
                f"(TensorFlow's keep_prob): use a value such as 0.1-0.5"
            )
        return (
            f"{label} with {shown} is not a probability: torch raises ValueError when the layer is built (or the call "
            f"runs). {parameter} is the probability of dropping an element, between 0 and 1: use a value such as 0.1-0.5"
        )

    return Finding(node, message, related=cited(known.trail), suppressible_at=[known.source] if known.source is not None else [])


@register
class FunctionalDropoutAlwaysOn(Rule):
    code = "TL305"
    name = "functional-dropout-always-on"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"dropout"}), frozenset({"forward"}))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        modules = {m.cls for m in model.torch.module_classes}
        for site in model.tables.calls_named(*(q.rsplit(".", 1)[-1] for q in _FUNCTIONAL_DROPOUT)):
            function = site.function
            if function is None or function.cls not in modules or function.first_param_name is None:
                continue
            qualname = model.evaluator.qualname(site.node.func, site.scope, model.frame_of(site))
            if qualname not in _FUNCTIONAL_DROPOUT:
                continue
            args = site.node.args
            if any(a.star for a in args) or any(a.keyword is not None and a.keyword.value == "training" for a in args):
                continue
            if len([a for a in args if a.keyword is None]) >= 3:
                continue  # training given by position
            if any("training" in model.code(test) and taken for test, taken in site.conditions):
                continue  # `if self.training: x = F.dropout(x, p)`
            yield self._finding(model, site, qualname, function.first_param_name)

    def _finding(self, model: ScriptModel, site: Any, qualname: str, self_name: str) -> Finding:
        name = qualname.rsplit(".", 1)[-1]

        def message() -> str:
            return (
                f"F.{name}(...) in a module's method drops activations in evaluation too: unlike nn.Dropout it does not "
                f"follow model.eval(), because its `training` argument defaults to True. Validation and test scores "
                f"come out noisy and too low. Pass training={self_name}.training (or use an nn.{_layer_of(name)} layer)"
            )

        def fix() -> Fix | None:
            args = site.node.args
            if not args:
                return None
            return Fix(
                Applicability.UNSAFE,
                f"Pass training={self_name}.training",
                (insert_after(model, args[-1].value, f", training={self_name}.training"),),
            )

        return Finding(site.node, message, fix)


def _layer_of(function: str) -> str:
    return {"dropout": "Dropout", "alpha_dropout": "AlphaDropout", "feature_alpha_dropout": "FeatureAlphaDropout"}.get(
        function, function.capitalize().replace("d", "d", 1)
    )


# -- opinions (opt-in) ------------------------------------------------------------------------------


@register
class DropoutBeforeBatchNorm(Rule):
    code = "TL306"
    name = "dropout-before-batchnorm"
    severity = Severity.INFO
    default = False

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (frozenset({"Dropout"}), frozenset({"BatchNorm"}))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for before, after in model.shapes.adjacent_layers:
            if (before.layer or "").endswith(_DROPOUT_LAYERS) and (after.layer or "").startswith("BatchNorm"):
                yield self._finding(model, before, after)

    def _finding(self, model: ScriptModel, before: Step, after: Step) -> Finding:
        def message() -> str:
            return (
                f"{_layer_text(model, after)} comes right after {_layer_text(model, before)}: dropout changes the "
                f"variance of its output between training and evaluation, so the statistics batch norm learns in "
                f"training do not fit evaluation (the 'variance shift'). Put dropout after the batch norm (and its "
                f"activation), or only before the classifier"
            )

        return Finding(after.node, message, refs=[before.node])


# Layers that keep a linear map linear: dropout is a mask and a scale, the others move no values.
_LINEAR_NO_OPS = frozenset({"Dropout", "Identity", "Flatten", "Unflatten"})


def _layer_text(model: ScriptModel, step: Step) -> str:
    """`nn.BatchNorm2d model[6] (line 80)`."""
    return f"nn.{step.layer} {step.label} (line {model.positions.line(step.node)})"


@register
class LinearWithoutActivation(Rule):
    code = "TL307"
    name = "linear-without-activation"
    severity = Severity.INFO
    default = False

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        return frozenset({"Linear"})

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for before, after in model.shapes.layer_pairs(_LINEAR_NO_OPS):
            if before.layer != "Linear" or after.layer != "Linear" or before.owner is not after.owner:
                continue  # across modules (an encoder's last layer, a decoder's first): their own design
            if before.part is not None and after.part is not None:
                middle = before.part.args.get("out_features")
                outer = (before.part.args.get("in_features"), after.part.args.get("out_features"))
                if isinstance(middle, int) and all(isinstance(d, int) and middle < d for d in outer):
                    continue  # a low-rank bottleneck (`Linear(784, 3)` then `Linear(3, 784)`): deliberate
            yield self._finding(model, before, after)

    def _finding(self, model: ScriptModel, before: Step, after: Step) -> Finding:
        def message() -> str:
            return (
                f"{_layer_text(model, after)} follows {_layer_text(model, before)} with no activation between them: "
                f"two linear maps in a row are one linear map, so the extra layer adds parameters but no expressive "
                f"power. Put a non-linearity (nn.ReLU, nn.GELU) between them, or merge them"
            )

        return Finding(after.node, message, refs=[before.node])
