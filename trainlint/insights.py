"""What trainlint understood about a script, for people: hover cards and inlay hints.

Each insight is anchored to a node and carries rows of resolved facts. Today:
optimizer and scheduler calls with each hyperparameter's value and origin, and
what the optimizer trains. Model sizes and the tensor shape after each line of
`forward` are meant to arrive here as further insight kinds, so the server
shows them without changes of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainlint.rules.common import describe, fmt_number

if TYPE_CHECKING:
    from trainlint.model import ScriptModel
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
