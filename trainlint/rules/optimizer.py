"""TL1xx: optimizer and learning-rate rules."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainlint.diagnostics import Applicability, Edit, Fix, Severity
from trainlint.registry import Finding, FixKind, Rule, register
from trainlint.rules.common import cited, fmt_number, insert_after, one_line, replace, with_origin

if TYPE_CHECKING:
    from trainlint.model import ScriptModel
    from trainlint.model.syntax import CallSite
    from trainlint.model.torch_objects import Optimizer
    from trainlint.model.values import Argument, Known

    EditPlan = tuple[Callable[[], list[Edit]], list[Any]]

# At or above these a learning rate is an order of magnitude past common practice.
DEFAULT_LR_LIMITS = {
    "ASGD": 1.0,
    "Adadelta": 10.0,
    "Adafactor": 0.1,
    "Adagrad": 1.0,
    "Adam": 0.01,
    "AdamW": 0.01,
    "Adamax": 0.02,
    "LBFGS": 10.0,
    "Muon": 0.5,
    "NAdam": 0.02,
    "RAdam": 0.01,
    "RMSprop": 0.1,
    "Rprop": 1.0,
    "SGD": 1.0,
    "SparseAdam": 0.01,
}


class OptimizerRule(Rule):
    """A rule about optimizer calls: it cannot fire unless an optimizer class is named in the file."""

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        from trainlint.facts import torch_facts

        return frozenset(f.name for f in torch_facts().of_kind("optimizer"))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _lr_arguments(optimizer: Optimizer) -> Iterator[tuple[Argument, str]]:
    """The optimizer's `lr` and every parameter group's `'lr'` (with where it stands)."""
    argument = optimizer.argument("lr")
    if argument is not None:
        yield argument, ""
    for i, group in enumerate(optimizer.param_groups):
        argument = group.argument("lr")
        if argument is not None:
            yield argument, f" in parameter group {i}"


def _values(model: ScriptModel, argument: Argument) -> list[Known]:
    return [k for k in model.evaluator.eval_argument(argument) if _is_number(k.value)]


def unmet_condition(model: ScriptModel, site: CallSite) -> str | None:
    """The code of an `if` test around the call that is false with the script's defaults, if any."""
    frame = model.frame_of(site)
    for test, taken in reversed(site.conditions):  # innermost first: the elif's own test
        known = model.evaluator.single(test, site.scope, frame)
        if known is not None and isinstance(known.value, (bool, int, str, type(None))) and bool(known.value) != taken:
            code = one_line(model, test)
            return code if taken else f"not ({code})"
    return None


# The scheduler multiplies the optimizer's lr by a function of the step, or sets the lr itself:
# the lr passed to the optimizer is then not the rate it trains with.
_LR_REPLACED_BY = {"LambdaLR", "MultiplicativeLR", "OneCycleLR", "CyclicLR"}


@dataclass(frozen=True)
class LearningRateOptions:
    #: Per optimizer class: a learning rate at or above the limit is reported.
    #: Entries given in the configuration replace the defaults for those classes.
    limits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LR_LIMITS), metadata={"keys": "optimizer"})


