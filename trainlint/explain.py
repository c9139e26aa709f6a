"""`trainlint explain`: what trainlint sees in one training script, as the "why won't my loss go down"
checklist: the learning rate, then overfitting, then the data, then the architecture.

Each stage has a verdict (ok, problem, unknown), the facts trainlint resolved (every value with where
it comes from), the findings of the rules that belong to it, and for the learning rate the curve each
scheduler gives. A stage reads only the script model; what a rule family does not compute yet, the
stage says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainlint.diagnostics import Diagnostic, Severity
from trainlint.rules.common import one_line

if TYPE_CHECKING:
    from trainlint.cells import Script
    from trainlint.engine import LintResult
    from trainlint.model import ScriptModel
    from trainlint.model.torch_objects import Scheduler
    from trainlint.settings import LintSettings

OK, PROBLEM, UNKNOWN = "ok", "problem", "unknown"


@dataclass
class Curve:
    """The learning rate a scheduler gives, one value per scheduler step."""

    scheduler: str
    line: int
    per: str  # batch | epoch | unknown: how often the loop model says it is stepped
    values: list[float]


@dataclass
class Stage:
    key: str
    title: str
    verdict: str = UNKNOWN
    facts: list[str] = field(default_factory=list)
    findings: list[Diagnostic] = field(default_factory=list)
    unknown: str | None = None  # why the verdict is unknown
    curves: list[Curve] = field(default_factory=list)


@dataclass
class Report:
    path: str
    stages: list[Stage]
    error: str | None = None  # the file could not be read or parsed: nothing else is known
    cells: Script | None = field(default=None, repr=False)  # a notebook's: its script's lines are in cells

    def where(self, line: int) -> tuple[int | None, int]:
        """(cell number, line in that cell) of a line of the linted text; (None, line) for a script."""
        if self.cells is None or not self.cells.cells:
            return None, line
        number, local, _ = self.cells.locate(line, 0)
        return number, local

    def cite(self, line: int) -> str:
        """`line 12`, or in a notebook `line 2 of cell 3` (as the findings' messages and the facts say it)."""
        cell, local = self.where(line)
        return f"line {local}" if cell is None else f"line {local} of cell {cell}"


STAGES = (
    ("learning-rate", "Learning rate and optimizer steps"),
    ("overfitting", "Overfitting"),
    ("data", "Data"),
    ("architecture", "Architecture"),
)


def stage_of(code: str) -> str | None:
    """The checklist stage a rule's findings belong to."""
    if code.startswith(("TL1", "TL2")) or code in ("TL601", "TL602", "TL603", "TL611", "TL612", "TL613"):
        return "learning-rate"
    if (code.startswith("TL30") and code not in ("TL306", "TL307")) or code in ("TL608", "TL609", "TL610"):
        return "overfitting"
    if code.startswith("TL4"):
        return "data"
    if code.startswith(("TL5", "TL6")) or code in ("TL306", "TL307"):
        return "architecture"
    return None


def explain_path(path: str) -> Report:
    """The report for a script or a notebook on disk (its configuration applies: selections, options)."""
    from trainlint.config import Resolver

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return failed_report(path, f"cannot read {path}: {exc.strerror or exc}")
    settings = Resolver().settings_for(Path(path).resolve())
    return explain_bytes(data, path, settings)


def explain_bytes(data: bytes, path: str, settings: LintSettings | None = None) -> Report:
    """The report for a file's bytes: a notebook when `path` names one, else a Python script."""
    from trainlint.engine import in_deep_stack

    try:
        return _explain_bytes(data, path, settings)
    except RecursionError:  # deeply nested code that lints (on a deep stack, see engine): so must its report
        return in_deep_stack(_explain_bytes, data, path, settings)


def _explain_bytes(data: bytes, path: str, settings: LintSettings | None) -> Report:
    from trainlint.ipynb import NotebookError, is_notebook, read
    from trainlint.source import DecodeError, decode

    try:
        text = decode(data).text
    except DecodeError as exc:
        return failed_report(path, str(exc))
    if not is_notebook(path):
        return explain_text(text, path, settings)
    try:
        notebook = read(text)
    except NotebookError as exc:
        return failed_report(path, f"invalid notebook: {exc}")
    return explain_script(notebook.script, path, settings)


def explain_text(text: str, path: str, settings: LintSettings | None = None) -> Report:
    """The report for a Python script's text (an editor's unsaved buffer, say)."""
    from trainlint.engine import lint_source
    from trainlint.settings import default_settings

    return explain_result(lint_source(text, path, settings or default_settings()), text, path)


def explain_script(script: Script, path: str, settings: LintSettings | None = None) -> Report:
    """The report for a notebook's code cells as one script: lines are cited in their cells."""
    from trainlint.engine import lint_script
    from trainlint.settings import default_settings

    return explain_result(lint_script(script, path, settings or default_settings()), script.text, path, script)


def explain_result(result: LintResult, code: str, path: str, cells: Script | None = None) -> Report:
    """The report from a lint already made of `code` (the language server reuses the editor's lint).
    `cells`: the notebook's script `code` is the text of."""
    syntax = [d for d in result.diagnostics if d.code == "TL001"]
    if syntax:
        return failed_report(path, syntax[0].message)
    model = result.model or _model(code, path)
    if model is None:
        return failed_report(path, "the file could not be read as Python")
    stages = build_stages(model, result.diagnostics)
    if cells is not None:  # "line 12" of the script becomes "line 2 of cell 3"
        for stage in stages:
            stage.facts = [cells.relabel(f, None) for f in stage.facts]
            if stage.unknown:
                stage.unknown = cells.relabel(stage.unknown, None)
    return Report(path, stages, cells=cells)


def _model(text: str, path: str) -> ScriptModel | None:
    """The model of a file no rule needed to parse (no rule's words occur in it)."""
    from trainlint.model import ScriptModel
    from trainlint.parsing import parse

    try:
        return ScriptModel(parse(text), path, text=text)
    except Exception:  # noqa: BLE001 - what the linter could lint, explain reports as unknown, never a crash
        return None


def failed_report(path: str, why: str) -> Report:
    """The report on a file nothing is known of: each stage unknown, for the same reason."""
    stages = [Stage(key, title, UNKNOWN, unknown=why) for key, title in STAGES]
    return Report(path, stages, error=why)


def build_stages(model: ScriptModel, diagnostics: list[Diagnostic]) -> list[Stage]:
    stages = {key: Stage(key, title) for key, title in STAGES}
    _learning_rate(model, stages["learning-rate"])
    _overfitting(model, stages["overfitting"])
    _data(model, stages["data"])
    _architecture(model, stages["architecture"])
    for diagnostic in diagnostics:
        key = stage_of(diagnostic.code)
        if key is not None:
            stages[key].findings.append(diagnostic)
    for stage in stages.values():
        if any(d.severity in (Severity.ERROR, Severity.WARNING) for d in stage.findings):
            stage.verdict = PROBLEM
        elif stage.unknown is None:
            stage.verdict = OK
    return list(stages.values())


# -- 1. learning rate -----------------------------------------------------------------------------------


def _learning_rate(model: ScriptModel, stage: Stage) -> None:
    from trainlint.insights import call_facts, stepped_where

    optimizers = model.torch.optimizers
    schedulers = model.torch.schedulers
    model.positions.want(c.node for c in (*optimizers, *schedulers))
    line = model.positions.line
    if not optimizers:
        stage.unknown = "no torch optimizer is built in this file (it may come from a framework or another module)"
        return
    for optimizer in optimizers:
        facts = {f.name: f for f in call_facts(model, optimizer)}
        lr = _fact_text(facts.get("lr")) or _default(optimizer, "lr")
        others = [f"{name} {_fact_text(f)}" for name, f in facts.items() if name != "lr" and _fact_text(f)]
        text = f"{optimizer.name} (line {line(optimizer.node)}): lr {lr}"
        stage.facts.append(text + (f"; {', '.join(others)}" if others else ""))
        steps = model.loops.steps_of(optimizer.node)
        if steps:
            stage.facts.append(f"{optimizer.name}.step() (line {line(steps[0].node)}) runs {stepped_where(model, steps[0])}")
        else:
            stage.facts.append(f"no {optimizer.name}.step() was found in the loops of this file")
    if not schedulers:
        stage.facts.append("no learning-rate scheduler: the rate stays constant")
    inside = _nested_schedulers(model)
    for scheduler in schedulers:
        if scheduler.node not in inside:
            _scheduler(model, scheduler, stage)


def _nested_schedulers(model: ScriptModel) -> set[Any]:
    """The schedulers a SequentialLR or ChainedScheduler of the file runs (its steps step them)."""
    out = set()
    for scheduler in model.torch.schedulers:
        argument = scheduler.argument("schedulers")
        if argument is None:
            continue
        for element in getattr(argument.expr, "elements", ()):
            for known in model.evaluator.eval(element.value, argument.scope, argument.frame):
                node = getattr(known.value, "node", None)
                if node is not None:
                    out.add(node)
    return out


def _fact_text(fact: Any) -> str | None:
    if fact is None or not fact.values:
        return None
    origins = "; ".join(o for o in fact.origins if o)
    return " or ".join(fact.values) + (f" ({origins})" if origins else "")


def _default(call: Any, name: str) -> str:
    from trainlint.rules.common import fmt_number

    default = call.facts.defaults.get(name, ...)
    if default is ...:
        return "not known"
    return f"{fmt_number(default, True)} (torch's default)" if isinstance(default, (int, float)) else "not known"


def _scheduler(model: ScriptModel, scheduler: Scheduler, stage: Stage) -> None:
    from trainlint.insights import stepped_where
    from trainlint.schedules import curve, natural_length

    line = model.positions.line
    steps = [e for e in model.loops.events("scheduler_step") if e.acts_on(scheduler.node)]
    if not steps:
        stage.facts.append(f"{scheduler.name} (line {line(scheduler.node)}) is never stepped in this file")
        return
    stage.facts.append(f"{scheduler.name} (line {line(scheduler.node)}) steps {stepped_where(model, steps[0])}")
    if scheduler.name == "ReduceLROnPlateau":
        stage.facts[-1] += "; its learning rate depends on the metric it is given, so its curve is not known before training"
        return
    schedule, missing = _schedule(model, scheduler)
    base = _base_lr(model, scheduler)
    if schedule is None or base is None:
        what = missing if schedule is None else "the optimizer's lr"
        stage.facts[-1] += f"; its learning-rate curve is not known: {what} is not known from this file"
        return
    per = "unknown"
    horizon = natural_length(schedule)
    if steps[0].loop is not None:
        loops = model.loops
        loop = steps[0].loop
        per = "batch" if loops.iterates_data(loop) or not loops.is_epoch_loop(loop) else "epoch"
        count = loops.iterations(loop)
        if per == "epoch" and count is not None and isinstance(count.value, int) and count.value > 0:
            horizon = count.value
    values = curve(schedule, base, horizon)
    if values:
        stage.curves.append(Curve(scheduler.name, line(scheduler.node), per, values))


def _numbers(model: ScriptModel, argument: Any) -> Any:
    """An argument's value when every candidate is the same number or list of numbers."""
    from trainlint.model.values import Sequence as SequenceValue

    found = model.evaluator.eval_argument(argument)
    values: set[Any] = set()
    for known in found:
        value = known.value
        if isinstance(value, (int, float, str, bool)) or value is None:
            values.add(value)
        elif isinstance(value, SequenceValue):
            items = tuple(model.evaluator.single(e.value, value.scope, value.frame) for e in value.node.elements)
            if any(i is None or not isinstance(i.value, (int, float)) for i in items):
                return ...
            values.add(tuple(i.value for i in items if i is not None))
        else:
            return ...
    return values.pop() if len(values) == 1 else ...


def _schedule(model: ScriptModel, scheduler: Scheduler, depth: int = 0) -> tuple[Any, str]:
    """The schedule with its arguments' values, or None and what is not known."""
    from trainlint.schedules import KINDS, Schedule

    if scheduler.name not in KINDS or depth > 3:
        return None, f"{scheduler.name}'s schedule"
    arguments: dict[str, Any] = {}
    for name, argument in scheduler.arguments.arguments.items():
        if name in ("optimizer", "last_epoch", "verbose"):
            continue
        written = f"{name} (`{model.code(argument.expr)}`)"
        if name == "lr_lambda":
            value: Any = _factor_function(model, argument)
        elif name == "schedulers":
            value = _nested(model, argument, depth)
        else:
            value = _numbers(model, argument)
            value = list(value) if isinstance(value, tuple) else value
        if value is ... or value is None:
            return None, written
        arguments[name] = value
    return Schedule(scheduler.name, arguments), ""


def _nested(model: ScriptModel, argument: Any, depth: int) -> Any:
    """SequentialLR's and ChainedScheduler's schedulers: a list of schedulers the file builds."""
    import libcst as cst

    expr = argument.expr
    if not isinstance(expr, (cst.List, cst.Tuple)):
        return ...
    by_node = {s.node: s for s in model.torch.schedulers}
    out = []
    for element in expr.elements:
        found = model.evaluator.single(element.value, argument.scope, argument.frame)
        node = getattr(found.value, "node", None) if found is not None else None
        inner = by_node.get(node) if node is not None else None
        if inner is None:
            return ...
        schedule, _ = _schedule(model, inner, depth + 1)
        if schedule is None:
            return ...
        out.append(schedule)
    return out


# What a learning-rate lambda may compute: arithmetic on its step and the file's constants.
_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "Add": lambda a, b: a + b,
    "Subtract": lambda a, b: a - b,
    "Multiply": lambda a, b: a * b,
    "Divide": lambda a, b: a / b,
    "FloorDivide": lambda a, b: a // b,
    "Modulo": lambda a, b: a % b,
    "Power": lambda a, b: a**b,
}
_CALLS: dict[str, Callable[..., Any]] = {"min": min, "max": max, "float": float, "int": int, "abs": abs}


