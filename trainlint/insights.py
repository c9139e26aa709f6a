"""What trainlint understood about a script, for people: hover cards and inlay hints.

Each insight is anchored to a node and carries rows of resolved facts. Today:
optimizer and scheduler calls with each hyperparameter's value and origin, and
what the optimizer trains; `optimizer.step()` and `scheduler.step()` calls with
where the loop model puts them (per batch or per epoch, after which optimizer
step). Each kind is one function in `KINDS`; model sizes and the tensor shape
after each line of `forward` are meant to arrive as further kinds, so the
server shows them without changes of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainlint.rules.common import describe, fmt_number

if TYPE_CHECKING:
    from trainlint.model import ScriptModel
    from trainlint.model.loops import Event
    from trainlint.model.torch_objects import TorchCall


@dataclass
class Fact:
    """One resolved argument: `lr = 10.0 (default of --lr, line 12)`."""

    name: str
    node: Any  # the argument: an inlay hint goes after it
    code: str  # as written
    values: list[str]  # empty: not resolved
    origins: list[str]
    literal: bool  # written as a literal at the call: no inlay hint needed


@dataclass
class Insight:
    node: Any  # the range the insight belongs to
    title: str
    notes: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"**{self.title}**", ""]
        lines += [f"{note}  " for note in self.notes]
        if self.facts:
            lines += ["", "| argument | value | from |", "|---|---|---|"]
            for fact in self.facts:
                value = " or ".join(f"`{v}`" for v in fact.values) if fact.values else f"`{fact.code}` (not resolved)"
                origin = "; ".join(o for o in fact.origins if o) or ("as written" if fact.values else "")
                lines.append(f"| `{fact.name}` | {value} | {origin} |")
        return "\n".join(lines).strip()


def _render(value: Any, as_float: bool = False) -> str | None:
    if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)):
        return fmt_number(value, as_float)
    if isinstance(value, (bool, str, type(None))):
        return repr(value)
    if isinstance(value, tuple) and all(isinstance(v, (int, float, bool, type(None))) for v in value):
        return "(" + ", ".join(fmt_number(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return None


def _facts(model: ScriptModel, call: TorchCall) -> list[Fact]:
    from trainlint.model.values import is_literal

    out = []
    for name, argument in call.arguments.arguments.items():
        if name in ("params", "optimizer"):
            continue
        known = model.evaluator.eval_argument(argument)
        values: list[str] = []
        origins: list[str] = []
        as_float = isinstance(call.facts.defaults.get(name), float)  # shown as torch types it: lr 10 -> 10.0
        for k in known:
            rendered = _render(k.value, as_float)
            if rendered is None:
                values, origins = [], []
                break
            values.append(rendered)
            origins.append(describe(model, k.trail))
        expr = argument.expr
        out.append(Fact(name, argument.node, model.code(expr), values, origins, is_literal(expr)))
    return out


def torch_call_insights(model: ScriptModel) -> list[Insight]:
    from trainlint.model.torch_objects import Optimizer, Scheduler

    calls = [*model.torch.optimizers, *model.torch.schedulers]
    model.positions.want(c.node for c in calls)
    out = []
    for call in calls:
        insight = Insight(call.node, f"{call.name} ({call.facts.qualname})")
        if isinstance(call, Optimizer):
            trained = []
            for known in call.trained:
                value = known.value
                name = getattr(getattr(value, "cls", None), "name", None) or getattr(getattr(value, "facts", None), "name", "?")
                trained.append(f"`{name}`")
            if trained:
                insight.notes.append(f"trains the parameters of {', '.join(trained)}")
        elif isinstance(call, Scheduler):
            optimizers = [f"`{o.name}` (line {model.positions.line(o.node)})" for o in call.optimizers]
            if optimizers:
                insight.notes.append(f"schedules {', '.join(optimizers)}")
        insight.facts = _facts(model, call)
        out.append(insight)
    return out


def _where(model: ScriptModel, event: Event) -> str:
    """`per batch (the batch loop on line 12, in the epoch loop on line 10)`, from the loop model."""
    loops = model.loops
    loop = event.loop
    if loop is None:
        return "outside any loop"
    line = model.positions.line
    epoch = next((a for a in loop.ancestors if loops.is_epoch_loop(a)), None)
    if loops.iterates_data(loop) or (epoch is not None and not loops.is_epoch_loop(loop)):
        text = f"per batch (the batch loop on line {line(loop.node)}"
        return text + (f", in the epoch loop on line {line(epoch.node)})" if epoch is not None else ")")
    if loops.is_epoch_loop(loop):
        return f"per epoch (the epoch loop on line {line(loop.node)})"
    return f"once per iteration of the loop on line {line(loop.node)}"


def step_insights(model: ScriptModel) -> list[Insight]:
    """`optimizer.step()` and `scheduler.step()`: what they step, and where the loop model puts them."""
    from trainlint.model.values import TorchObject

    out: dict[int, Insight] = {}
    for event in model.loops.events("step", "scheduler_step"):
        if id(event.node) in out:
            continue
        objects = [k.value for k in event.targets if isinstance(k.value, TorchObject)]
        if not objects:
            continue
        obj = objects[0]
        line = model.positions.line
        insight = Insight(event.node, f"{obj.facts.name}.step() ({'optimizer' if event.kind == 'step' else 'scheduler'})")
        insight.notes.append(f"steps `{obj.facts.name}` (line {line(obj.node)}), {_where(model, event)}")
        if event.via:
            insight.notes.append(
                "reached through " + ", ".join(f"`{model.code(s.node.func)}()` (line {line(s.node)})" for s in event.via)
            )
        if event.kind == "scheduler_step":
            before = [
                e for e in (event.trace.events if event.trace else []) if e.kind == "step" and e.order < event.order and e.targets
            ]
            if before:
                last = before[-1]
                insight.notes.append(f"runs after `{model.code(last.node)}` (line {line(last.node)})")
            else:
                insight.notes.append("no optimizer step runs before it in this code")
        out[id(event.node)] = insight
    return list(out.values())


# Every kind of insight, in the order a hover shows them.
KINDS = (torch_call_insights, step_insights)


def all_insights(model: ScriptModel) -> list[Insight]:
    return [insight for kind in KINDS for insight in kind(model)]