@register
class LearningRateTooHigh(OptimizerRule):
    code = "TL101"
    name = "learning-rate-too-high"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE
    Options = LearningRateOptions

    def check(self, model: ScriptModel, options: LearningRateOptions) -> Iterable[Finding]:
        replaced = {o.node for s in model.torch.schedulers if s.name in _LR_REPLACED_BY for o in s.optimizers}
        offenders = []
        uses: dict[Any, list[tuple[float, float]]] = {}  # a literal -> (limit, value) of each rate it sets
        for optimizer in model.torch.optimizers:
            limit = options.limits.get(optimizer.name)
            if limit is None or optimizer.node in replaced:
                continue
            for argument, group in _lr_arguments(optimizer):
                values = _values(model, argument)
                for known in values:
                    if known.source is not None:
                        uses.setdefault(known.source, []).append((limit, known.value))
                high = [k for k in values if k.value >= limit]
                if high:
                    offenders.append((optimizer, argument, group, high, limit))
        for optimizer, argument, group, high, limit in offenders:
            yield self._finding(model, optimizer, argument, group, high, limit, uses)

    def _finding(
        self,
        model: ScriptModel,
        optimizer: Optimizer,
        argument: Argument,
        group: str,
        high: list[Known],
        limit: float,
        uses: dict[Any, list[tuple[float, float]]],
    ) -> Finding:
        known = max(high, key=lambda k: k.value)
        others = len(high) - 1
        typical = limit / 10
        condition = unmet_condition(model, optimizer.site)
        borderline = known.value == limit or condition is not None

        def message() -> str:
            value = with_origin(model, fmt_number(known.value, as_float=True), known.trail)
            if known.value == limit:
                text = (
                    f"{optimizer.name} learning rate {value}{group} is at the limit of {fmt_number(limit)}, about ten "
                    f"times common practice: borderline, some small models train there, but steps this large often "
                    f"make the loss oscillate. If the loss does not go down, try about {fmt_number(typical)}"
                )
            else:
                text = (
                    f"{optimizer.name} learning rate {value}{group} is at or above {fmt_number(limit)}, about ten times "
                    f"common practice: steps this large make the loss oscillate or diverge instead of going down. "
                    f"Use about {fmt_number(typical)}"
                )
            if others:
                text += f" ({others} more value{'s' * (others > 1)} from other call sites also reach the limit)"
            if condition is not None:
                text += f". This optimizer is built only when `{condition}`, which the defaults do not satisfy"
            return text

        def fix() -> Fix | None:
            from trainlint.model.values import is_numeric_literal

            source = known.source
            if others or source is None or not is_numeric_literal(source):
                return None
            # The literal may set other rates too: fix it only when every rate it sets is too
            # high for the same reason (one shared default feeding SGD and Adam must stay).
            if any(value < lim or lim != limit for lim, value in uses.get(source, ())):
                return None
            return Fix(
                Applicability.UNSAFE,
                f"Set the learning rate to {fmt_number(typical)}",
                (replace(model, source, fmt_number(typical)),),
            )

        trail_nodes = [o.node for o in known.trail]
        return Finding(
            argument.node,
            message,
            fix,
            refs=trail_nodes + [known.source],
            severity=Severity.INFO if borderline else None,
            suppressible_at=trail_nodes,
            related=cited(known.trail),
        )


# (parameter, valid-range text, predicate of a valid value)
_RANGES: dict[str, tuple[str, Callable[[float], bool]]] = {
    "momentum": ("in [0, 1)", lambda v: 0 <= v < 1),
    "eps": ("positive", lambda v: v > 0),
    "lr": ("zero or positive", lambda v: v >= 0),
    "weight_decay": ("zero or positive", lambda v: v >= 0),
}
_CONSEQUENCE = {
    "nan": "the first step turns every weight into nan",
    "momentum": "momentum of 1 or more makes updates grow without bound, and a negative one is rejected by torch",
    "betas": "torch rejects it, and a moving average with a beta of 1 or more never forgets old gradients",
    "eps": "the update divides by sqrt(v) + eps, so a zero or negative eps gives inf/NaN as soon as a gradient is zero",
    "lr": "a negative learning rate climbs the loss instead of descending it (torch rejects it)",
    "weight_decay": "negative weight decay pushes weights away from zero and they blow up (torch rejects it)",
}


@register
class HyperparameterOutOfRange(OptimizerRule):
    code = "TL102"
    name = "optimizer-hyperparameter-out-of-range"
    severity = Severity.ERROR

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for optimizer in model.torch.optimizers:
            groups: list[tuple[Callable[[str], Argument | None], str]] = [(optimizer.argument, "")]
            groups += [(group.argument, f" of parameter group {i}") for i, group in enumerate(optimizer.param_groups)]
            for get, where in groups:
                for name in ("lr", "momentum", "eps", "weight_decay", "betas"):
                    if not optimizer.facts.accepts(name):
                        continue
                    argument = get(name)
                    if argument is not None:
                        yield from self._check(model, optimizer, name, where, argument)

    def _check(self, model: ScriptModel, optimizer: Optimizer, name: str, where: str, argument: Argument) -> Iterator[Finding]:
        for known in model.evaluator.eval_argument(argument):
            if name == "betas":
                value = known.value
                if not (isinstance(value, tuple) and len(value) == 2 and all(_is_number(b) for b in value)):
                    continue
                for i, beta in enumerate(value):
                    if not 0 <= beta < 1:  # nan fails this test too
                        yield self._finding(model, optimizer, f"betas[{i}]{where}", beta, "in [0, 1)", "betas", argument, known)
            elif _is_number(known.value):
                valid_text, valid = _RANGES[name]
                if math.isnan(known.value):
                    yield self._finding(model, optimizer, f"{name}{where}", known.value, "a real number", "nan", argument, known)
                elif not valid(known.value):
                    yield self._finding(model, optimizer, f"{name}{where}", known.value, valid_text, name, argument, known)

    def _finding(
        self,
        model: ScriptModel,
        optimizer: Optimizer,
        what: str,
        value: float,
        valid_text: str,
        name: str,
        argument: Argument,
        known: Known,
    ) -> Finding:
        def message() -> str:
            shown = with_origin(model, fmt_number(value), known.trail)
            return f"{optimizer.name} {what} is {shown}; it must be {valid_text}: {_CONSEQUENCE[name]}"

        return Finding(argument.node, message, refs=[o.node for o in known.trail], related=cited(known.trail))


