"""The training loop, a recognizer: what happens in each iteration, in which loop and in what order.

For the top level of the file and for every function no code of the file calls (entry points:
Lightning's `training_step`, an ignite step function), a *trace* lists the training events in the
order the code runs them: forward passes, losses, `backward()`, optimizer and scheduler steps,
gradient clearing, `train()`/`eval()` switches, clipping and AMP unscaling. A call of a function of
the file is followed into it, with its arguments bound (`train(model, loader, opt)` steps *that*
optimizer), so an event in a helper sits inside the loops of its caller. Each event knows its loops
(outermost first, across calls), the `if` tests around it and whether gradients are off there.

Loops are told apart by what they iterate: a DataLoader (or `enumerate`/`tqdm`/`zip` of one, a
`range(len(loader))`, `next()` on an `iter(loader)`) is a batch loop; a loop whose target is named
`epoch`, or that holds a batch loop, is an epoch loop. What the file cannot see (`trainer.fit`, a
helper imported from elsewhere) leaves no events: rules stay silent then.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import libcst as cst

from trainlint.model.syntax import CallSite, Function, Loop, Scope, callee_name, terminal_name
from trainlint.model.torch_objects import Output, TorchvisionModel
from trainlint.model.values import MODULE_FRAME, Frame, FunctionRef, Instance, Known, TorchObject, is_number

if TYPE_CHECKING:
    from trainlint.model.evaluator import Evaluator
    from trainlint.model.torch_objects import TorchModel

FORWARD, LOSS, BACKWARD, STEP, ZERO_GRAD = "forward", "loss", "backward", "step", "zero_grad"
SCHEDULER_STEP, MODE, CLIP, UNSCALE = "scheduler_step", "mode", "clip", "unscale"

MAX_DEPTH = 6  # calls followed into, from a root
MAX_EVENTS = 5000  # per trace: enough for any real script, a bound for generated ones

_GRAD_OFF = {
    "torch.no_grad",
    "torch.inference_mode",
    "torch.autograd.no_grad",
    "torch.autograd.grad_mode.no_grad",
    "torch.autograd.grad_mode.inference_mode",
}
_GRAD_ON = {"torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad"}
_SET_GRAD = {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"}
_CLIP = {"clip_grad_norm_", "clip_grad_value_", "clip_grad_norm"}
# Events recognized by the method name on a receiver: the receiver is evaluated for these only.
_RECEIVER_EVENTS = frozenset({"step", "unscale_", "zero_grad", "zero_", "train", "eval"})
# Calls that pass a loader through to the loop: `enumerate(loader)`, `tqdm(loader)`, `zip(a, b)`, ...
_ITERATION_WRAPPERS = {"enumerate", "tqdm", "trange", "iter", "list", "islice", "zip", "TQDM", "log_every", "track"}
EVAL_NAME = re.compile(
    r"(?:^|_)(?:val|valid|validate|validation|test|testing|eval|evaluate|evaluation)(?:_|$|s$|loader|dataloader|set)",
    re.IGNORECASE,
)
_LOADER_NAME = re.compile(r"(?:^|_)(?:data)?loaders?$|dataloader|(?:^|_)dl$|^batches$", re.IGNORECASE)
# Method names that never start a training event or lead into one (skipped without evaluating the callee).
_PLAIN = frozenset(
    [
        "to",
        "cuda",
        "cpu",
        "item",
        "detach",
        "numpy",
        "float",
        "long",
        "half",
        "size",
        "view",
        "reshape",
        "append",
        "extend",
        "format",
        "print",
        "len",
        "range",
        "enumerate",
        "zip",
        "isinstance",
        "tqdm",
        "update",
        "add_scalar",
        "log",
        "info",
        "warning",
        "debug",
        "join",
        "split",
        "mean",
        "sum",
        "max",
        "min",
        "argmax",
        "unsqueeze",
        "squeeze",
        "permute",
        "transpose",
        "contiguous",
        "clone",
        "flatten",
        "cat",
        "stack",
        "tensor",
        "zeros",
        "ones",
        "randn",
        "eq",
        "ne",
        "set_description",
        "set_postfix",
        "write",
        "copy_",
        "fill_",
        "keys",
        "values",
        "items",
        "get",
        "float_",
        "numel",
    ]
)


@dataclass(eq=False, repr=False)
class TraceLoop:
    """One loop as a trace runs it: the same loop reached through two calls is two of these."""

    loop: Loop
    parent: TraceLoop | None
    via: tuple[CallSite, ...]
    frame: Frame

    @property
    def node(self) -> cst.For | cst.While:
        return self.loop.node

    @property
    def ancestors(self) -> Iterator[TraceLoop]:
        current = self.parent
        while current is not None:
            yield current
            current = current.parent


@dataclass(frozen=True, eq=False, repr=False)
class Condition:
    test: cst.BaseExpression
    taken: bool  # the event is in the branch where the test is true
    scope: Scope
    frame: Frame


@dataclass(eq=False, repr=False)
class Event:
    kind: str
    site: CallSite
    frame: Frame
    loops: tuple[TraceLoop, ...]  # outermost first, across calls
    conditions: tuple[Condition, ...]
    grad: str  # on | off | unknown: whether autograd records here
    via: tuple[CallSite, ...]  # the calls from the trace's root to the function holding the event
    order: int  # position in the trace
    targets: tuple[Known, ...] = ()  # what it acts on: the optimizer, scheduler, model or loss module
    value: Any = None  # mode events: True for train(), False for eval(), None when unknown
    trace: Trace | None = field(default=None, repr=False)

    @property
    def node(self) -> cst.Call:
        return self.site.node

    @property
    def loop(self) -> TraceLoop | None:
        """The innermost loop around the event."""
        return self.loops[-1] if self.loops else None

    def acts_on(self, node: cst.Call) -> bool:
        """Whether it acts on the torch object built by the call `node`."""
        return any(isinstance(k.value, TorchObject) and k.value.node is node for k in self.targets)

    def exclusive(self, other: Event) -> bool:
        """Whether the two sit in opposite branches of one `if`, so one iteration never runs both."""
        mine = {(id(c.test), c.taken) for c in self.conditions}
        return any((id(c.test), not c.taken) in mine for c in other.conditions)


@dataclass(eq=False, repr=False)
class LossFeed:
    """A loss call and what feeds it: `CrossEntropyLoss()(F.softmax(out, 1), y)` is (ce, softmax)."""

    event: Event
    loss: str  # ce | nll | bce | bce_logits
    output: Output  # the last activation of its input
    input: cst.BaseExpression


# The losses whose input activation matters, by class name or functional qualname.
LOSS_KINDS = {
    "CrossEntropyLoss": "ce",
    "torch.nn.functional.cross_entropy": "ce",
    "NLLLoss": "nll",
    "torch.nn.functional.nll_loss": "nll",
    "BCELoss": "bce",
    "torch.nn.functional.binary_cross_entropy": "bce",
    "BCEWithLogitsLoss": "bce_logits",
    "torch.nn.functional.binary_cross_entropy_with_logits": "bce_logits",
}


@dataclass(eq=False, repr=False)
class Trace:
    root: Function | None  # None: the module's top level
    events: list[Event] = field(default_factory=list)
    truncated: bool = False


class LoopModel:
    def __init__(self, evaluator: Evaluator, torch: TorchModel) -> None:
        self.ev = evaluator
        self.torch = torch
        self._roles: dict[int, str | None] = {}

    # -- queries ---------------------------------------------------------------------------

    @cached_property
    def traces(self) -> list[Trace]:
        roots: list[Function | None] = [None]
        # A model's forward holds layer calls, not training; a closure runs inside the step it is passed to.
        skipped = {m.forward for m in self.torch.module_classes} | self._closures
        functions = self.ev.tables.functions.values()
        roots += [f for f in functions if f not in skipped and self.relevant(f) and not self.ev.calls_of(f)]
        out = []
        for root in roots:
            trace = Trace(root)
            frame = Frame(root) if root is not None else MODULE_FRAME
            grad = self.decorated_grad(root, frame) if root is not None else "on"
            _Walk(self, trace).run(root, frame, (), (), (), grad, 0)
            if trace.events:
                out.append(trace)
        return out

    @cached_property
    def _closures(self) -> set[Function | None]:
        """Functions passed to `optimizer.step(closure)`."""
        out: set[Function | None] = set()
        for site in self.ev.tables.calls_named("step"):
            closure = _closure_argument(site)
            if closure is not None:
                out.update(
                    k.value.function
                    for k in self.ev.eval(closure, site.scope, self.ev.frame_of(site))
                    if isinstance(k.value, FunctionRef)
                )
        return out

    @cached_property
    def _by_kind(self) -> dict[str, list[Event]]:
        out: dict[str, list[Event]] = {}
        for trace in self.traces:
            for event in trace.events:
                out.setdefault(event.kind, []).append(event)
        return out

    def events(self, *kinds: str) -> list[Event]:
        """The events of every trace (of these kinds), trace by trace in order."""
        if not kinds:
            return [e for trace in self.traces for e in trace.events]
        if len(kinds) == 1:
            return self._by_kind.get(kinds[0], [])
        return [e for trace in self.traces for e in trace.events if e.kind in kinds]

    @cached_property
    def trace_loops(self) -> list[TraceLoop]:
        """Every loop the traces run, once each, outer loops before the loops they hold."""
        out: dict[int, TraceLoop] = {}
        for event in self.events():
            for loop in event.loops:
                out.setdefault(id(loop), loop)
        return list(out.values())

    @cached_property
    def has_training(self) -> bool:
        """Whether the file visibly trains something: a backward pass or an optimizer step."""
        return bool(self.events(BACKWARD, STEP))

    @cached_property
    def loss_feeds(self) -> list[LossFeed]:
        """Each loss call (once) whose kind is in LOSS_KINDS and whose input's last activation is known."""
        out = []
        seen: set[int] = set()
        for event in self.events(LOSS):
            if id(event.node) in seen:
                continue
            seen.add(id(event.node))
            names = [k.value.facts.name for k in event.targets if isinstance(k.value, TorchObject)]
            names = names or [self.ev.qualname(event.node.func, event.site.scope, event.frame) or ""]
            loss = LOSS_KINDS.get(names[0])
            args = event.node.args
            first = next((a.value for a in args if a.keyword is None and not a.star), None)
            first = next((a.value for a in args if a.keyword is not None and a.keyword.value == "input"), first)
            if loss is None or first is None:
                continue
            output = self.torch.output_of(first, event.site.scope, event.frame, event.site.order)
            if output is not None:
                out.append(LossFeed(event, loss, output, first))
        return out

    def clears_by_hand(self, loop: TraceLoop) -> bool:
        """`p.grad = None` (or `= 0`, `.zero_()` is an event) in the loop or a function it calls."""
        functions = {loop.loop.function} | {e.site.function for e in self.events() if loop in e.loops}
        for store in self.ev.tables.attribute_stores.get("grad", ()):
            if store.function in functions and (store.function is not loop.loop.function or loop.loop in store.loops):
                return True
        return False

    def steps_of(self, optimizer: cst.Call) -> list[Event]:
        """The `step()` events of the optimizer built by the call `optimizer`."""
        return [e for e in self.events(STEP) if e.acts_on(optimizer)]

    def scheduler_steps(self, scheduler: cst.Call) -> list[Event]:
        return [e for e in self.events(SCHEDULER_STEP) if e.acts_on(scheduler)]

    # -- loops --------------------------------------------------------------------------------

    def iterates_data(self, loop: TraceLoop) -> bool:
        """Whether each iteration takes a batch: the loop goes over a DataLoader (or something named like one)."""
        return self._data_loop(loop.loop, loop.frame)

    def is_epoch_loop(self, loop: TraceLoop) -> bool:
        node = loop.node
        if isinstance(node, cst.For) and _names_epoch(node.target):
            return True
        return any(self.iterates_data(inner) for inner in self._inner_loops(loop))

    def iterations(self, loop: TraceLoop) -> Known | None:
        """How many times a `for ... in range(...)` loop runs, when its bounds are known."""
        node = loop.node
        if not isinstance(node, cst.For) or not isinstance(node.iter, cst.Call) or callee_name(node.iter.func) != "range":
            return None
        args = node.iter.args
        if not args or len(args) > 2 or any(a.keyword or a.star for a in args):
            return None
        scope = loop.loop.function.scope if loop.loop.function is not None else self.ev.tables.module_scope
        bounds = [self.ev.single(a.value, scope, loop.frame) for a in args]
        known = [b for b in bounds if b is not None and is_number(b.value)]
        if len(known) != len(bounds):
            return None
        start, stop = (known[0].value, known[1].value) if len(known) == 2 else (0, known[0].value)
        return Known(max(0, stop - start), tuple(o for b in known for o in b.trail))

    def role(self, loop: TraceLoop) -> str | None:
        """`train` for a loop that backpropagates or steps, `eval` for one that only runs the model with
        gradients off or over validation data (`val_loader`, a `validate()` helper); None otherwise."""
        cached = self._roles.get(id(loop), False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        self._roles[id(loop)] = role = self._role(loop)
        return role

    def _role(self, loop: TraceLoop) -> str | None:
        trace = next((t for t in self.traces if any(loop in e.loops for e in t.events)), None)
        inside = [e for e in (trace.events if trace else []) if loop in e.loops]
        if any(e.kind in (BACKWARD, STEP) and e.grad != "off" for e in inside):
            return "train"
        runs = [e for e in inside if e.kind in (FORWARD, LOSS)]
        if not runs:
            return None
        if all(e.grad == "off" for e in runs):
            return "eval"
        names = [f.name for f in (loop.loop.function, *(s.function for s in loop.via)) if f is not None]
        node = loop.node
        if isinstance(node, cst.For):
            names.append(terminal_name(_unwrapped(node.iter)) or "")
        return "eval" if any(EVAL_NAME.search(name) for name in names) else None

    def _inner_loops(self, loop: TraceLoop) -> Iterator[TraceLoop]:
        seen: set[int] = set()
        for trace in self.traces:
            for event in trace.events:
                if loop in event.loops:
                    for inner in event.loops[event.loops.index(loop) + 1 :]:
                        if id(inner) not in seen:
                            seen.add(id(inner))
                            yield inner

    def _data_loop(self, loop: Loop, frame: Frame) -> bool:
        scope = loop.function.scope if loop.function is not None else self.ev.tables.module_scope
        node = loop.node
        if isinstance(node, cst.For):
            return self._is_data(node.iter, scope, frame)
        # `while True: batch = next(it)` with `it = iter(loader)`
        for site in self.ev.tables.calls_named("next"):
            if site.loops and site.loops[-1] is loop and site.node.args:
                source = self._iter_source(site.node.args[0].value, site.scope)
                if source is not None and self._is_data(source, site.scope, frame):
                    return True
        return False

    def _iter_source(self, expr: cst.BaseExpression, scope: Scope) -> cst.BaseExpression | None:
        """`loader` when `expr` is a name bound to `iter(loader)`."""
        if isinstance(expr, cst.Call) and callee_name(expr.func) == "iter" and expr.args:
            return expr.args[0].value
        if isinstance(expr, cst.Name):
            _, bindings = scope.lookup(expr.value)
            for binding in bindings:
                value = binding.value
                if isinstance(value, cst.Call) and callee_name(value.func) == "iter" and value.args:
                    return value.args[0].value
        return None

    def loaders(self, loop: TraceLoop) -> list[TorchObject]:
        """The DataLoaders a loop takes its batches from (the ones the file builds)."""
        scope = loop.loop.function.scope if loop.loop.function is not None else self.ev.tables.module_scope
        node = loop.node
        sources: list[tuple[cst.BaseExpression, Scope]] = []
        if isinstance(node, cst.For):
            sources = [(e, scope) for e in self._iterated(node.iter)]
        else:
            for site in self.ev.tables.calls_named("next"):
                if site.loops and site.loops[-1] is loop.loop and site.node.args:
                    source = self._iter_source(site.node.args[0].value, site.scope)
                    if source is not None:
                        sources.append((source, site.scope))
        out = []
        for expr, where in sources:
            for known in self.ev.eval(expr, where, loop.frame):
                value = known.value
                if isinstance(value, TorchObject) and value.facts.name == "DataLoader" and value not in out:
                    out.append(value)
        return out

    def _iterated(self, expr: cst.BaseExpression, depth: int = 0) -> list[cst.BaseExpression]:
        """What a loop goes over once the wrappers are taken off: `enumerate(tqdm(loader))` and
        `range(len(loader))` go over `loader`, `zip(a, b)` over both, `range(10)` over nothing."""
        while isinstance(expr, cst.Call) and depth < 8:
            depth += 1
            name = callee_name(expr.func)
            positional = [a.value for a in expr.args if a.keyword is None and not a.star]
            if name == "range" and len(positional) == 1:
                inner = positional[0]
                if isinstance(inner, cst.Call) and callee_name(inner.func) == "len" and inner.args:
                    return self._iterated(inner.args[0].value, depth)
                return []
            if name == "zip":
                return [e for p in positional for e in self._iterated(p, depth)]
            if name not in _ITERATION_WRAPPERS or not positional:
                break
            expr = positional[0]
        return [expr]

    def _is_data(self, expr: cst.BaseExpression, scope: Scope, frame: Frame) -> bool:
        for source in self._iterated(expr):
            for known in self.ev.eval(source, scope, frame):
                value = known.value
                if isinstance(value, TorchObject) and value.facts.name == "DataLoader":
                    return True
            name = terminal_name(source)
            if name is not None and _LOADER_NAME.search(name) is not None:
                return True
        return False

    # -- helpers for the walk ------------------------------------------------------------------

    @cached_property
    def sites(self) -> dict[Function | None, list[CallSite]]:
        out: dict[Function | None, list[CallSite]] = {}
        for site in self.ev.tables.calls:
            out.setdefault(site.function, []).append(site)
        return out

    @cached_property
    def _callable_attributes(self) -> frozenset[str]:
        """Attribute names that can hold a model, a loss or a method of the file (`self.model`, `self.fit`)."""
        tables = self.ev.tables
        return frozenset(tables.attribute_stores) | frozenset(f.name for f in tables.functions.values())

    def may_call_object(self, func: cst.BaseExpression, scope: Scope) -> bool:
        """A cheap test before evaluating a callee: a name, an attribute some code stores or a method of
        the file, or a function reached through an imported module (`F.cross_entropy`)."""
        if type(func) is not cst.Attribute:  # exact types: isinstance on libcst's ABCs is slow when it fails
            return True
        if func.attr.value in self._callable_attributes:
            return True
        root = func.value
        while type(root) is cst.Attribute:
            root = root.value
        if type(root) is not cst.Name:
            return False
        _, bindings = scope.lookup(root.value)
        return bool(bindings) and all(b.kind == "import" for b in bindings)

    def relevant(self, function: Function) -> bool:
        """Whether a function holds (or calls something that may hold) a training event."""
        return any(callee_name(s.node.func) not in _PLAIN for s in self.sites.get(function, ()))

    def grad_of(self, expr: cst.BaseExpression, scope: Scope, frame: Frame) -> str | None:
        """`off` for `torch.no_grad()`, `on` for `torch.enable_grad()`, `unknown` for
        `set_grad_enabled(<unknown>)`; None for other contexts."""
        if isinstance(expr, cst.Call):
            qualname = self.ev.qualname(expr.func, scope, frame)
            if qualname in _GRAD_OFF:
                return "off"
            if qualname in _GRAD_ON:
                return "on"
            if qualname in _SET_GRAD and expr.args:
                mode = self.ev.single(expr.args[0].value, scope, frame)
                if mode is None or not isinstance(mode.value, (bool, int)):
                    return "unknown"
                return "on" if mode.value else "off"
        elif self.ev.qualname(expr, scope, frame) in _GRAD_OFF:  # `@torch.no_grad` without parentheses
            return "off"
        return None

    def decorated_grad(self, function: Function, frame: Frame) -> str:
        node = function.node
        if isinstance(node, cst.FunctionDef):
            for decorator in node.decorators:
                mode = self.grad_of(decorator.decorator, function.outer, frame)
                if mode is not None:
                    return mode
        return "on"


class _Walk:
    """Builds one trace: the events of a root function, in order, following calls into the file's functions."""

    def __init__(self, model: LoopModel, trace: Trace) -> None:
        self.m = model
        self.ev = model.ev
        self.trace = trace
        self._weak_trace: Trace = weakref.proxy(trace)  # events point back weakly: the trace holds them
        self.order = 0

    def run(
        self,
        function: Function | None,
        frame: Frame,
        via: tuple[CallSite, ...],
        outer: tuple[TraceLoop, ...],
        conditions: tuple[Condition, ...],
        grad: str,
        depth: int,
    ) -> None:
        local: dict[int, TraceLoop] = {}
        for site in self.m.sites.get(function, ()):
            if self.trace.truncated:
                return
            loops = outer
            for loop in site.loops:
                traced = local.get(id(loop))
                if traced is None:
                    traced = local[id(loop)] = TraceLoop(loop, loops[-1] if loops else None, via, frame)
                loops += (traced,)
            where = conditions + tuple(Condition(test, taken, site.scope, frame) for test, taken in site.conditions)
            here = grad
            for context in site.contexts:
                here = self.m.grad_of(context, site.scope, frame) or here
            self._site(site, frame, via, loops, where, here, depth)

    def _event(self, kind: str, site: CallSite, ctx: tuple[Any, ...], targets: tuple[Known, ...] = (), value: Any = None) -> None:
        frame, via, loops, conditions, grad = ctx
        if len(self.trace.events) >= MAX_EVENTS:
            self.trace.truncated = True
            return
        self.order += 1
        self.trace.events.append(
            Event(kind, site, frame, loops, conditions, grad, via, self.order, targets, value, self._weak_trace)
        )

    def _site(
        self,
        site: CallSite,
        frame: Frame,
        via: tuple[CallSite, ...],
        loops: tuple[TraceLoop, ...],
        conditions: tuple[Condition, ...],
        grad: str,
        depth: int,
    ) -> None:
        func = site.node.func
        name = callee_name(func)
        if name in _PLAIN or name is None:
            return
        ctx = (frame, via, loops, conditions, grad)
        args = [a.value for a in site.node.args if a.keyword is None and not a.star]
        if name in ("backward", "manual_backward"):
            self._event(BACKWARD, site, ctx)
            return
        if name in _CLIP:
            self._event(CLIP, site, ctx)
            return
        if name not in _RECEIVER_EVENTS and not self.m.may_call_object(func, site.scope):
            return  # `x.mean()`, `out.argmax(1)`: a tensor's method, nothing to follow
        receivers = (
            self.ev.eval(func.value, site.scope, frame) if isinstance(func, cst.Attribute) and name in _RECEIVER_EVENTS else []
        )
        torch_receivers = [k for k in receivers if isinstance(k.value, TorchObject)]
        if name == "step" and isinstance(func, cst.Attribute):
            self._step(site, ctx, receivers, torch_receivers, args, depth)
            return
        if name == "unscale_":
            optimizers = tuple(k for a in args[:1] for k in self.ev.eval(a, site.scope, frame) if _kind(k, "optimizer"))
            self._event(UNSCALE, site, ctx, optimizers)
            return
        if name == "zero_grad" or (name == "zero_" and _is_grad(func)):  # opt.zero_grad(), p.grad.zero_()
            self._event(ZERO_GRAD, site, ctx, tuple(receivers) if name == "zero_grad" else ())
            return
        callees = self.ev.eval(func, site.scope, frame)
        functions = [k.value for k in callees if isinstance(k.value, FunctionRef)]
        if functions:
            self._inline(site, functions[0], ctx, depth)
            return
        if name in ("train", "eval") and isinstance(func, cst.Attribute):
            self._mode(site, ctx, name, receivers, args)
            return
        for known in callees:
            value = known.value
            if isinstance(value, TorchObject) and value.facts.kind == "loss":
                self._event(LOSS, site, ctx, (known,))
                return
            if (
                (isinstance(value, TorchObject) and value.facts.kind == "layer")
                or (isinstance(value, Instance) and self._is_module(value))
                or isinstance(value, TorchvisionModel)
            ):
                self._event(FORWARD, site, ctx, (known,))
                return
        qualname = self.ev.qualname(func, site.scope, frame)
        if self.ev.facts.function(qualname) is not None:
            self._event(LOSS, site, ctx)

    def _is_module(self, instance: Instance) -> bool:
        return any(m.cls is instance.cls for m in self.m.torch.module_classes)

    def _step(
        self,
        site: CallSite,
        ctx: tuple[Any, ...],
        receivers: list[Known],
        torch_receivers: list[Known],
        args: list[cst.BaseExpression],
        depth: int,
    ) -> None:
        frame = ctx[0]
        schedulers = tuple(k for k in torch_receivers if _kind(k, "scheduler"))
        if schedulers:
            self._event(SCHEDULER_STEP, site, ctx, schedulers)
            return
        if any(_kind(k, "amp") for k in torch_receivers):  # scaler.step(optimizer)
            optimizers = tuple(k for a in args[:1] for k in self.ev.eval(a, site.scope, frame) if _kind(k, "optimizer"))
            self._event(STEP, site, ctx, optimizers)
            return
        if any(isinstance(k.value, FunctionRef) for k in receivers):
            return  # a method of the file's own named step: followed when called as a function
        # optimizer.step(closure): the closure runs (forward, backward) inside the step
        closure = _closure_argument(site)
        if closure is not None:
            for known in self.ev.eval(closure, site.scope, frame):
                if isinstance(known.value, FunctionRef):
                    self._inline(site, known.value, ctx, depth)
                    break
        self._event(STEP, site, ctx, tuple(k for k in torch_receivers if _kind(k, "optimizer")))

    def _mode(
        self, site: CallSite, ctx: tuple[Any, ...], name: str, receivers: list[Known], args: list[cst.BaseExpression]
    ) -> None:
        models = tuple(k for k in receivers if isinstance(k.value, (Instance, TorchObject, TorchvisionModel)))
        if not models and receivers:
            return  # `layer.train(x_pos, x_neg)` on something that is not a module
        value: Any = name == "train"
        if name == "train" and site.node.args:
            mode = self.ev.single(site.node.args[0].value, site.scope, ctx[0])
            value = bool(mode.value) if mode is not None and isinstance(mode.value, (bool, int)) else None
        if name == "eval" and args:
            return
        self._event(MODE, site, ctx, models, value)

    def _inline(self, site: CallSite, ref: FunctionRef, ctx: tuple[Any, ...], depth: int) -> None:
        frame, via, loops, conditions, grad = ctx
        function = ref.function
        if depth >= MAX_DEPTH or any(s.function is function for s in via) or site.function is function:
            return
        if not self.m.relevant(function):
            return
        callee_frame = Frame(function, site, frame, ref.self_value)
        decorated = self.m.decorated_grad(function, callee_frame)
        inner_grad = decorated if decorated != "on" else grad
        self.run(function, callee_frame, (*via, site), loops, conditions, inner_grad, depth + 1)


def _unwrapped(expr: cst.BaseExpression) -> cst.BaseExpression:
    """`loader` in `enumerate(tqdm(loader))`."""
    for _ in range(8):
        if not isinstance(expr, cst.Call) or callee_name(expr.func) not in _ITERATION_WRAPPERS or not expr.args:
            break
        expr = expr.args[0].value
    return expr


def _is_grad(func: cst.BaseExpression) -> bool:
    """`p.grad.zero_` or `p.grad.data.zero_`: clearing a gradient by hand."""
    if not isinstance(func, cst.Attribute):
        return False
    owner = func.value
    if isinstance(owner, cst.Attribute) and owner.attr.value == "data":
        owner = owner.value
    return isinstance(owner, cst.Attribute) and owner.attr.value == "grad"


def _closure_argument(site: CallSite) -> cst.BaseExpression | None:
    return next((a.value for a in site.node.args if a.keyword is None or a.keyword.value == "closure"), None)


def _kind(known: Known, kind: str) -> bool:
    return isinstance(known.value, TorchObject) and known.value.facts.kind == kind


def _names_epoch(target: cst.BaseExpression) -> bool:
    names = [target] if isinstance(target, cst.Name) else []
    if isinstance(target, cst.Tuple):
        names = [e.value for e in target.elements if isinstance(e.value, cst.Name)]
    return any(isinstance(n, cst.Name) and "epoch" in n.value.lower() for n in names)
