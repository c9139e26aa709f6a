"""TL6xx: training-loop and loss classics: gradients never cleared, a step without a backward pass,
activations that do not match the loss, evaluation in training mode, losses that keep their graph,
optimizers of a replaced model, clipping that cannot work, log of a softmax."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from trainlint.diagnostics import Applicability, Edit, Fix, Severity, Span
from trainlint.registry import Finding, FixKind, Rule, register
from trainlint.rules.common import line_of as _line
from trainlint.rules.common import one_line as _code
from trainlint.rules.common import replace

if TYPE_CHECKING:
    import libcst as cst

    from trainlint.model import ScriptModel
    from trainlint.model.loops import Event, LossFeed, Trace, TraceLoop
    from trainlint.model.values import Known


class LoopRule(Rule):
    """A rule about the training loop: it cannot fire unless the file steps or backpropagates."""

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        return frozenset({"backward", ".step(", "zero_grad"})


# Without one of these the file cannot show that a model depends on train()/eval().
_MODE_WORDS = frozenset({"Dropout", "BatchNorm", "dropout", "batch_norm", "torchvision", "Transformer"})
_EVAL_WORDS = frozenset({"no_grad", "inference_mode", ".eval(", "val", "test", "eval"})
_STEP = frozenset({".step("})
_BACKWARD = frozenset({"backward"})
_LOSS_WORDS = frozenset({"Loss", "cross_entropy", "nll_loss", "binary_cross_entropy", "mse_loss", "l1_loss"})


class LossRule(Rule):
    """A rule about what feeds a loss: it cannot fire unless a loss is named."""

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        return frozenset({"Loss", "cross_entropy", "nll_loss", "binary_cross_entropy"})


def _optimizer_names() -> frozenset[str]:
    from trainlint.facts import torch_facts

    return frozenset(f.name for f in torch_facts().of_kind("optimizer"))


def _unique(events: Iterable[Event]) -> Iterator[Event]:
    """Each call once: a helper reached through two calls is judged where it is first reached."""
    seen: set[int] = set()
    for event in events:
        if id(event.node) not in seen:
            seen.add(id(event.node))
            yield event


def _optimizers(event: Event) -> list[cst.Call]:
    from trainlint.model.values import TorchObject

    return [k.value.node for k in event.targets if isinstance(k.value, TorchObject) and k.value.facts.kind == "optimizer"]


def _in_iteration(trace: Trace | None, loop: TraceLoop) -> list[Event]:
    """The events of one iteration of `loop`; none when the trace was cut (at MAX_EVENTS) inside the
    loop: the events after the cut are missing, and every caller judges an iteration by what it lacks
    (a zero_grad() after 6,000 statements was cut off, and TL601 said the gradients were never cleared).
    A loop's events are contiguous in the walk, so a loop the walk had left before the cut is whole."""
    if trace is None or not trace.events:
        return []
    if trace.truncated and loop in trace.events[-1].loops:
        return []
    return [e for e in trace.events if loop in e.loops]


def _optimizer_name(model: ScriptModel, node: cst.Call) -> str:
    by_node = {o.node: o for o in model.torch.optimizers}
    optimizer = by_node.get(node)
    return optimizer.name if optimizer is not None else "optimizer"


def _receiver(model: ScriptModel, event: Event) -> str:
    import libcst as cst

    func = event.node.func
    return _code(model, func.value) if isinstance(func, cst.Attribute) else "optimizer"


# -- TL601 ----------------------------------------------------------------------------------------


@register
class GradientsNeverCleared(LoopRule):
    code = "TL601"
    name = "gradients-never-cleared"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (_BACKWARD, _STEP)

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        loops = model.loops
        for step in _unique(loops.events("step")):
            optimizers = _optimizers(step)
            loop = step.loop
            if not optimizers or loop is None:
                continue
            iteration = _in_iteration(step.trace, loop)
            backwards = [e for e in iteration if e.kind == "backward"]
            if not backwards:
                continue
            # Any clearing in the iteration counts, whatever it clears: model.zero_grad() on the trained
            # module, a second optimizer's zero_grad(), `p.grad = None`.
            if any(e.kind == "zero_grad" for e in iteration) or loops.clears_by_hand(loop):
                continue
            yield self._finding(model, step, backwards[0], optimizers[0])

    def _finding(self, model: ScriptModel, step: Event, backward: Event, optimizer: cst.Call) -> Finding:
        receiver = _receiver(model, step)
        loop = step.loop
        assert loop is not None

        def message() -> str:
            return (
                f"Gradients are never cleared: each iteration of the loop on line {_line(model, loop.node)} runs "
                f"`{_code(model, backward.node)}` (line {_line(model, backward.node)}) and `{_code(model, step.node)}` "
                f"(line {_line(model, step.node)}), but no `zero_grad()` runs in it, so every backward pass adds to "
                f"the gradients of all earlier batches and the steps grow until training diverges. Call "
                f"`{receiver}.zero_grad()` once per step (deliberate accumulation clears them after each step)"
            )

        def fix() -> Fix | None:
            return _insert_before(
                model, backward, f"{receiver}.zero_grad()", f"Call {receiver}.zero_grad() before the backward pass"
            )

        return Finding(step.node, message, fix, refs=[backward.node, loop.node, optimizer])