@register
class AdamCoupledWeightDecay(OptimizerRule):
    code = "TL103"
    name = "adam-coupled-weight-decay"
    severity = Severity.INFO
    fix = FixKind.UNSAFE
    default = False  # coupled L2 with Adam is a deliberate choice in many recipes (GCN, GAT) that train fine

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for optimizer in model.torch.optimizers:
            if optimizer.name != "Adam":
                continue
            decoupled = optimizer.values("decoupled_weight_decay")
            if optimizer.argument("decoupled_weight_decay") is not None and not (
                len(decoupled) == 1 and decoupled[0].value is False
            ):
                continue  # Adam(decoupled_weight_decay=True) is AdamW; unknown: stay silent
            arguments = [optimizer.argument("weight_decay")] + [g.argument("weight_decay") for g in optimizer.param_groups]
            positive = [
                k
                for a in arguments
                if a is not None
                for k in model.evaluator.eval_argument(a)
                if _is_number(k.value) and k.value > 0
            ]
            if positive:
                yield self._finding(model, optimizer, positive[0])

    def _finding(self, model: ScriptModel, optimizer: Optimizer, known: Known) -> Finding:
        def message() -> str:
            shown = with_origin(model, fmt_number(known.value), known.trail)
            return (
                f"Adam with weight_decay={shown} adds an L2 term to the gradient, which Adam's per-weight "
                f"scaling then shrinks for exactly the weights with large gradients; AdamW decays weights "
                f"directly, as intended. Use torch.optim.AdamW and re-tune weight_decay (AdamW commonly "
                f"uses 1e-2 to 1e-1)"
            )

        plan = _adamw_plan(model, optimizer)
        refs = [o.node for o in known.trail] + (plan[1] if plan else [])

        def fix() -> Fix | None:
            if plan is None:
                return None
            return Fix(Applicability.UNSAFE, "Replace Adam with AdamW", tuple(plan[0]()))

        return Finding(optimizer.node.func, message, fix, refs=refs, related=cited(known.trail))


def _adamw_plan(model: ScriptModel, optimizer: Optimizer) -> EditPlan | None:
    """How to turn the callee into AdamW: (edits builder, nodes it needs) or None."""
    import libcst as cst

    func = optimizer.node.func
    if isinstance(func, cst.Attribute) and func.attr.value == "Adam":
        return (lambda: [replace(model, func.attr, "AdamW")]), [func.attr]
    if not isinstance(func, cst.Name):
        return None
    _scope, bindings = optimizer.site.scope.lookup(func.value)
    if len(bindings) != 1 or bindings[0].qualname != "torch.optim.Adam" or not isinstance(bindings[0].statement, cst.ImportFrom):
        return None
    module_scope = optimizer.site.scope.module_scope
    adamw = [
        name
        for name, found in module_scope.bindings.items()
        if len(found) == 1 and found[0].kind == "import" and found[0].qualname in ("torch.optim.AdamW", "torch.optim.adamw.AdamW")
    ]
    if adamw:
        return (lambda: [replace(model, func, adamw[0])]), [func]
    if "AdamW" in module_scope.bindings or "AdamW" in optimizer.site.scope.bindings:
        return None  # the name is taken by something else
    statement = bindings[0].statement
    alias = bindings[0].node
    if isinstance(statement.names, cst.ImportStar) or not isinstance(alias, cst.ImportAlias):
        return None
    uses = model.tables.name_count(func.value)
    if uses == 2 and alias.asname is None:  # the import and this call: rename both, leave no unused import
        return (lambda: [replace(model, alias.name, "AdamW"), replace(model, func, "AdamW")]), [alias.name, func]
    last = statement.names[-1]
    return (lambda: [insert_after(model, last, ", AdamW"), replace(model, func, "AdamW")]), [last, func]