def _one_expression(node: Any) -> tuple[Any, str] | None:
    """(the expression, its parameter's name) of a one-parameter lambda or `def f(x): return ...`."""
    import libcst as cst

    body: Any
    if isinstance(node, cst.Lambda):
        body = node.body
    elif (
        len(node.body.body) == 1
        and isinstance(node.body.body[0], cst.SimpleStatementLine)
        and isinstance(node.body.body[0].body[0], cst.Return)
    ):
        body = node.body.body[0].body[0].value
    else:
        return None
    params = node.params.params
    if body is None or len(params) != 1 or isinstance(node.params.star_arg, cst.Param) or node.params.kwonly_params:
        return None
    return body, params[0].name.value


def _factor_function(model: ScriptModel, argument: Any) -> Any:
    """LambdaLR's `lr_lambda` as a function of the step, when it is a lambda (or a one-line def)
    doing arithmetic on its parameter and on numbers the file states; ... when it is not."""
    import libcst as cst

    from trainlint.model.values import FunctionRef

    expr = argument.expr
    function = model.tables.functions.get(expr) if isinstance(expr, cst.Lambda) else None
    if function is None:
        found = model.evaluator.single(expr, argument.scope, argument.frame)
        if found is None or not isinstance(found.value, FunctionRef):
            return ...
        function = found.value.function
    found_body = _one_expression(function.node)
    if found_body is None:
        return ...
    body, step_name = found_body

    def value(e: cst.BaseExpression, step: int) -> Any:
        if isinstance(e, cst.Name) and e.value == step_name:
            return step
        if isinstance(e, cst.BinaryOperation):
            operator = _OPERATORS.get(type(e.operator).__name__)
            if operator is None:
                raise ValueError(model.code(e))
            return operator(value(e.left, step), value(e.right, step))
        if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Minus):
            return -value(e.expression, step)
        if isinstance(e, cst.Call) and isinstance(e.func, cst.Name) and e.func.value in _CALLS:
            if any(a.keyword is not None or a.star for a in e.args):
                raise ValueError(model.code(e))
            return _CALLS[e.func.value](*(value(a.value, step) for a in e.args))
        constant = model.evaluator.single(e, function.scope)
        if constant is None or isinstance(constant.value, bool) or not isinstance(constant.value, (int, float)):
            raise ValueError(model.code(e))
        return constant.value

    try:
        value(body, 0)  # every name in it is known: else no curve
    except (ValueError, ArithmeticError, TypeError):
        return ...
    return lambda step: value(body, step)


