"""TL2xx: learning-rate schedulers never stepped, stepped in the wrong place, or stepped without their metric."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trainlint.diagnostics import Fix, Severity
from trainlint.registry import Finding, FixKind, Rule, register
from trainlint.rules.common import fmt_number, one_line, with_origin
from trainlint.rules.common import line_of as _line
from trainlint.rules.optimizer import unmet_condition

if TYPE_CHECKING:
    import libcst as cst

    from trainlint.model import ScriptModel
    from trainlint.model.loops import Event, LoopModel, TraceLoop
    from trainlint.model.torch_objects import Scheduler
    from trainlint.model.values import Known

# Schedules that are meant to change the rate every optimizer step.
PER_STEP = {"OneCycleLR", "CyclicLR"}
# Epoch-style schedules and the argument that gives their period (ExponentialLR: its decay per step).
PERIODS = {
    "StepLR": "step_size",
    "MultiStepLR": "milestones",
    "CosineAnnealingLR": "T_max",
    "CosineAnnealingWarmRestarts": "T_0",
    "PolynomialLR": "total_iters",
    "ExponentialLR": "gamma",
}
# Words in a period's expression that say it counts steps, not epochs (`step_size` alone says nothing).
STEP_WORDS = re.compile(r"steps|iter|batch|update|len\(", re.IGNORECASE)
# Callables that only look at an object: passing a scheduler to them hands it to nobody.
LOOKERS = {"print", "len", "str", "repr", "isinstance", "type", "id", "hasattr", "format"}
LIGHTNING_BASES = {"pytorch_lightning.LightningModule", "lightning.LightningModule", "lightning.pytorch.LightningModule"}


class SchedulerRule(Rule):
    """A rule about schedulers: it cannot fire unless a scheduler class is named in the file."""

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        from trainlint.facts import torch_facts

        return frozenset(f.name for f in torch_facts().of_kind("scheduler"))


def _call_code(model: ScriptModel, event: Event) -> str:
    return one_line(model, event.node)


# -- TL201 ------------------------------------------------------------------------------------------


STEPPED, ESCAPES, NEVER, MANUAL = "stepped", "escapes", "never", "manual"


def _fate(model: ScriptModel, scheduler: Scheduler) -> str:
    """Whether a scheduler is stepped in this file, may be stepped elsewhere, or never is."""
    from trainlint.model.uses import ARGUMENT, RECEIVER, RETURNED, STORED
    from trainlint.model.values import ClassRef, FunctionRef, Imported, TorchObject

    if _step_calls(model, scheduler.node) or model.loops.scheduler_steps(scheduler.node):
        return STEPPED  # the common case, answered without the map of every use
    uses = model.uses.of(scheduler.node)
    if any(u.kind == RECEIVER and u.method == "step" for u in uses):
        return STEPPED
    ev = model.evaluator
    for use in uses:
        if use.kind == RECEIVER:
            continue  # state_dict(), get_last_lr(): looking, not stepping
        if use.kind == ARGUMENT and use.site is not None:
            callees = ev.eval(use.site.node.func, use.site.scope, ev.frame_of(use.site))
            if any(isinstance(k.value, (FunctionRef, ClassRef)) for k in callees):
                continue  # a function of this file: what it does with the parameter is indexed too
            names = {getattr(k.value, "name", None) for k in callees}
            if names & LOOKERS and not any(isinstance(k.value, (Imported, TorchObject)) for k in callees):
                continue
            return ESCAPES  # handed to code this file cannot see (SequentialLR, a trainer, a list)
        if use.kind == RETURNED:
            lightning = _lightning_fate(model, use.function)
            return lightning or ESCAPES
        if use.kind == STORED and use.store is not None and _stored_on_own_instance(model, use.store):
            continue
        return ESCAPES
    return NEVER if _all_references_known(model, scheduler, uses) else ESCAPES


def _step_calls(model: ScriptModel, node: cst.Call) -> list[Any]:
    """The `X.step(...)` call sites where X can be the scheduler built by `node` (in any caller's frame)."""
    from trainlint.model.values import TorchObject

    return [
        site
        for site, base in model.evaluator.method_calls("step")
        if isinstance(base.value, TorchObject) and base.value.node is node
    ]


def _lightning_fate(model: ScriptModel, function: Any) -> str | None:
    """A scheduler returned by a LightningModule's configure_optimizers: Lightning steps it, unless the
    module optimizes manually and never asks `self.lr_schedulers()` for it."""
    if function is None or function.name != "configure_optimizers" or function.cls is None:
        return None
    cls = function.cls
    classes = model.evaluator.classes
    if not any(name in LIGHTNING_BASES for klass in classes.mro(cls) for name in classes.base_qualnames(klass)):
        return None
    manual = False
    for store in model.tables.attribute_stores.get("automatic_optimization", ()):
        method = store.function
        if method is not None and method.cls in classes.mro(cls) and store.value is not None:
            value = model.evaluator.single(store.value, store.scope)
            manual = manual or (value is not None and value.value is False)
    if not manual:
        return STEPPED
    methods = set(classes.all_methods(cls).values())
    if any(site.function in methods for site in model.calls_named("lr_schedulers")):
        return STEPPED
    return MANUAL


def _stored_on_own_instance(model: ScriptModel, store: Any) -> bool:
    """`self.scheduler = ...` in a class whose bases are all this file's (or nn.Module, object): its
    other uses, `self.scheduler.step()`, are found through the instance. A library base class may
    read the attribute itself."""
    import libcst as cst

    function = store.function
    if function is None or function.cls is None or not isinstance(store.key, str):
        return False
    if not isinstance(store.base, cst.Name) or store.base.value != function.first_param_name:
        return False
    classes = model.evaluator.classes
    known = {"torch.nn.Module", "object"}
    return all(set(classes.base_qualnames(klass)) <= known for klass in classes.mro(function.cls))


def _all_references_known(model: ScriptModel, scheduler: Scheduler, uses: list[Any]) -> bool:
    """Every mention of the scheduler's variable is a use we understood: a reference we cannot place
    (`handlers.add(sched.step)`) might step it."""
    import libcst as cst

    from trainlint.model.syntax import terminal_name

    statement = scheduler.site.statement
    if not isinstance(statement, cst.Assign) or statement.value is not scheduler.node:
        return False
    names = {name for t in statement.targets if (name := terminal_name(t.target)) is not None}
    if not names:
        return False
    tables = model.tables
    for name in names:
        known = sum(1 for t in statement.targets if terminal_name(t.target) == name)
        known += sum(1 for u in uses if terminal_name(u.expr) == name)
        known += sum(
            1 for f in tables.functions.values() for p in (*f.params.params, *f.params.kwonly_params) if p.name.value == name
        )
        known += sum(1 for site in tables.calls for a in site.node.args if a.keyword is not None and a.keyword.value == name)
        if tables.name_count(name) != known:
            return False
    return True


def _initial_lr(model: ScriptModel, scheduler: Scheduler) -> str | None:
    """The optimizer's learning rate, for the message: what training runs at when nothing steps."""
    if len(scheduler.optimizers) != 1:
        return None
    values = scheduler.optimizers[0].values("lr")
    if len(values) == 1 and isinstance(values[0].value, (int, float)):
        return with_origin(model, fmt_number(values[0].value, as_float=True), values[0].trail)
    return None


@register
class SchedulerNeverStepped(SchedulerRule):
    code = "TL201"
    name = "scheduler-never-stepped"
    severity = Severity.WARNING

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        schedulers = model.torch.schedulers
        fates = {s.node: _fate(model, s) for s in schedulers}
        for scheduler in schedulers:
            fate = fates[scheduler.node]
            if fate == MANUAL:
                yield self._finding(model, scheduler, manual=True)
            elif fate == NEVER and model.loops.has_training and not self._alternative(scheduler, schedulers, fates):
                yield self._finding(model, scheduler, manual=False)

    def _alternative(self, scheduler: Scheduler, schedulers: list[Scheduler], fates: dict[Any, str]) -> bool:
        """Another scheduler drives the same optimizer (or one of unknown optimizer is stepped): this one is
        probably a choice not taken (`step`, `cosine`, then `scheduler = step`)."""
        mine = {o.node for o in scheduler.optimizers}
        for other in schedulers:
            if other is scheduler or fates[other.node] == NEVER:
                continue
            theirs = {o.node for o in other.optimizers}
            if not mine or not theirs or mine & theirs:
                return True
        return False

    def _finding(self, model: ScriptModel, scheduler: Scheduler, manual: bool) -> Finding:
        import libcst as cst

        statement = scheduler.site.statement
        target = model.code(statement.targets[0].target) if isinstance(statement, cst.Assign) else "the scheduler"
        when = "once per optimizer step" if scheduler.name in PER_STEP else "once per epoch, after that epoch's optimizer steps"

        def message() -> str:
            lr = _initial_lr(model, scheduler)
            stays = f"the learning rate stays at {lr}" if lr else "the learning rate never changes"
            if manual:
                return (
                    f"{scheduler.name} `{target}` is never stepped: this LightningModule sets "
                    f"`automatic_optimization = False`, so Lightning does not step the schedulers "
                    f"configure_optimizers returns, and nothing calls `self.lr_schedulers()`; {stays} for the "
                    f"whole training. Step it in training_step: `self.lr_schedulers().step()` {when}"
                )
            return (
                f"{scheduler.name} `{target}` is created but never stepped: nothing in this file calls "
                f"`{target}.step()`, so its schedule never runs and {stays} for the whole training. "
                f"Call `{target}.step()` {when}"
            )

        return Finding(scheduler.node, message, refs=[o.node for o in scheduler.optimizers])


# -- where a scheduler step sits -------------------------------------------------------------------


def _scheduler_of(model: ScriptModel, event: Event) -> Scheduler | None:
    from trainlint.model.values import TorchObject

    by_node = {s.node: s for s in model.torch.schedulers}
    for known in event.targets:
        if isinstance(known.value, TorchObject) and known.value.node in by_node:
            return by_node[known.value.node]
    return None


def _steps_in(events: list[Event], loop: TraceLoop) -> list[Event]:
    return [e for e in events if loop in e.loops]


@dataclass
class Placement:
    """Where one scheduler step sits relative to its optimizer's steps in the same trace."""

    event: Event
    scheduler: Scheduler
    steps: list[Event]  # the optimizer's steps inside the scheduler step's innermost loop


def _placements(model: ScriptModel) -> Iterator[Placement]:
    loops = model.loops
    seen: set[int] = set()
    for event in loops.events("scheduler_step"):
        scheduler = _scheduler_of(model, event)
        if scheduler is None or len(scheduler.optimizers) != 1 or event.loop is None:
            continue
        if id(event.node) in seen:
            continue  # a helper reached from two places: judged where it is first reached
        seen.add(id(event.node))
        optimizer = scheduler.optimizers[0].node
        trace_events = event.trace.events if event.trace is not None else []
        steps = [e for e in trace_events if e.kind == "step" and e.acts_on(optimizer)]
        yield Placement(event, scheduler, _steps_in(steps, event.loop))


# -- TL202 ------------------------------------------------------------------------------------------


@register
class SchedulerStepBeforeOptimizerStep(SchedulerRule):
    code = "TL202"
    name = "scheduler-step-before-optimizer-step"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for placement in _placements(model):
            event, scheduler, steps = placement.event, placement.scheduler, placement.steps
            if scheduler.name == "ReduceLROnPlateau" or event.node.args:
                continue  # no skipped first value for these; step(epoch) sets the position explicitly
            if steps:
                if not all(event.order < s.order and not event.exclusive(s) for s in steps):
                    continue
                if _first_iteration(model, event, steps) is not True:
                    continue  # `if epoch > 0: scheduler.step()`: it steps after the previous epoch's training
                yield self._before(model, event, scheduler, steps)
            elif self._instead_of_optimizer(model, event, scheduler):
                yield self._instead(model, event, scheduler)

    def _instead_of_optimizer(self, model: ScriptModel, event: Event, scheduler: Scheduler) -> bool:
        """The loop backpropagates and steps the scheduler, but nothing steps the optimizer anywhere."""
        from trainlint.model.uses import ARGUMENT, RECEIVER

        optimizer = scheduler.optimizers[0]
        if model.loops.steps_of(optimizer.node) or event.loop is None:
            return False
        for use in model.uses.of(optimizer.node):
            if use.kind == RECEIVER and use.method != "step":
                continue
            if use.kind == ARGUMENT and use.site is not None and _schedules(model, use.site):
                continue
            return False  # stepped, passed on, returned or stored: it may be stepped where the file cannot see
        trace_events = event.trace.events if event.trace is not None else []
        in_loop = [e for e in trace_events if event.loop in e.loops]
        unresolved_steps = any(e.kind == "step" and not e.targets for e in in_loop)
        return not unresolved_steps and any(e.kind == "backward" for e in in_loop)

    def _before(self, model: ScriptModel, event: Event, scheduler: Scheduler, steps: list[Event]) -> Finding:
        first = min(steps, key=lambda s: s.order)
        loop = event.loop
        nested = first.loop is not loop
        model.positions.want([event.node, first.node, loop.node if loop else None])
        # Per batch, one skipped step of thousands is harmless; per epoch, the whole schedule shifts by one.
        per_batch = not nested and loop is not None and _per_batch(model.loops, loop)

        def message() -> str:
            where = f"the loop on line {_line(model, loop.node)}" if loop else "each iteration"
            call, step = _call_code(model, event), _call_code(model, first)
            if nested:
                return (
                    f"`{call}` runs at the top of each iteration of {where}, before that iteration's training "
                    f"reaches `{step}` (line {_line(model, first.node)}): PyTorch warns, and the first value of "
                    f"the {scheduler.name} schedule is skipped, so every epoch trains one step further along it "
                    f"than intended. Move it after the training, at the end of the loop body"
                )
            return (
                f"`{call}` runs before `{step}` (line {_line(model, first.node)}) in each iteration of {where}: "
                f"PyTorch warns, and the first value of the {scheduler.name} schedule is skipped. "
                f"Call it after `{step}`"
            )

        def fix() -> Fix | None:
            from trainlint.rules.edits import move_after

            if not _stepped_once(model, scheduler):
                return None
            anchor = _anchor_statement(event, first)
            return move_after(model, event.site.statement, anchor, "Move the scheduler step after the optimizer step")

        severity = Severity.INFO if per_batch else None
        return Finding(event.node, message, fix, refs=[first.node, loop.node if loop else None], severity=severity)

    def _instead(self, model: ScriptModel, event: Event, scheduler: Scheduler) -> Finding:
        optimizer = scheduler.optimizers[0]

        def message() -> str:
            return (
                f"`{_call_code(model, event)}` is stepped in a loop that backpropagates, but nothing steps the "
                f"{optimizer.name} optimizer it schedules (line {_line(model, optimizer.node)}): the gradients are "
                f"computed and thrown away, so the weights never change. `optimizer.step()` was probably meant here; "
                f"call it before the scheduler step"
            )

        return Finding(event.node, message, refs=[optimizer.node])


def _schedules(model: ScriptModel, site: Any) -> bool:
    """Whether a call builds a scheduler (`StepLR(optimizer, ...)`): an optimizer passed there is not stepped."""
    return any(s.node is site.node for s in model.torch.schedulers)


# -- TL203 ------------------------------------------------------------------------------------------


def _period(model: ScriptModel, scheduler: Scheduler) -> tuple[Known, str] | None:
    """The schedule's period (or ExponentialLR's gamma) with its argument's name, when it is known and
    nothing in its expression says it counts steps."""
    argument_name = PERIODS[scheduler.name]
    argument = scheduler.argument(argument_name)
    from trainlint.model.values import Known, Sequence

    if argument is None:
        default = scheduler.facts.defaults.get(argument_name)
        return (Known(default), argument_name) if isinstance(default, (int, float)) and not isinstance(default, bool) else None
    if STEP_WORDS.search(model.code(argument.expr)):
        return None
    values = model.evaluator.eval_argument(argument)
    if len(values) != 1:
        return None
    known = values[0]
    value = known.value
    if isinstance(value, Sequence):  # milestones=[30, 60]: the last one
        elements = [model.evaluator.single(e.value, value.scope, value.frame) for e in value.node.elements]
        value = tuple(e.value for e in elements if e is not None)
        known = Known(value, tuple(o for e in elements if e is not None for o in e.trail))
        if len(value) != len(elements):
            return None
    if scheduler.name == "MultiStepLR" and isinstance(value, tuple) and value and all(isinstance(v, (int, float)) for v in value):
        return Known(max(value), known.trail), argument_name
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return known, argument_name
    return None


def _per_batch(loops: LoopModel, loop: TraceLoop) -> bool:
    if loops.iterates_data(loop):
        return True
    return not loops.is_epoch_loop(loop) and any(loops.is_epoch_loop(a) for a in loop.ancestors)


@register
class EpochSchedulerSteppedPerBatch(SchedulerRule):
    code = "TL203"
    name = "epoch-scheduler-stepped-per-batch"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        loops = model.loops
        for placement in _placements(model):
            event, scheduler, steps = placement.event, placement.scheduler, placement.steps
            loop = event.loop
            if scheduler.name not in PERIODS or event.node.args or loop is None:
                continue
            if not any(s.loop is loop for s in steps) or not _per_batch(loops, loop):
                continue  # not stepped alongside the optimizer, in a loop over batches
            if _extra_conditions(event, steps):
                continue  # `if i == len(loader) - 1: scheduler.step()`: not every batch
            period = _period(model, scheduler)
            if period is None:
                continue
            known, argument_name = period
            epoch_loop = next((a for a in loop.ancestors if loops.is_epoch_loop(a)), None)
            epochs = loops.iterations(epoch_loop) if epoch_loop is not None else None
            if scheduler.name == "ExponentialLR":
                if known.value > 0.99:
                    continue  # a decay this slow may well be meant per step
                severity = None
            elif epochs is not None:
                if known.value > epochs.value:
                    continue  # longer than the training in epochs: it counts steps
                severity = None
            else:
                severity = Severity.INFO
            yield self._finding(model, event, scheduler, steps, known, argument_name, epoch_loop, epochs, severity)

    def _finding(
        self,
        model: ScriptModel,
        event: Event,
        scheduler: Scheduler,
        steps: list[Event],
        period: Known,
        argument_name: str,
        epoch_loop: TraceLoop | None,
        epochs: Known | None,
        severity: Severity | None,
    ) -> Finding:
        loop = event.loop
        assert loop is not None
        step = min((s for s in steps if s.loop is loop), key=lambda s: s.order)
        epoch_node = epoch_loop.node if epoch_loop is not None else None
        refs = [
            step.node,
            loop.node,
            epoch_node,
            *(o.node for o in period.trail),
            *(o.node for o in (epochs.trail if epochs else ())),
        ]

        def message() -> str:
            call = _call_code(model, event)
            setting = with_origin(model, f"{argument_name}={fmt_number(period.value)}", period.trail)
            where = (
                f"`{call}` runs once per batch (in the batch loop on line {_line(model, loop.node)}, next to "
                f"`{_call_code(model, step)}` on line {_line(model, step.node)})"
            )
            if scheduler.name == "ExponentialLR":
                return (
                    f"{where}, but ExponentialLR({setting}) multiplies the learning rate by {fmt_number(period.value)} "
                    f"at every step: after a few hundred batches it is practically zero and training stops. Step it "
                    f"once per epoch, after the batch loop, or raise gamma to a per-step decay (0.999 or more)"
                )
            if epochs is not None and epoch_node is not None:
                counts = (
                    f"{scheduler.name}'s {setting} counts epochs: the epoch loop on line {_line(model, epoch_node)} "
                    f"runs for {with_origin(model, fmt_number(epochs.value), epochs.trail)}"
                )
            else:
                counts = f"{scheduler.name}'s {setting} usually counts epochs (assumed: the number of epochs is not known)"
            return (
                f"{where}, but {counts}. The schedule runs through in {fmt_number(period.value)} batches instead of "
                f"{fmt_number(period.value)} epochs, so the learning rate collapses early. Step it once per epoch, "
                f"after the batch loop (or give the period in steps)"
            )

        def fix() -> Fix | None:
            from trainlint.rules.edits import move_after

            if loop.via != event.via or loop.loop.function is not event.site.function or not _stepped_once(model, scheduler):
                return None
            title = "Step the scheduler once per epoch, after the batch loop"
            return move_after(model, event.site.statement, loop.node, title, out_of=True)

        return Finding(event.node, message, fix, refs=refs, severity=severity)


# -- TL204 ------------------------------------------------------------------------------------------


@register
class PlateauStepWithoutMetric(SchedulerRule):
    code = "TL204"
    name = "plateau-step-without-metric"
    severity = Severity.ERROR

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        seen: set[int] = set()
        for scheduler in model.torch.schedulers:
            if scheduler.name != "ReduceLROnPlateau":
                continue
            for site in _step_calls(model, scheduler.node):
                if id(site.node) in seen:
                    continue
                if any(a.keyword is None or a.keyword.value == "metrics" for a in site.node.args):
                    continue
                if site.conditions and unmet_condition(model, site) is None:
                    # `if isinstance(s, ReduceLROnPlateau): s.step(loss) else: s.step()`: a branch it cannot rule out
                    # is still likely a branch for other schedulers; report only a step that surely runs.
                    if not self._surely_runs(model, site):
                        continue
                seen.add(id(site.node))
                yield self._finding(model, site.node, scheduler)

    def _surely_runs(self, model: ScriptModel, site: Any) -> bool:
        """Every `if` around the call is known to take its branch with the script's defaults."""
        frame = model.frame_of(site)
        for test, taken in site.conditions:
            known = model.evaluator.single(test, site.scope, frame)
            if known is None or not isinstance(known.value, (bool, int, str, type(None))) or bool(known.value) != taken:
                return False
        return True

    def _finding(self, model: ScriptModel, call: cst.Call, scheduler: Scheduler) -> Finding:
        def message() -> str:
            return (
                f"`{' '.join(model.code(call).split())}` passes no metric, but ReduceLROnPlateau (line "
                f"{_line(model, scheduler.node)}) lowers the rate only when a metric stops improving: its step() "
                f"requires that metric and raises TypeError here. Pass the monitored value, e.g. the validation "
                f"loss: `.step(val_loss)`"
            )

        return Finding(call, message, refs=[scheduler.node])


def _extra_conditions(event: Event, steps: list[Event]) -> list[Any]:
    """The `if` tests around the scheduler step that do not also guard the optimizer step."""
    shared = {(id(c.test), c.taken) for s in steps for c in s.conditions}
    return [c for c in event.conditions if (id(c.test), c.taken) not in shared]


def _first_iteration(model: ScriptModel, event: Event, steps: list[Event]) -> bool | None:
    """Whether the scheduler step runs in the first iteration of its loop (before any optimizer step):
    True with no conditions of its own, or when they hold for the loop's first value (`if epoch < 5`);
    False when one does not (`if epoch > 0`); None when that cannot be told."""
    extra = _extra_conditions(event, steps)
    if not extra:
        return True
    loop = event.loop
    first = _first_values(model, loop.node) if loop is not None else None
    if first is None:
        return None
    results = [_truth(c.test, first) for c in extra]
    if any(r is not None and r != c.taken for r, c in zip(results, extra, strict=True)):
        return False
    return True if all(r is not None for r in results) else None


def _first_values(model: ScriptModel, node: Any) -> dict[str, int] | None:
    """The loop variables' values in the first iteration: `epoch` is 0 in `for epoch in range(n)`,
    1 in `range(1, n + 1)`; `i` is 0 in `for i, batch in enumerate(loader)`."""
    import libcst as cst

    from trainlint.model.syntax import callee_name

    if not isinstance(node, cst.For) or not isinstance(node.iter, cst.Call):
        return None
    call, target = node.iter, node.target
    name = callee_name(call.func)
    if name == "enumerate" and isinstance(target, cst.Tuple) and isinstance(target.elements[0].value, cst.Name):
        start = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "start"), None)
        start = start if start is not None else (call.args[1].value if len(call.args) > 1 else None)
        value = 0 if start is None else _int(start)
        return {target.elements[0].value.value: value} if value is not None else None
    if name == "range" and isinstance(target, cst.Name) and call.args:
        value = 0 if len(call.args) == 1 else _int(call.args[0].value)
        return {target.value: value} if value is not None else None
    return None


