"""TL201-TL204 on bad code, and silence on the clean shapes real training loops take."""

import textwrap

import pytest
from conftest import lint

from trainlint.engine import lint_source
from trainlint.fixes import fix_text
from trainlint.settings import default_settings

HEADER = """\
import torch
from torch import nn, optim
from torch.utils.data import DataLoader

model = nn.Linear(10, 2)
criterion = nn.CrossEntropyLoss()
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
"""

TRAIN_BATCH = """\
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
"""


def found(code: str, select: str = "TL2"):
    return [(d.code, d.span.line) for d in lint(HEADER + textwrap.dedent(code), [select])]


def line(code: str, text: str) -> int:
    full = HEADER + textwrap.dedent(code)
    return next(i for i, text_line in enumerate(full.splitlines(), 1) if text_line.strip().startswith(text))


def messages(code: str, rule: str):
    return [d.message for d in lint(HEADER + textwrap.dedent(code), [rule])]


# -- TL201 -------------------------------------------------------------------------------------


NEVER = (
    """
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
for epoch in range(90):
    for x, y in train_loader:
"""
    + TRAIN_BATCH
)


def test_tl201_never_stepped():
    assert found(NEVER) == [("TL201", line(NEVER, "scheduler ="))]
    (message,) = messages(NEVER, "TL201")
    assert message.startswith("StepLR `scheduler` is created but never stepped")
    assert "stays at 0.1 for the whole training" in message and "once per epoch" in message


def test_tl201_per_step_schedules_are_told_to_step_per_batch():
    code = NEVER.replace("StepLR(optimizer, step_size=30, gamma=0.1)", "OneCycleLR(optimizer, max_lr=0.1, total_steps=1000)")
    (message,) = messages(code, "TL201")
    assert "once per optimizer step" in message


@pytest.mark.parametrize(
    "stepping",
    [
        "scheduler.step()",  # directly, per epoch
        "update(scheduler)",  # through a helper's parameter
        "holder.sched.step()",  # through an attribute of an object of this file
        "for s in [scheduler]:\n        s.step()",  # a list of schedulers
        "scheds = {'main': scheduler}\n    scheds['main'].step()",
        "callbacks.append(lambda: scheduler.step())",
    ],
)
def test_tl201_stepped_in_many_ways(stepping):
    code = (
        """
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)

def update(sched):
    sched.step()

class Holder:
    def __init__(self, sched):
        self.sched = sched

holder = Holder(scheduler)
for epoch in range(90):
    for x, y in train_loader:
"""
        + TRAIN_BATCH
        + "    "
        + stepping
        + "\n"
    )
    assert found(code, "TL201") == []


@pytest.mark.parametrize(
    "escape",
    [
        "return scheduler",  # a factory: the caller steps it
        "trainer = Trainer(model, optimizers=(optimizer, scheduler))",  # code the file cannot see
        "sequential = optim.lr_scheduler.SequentialLR(optimizer, [warmup, scheduler], milestones=[5])\n    sequential.step()",
        "engine.add_event_handler(Events.EPOCH_COMPLETED, scheduler.step)",
        "state['sched'] = scheduler",
        "lr_handler = LRScheduler(scheduler)",
    ],
)
def test_tl201_silent_when_the_scheduler_escapes(escape):
    code = (
        """
def build():
    warmup = optim.lr_scheduler.LinearLR(optimizer, total_iters=5)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)
    """
        + escape
        + """

for epoch in range(90):
    for x, y in train_loader:
"""
        + TRAIN_BATCH
    )
    assert [c for c in found(code, "TL201") if c[1] == line(code, "scheduler =")] == []


def test_tl201_silent_without_a_training_loop():
    assert found("scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)\ntrainer.fit(model)\n", "TL201") == []


LIGHTNING = """
import lightning as L

class Model(L.LightningModule):
    def __init__(self):
        super().__init__()
        {manual}

    def training_step(self, batch, batch_idx):
        {body}

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=1e-3)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        return {returned}
"""