def _base_lr(model: ScriptModel, scheduler: Scheduler) -> float | None:
    if len(scheduler.optimizers) != 1:
        return None
    optimizer = scheduler.optimizers[0]
    argument = optimizer.argument("lr")
    if argument is None:
        default = optimizer.facts.defaults.get("lr")
        return float(default) if isinstance(default, (int, float)) else None
    value = _numbers(model, argument)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# -- 2. overfitting -------------------------------------------------------------------------------------


def _trained_parts(model: ScriptModel) -> list[tuple[Any, Any]]:
    """(part, optimizer) for each model an optimizer of the file trains."""
    out = []
    for optimizer in model.torch.optimizers:
        for known in optimizer.trained:
            out.append((model.networks.part(known), optimizer))
    return out


def _label(part: Any) -> str:
    if part.cls is not None:
        return str(part.cls.name)
    if part.constructor is not None:
        return f"torchvision's {part.constructor.name}"
    return str(part.layer or part.name or "the model")


def _overfitting(model: ScriptModel, stage: Stage) -> None:
    trained = _trained_parts(model)
    if not trained:
        stage.unknown = "no model trained by an optimizer of this file is known"
        return
    for part, optimizer in trained:
        count = model.networks.count(part)
        found, complete = model.networks.regularization(part)
        dropout = ", ".join(r.text for r in found) or ("none" if complete else "none seen (some parts are not known)")
        decay = optimizer.argument("weight_decay")
        if decay is not None:
            value = _numbers(model, decay)
            decay_text = f"weight_decay {value}" if value is not ... else "weight_decay (not known)"
        elif isinstance(default := optimizer.facts.defaults.get("weight_decay"), (int, float)):
            decay_text = f"weight_decay {default} ({optimizer.name}'s default)"
        else:
            decay_text = f"no weight decay ({optimizer.name} has none)"
        stage.facts.append(
            f"{_label(part)}: {count.text} parameters, trained by {optimizer.name}; {decay_text}; dropout and "
            f"stochastic depth: {dropout}"
        )
    stage.facts.append(_augmentation(model))
    stage.facts.append(_validation(model))