def _insert_before(model: ScriptModel, event: Event, code: str, title: str) -> Fix | None:
    """Insert a statement on its own line before the statement holding `event`, at its indentation."""
    import libcst as cst

    statement = event.site.statement
    located = model.tables.statement_block(statement) if statement is not None else None
    if located is None or not isinstance(located[1], cst.SimpleStatementLine):
        return None
    span = model.span(located[1])
    line = model.lines[span.line - 1]
    indent = line[: len(line) - len(line.lstrip())]
    if indent.strip():
        return None
    newline = model.tables.module.default_newline
    return Fix(Applicability.UNSAFE, title, (Edit(Span(span.line, 0, span.line, 0), indent + code + newline),))


# -- TL602, TL603 ---------------------------------------------------------------------------------


def _manual_gradients(model: ScriptModel) -> bool:
    """The file reads or writes `.grad` itself, or uses torch.autograd.grad: gradients have other uses."""
    return model.tables.name_count("grad") > 0 or model.tables.name_count("grad_sample") > 0


@register
class StepWithoutBackward(LoopRule):
    code = "TL602"
    name = "optimizer-step-without-backward"
    severity = Severity.WARNING

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (_STEP, _LOSS_WORDS)

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        if _manual_gradients(model):
            return
        for step in _unique(model.loops.events("step")):
            loop = step.loop
            if not _optimizers(step) or loop is None or _closure_passed(step):
                continue
            iteration = _in_iteration(step.trace, loop)
            if any(e.kind == "backward" for e in iteration):
                continue
            losses = [e for e in iteration if e.kind == "loss" and e.order < step.order]
            if losses and _loss_unused(model, losses[-1]):
                yield self._finding(model, step, losses[-1])

    def _finding(self, model: ScriptModel, step: Event, loss: Event) -> Finding:
        def message() -> str:
            return (
                f"`{_code(model, step.node)}` (line {_line(model, step.node)}) steps with no backward pass: the loss "
                f"computed on line {_line(model, loss.node)} is never backpropagated, so there are no gradients "
                f"and the weights never change. Call `loss.backward()` before the step"
            )

        return Finding(step.node, message, refs=[loss.node])


def _closure_passed(step: Event) -> bool:
    return bool(step.node.args)  # step(closure): the closure backpropagates


def _loss_unused(model: ScriptModel, loss: Event) -> bool:
    """The loss value goes nowhere that could backpropagate it: it is bound to a name that is only
    printed, logged or converted (`.item()`)."""
    import libcst as cst

    from trainlint.model.syntax import terminal_name

    statement = loss.site.statement
    if not isinstance(statement, cst.Assign) or statement.value is not loss.node:
        return False
    names = {terminal_name(t.target) for t in statement.targets}
    if len(names) != 1 or None in names:
        return False
    name = names.pop()
    assert name is not None
    for site in model.tables.calls:
        for arg in site.node.args:
            if terminal_name(arg.value) == name and site.order > loss.site.order:
                callee = _code(model, site.node.func).split(".")[-1]
                if callee not in ("print", "append", "info", "log", "format", "add_scalar", "write"):
                    return False  # handed to something that may backpropagate it (loss_scaler(loss, ...))
    return True


