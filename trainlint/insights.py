"""What trainlint understood about a script, for people: hover cards and inlay hints.

Each insight is anchored to a node and carries rows of resolved facts. Today:
optimizer and scheduler calls with each hyperparameter's value and origin, and
what the optimizer trains; `optimizer.step()` and `scheduler.step()` calls with
where the loop model puts them (per batch or per epoch, after which optimizer
step); models (a model class's name, a name bound to a model where it is
assigned or used) with their parameter count, exact or a lower bound, and the
count of each top-level sub-module. Each kind is one function in `KINDS`, so
the server shows a new kind without changes of its own.

`shape_hints` is apart: the tensor shape after each line of `forward` that
assigns one, for the runs from an input size the file states. They are inlay
hints only (behind their own editor setting), never hovers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trainlint.rules.common import describe, fmt_number, one_line

if TYPE_CHECKING:
    from trainlint.model import ScriptModel
    from trainlint.model.inputs import Input
    from trainlint.model.loops import Event
    from trainlint.model.networks import Count, Part
    from trainlint.model.syntax import Binding
    from trainlint.model.torch_objects import TorchCall
    from trainlint.model.values import Known

_MAX_ROWS = 12  # sub-modules a model's hover lists
_MAX_INLINE = 6  # sub-modules an optimizer's hover names on one line
_MAX_BUILDS = 4  # constructions of one class a class's hover names


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
    columns: tuple[str, ...] = ()  # a table of its own (a model's sub-modules), after the notes
    rows: list[tuple[str, ...]] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"**{self.title}**", ""]
        lines += [f"{note}  " for note in self.notes]
        if self.rows:
            lines += ([""] if self.notes else []) + ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
            lines += ["| " + " | ".join(row) + " |" for row in self.rows]
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


def call_facts(model: ScriptModel, call: TorchCall) -> list[Fact]:
    """What each argument of an optimizer or scheduler call resolves to, with where it comes from."""
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
                trained.append(f"`{_value_name(known)}`{_inline_count(model, known)}")
            if trained:
                insight.notes.append(f"trains the parameters of {'; '.join(trained)}")
        elif isinstance(call, Scheduler):
            optimizers = [f"`{o.name}` (line {model.positions.line(o.node)})" for o in call.optimizers]
            if optimizers:
                insight.notes.append(f"schedules {', '.join(optimizers)}")
        insight.facts = call_facts(model, call)
        out.append(insight)
    return out


def stepped_where(model: ScriptModel, event: Event) -> str:
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
        insight.notes.append(f"steps `{obj.facts.name}` (line {line(obj.node)}), {stepped_where(model, event)}")
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


# -- models and their parameter counts ----------------------------------------------------------------


def count_text(count: Count) -> str:
    """`1,199,882`, `at least 5,130` (a part is not known), `about 124,439,808` (shared or replaced weights)."""
    if not count.exact:
        return f"at least {count.total:,}"
    return f"{'about ' if count.approximate else ''}{count.total:,}"


def _value_name(known: Known) -> str:
    """`Net`, `Linear`, `resnet50`: what a model value is."""
    value = known.value
    name = getattr(getattr(value, "cls", None), "name", None) or getattr(getattr(value, "facts", None), "name", None)
    return name or getattr(value, "name", None) or "?"


def _part_kind(model: ScriptModel, part: Part) -> str:
    """What a sub-module is, for a table: `Conv2d`, `Block`, `resnet18 (torchvision)`, `timm.create_model(...)`."""
    import libcst as cst

    if part.kind == "parameter":
        return "Parameter"
    if part.cls is not None:
        return part.cls.name
    if part.constructor is not None:
        return f"{part.constructor.name} (torchvision)"
    if part.layer is not None:
        return part.layer
    node = part.node
    for store in model.tables.attribute_stores.get(part.name, ()) if part.name else ():
        if store.node is node:
            node = store.value  # `self.backbone = timm.create_model(...)`: what was assigned
    if isinstance(node, cst.Call):
        return f"`{_short(model, node.func, 40)}(...)`"
    return "not known"


def _breakdown(model: ScriptModel, part: Part) -> list[tuple[Part, Count]]:
    """The top-level sub-modules of a model that hold parameters (or may: not known), with their counts."""
    out = []
    for child in part.children:
        count = model.networks.count(child)
        if count.total or not count.exact:
            out.append((child, count))
    return out


def _child_label(child: Part) -> str:
    name = f"`{child.name}`" if child.name else "(unnamed)"
    return f"{name} ×{child.repeat}" if child.repeat > 1 else name


def _inline_count(model: ScriptModel, known: Known) -> str:
    """`: 1,199,882 (conv1 320, conv2 18,496, ...)`: a trained model's count on one line."""
    part = model.networks.part(known)
    if part.kind == "unknown":
        return ": not a model trainlint can count"
    rows = _breakdown(model, part)
    inner = [f"{_child_label(c)} {'not known' if c.kind == 'unknown' else count_text(n)}" for c, n in rows[:_MAX_INLINE]]
    if len(rows) > _MAX_INLINE:
        inner.append(f"{len(rows) - _MAX_INLINE} more")
    text = f": {count_text(model.networks.count(part))} parameters"
    return text + (f" ({', '.join(inner)})" if inner else "")