def _augmentation(model: ScriptModel) -> str:
    """The random transforms of the training pipelines: augmentation is a regularizer too."""
    line = model.positions.line
    training = [u for u in model.pipelines.datasets if u.train is not False and u.pipeline is not None]
    if not training:
        return "augmentation: no training pipeline of a torchvision dataset is read in this file"
    found = [
        f"{', '.join(s.name or '' for s in u.pipeline.augmentations)} ({u.facts.name}, the pipeline on line {line(u.pipeline.node)})"
        for u in training
        if u.pipeline is not None and u.pipeline.augmentations
    ]
    return "augmentation: " + ("; ".join(found) if found else "none (the training pipelines transform no image at random)")


def _validation(model: ScriptModel) -> str:
    """Whether the loop measures held-out data as it trains: overfitting shows only there."""
    line = model.positions.line
    loops = model.loops.trace_loops
    evaluations = [loop for loop in loops if model.loops.role(loop) == "eval"]
    if not evaluations:
        return "validation: no evaluation loop in this file, so overfitting would go unnoticed during training"
    inside = [loop for loop in evaluations if loop.parent is not None and model.loops.role(loop.parent) != "eval"]
    where = evaluations[0] if not inside else inside[0]
    during = f", inside the loop on line {line(where.parent.node)}" if where.parent is not None else ""
    return f"validation: the evaluation loop on line {line(where.node)}{during}"