@register
class BackwardWithoutStep(LoopRule):
    code = "TL603"
    name = "backward-without-step"
    severity = Severity.WARNING

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (_BACKWARD, _LOSS_WORDS, _optimizer_names())

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        from trainlint.model.uses import RECEIVER

        if _manual_gradients(model) or not model.torch.optimizers:
            return
        for optimizer in model.torch.optimizers:
            if model.loops.steps_of(optimizer.node):
                return
            if any(u.kind != RECEIVER or u.method == "step" for u in model.uses.of(optimizer.node)):
                return  # passed on or stepped where the loop model does not reach: it may be stepped there
        for backward in _unique(model.loops.events("backward")):
            loop = backward.loop
            if loop is None or backward.grad == "off" or not self._built_here(model, backward):
                continue
            iteration = _in_iteration(backward.trace, loop)
            if any(e.kind in ("step", "scheduler_step") for e in iteration):
                continue  # an unresolved step(), or TL202's "scheduler instead of optimizer"
            if not any(e.kind == "loss" for e in iteration):
                continue  # `y.sum().backward()` to time a layer, or for its gradients: not a training loss
            yield self._finding(model, backward)
            return

    def _built_here(self, model: ScriptModel, backward: Event) -> bool:
        """An optimizer is built in the code this backward pass runs in (not in an unrelated helper)."""
        functions = {backward.trace.root if backward.trace else None, *(s.function for s in backward.via)}
        return any(o.site.function in functions for o in model.torch.optimizers)

    def _finding(self, model: ScriptModel, backward: Event) -> Finding:
        loop = backward.loop
        assert loop is not None

        def message() -> str:
            names = ", ".join(f"{o.name} (line {_line(model, o.node)})" for o in model.torch.optimizers)
            return (
                f"`{_code(model, backward.node)}` computes gradients in the loop on line {_line(model, loop.node)}, "
                f"but no optimizer step uses them: nothing calls `step()` on {names}, so the weights never change. "
                f"Call `optimizer.step()` after the backward pass"
            )

        return Finding(backward.node, message, refs=[loop.node, *(o.node for o in model.torch.optimizers)])


# -- TL604-TL607: what feeds the loss ---------------------------------------------------------------

_LOSS_NAMES = {"ce": "CrossEntropyLoss", "nll": "NLLLoss", "bce": "BCELoss", "bce_logits": "BCEWithLogitsLoss"}


def _where(model: ScriptModel, fed: LossFeed) -> str:
    """Where the activation is applied: `F.softmax(out, 1)` (line 12), or a model's last layer."""
    node = fed.output.node
    return f"`{_code(model, node)}` (line {_line(model, node)})"


class _ActivationRule(LossRule):
    """An output activation that does not suit the loss it feeds: (activation, loss) pairs."""

    pairs: ClassVar[dict[tuple[str, str], Severity | None]] = {}
    words: ClassVar[tuple[frozenset[str], ...]] = ()  # an activation's words, the losses' words

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return cls.words

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for fed in model.loops.loss_feeds:
            key = (fed.output.kind, fed.loss)
            if key in self.pairs:

                def message(fed: LossFeed = fed) -> str:
                    return self.text(model, fed)

                yield Finding(fed.event.node, message, self.fix_for(model, fed), [fed.output.node], self.pairs[key])

    def text(self, model: ScriptModel, fed: LossFeed) -> str:
        raise NotImplementedError

    def fix_for(self, model: ScriptModel, fed: LossFeed) -> Callable[[], Fix | None] | None:
        return None


@register
class SoftmaxBeforeCrossEntropy(_ActivationRule):
    code = "TL604"
    name = "softmax-before-cross-entropy"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE
    pairs: ClassVar[dict[tuple[str, str], Severity | None]] = {
        ("softmax", "ce"): None,
        ("softmax", "nll"): None,
        ("log_softmax", "ce"): Severity.INFO,
    }
    words = (frozenset({"softmax", "Softmax"}), frozenset({"CrossEntropyLoss", "cross_entropy", "NLLLoss", "nll_loss"}))

    def text(self, model: ScriptModel, fed: LossFeed) -> str:
        loss = _LOSS_NAMES[fed.loss]
        where = _where(model, fed)
        if fed.output.kind == "log_softmax":
            return (
                f"{loss} (line {_line(model, fed.event.node)}) is fed log-probabilities from {where}: it applies "
                f"log_softmax itself, so this one is redundant (harmless: log_softmax of log-probabilities "
                f"changes nothing). Feed the raw logits, or use NLLLoss with log_softmax"
            )
        if fed.loss == "nll":
            return (
                f"NLLLoss (line {_line(model, fed.event.node)}) is fed probabilities from {where}, but it expects "
                f"log-probabilities: the loss becomes -p instead of -log p, its gradients are tiny, and the model "
                f"learns slowly or not at all. Use log_softmax instead of softmax"
            )
        return (
            f"{loss} (line {_line(model, fed.event.node)}) is fed the output of a softmax, {where}, but it applies "
            f"log_softmax to its input itself: the probabilities are squashed twice, the loss cannot go below "
            f"about log(number of classes) minus 1 and gradients nearly vanish. Feed the raw logits (drop the "
            f"softmax; apply it only for predictions)"
        )

    def fix_for(self, model: ScriptModel, fed: LossFeed) -> Callable[[], Fix | None] | None:
        import libcst as cst

        node = fed.output.node
        if fed.output.kind != "softmax" or fed.loss != "ce" or node is not fed.input or not isinstance(node, cst.Call):
            return None  # only a softmax written inside the loss call is unambiguous to remove

        def fix() -> Fix | None:
            assert isinstance(node, cst.Call)
            func = node.func
            inner = func.value if isinstance(func, cst.Attribute) and not node.args else None  # logits.softmax(dim=1)
            if inner is None:
                positional = [a for a in node.args if a.keyword is None and not a.star]
                inner = positional[0].value if positional else None
            if inner is None:
                return None
            return Fix(
                Applicability.UNSAFE,
                "Feed the logits to the loss (remove the softmax)",
                (replace(model, node, model.code(inner)),),
            )

        return fix