@pytest.mark.parametrize(
    "returned", ["[opt], [sched]", '{"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}']
)
def test_tl201_lightning_automatic_optimization_steps_returned_schedulers(returned):
    code = LIGHTNING.format(manual="pass", body="return self.compute_loss(batch)", returned=returned)
    assert found(code, "TL201") == []


def test_tl201_lightning_manual_optimization_must_step_by_hand():
    body = "opt = self.optimizers()\n        self.manual_backward(self.compute_loss(batch))\n        opt.step()"
    code = LIGHTNING.format(manual="self.automatic_optimization = False", body=body, returned="[opt], [sched]")
    assert found(code, "TL201") == [("TL201", line(code, "sched ="))]
    (message,) = messages(code, "TL201")
    assert "automatic_optimization = False" in message and "self.lr_schedulers().step()" in message
    stepped = body + "\n        self.lr_schedulers().step()"
    code = LIGHTNING.format(manual="self.automatic_optimization = False", body=stepped, returned="[opt], [sched]")
    assert found(code, "TL201") == []


def test_tl201_reference_it_cannot_follow_keeps_it_silent():
    code = NEVER + "registry.register(getattr(scheduler, 'step'))\n"
    assert found(code, "TL201") == []


# -- TL202 ------------------------------------------------------------------------------------


def test_tl202_before_optimizer_step_in_the_same_loop():
    code = (
        """
scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10000)
for epoch in range(10):
    for x, y in train_loader:
        scheduler.step()
"""
        + TRAIN_BATCH
    )
    assert found(code) == [("TL202", line(code, "scheduler.step()"))]
    (message,) = messages(code, "TL202")
    assert message.startswith("`scheduler.step()` runs before `optimizer.step()` (line ")
    assert "first value of the OneCycleLR schedule is skipped" in message


def test_tl202_top_of_the_epoch_through_a_helper():
    code = (
        """
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)

def train_epoch(loader):
    for x, y in loader:
"""
        + TRAIN_BATCH
        + """
for epoch in range(90):
    scheduler.step()
    train_epoch(train_loader)
"""
    )
    assert found(code) == [("TL202", line(code, "scheduler.step()"))]
    (message,) = messages(code, "TL202")
    assert "at the top of each iteration" in message


def test_tl202_fix_moves_the_step_after_the_training_and_reparses():
    code = HEADER + textwrap.dedent("""
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)

        def train_epoch(loader):
            for x, y in loader:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()

        for epoch in range(90):
            scheduler.step()
            train_epoch(train_loader)
            validate()
    """)
    outcome = fix_text(code, "x.py", default_settings(["TL2"]), unsafe=True)
    assert outcome.text.endswith("for epoch in range(90):\n    train_epoch(train_loader)\n    scheduler.step()\n    validate()\n")
    assert lint_source(outcome.text, "x.py", default_settings(["TL2"])).diagnostics == []
    again = fix_text(outcome.text, "x.py", default_settings(["TL2"]), unsafe=True)
    assert again.text == outcome.text


def test_tl202_instead_of_the_optimizer():
    code = """
scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10000)
for x, y in train_loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    scheduler.step()
"""
    assert found(code) == [("TL202", line(code, "scheduler.step()"))]
    (message,) = messages(code, "TL202")
    assert "nothing steps the SGD optimizer" in message and "the weights never change" in message


def test_tl202_instead_stays_silent_when_the_optimizer_is_stepped_elsewhere():
    code = """
scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10000)
for x, y in train_loader:
    loss = criterion(model(x), y)
    loss_scaler(loss, optimizer, parameters=model.parameters())
    scheduler.step()
"""
    assert found(code, "TL202") == []