# -- 3. data -------------------------------------------------------------------------------------------


def _data(model: ScriptModel, stage: Stage) -> None:
    uses = model.pipelines.datasets
    loaders = model.pipelines.loaders
    if not uses and not loaders:
        stage.unknown = (
            "no torchvision dataset or DataLoader is built in this file (trainlint reads torchvision datasets, their "
            "transform pipelines and the loaders over them; custom datasets are not read yet)"
        )
        return
    line = model.positions.line
    for use in uses:
        split = {True: "training", False: "evaluation", None: "split not known"}[use.train]
        if use.pipeline is None:
            how = f"transform `{one_line(model, use.transform)}` not read" if use.transform else "no transform"
        else:
            steps = ", ".join(s.name or one_line(model, s.node) for s in use.pipeline.steps)
            how = f"the pipeline on line {line(use.pipeline.node)}: {steps or 'empty'}"
        stage.facts.append(f"{use.facts.name} (line {line(use.site.node)}), {split}: {how}")
    for loader in loaders:
        stage.facts.append(_loader_text(model, loader))


def _loader_text(model: ScriptModel, loader: Any) -> str:
    """`DataLoader train_loader (line 20) over CIFAR10 (line 12): shuffled, batch size 128 (...); ...`."""
    line = model.positions.line
    name = f" {loader.name}" if loader.name else ""
    text = f"DataLoader{name} (line {line(loader.site.node)})"
    if loader.use is not None:
        through = f" through `{one_line(model, loader.split.func)}` (line {line(loader.split)})" if loader.split else ""
        text += f" over {loader.use.facts.name} (line {line(loader.use.site.node)}){through}"
    else:
        text += f" over `{loader.view}`, a dataset" if loader.view else " over a dataset"
        text += " whose transforms trainlint does not read"
    if loader.sampler:
        order = "a sampler decides the order"
    elif loader.shuffled is None:
        order = f"shuffle `{one_line(model, loader.shuffle.value)}` not known" if loader.shuffle else "order not known"
    else:
        order = "shuffled" if loader.shuffled else "not shuffled" + ("" if loader.shuffle else " (no shuffle=)")
    parts = [order, f"batch size {_batch_size(model, loader)}"]
    roles = {"train": "training", "eval": "evaluation"}
    seen = [f"the {roles.get(role, role)} loop on line {line(node)}" for role, node in loader.loops]
    parts.append("batches taken by " + ", ".join(seen) if seen else "no loop of this file is seen taking its batches")
    return f"{text}: " + "; ".join(parts)