@register
class SigmoidBeforeBCEWithLogits(_ActivationRule):
    code = "TL605"
    name = "sigmoid-before-bce-with-logits"
    severity = Severity.WARNING
    pairs: ClassVar[dict[tuple[str, str], Severity | None]] = {("sigmoid", "bce_logits"): None}
    words = (frozenset({"sigmoid", "Sigmoid"}), frozenset({"BCEWithLogitsLoss", "binary_cross_entropy_with_logits"}))

    def text(self, model: ScriptModel, fed: LossFeed) -> str:
        return (
            f"BCEWithLogitsLoss (line {_line(model, fed.event.node)}) is fed the output of a sigmoid, "
            f"{_where(model, fed)}, but it applies the sigmoid itself: the values are squashed twice, into "
            f"(0.5, 0.73), so the loss barely moves. Feed the raw logits, or use BCELoss with the sigmoid"
        )


@register
class BCEOnUnboundedOutput(_ActivationRule):
    code = "TL606"
    name = "bce-on-unbounded-output"
    severity = Severity.WARNING
    pairs: ClassVar[dict[tuple[str, str], Severity | None]] = {("linear", "bce"): None, ("relu", "bce"): None}
    words = (frozenset({"BCELoss", "binary_cross_entropy"}), frozenset({"Linear", "relu", "ReLU"}))

    def text(self, model: ScriptModel, fed: LossFeed) -> str:
        return (
            f"BCELoss (line {_line(model, fed.event.node)}) expects probabilities in [0, 1], but it is fed the "
            f"unbounded output of {_where(model, fed)}: it raises an error as soon as a value leaves [0, 1]. "
            f"Use BCEWithLogitsLoss on these logits (more stable than adding a sigmoid)"
        )


@register
class ReluOnLogits(_ActivationRule):
    code = "TL607"
    name = "relu-on-logits"
    severity = Severity.WARNING
    pairs: ClassVar[dict[tuple[str, str], Severity | None]] = {("relu", "ce"): None, ("relu", "bce_logits"): None}
    words = (
        frozenset({"relu", "ReLU"}),
        frozenset({"CrossEntropyLoss", "cross_entropy", "BCEWithLogitsLoss", "binary_cross_entropy_with_logits"}),
    )

    def text(self, model: ScriptModel, fed: LossFeed) -> str:
        return (
            f"{_LOSS_NAMES[fed.loss]} (line {_line(model, fed.event.node)}) is fed logits that went through a "
            f"ReLU, {_where(model, fed)}: every negative logit becomes 0, so the model cannot push a class below "
            f"the others and those units get no gradient. Remove the final ReLU: the last layer's raw output "
            f"is the logits"
        )


# -- TL608-TL610: evaluation modes -----------------------------------------------------------------


def _identity(known: Known) -> Any:
    """The same model across evaluations: its class and construction, or the call that built it."""
    value = known.value
    cls = getattr(value, "cls", None)
    if cls is not None:
        call = getattr(value, "call", None)
        return (id(cls), id(call.node) if call is not None else None)
    node = getattr(value, "node", None)
    return id(node) if node is not None else id(value)