def _int(node: Any) -> int | None:
    import libcst as cst

    return int(node.value) if isinstance(node, cst.Integer) else None


def _truth(test: Any, names: dict[str, int]) -> Any:
    """A test's value with the loop variables known: small integer arithmetic and comparisons only."""
    import libcst as cst

    if isinstance(test, cst.Name):
        return names.get(test.value)
    if isinstance(test, cst.Integer):
        return int(test.value)
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = _truth(test.expression, names)
        return None if inner is None else not inner
    if isinstance(test, cst.BinaryOperation):
        left, right = _truth(test.left, names), _truth(test.right, names)
        if left is None or right is None:
            return None
        if isinstance(test.operator, cst.Add):
            return left + right
        if isinstance(test.operator, cst.Subtract):
            return left - right
        if isinstance(test.operator, cst.Modulo) and right:
            return left % right
        return None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        left, right = _truth(test.left, names), _truth(test.comparisons[0].comparator, names)
        compare = {
            cst.Equal: lambda a, b: a == b,
            cst.NotEqual: lambda a, b: a != b,
            cst.LessThan: lambda a, b: a < b,
            cst.LessThanEqual: lambda a, b: a <= b,
            cst.GreaterThan: lambda a, b: a > b,
            cst.GreaterThanEqual: lambda a, b: a >= b,
        }.get(type(test.comparisons[0].operator))
        return None if left is None or right is None or compare is None else bool(compare(left, right))
    return None


def _stepped_once(model: ScriptModel, scheduler: Scheduler) -> bool:
    """Moving a step is unambiguous only when the scheduler is stepped in one place."""

    return len({id(site.node) for site in _step_calls(model, scheduler.node)}) == 1


def _anchor_statement(event: Event, step: Event) -> cst.CSTNode | None:
    """The statement, in the scheduler step's own block, that holds (or leads to) the optimizer step."""
    if step.via[: len(event.via)] != event.via:
        return None
    if len(step.via) > len(event.via):
        return step.via[len(event.via)].statement
    inner = [loop for loop in step.loops if loop.via == event.via and loop not in event.loops]
    return inner[0].node if inner else step.site.statement