@pytest.mark.parametrize(
    "loop",
    [
        # after the optimizer, per batch (a per-step schedule)
        "for x, y in train_loader:\n" + TRAIN_BATCH + "        scheduler.step()\n",
        # per epoch, after the batch loop
        "for epoch in range(10):\n    for x, y in train_loader:\n"
        + TRAIN_BATCH.replace("\n        ", "\n            ").replace(
            "        optimizer.zero_grad", "            optimizer.zero_grad"
        )
        + "    scheduler.step()\n",
        # accumulation: both under the same condition
        "for i, (x, y) in enumerate(train_loader):\n    criterion(model(x), y).backward()\n    if (i + 1) % 4 == 0:\n        optimizer.step()\n        scheduler.step()\n        optimizer.zero_grad()\n",
        # AMP: scaler.step(optimizer) is the optimizer step
        "scaler = torch.cuda.amp.GradScaler()\nfor x, y in train_loader:\n    scaler.scale(criterion(model(x), y)).backward()\n    scaler.step(optimizer)\n    scaler.update()\n    scheduler.step()\n",
        # exclusive branches
        "for x, y in train_loader:\n    if warmup:\n        scheduler.step()\n    else:\n        optimizer.step()\n",
        # step(epoch) sets the position itself
        "for epoch in range(10):\n    scheduler.step(epoch)\n    for x, y in train_loader:\n        optimizer.step()\n",
    ],
)
def test_tl202_clean(loop):
    code = "scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10000)\n" + loop
    assert found(code, "TL202") == []


def test_tl202_two_optimizers_each_with_its_own_scheduler():
    code = """
opt_g = optim.Adam(gen.parameters(), lr=2e-4)
opt_d = optim.Adam(disc.parameters(), lr=2e-4)
sched_g = optim.lr_scheduler.LambdaLR(opt_g, lambda e: 1.0)
sched_d = optim.lr_scheduler.LambdaLR(opt_d, lambda e: 1.0)
for epoch in range(200):
    for imgs in train_loader:
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
    sched_g.step()
    sched_d.step()
"""
    assert found(code) == []


# -- TL203 ------------------------------------------------------------------------------------


def per_batch(schedule: str, epochs: str = "range(90)") -> str:
    return f"""
scheduler = optim.lr_scheduler.{schedule}
for epoch in {epochs}:
    for x, y in train_loader:
{TRAIN_BATCH}        scheduler.step()
"""


@pytest.mark.parametrize(
    "schedule,setting",
    [
        ("StepLR(optimizer, step_size=30, gamma=0.1)", "step_size=30"),
        ("MultiStepLR(optimizer, milestones=[30, 60])", "milestones=60"),
        ("CosineAnnealingLR(optimizer, T_max=90)", "T_max=90"),
        ("PolynomialLR(optimizer, total_iters=90)", "total_iters=90"),
        ("CosineAnnealingWarmRestarts(optimizer, T_0=10)", "T_0=10"),
    ],
)
def test_tl203_epoch_schedules_stepped_per_batch(schedule, setting):
    code = per_batch(schedule)
    assert found(code) == [("TL203", line(code, "scheduler.step()"))]
    (d,) = lint(HEADER + textwrap.dedent(code), ["TL203"])
    assert d.severity.value == "warning"
    assert f"{setting} counts epochs: the epoch loop on line {line(code, 'for epoch')} runs for 90." in d.message


def test_tl203_period_from_a_constant_names_it():
    code = "EPOCHS = 100\nLR_STEP = 30\n" + per_batch("StepLR(optimizer, step_size=LR_STEP)", "range(EPOCHS)")
    (message,) = messages(code, "TL203")
    assert "step_size=30 (LR_STEP, line " in message and "runs for 100 (EPOCHS, line " in message


def test_tl203_unknown_number_of_epochs_is_info_and_says_so():
    code = per_batch("StepLR(optimizer, step_size=30)", "range(args.epochs)")
    (d,) = lint(HEADER + textwrap.dedent(code), ["TL203"])
    assert d.severity.value == "info" and "assumed: the number of epochs is not known" in d.message


def test_tl203_exponential():
    (d,) = lint(HEADER + textwrap.dedent(per_batch("ExponentialLR(optimizer, gamma=0.95)")), ["TL203"])
    assert "practically zero" in d.message
    assert found(per_batch("ExponentialLR(optimizer, gamma=0.9995)"), "TL203") == []