def _fill(model: ScriptModel, insight: Insight, part: Part, count: Count) -> None:
    """A model's notes on its count and the table of its sub-modules."""
    if not count.exact:
        missing = ", ".join(f"`{u}`" for u in dict.fromkeys(count.unknown)) or "a part"
        insight.notes.append(f"a lower bound: trainlint cannot count {missing}")
    elif count.approximate:
        insight.notes.append("approximate: weights are shared or replaced, which `parameters()` counts once")
    rows = _breakdown(model, part)
    if not rows:
        return
    insight.columns = ("sub-module", "type", "parameters")
    for child, child_count in rows[:_MAX_ROWS]:
        shown = "not known" if child.kind == "unknown" else count_text(child_count)
        insight.rows.append((_child_label(child), _part_kind(model, child), shown))
    if len(rows) > _MAX_ROWS:
        rest = sum((n for _, n in rows[_MAX_ROWS:]), start=rows[_MAX_ROWS][1].times(0))
        insight.rows.append((f"{len(rows) - _MAX_ROWS} more", "", count_text(rest)))


def _is_model(known: Known) -> bool:
    from trainlint.model.torch_objects import TorchvisionModel
    from trainlint.model.values import Instance, TorchObject

    value = known.value
    if isinstance(value, TorchObject):
        return value.facts.kind == "layer"
    return isinstance(value, (Instance, TorchvisionModel))


def model_insights(model: ScriptModel) -> list[Insight]:
    """A model class's name (`class Net(nn.Module)`), and a name bound to a model (`model = Net()`) where it is
    assigned and where calls use it (`model.parameters()`, `model(x)`, `train(model)`): its parameter count,
    exact or a lower bound, and its top-level sub-modules'."""
    out = _class_insights(model)
    bound = _bound_models(model)
    uses = _uses(model, bound)
    model.positions.want(binding.node for binding, _ in bound.values())
    for binding, parts in bound.values():
        out.append(_instance_insight(model, binding.node, binding.name, parts))
    for name, binding, parts in uses:
        insight = _instance_insight(model, name, binding.name, parts)
        assert binding.value is not None
        insight.notes.insert(0, f"assigned on line {model.positions.line(binding.node)}: `{_short(model, binding.value)}`")
        out.append(insight)
    return out


def _class_insights(model: ScriptModel) -> list[Insight]:
    """Each model class of the file, as the file builds it (or with its parameters' defaults when it does not)."""
    from trainlint.model.syntax import CallSite
    from trainlint.model.values import Instance

    networks = model.networks
    by_class: dict[int, list[tuple[Part, Count, CallSite | None]]] = {}
    for part in networks.models:
        if part.cls is not None:
            value = part.value.value if part.value is not None else None
            site = value.call if isinstance(value, Instance) else None
            by_class.setdefault(id(part.cls), []).append((part, networks.count(part), site))
    model.positions.want(site.node for builds in by_class.values() for _, _, site in builds if site is not None)
    out = []
    for builds in by_class.values():
        first, count, site = builds[0]
        cls = first.cls
        assert cls is not None
        insight = Insight(cls.node.name, f"{cls.name}: {count_text(count)} parameters")
        if site is not None:
            insight.notes.append(f"as built on line {model.positions.line(site.node)} (`{_short(model, site.node)}`)")
        else:
            insight.notes.append("with its parameters' defaults (this file does not build it)")
        for _, other_count, other_site in builds[1:_MAX_BUILDS]:
            if other_site is not None and (other_count.total, other_count.exact) != (count.total, count.exact):
                line = model.positions.line(other_site.node)
                insight.notes.append(
                    f"built on line {line} too (`{_short(model, other_site.node)}`): {count_text(other_count)} parameters"
                )
        _fill(model, insight, first, count)
        out.append(insight)
    return out