def _batch_size(model: ScriptModel, loader: Any) -> str:
    """A DataLoader's batch size with its origin (`128 (default of --batch-size, line 9)`)."""
    from trainlint.rules.common import describe

    if loader.batch_size is None:
        return "not known" if loader.spread else "1 (the default)"
    found = model.evaluator.eval(loader.batch_size, loader.site.scope, model.evaluator.frame_of(loader.site))
    values = {k.value for k in found if isinstance(k.value, int) and not isinstance(k.value, bool)}
    if len(values) != 1:
        return "not known"
    origin = describe(model, found[0].trail)
    return f"{values.pop()}" + (f" ({origin})" if origin else "")


# -- 4. architecture ------------------------------------------------------------------------------------


def _architecture(model: ScriptModel, stage: Stage) -> None:
    from trainlint.rules.shapes import show

    hints = model.shapes.hints
    models = model.networks.models
    if not models and not model.loops.loss_feeds:
        stage.unknown = "no nn.Module class or loss of this file is known"
        return
    # Every line this stage cites, in one pass over the code (one each made a long loop's report quadratic).
    model.positions.want([*hints, *(n for fed in model.loops.loss_feeds for n in (fed.event.node, fed.output.node))])
    if hints:
        for node, shape in sorted(hints.items(), key=lambda item: model.positions.line(item[0])):
            code = one_line(model, node)
            stage.facts.append(f"line {model.positions.line(node)}: `{code}` -> {show(shape)}")
    elif models:
        stage.facts.append("no input size is stated in this file, so the shapes in forward are not known")
    for fed in model.loops.loss_feeds:
        stage.facts.append(
            f"the loss on line {model.positions.line(fed.event.node)} ({fed.loss}) is fed {fed.output.kind} output "
            f"(line {model.positions.line(fed.output.node)})"
        )