@pytest.mark.parametrize(
    "schedule",
    [
        "OneCycleLR(optimizer, max_lr=0.1, total_steps=10000)",
        "CyclicLR(optimizer, base_lr=0.01, max_lr=0.1)",
        "LambdaLR(optimizer, lambda step: min(1.0, step / 1000))",
        "LinearLR(optimizer, start_factor=0.1, total_iters=500)",
        "CosineAnnealingLR(optimizer, T_max=90 * len(train_loader))",
        "CosineAnnealingLR(optimizer, T_max=total_steps)",
        "StepLR(optimizer, step_size=10000)",  # longer than 90 epochs: counts steps
        "StepLR(optimizer, step_size=args.lr_step_iters)",
        "StepLR(optimizer, step_size=unknown_value)",
    ],
)
def test_tl203_per_step_schedules_are_clean(schedule):
    code = "total_steps = 90 * 500\n" + per_batch(schedule)
    assert found(code, "TL203") == []


def test_tl203_full_batch_training_steps_per_epoch():
    code = """
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=50)
for epoch in range(200):
    optimizer.zero_grad()
    criterion(model(features), labels).backward()
    optimizer.step()
    scheduler.step()
"""
    assert found(code) == []


def test_tl203_step_loop_without_epochs_is_not_guessed():
    code = """
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)
for it in range(max_iters):
    X, Y = get_batch("train")
    optimizer.zero_grad()
    criterion(model(X), Y).backward()
    optimizer.step()
    scheduler.step()
"""
    assert found(code) == []


def test_tl203_fractional_epochs_are_clean():
    code = per_batch("CosineAnnealingWarmRestarts(optimizer, T_0=10)").replace(
        "scheduler.step()", "scheduler.step(epoch + i / iters)"
    )
    assert found(code) == []


def test_tl203_through_a_helper_and_fix():
    code = HEADER + textwrap.dedent("""
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)

        def train(loader, sched):
            for x, y in loader:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
                sched.step()
            print("epoch done")

        for epoch in range(90):
            train(train_loader, scheduler)
    """)
    (d,) = lint_source(code, "x.py", default_settings(["TL203"])).diagnostics
    assert d.fix is not None and d.fix.applicability.value == "unsafe"
    outcome = fix_text(code, "x.py", default_settings(["TL2"]), unsafe=True)
    assert '        optimizer.step()\n    sched.step()\n    print("epoch done")\n' in outcome.text
    assert lint_source(outcome.text, "x.py", default_settings(["TL2"])).diagnostics == []


def test_tl203_no_fix_when_the_step_shares_its_line():
    code = per_batch("StepLR(optimizer, step_size=30)").replace("scheduler.step()", "scheduler.step(); log()")
    (d,) = lint(HEADER + textwrap.dedent(code), ["TL203"])
    assert d.fix is None


# -- TL204 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,bad",
    [
        ("plateau.step()", True),
        ("plateau.step(val_loss)", False),
        ("plateau.step(metrics=val_loss)", False),
        ("plateau.step(epoch=epoch)", True),
        ("watch(plateau)", True),
        ("self_like.sched.step()", True),
    ],
)
def test_tl204(call, bad):
    code = f"""
plateau = optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)

def watch(sched):
    sched.step()

class Holder:
    def __init__(self, sched):
        self.sched = sched

self_like = Holder(plateau)
for epoch in range(10):
    val_loss = evaluate(model)
    {call}
"""
    result = found(code, "TL204")
    if bad:
        assert len(result) == 1 and result[0][0] == "TL204"
    else:
        assert result == []


def test_tl204_message():
    (message,) = messages("plateau = optim.lr_scheduler.ReduceLROnPlateau(optimizer)\nplateau.step()\n", "TL204")
    assert "raises TypeError" in message and "`.step(val_loss)`" in message


# -- the default selection ----------------------------------------------------------------------


def test_tl2_rules_are_on_by_default():
    assert {c for c, _ in (d for d in [(x.code, 0) for x in lint(HEADER + textwrap.dedent(NEVER))])} == {"TL201"}


# -- precision on shapes seen in real code -------------------------------------------------------------