# Methods Lightning calls while training (the module is in train mode there, whatever the method's
# body does with gradients).
_TRAINING_HOOKS = frozenset(
    {
        "training_step",
        "on_train_batch_start",
        "on_train_batch_end",
        "on_before_backward",
        "on_after_backward",
        "on_before_optimizer_step",
    }
)


def _is_eval_forward(model: ScriptModel, event: Event) -> bool:
    if event.kind != "forward":
        return False
    role = model.loops.role(event.loop) if event.loop is not None else None
    if event.grad == "off":
        # Inside an iteration that backpropagates, a forward without gradients is part of the training
        # step (a stop-gradient branch, batch-norm statistics on purpose), not an evaluation.
        return role != "train"
    return role == "eval"


class _ModeState:
    """train()/eval() of each model, followed through one trace in order."""

    def __init__(self, trace: Trace) -> None:
        self.known_start = trace.root is None  # a model built at the top level starts in train mode
        self.state: dict[Any, bool | None] = {}
        self.blurred = False  # a mode switch on something the model cannot resolve

    def apply(self, event: Event) -> None:
        if not event.targets:
            self.blurred = True
        for known in event.targets:
            self.state[_identity(known)] = event.value

    def training(self, known: Known, owners: Iterable[Known] = ()) -> bool:
        """Whether `known` is in train mode: its own last switch, else that of the modules holding it
        (`model.eval()` puts `model.encoder` in eval mode too)."""
        if self.blurred:
            return False
        for k in (known, *owners):
            key = _identity(k)
            if key in self.state:
                return self.state[key] is True
        return self.known_start


def _owners(model: ScriptModel, event: Event) -> Iterator[Known]:
    """`model.encoder(x)`, `model.blocks[0](x)`: the modules the called one belongs to, innermost first."""
    import libcst as cst  # not at import time: a warm run never loads libcst

    expr = event.node.func
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        expr = expr.value
        yield from model.evaluator.eval(expr, event.site.scope, event.frame)


@register
class EvalInTrainMode(LoopRule):
    code = "TL608"
    name = "eval-in-train-mode"
    severity = Severity.WARNING

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (_MODE_WORDS, _EVAL_WORDS)

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        reported: set[Any] = set()
        for trace in model.loops.traces:
            if trace.root is not None and trace.root.is_method and trace.root.name in _TRAINING_HOOKS:
                continue  # the framework calls it in training: a forward under no_grad() there is on purpose
            modes = _ModeState(trace)
            for event in trace.events:
                if event.kind == "mode":
                    modes.apply(event)
                    continue
                if not _is_eval_forward(model, event) or not event.targets:
                    continue
                known = event.targets[0]
                if model.torch.mode_dependent(known.value) is not True or not modes.training(known, _owners(model, event)):
                    continue
                key = (id(event.loop.node) if event.loop else id(event.node), _identity(known))
                if key not in reported:
                    reported.add(key)
                    yield self._finding(model, event)

    def _finding(self, model: ScriptModel, event: Event) -> Finding:
        def message() -> str:
            name = _code(model, event.node.func)
            return (
                f"`{name}` evaluates in training mode (line {_line(model, event.node)}): nothing calls `{name}.eval()` "
                f"before it, so dropout still drops units and batch norm normalizes with each batch's statistics "
                f"(and updates its running ones), which makes the evaluation noisy and wrong. Call `{name}.eval()` "
                f"before evaluating, and `{name}.train()` before training again"
            )

        return Finding(event.node, message)


@register
class TrainModeNotRestored(LoopRule):
    code = "TL609"
    name = "train-mode-not-restored"
    severity = Severity.WARNING

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (_MODE_WORDS, frozenset({".eval(", ".train("}), _BACKWARD | _STEP)

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        loops = model.loops
        reported: set[int] = set()
        for mode in _unique(loops.events("mode")):
            if mode.value is not False or not mode.targets or mode.loop is None:
                continue
            known = mode.targets[0]
            if model.torch.mode_dependent(known.value) is not True:
                continue
            # The loop iteration that holds the eval(): does training in it run after a train() again?
            for loop in (mode.loop, *mode.loop.ancestors):
                iteration = _in_iteration(mode.trace, loop)
                training = [e for e in iteration if e.kind in ("backward", "step")]
                if not training:
                    continue
                switches = [e for e in iteration if e.kind == "mode" and _acts_on(e, known)]
                if any(s.value is not False for s in switches) or id(loop.node) in reported:
                    break  # train() somewhere in the iteration (or a mode it cannot tell)
                if training[0].order < mode.order:
                    reported.add(id(loop.node))
                    yield self._finding(model, mode, training[0], loop)
                break

    def _finding(self, model: ScriptModel, mode: Event, training: Event, loop: TraceLoop) -> Finding:
        def message() -> str:
            name = _code(model, mode.node.func).rsplit(".", 1)[0]
            return (
                f"`{_code(model, mode.node)}` (line {_line(model, mode.node)}) is never undone: in the next iteration "
                f"of the loop on line {_line(model, loop.node)} the training (`{_code(model, training.node)}`, line "
                f"{_line(model, training.node)}) runs in eval mode, with dropout off and batch norm frozen. Call "
                f"`{name}.train()` at the start of each iteration's training"
            )

        return Finding(mode.node, message, refs=[training.node, loop.node])