def _bound_models(model: ScriptModel) -> dict[int, tuple[Binding, list[Part]]]:
    """The assignments of a model to a name (`model = Net().to(device)`), by binding."""
    import libcst as cst

    from trainlint.model.values import MODULE_FRAME

    evaluator = model.evaluator
    tables = model.tables
    out: dict[int, tuple[Binding, list[Part]]] = {}
    scopes = {id(s): s for s in (tables.module_scope, *tables.scopes_by_node.values())}
    for scope in scopes.values():
        if scope.kind not in ("module", "function"):
            continue
        frame = evaluator.frame_for(scope, MODULE_FRAME)
        for bindings in scope.bindings.values():
            for binding in bindings:
                if binding.kind != "assign" or not isinstance(binding.value, cst.Call) or binding.unpack_index is not None:
                    continue
                parts = _model_parts(model, [k for k in evaluator.eval(binding.value, scope, frame) if _is_model(k)])
                if parts:
                    out[id(binding)] = (binding, parts)
    return out


def _uses(model: ScriptModel, bound: dict[int, tuple[Binding, list[Part]]]) -> list[tuple[Any, Binding, list[Part]]]:
    """Where calls use a name bound to a model: `model.parameters()`, `model(x)`, `summary(model, ...)` (not
    `self` in the model's own methods); the assignment each use sees, ignoring control flow."""
    import libcst as cst

    names = {binding.name for binding, _ in bound.values()}
    seen: set[int] = set()
    out = []
    for site in model.tables.calls:
        root: cst.BaseExpression = site.node.func
        while isinstance(root, cst.Attribute):
            root = root.value
        function = site.function
        this = function.first_param_name if function is not None and function.is_method else None
        for name in [*(a.value for a in site.node.args), root]:
            if not isinstance(name, cst.Name) or name.value not in names or name.value == this or id(name) in seen:
                continue
            binding = site.scope.reaching(name.value, site.order)
            found = bound.get(id(binding)) if binding is not None else None
            if found is not None and found[0].value is not None:
                seen.add(id(name))
                out.append((name, found[0], found[1]))
    return out


def _short(model: ScriptModel, node: Any, limit: int = 60) -> str:
    code = one_line(model, node)
    return code if len(code) <= limit else code[: limit - 3] + "..."


def _model_parts(model: ScriptModel, found: list[Known]) -> list[Part]:
    """The models among what a name is bound to: the layers with no parameters (`nn.ReLU()`) are no models."""
    out: list[Part] = []
    for known in found:
        part = model.networks.part(known)
        count = model.networks.count(part)
        if part.kind != "unknown" and (count.total or not count.exact) and all(p is not part for p in out):
            out.append(part)
    return out


def _instance_insight(model: ScriptModel, node: Any, name: str, parts: list[Part]) -> Insight:
    first = parts[0]
    count = model.networks.count(first)
    what = _value_name(first.value) if first.value is not None else _part_kind(model, first)
    insight = Insight(node, f"{name} ({what}): {count_text(count)} parameters")
    for other in parts[1:]:
        other_what = _value_name(other.value) if other.value is not None else _part_kind(model, other)
        insight.notes.append(f"or `{other_what}`: {count_text(model.networks.count(other))} parameters")
    _fill(model, insight, first, count)
    return insight


# -- shapes through forward ---------------------------------------------------------------------------------


@dataclass
class ShapeHint:
    """The shape of the tensor a line of `forward` assigns: `(N, 32, 13, 13)` after the statement."""

    node: Any  # the statement's last part: the hint goes after it
    label: str
    tooltip: str


def shape_hints(model: ScriptModel) -> list[ShapeHint]:
    """The shape after each line of `forward` that assigns a tensor, for the runs from an input size the file
    states (a line that runs with different shapes has none), in source order."""
    import libcst as cst

    from trainlint.rules.shapes import show

    shapes = model.shapes
    hints = {node: shape for node, shape in shapes.hints.items() if model.positions.here(node)}  # this file's lines
    if not hints:
        return []
    sources: dict[Any, Input] = {}
    for run in shapes.runs:
        if run.input is not None:
            for node in run.hints:
                sources.setdefault(node, run.input)
    anchors = {node: node.body[-1] if isinstance(node, cst.SimpleStatementLine) and node.body else node for node in hints}
    model.positions.want([*anchors.values(), *(s.node for s in sources.values())])
    out = []
    for node, shape in hints.items():
        source = sources.get(node)
        tooltip = "the shape of the tensor after this line"
        if source is not None:
            tooltip += f", for the input {source.what} (line {model.positions.line(source.node)})"
        out.append(ShapeHint(anchors[node], show(shape), tooltip))
    out.sort(key=lambda h: (model.span(h.node).line, model.span(h.node).column))
    return out


# Every kind of insight, in the order a hover shows them.
KINDS = (torch_call_insights, step_insights, model_insights)


def all_insights(model: ScriptModel) -> list[Insight]:
    """The insights of this file's code (a linked file's calls are that file's to show)."""
    here = model.positions.here
    return [insight for kind in KINDS for insight in kind(model) if here(insight.node)]