def test_tl201_silent_when_another_scheduler_of_the_optimizer_is_the_one_used():
    code = (
        """
step = optim.lr_scheduler.StepLR(optimizer, step_size=30)
cosine = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=90)
scheduler = step
for epoch in range(90):
    for x, y in train_loader:
"""
        + TRAIN_BATCH
        + """    scheduler.step()
"""
    )
    assert found(code, "TL201") == []


def test_tl204_isinstance_guard_and_flags():
    code = """
plateau = optim.lr_scheduler.ReduceLROnPlateau(optimizer)

def step_scheduler(scheduler, metric=None):
    if metric is None:
        scheduler.step()
    else:
        scheduler.step(metric)

for epoch in range(10):
    if isinstance(plateau, optim.lr_scheduler.ReduceLROnPlateau):
        plateau.step(val_loss)
    else:
        plateau.step()
    step_scheduler(plateau, val_loss)
"""
    assert found(code, "TL204") == []


def test_tl204_known_condition_still_reports():
    code = "plateau = optim.lr_scheduler.ReduceLROnPlateau(optimizer)\nUSE = True\nif USE:\n    plateau.step()\n"
    assert [c for c, _ in found(code, "TL204")] == ["TL204"]


def test_tl203_last_batch_guard_is_per_epoch():
    code = (
        per_batch("StepLR(optimizer, step_size=30)")
        .replace("for x, y in train_loader:", "for i, (x, y) in enumerate(train_loader):")
        .replace("        scheduler.step()", "        if i == len(train_loader) - 1:\n            scheduler.step()")
    )
    assert found(code, "TL203") == []


@pytest.mark.parametrize(
    "guard,fires", [("epoch > 0", False), ("epoch != 0", False), ("epoch >= 1", False), ("epoch < 5", True), ("unknown", False)]
)
def test_tl202_guards_at_the_top_of_the_epoch(guard, fires):
    code = (
        f"""
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)
for epoch in range(90):
    if {guard}:
        scheduler.step()
    for x, y in train_loader:
"""
        + TRAIN_BATCH
    )
    assert (found(code, "TL202") != []) == fires


def test_tl202_per_batch_is_information():
    code = (
        """
scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10000)
for epoch in range(10):
    for x, y in train_loader:
        scheduler.step()
"""
        + TRAIN_BATCH
    )
    (d,) = lint(HEADER + textwrap.dedent(code), ["TL202"])
    assert d.severity.value == "info"


def test_move_fixes_keep_a_comment_above_and_after():
    source = HEADER + textwrap.dedent("""
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30)
        for epoch in range(90):
            for x, y in train_loader:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
                # decay the learning rate
                scheduler.step()  # per epoch, really
            evaluate()
    """)
    outcome = fix_text(source, "x.py", default_settings(["TL203"]), unsafe=True)
    assert "        # decay the learning rate\n    scheduler.step()  # per epoch, really\n    evaluate()\n" in outcome.text


# -- schedulers built through functools.partial ---------------------------------------------------


def test_a_partial_scheduler_is_a_scheduler():
    code = (
        "from functools import partial\n"
        "make_scheduler = partial(optim.lr_scheduler.StepLR, step_size=30, gamma=0.1)\n"
        "scheduler = make_scheduler(optimizer)\n"
        "for epoch in range(90):\n"
        "    for x, y in train_loader:\n" + TRAIN_BATCH + "        scheduler.step()\n"
    )
    assert found(code) == [("TL203", line(code, "scheduler.step()"))]
    (message,) = messages(code, "TL203")
    assert "StepLR's step_size=30 counts epochs" in message


def test_a_partial_scheduler_never_stepped():
    code = (
        "import functools\n"
        "scheduler = functools.partial(optim.lr_scheduler.CosineAnnealingLR, T_max=90)(optimizer)\n"
        "for epoch in range(90):\n"
        "    for x, y in train_loader:\n" + TRAIN_BATCH
    )
    assert found(code, "TL201") == [("TL201", line(code, "scheduler = "))]