def _acts_on(event: Event, known: Known) -> bool:
    return not event.targets or any(_identity(k) == _identity(known) for k in event.targets)


@register
class EvalWithGradEnabled(LoopRule):
    code = "TL610"
    name = "eval-with-grad-enabled"
    severity = Severity.INFO
    default = False  # memory and time, not accuracy

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        return frozenset({"eval", "val", "test"})

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        loops = model.loops
        reported: set[int] = set()
        for event in _unique(loops.events("forward")):
            loop = event.loop
            if loop is None or event.grad != "on" or id(loop.node) in reported or loops.role(loop) != "eval":
                continue
            reported.add(id(loop.node))
            yield self._finding(model, event, loop)

    def _finding(self, model: ScriptModel, event: Event, loop: TraceLoop) -> Finding:
        def message() -> str:
            return (
                f"The evaluation loop on line {_line(model, loop.node)} runs `{_code(model, event.node.func)}` with "
                f"gradients enabled: autograd records every activation for a backward pass that never comes, "
                f"costing memory (often an out-of-memory error) and time. Wrap it in `with torch.no_grad():` "
                f"(or `torch.inference_mode()`)"
            )

        return Finding(event.node, message, refs=[loop.node])


# -- TL611 ----------------------------------------------------------------------------------------


@register
class LossAccumulatedWithGraph(LossRule):
    code = "TL611"
    name = "loss-accumulated-with-graph"
    severity = Severity.WARNING
    fix = FixKind.UNSAFE

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (_LOSS_WORDS, frozenset({"+=", "-=", ".append("}))

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        import libcst as cst

        losses = {id(e.node): e for e in model.loops.events("loss") if e.grad == "on"}
        if not losses:
            return
        for aug in model.tables.aug_assigns:
            value = aug.node.value
            if aug.loops and not self._grad_off(model, aug.contexts, aug.scope, aug.function):
                held = self._loss_name(model, value, aug.scope, aug.order, losses)
                if held is not None:
                    yield self._finding(model, aug.node, held, value)
        for site in model.tables.calls_named("append"):
            if site.loops and len(site.node.args) == 1 and isinstance(site.node.func, cst.Attribute):
                if self._grad_off(model, site.contexts, site.scope, site.function):
                    continue
                arg = site.node.args[0].value
                held = self._loss_name(model, arg, site.scope, site.order, losses)
                if held is not None:
                    yield self._finding(model, site.node, held, arg)

    def _grad_off(self, model: ScriptModel, contexts: tuple[Any, ...], scope: Any, function: Any) -> bool:
        from trainlint.model.values import MODULE_FRAME, Frame

        frame = Frame(function) if function is not None else MODULE_FRAME
        if function is not None and model.loops.decorated_grad(function, frame) != "on":
            return True
        return any(model.loops.grad_of(c, scope, frame) in ("off", "unknown") for c in contexts)

    def _loss_name(self, model: ScriptModel, expr: Any, scope: Any, order: int, losses: dict[int, Event]) -> Any:
        """The name holding a loss tensor that `expr` adds as it is (`loss`, `loss * n`), if any."""
        import libcst as cst

        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Multiply, cst.Divide)):
            return self._loss_name(model, expr.left, scope, order, losses)
        if not isinstance(expr, cst.Name):
            return None
        binding = scope.reaching(expr.value, order)
        if binding is None or binding.kind != "assign" or binding.unpack_index is not None or binding.value is None:
            return None
        value = binding.value
        if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, (cst.Divide, cst.Multiply, cst.Add)):
            value = value.left
        return expr if isinstance(value, cst.Call) and id(value) in losses else None

    def _finding(self, model: ScriptModel, node: Any, name: cst.Name, value: Any) -> Finding:
        def message() -> str:
            return (
                f"`{_code(model, node)}` keeps the loss tensor `{name.value}`, and with it the whole computation graph "
                f"of every iteration: memory grows until it runs out, and each addition is recorded by autograd. "
                f"Add `{name.value}.item()` (a Python number) instead"
            )

        def fix() -> Fix:
            return Fix(Applicability.UNSAFE, f"Use {name.value}.item()", (replace(model, name, f"{name.value}.item()"),))

        return Finding(node, message, fix, refs=[name])


# -- TL612 ----------------------------------------------------------------------------------------


_SAME_MODULE = {"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval", "requires_grad_"}
_WRAPPERS = {"DataParallel", "DistributedDataParallel", "compile", "setup", "setup_module", "prepare", "FullyShardedDataParallel"}
_REPLACEMENTS = {"deepcopy", "load"}


@register
class OptimizerOfReplacedModel(LoopRule):
    code = "TL612"
    name = "optimizer-of-replaced-model"
    severity = Severity.WARNING

    @classmethod
    def trigger_groups(cls) -> tuple[frozenset[str], ...]:
        return (_optimizer_names(), _STEP)

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        import libcst as cst

        for optimizer in model.torch.optimizers:
            steps = model.loops.steps_of(optimizer.node)
            for owner, scope, _frame in optimizer.owners:
                if not isinstance(owner, cst.Name):
                    continue
                _, bindings = scope.lookup(owner.value)
                later = [b for b in bindings if b.order > optimizer.site.order and b.kind == "assign" and b.value is not None]
                for binding in later:
                    if not self._replaces(model, binding.value, owner.value, binding.scope):
                        continue
                    after = [s for s in steps if self._position(s) > binding.order]
                    if after:
                        yield self._finding(model, optimizer, owner, binding, after[0])
                        break

    def _position(self, step: Event) -> int:
        """Where the step runs in the order of its trace's root: the first call it is reached through."""
        return step.via[0].order if step.via else step.site.order

    def _replaces(self, model: ScriptModel, value: Any, name: str, scope: Any) -> bool:
        """`model = Net()`, `model = copy.deepcopy(...)`, `model = torch.load(...)`; not `model.to(device)`,
        DataParallel(model) or torch.compile(model), which keep the same parameters."""
        import libcst as cst

        from trainlint.model.syntax import callee_name
        from trainlint.model.torch_objects import TorchvisionModel
        from trainlint.model.values import ClassRef, TorchObject

        if not isinstance(value, cst.Call):
            return False
        callee = callee_name(value.func)
        if callee in _SAME_MODULE or callee in _WRAPPERS:
            return False
        if callee in _REPLACEMENTS:
            return True
        for known in model.evaluator.eval(value.func, scope):
            if isinstance(known.value, ClassRef):
                return True
        for known in model.evaluator.eval(value, scope):
            if isinstance(known.value, TorchvisionModel) or (
                isinstance(known.value, TorchObject) and known.value.facts.kind == "layer"
            ):
                return True
        return False

    def _finding(self, model: ScriptModel, optimizer: Any, owner: cst.Name, binding: Any, step: Event) -> Finding:
        def message() -> str:
            return (
                f"{optimizer.name} (line {_line(model, optimizer.node)}) was built on the parameters of `{owner.value}`, "
                f"but `{owner.value}` is replaced on line {_line(model, binding.node)} (`{_code(model, binding.statement)}`) "
                f"and the optimizer still steps after that (line {_line(model, step.node)}): it updates the old "
                f"model's parameters, so the model being trained never changes. Build the optimizer after the last "
                f"assignment of `{owner.value}`, or load weights with `{owner.value}.load_state_dict(...)`"
            )

        return Finding(binding.node, message, refs=[optimizer.node, step.node, binding.statement])


# -- TL613 ----------------------------------------------------------------------------------------


def _is_amp_backward(event: Event) -> bool:
    """`scaler.scale(loss).backward()`."""
    import libcst as cst

    from trainlint.model.syntax import callee_name

    func = event.node.func
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call) and callee_name(func.value.func) == "scale"


@register
class GradientClippingMisplaced(LoopRule):
    code = "TL613"
    name = "gradient-clipping-misplaced"
    severity = Severity.WARNING

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        return frozenset({"clip_grad"})

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        for clip in _unique(model.loops.events("clip")):
            loop = clip.loop
            if loop is None:
                continue
            iteration = [e for e in _in_iteration(clip.trace, loop) if not e.exclusive(clip)]
            backwards = [e for e in iteration if e.kind == "backward"]
            steps = [e for e in iteration if e.kind == "step"]
            if not backwards or not steps:
                continue
            before = [e for e in iteration if e.order < clip.order]
            after = [e for e in iteration if e.order > clip.order]
            last_backward = max((e for e in before if e.kind == "backward"), key=lambda e: e.order, default=None)
            if any(e.kind == "step" for e in before) and not any(e.kind == "step" for e in after):
                step = max((e for e in before if e.kind == "step"), key=lambda e: e.order)
                if last_backward is None or last_backward.order < step.order:
                    yield self._finding(model, clip, "after", step)
                    continue
            if last_backward is None and any(e.kind == "backward" for e in after):
                yield self._finding(model, clip, "before", next(e for e in after if e.kind == "backward"))
                continue
            if last_backward is not None and _is_amp_backward(last_backward):
                unscaled = any(e.kind == "unscale" and last_backward.order < e.order < clip.order for e in iteration)
                if not unscaled:
                    yield self._finding(model, clip, "scaled", last_backward)

    def _finding(self, model: ScriptModel, clip: Event, problem: str, other: Event) -> Finding:
        def message() -> str:
            call = _code(model, clip.node.func)
            at = f"`{_code(model, other.node)}` (line {_line(model, other.node)})"
            if problem == "after":
                return (
                    f"`{call}` runs after {at}: the step has already used the unclipped gradients, so the clipping "
                    f"protects nothing (and the next backward pass overwrites what it clipped). Clip between the "
                    f"backward pass and the optimizer step"
                )
            if problem == "before":
                return (
                    f"`{call}` runs before {at}: it clips the gradients of the previous iteration (or none), and the "
                    f"step then uses this backward pass's unclipped ones. Clip between the backward pass and the step"
                )
            return (
                f"`{call}` clips the gradients scaled by the GradScaler, {at}, which are larger than the real ones by "
                f"the scale factor (65536 at first): the threshold almost never applies, then applies by the wrong "
                f"amount. Call `scaler.unscale_(optimizer)` before clipping"
            )

        return Finding(clip.node, message, refs=[other.node])


# -- TL614 ----------------------------------------------------------------------------------------

_LOG_OF = {"softmax": "log_softmax", "sigmoid": "logsigmoid"}


@register
class LogOfSoftmax(Rule):
    code = "TL614"
    name = "log-of-softmax"
    severity = Severity.INFO
    fix = FixKind.UNSAFE
    default = False  # numerical hygiene

    @classmethod
    def trigger_words(cls) -> frozenset[str]:
        return frozenset({"softmax", "sigmoid"})

    def check(self, model: ScriptModel, options: Any) -> Iterable[Finding]:
        import libcst as cst

        ev = model.evaluator
        for site in model.calls_named("log"):
            frame = ev.frame_of(site)
            node = site.node
            func = node.func
            if ev.qualname(func, site.scope, frame) == "torch.log" and node.args and isinstance(node.args[0].value, cst.Call):
                inner = node.args[0].value
            elif isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call) and not node.args:
                inner = func.value  # x.softmax(1).log()
            else:
                continue
            output = model.torch.output_of(inner, site.scope, frame, site.order)
            if output is not None and output.kind in _LOG_OF and output.node is inner:
                yield self._finding(model, node, inner, output.kind)

    def _finding(self, model: ScriptModel, node: cst.Call, inner: cst.Call, kind: str) -> Finding:
        def message() -> str:
            better = "log_softmax" if kind == "softmax" else "F.logsigmoid"
            return (
                f"`{_code(model, node)}` takes the log of a {kind}: when a probability underflows to 0 the log is "
                f"-inf and the loss turns into nan. Use `{better}`, which computes the same value stably"
            )

        def fix() -> Fix | None:
            import libcst as cst

            func = inner.func
            if not isinstance(func, cst.Attribute):
                return None
            new = _LOG_OF[kind]
            prefix = model.code(func.value)
            if kind == "sigmoid" and not prefix.endswith(("functional", "F")):
                return None  # logsigmoid lives in torch.nn.functional only
            args = ", ".join(model.code(a).rstrip(", ") for a in inner.args)
            return Fix(Applicability.UNSAFE, f"Use {new}", (replace(model, node, f"{prefix}.{new}({args})"),))

        return Finding(node, message, fix)
