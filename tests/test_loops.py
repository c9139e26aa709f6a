"""The training-loop model: which loop iterates batches and which epochs, the order of events in one
iteration, events inside helpers and closures, which optimizer a scheduler wraps, train vs eval."""

import textwrap

import libcst
import pytest

from trainlint.model import ScriptModel


def build(code: str) -> ScriptModel:
    return ScriptModel(libcst.parse_module(textwrap.dedent(code)))


def line_of(model: ScriptModel, text: str) -> int:
    """The (first) line whose stripped text starts with `text`."""
    for number, line in enumerate(model.module.code.splitlines(), 1):
        if line.strip().startswith(text):
            return number
    raise AssertionError(f"no line starts with {text!r}")


def shape(model: ScriptModel, kind: str, line: int) -> str:
    """The loops around the event of `kind` on `line`, outermost first: D (batches), E (epochs), o (other)."""
    loops = model.loops
    (event,) = {id(e.node): e for e in loops.events(kind) if model.positions.line(e.node) == line}.values()
    return "".join("D" if loops.iterates_data(lp) else "E" if loops.is_epoch_loop(lp) else "o" for lp in event.loops)


def events(model: ScriptModel) -> list[tuple[str, int]]:
    """Every event of the first trace: (kind, line), in the order the code runs them."""
    (trace, *_) = model.loops.traces
    return [(e.kind, model.positions.line(e.node)) for e in trace.events]


HEADER = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm import tqdm

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30)
criterion = nn.CrossEntropyLoss()
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
"""

# Shapes of the batch loop: each marks the optimizer step, which must sit in a batch loop (D).
BATCH_LOOPS = {
    "plain": "for x, y in train_loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    optimizer.step()\n",
    "enumerate": "for i, (x, y) in enumerate(train_loader):\n    optimizer.step()\n",
    "tqdm": "for x, y in tqdm(train_loader):\n    optimizer.step()\n",
    "enumerate of tqdm": "for i, batch in enumerate(tqdm(train_loader, desc='train')):\n    optimizer.step()\n",
    "zip of loaders": "for (a, _), (b, _) in zip(train_loader, other_loader):\n    optimizer.step()\n",
    "range of len": "for i in range(len(train_loader)):\n    optimizer.step()\n",
    "iter and next": "it = iter(train_loader)\nwhile True:\n    batch = next(it)\n    optimizer.step()\n",
    "named like a loader": "for batch in val_dataloader:\n    optimizer.step()\n",
    "dict of loaders": "for x, y in dataloaders['train']:\n    optimizer.step()\n",
    "logging wrapper": "for x, y in logger.log_every(train_loader, 10):\n    optimizer.step()\n",
}


@pytest.mark.parametrize("name", BATCH_LOOPS)
def test_batch_loops(name):
    model = build(HEADER + BATCH_LOOPS[name])
    assert shape(model, "step", line_of(model, "optimizer.step()")) == "D"


def test_epoch_loop_holding_a_batch_loop_and_scheduler_per_epoch():
    model = build(
        HEADER
        + """
for epoch in range(100):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    scheduler.step()
"""
    )
    assert shape(model, "step", line_of(model, "optimizer.step()")) == "ED"
    assert shape(model, "scheduler_step", line_of(model, "scheduler.step()")) == "E"
    assert [kind for kind, _ in events(model)] == ["mode", "zero_grad", "forward", "loss", "backward", "step", "scheduler_step"]
    (epoch_loop,) = {id(lp): lp for e in model.loops.events() for lp in e.loops[:1]}.values()
    assert model.loops.iterations(epoch_loop).value == 100


def test_a_loop_named_for_epochs_without_a_loader_is_an_epoch_loop():
    """Full-batch training (GCN): one optimizer step per epoch, in the epoch loop itself."""
    model = build(HEADER + "for epoch in range(200):\n    optimizer.zero_grad()\n    loss.backward()\n    optimizer.step()\n")
    assert shape(model, "step", line_of(model, "optimizer.step()")) == "E"


def test_a_step_loop_without_loader_or_epochs_is_neither():
    model = build(HEADER + "for it in range(max_iters):\n    X, Y = get_batch('train')\n    optimizer.step()\n")
    assert shape(model, "step", line_of(model, "optimizer.step()")) == "o"


def test_events_in_a_helper_count_at_the_call_site_inside_the_callers_loops():
    model = build(
        HEADER
        + """
def train(model, loader, opt, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(loader):
        opt.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        opt.step()

def test(model, loader):
    model.eval()
    with torch.no_grad():
        for data, target in loader:
            output = model(data)

for epoch in range(1, 15):
    train(model, train_loader, optimizer, epoch)
    test(model, test_loader)
    scheduler.step()
"""
    )
    step = line_of(model, "opt.step()")
    assert shape(model, "step", step) == "ED"
    (event,) = model.loops.events("step")
    assert event.acts_on(optimizer_node(model))  # the parameter `opt` is the optimizer passed in
    assert [model.positions.line(s.node) for s in event.via] == [line_of(model, "train(model, train_loader")]
    (eval_forward,) = [e for e in model.loops.events("forward") if e.grad == "off"]
    assert shape(model, "forward", model.positions.line(eval_forward.node)) == "ED"
    modes = [(e.value, shape(model, "mode", model.positions.line(e.node))) for e in model.loops.events("mode")]
    assert modes == [(True, "E"), (False, "E")]


def optimizer_node(model):
    (optimizer,) = model.torch.optimizers
    return optimizer.node


def test_scheduler_knows_its_optimizer_through_parameters_and_attributes():
    model = build(
        HEADER
        + """
class Trainer:
    def __init__(self, model, optimizer, scheduler):
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler

    def fit(self, loader, epochs):
        for epoch in range(epochs):
            for x, y in loader:
                self.optimizer.zero_grad()
                criterion(self.model(x), y).backward()
                self.optimizer.step()
            self.update_learning_rate()

    def update_learning_rate(self):
        self.scheduler.step()

Trainer(model, optimizer, scheduler).fit(train_loader, 90)
"""
    )
    (sched,) = model.torch.schedulers
    assert [o.name for o in sched.optimizers] == ["SGD"]
    (step,) = model.loops.scheduler_steps(sched.node)
    assert shape(model, "scheduler_step", model.positions.line(step.node)) == "E"
    assert len(step.via) == 2  # fit(), then update_learning_rate()
    assert model.loops.steps_of(optimizer_node(model))


def test_gan_with_two_optimizers_keeps_them_apart():
    model = build(
        """
import torch
netD, netG = Discriminator(), Generator()
optimizerD = torch.optim.Adam(netD.parameters(), lr=2e-4)
optimizerG = torch.optim.Adam(netG.parameters(), lr=2e-4)
for epoch in range(25):
    for i, data in enumerate(dataloader):
        netD.zero_grad()
        errD_real.backward()
        errD_fake.backward()
        optimizerD.step()
        netG.zero_grad()
        errG.backward()
        optimizerG.step()
"""
    )
    d, g = model.torch.optimizers
    assert [model.positions.line(e.node) for e in model.loops.steps_of(d.node)] == [line_of(model, "optimizerD.step()")]
    assert [model.positions.line(e.node) for e in model.loops.steps_of(g.node)] == [line_of(model, "optimizerG.step()")]
    assert [k for k, _ in events(model)].count("backward") == 3


def test_lbfgs_closure_runs_inside_the_step():
    model = build(
        """
import torch
optimizer = torch.optim.LBFGS(seq.parameters(), lr=0.8)
for i in range(steps):
    def closure():
        optimizer.zero_grad()
        loss = criterion(seq(input), target)
        loss.backward()
        return loss
    optimizer.step(closure)
"""
    )
    assert [k for k, _ in events(model)] == ["zero_grad", "backward", "step"]
    assert len(model.loops.traces) == 1, "the closure is not a root of its own"


def test_amp_and_accelerate_spellings():
    model = build(
        """
import torch
scaler = torch.cuda.amp.GradScaler()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
for epoch in range(10):
    for batch in train_loader:
        with torch.autocast("cuda"):
            loss = model(batch)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        fabric.backward(loss)
"""
    )
    kinds = [k for k, _ in events(model)]
    assert kinds == ["backward", "unscale", "clip", "step", "zero_grad", "backward", "backward"]
    (step,) = model.loops.events("step")
    assert step.acts_on(optimizer_node(model)), "scaler.step(optimizer) steps that optimizer"
    (unscale,) = model.loops.events("unscale")
    assert unscale.acts_on(optimizer_node(model))


def test_gradient_accumulation_keeps_the_condition():
    model = build(
        HEADER
        + """
for i, (x, y) in enumerate(train_loader):
    loss = criterion(model(x), y) / accum
    loss.backward()
    if (i + 1) % accum == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
    )
    (step,) = model.loops.events("step")
    (backward,) = model.loops.events("backward")
    assert [model.code(c.test) for c in step.conditions] == ["(i + 1) % accum == 0"] and not backward.conditions


def test_exclusive_branches():
    model = build(
        HEADER
        + """
for x, y in train_loader:
    if phase == "train":
        optimizer.step()
    else:
        scheduler.step()
"""
    )
    (step,) = model.loops.events("step")
    (sched,) = model.loops.events("scheduler_step")
    assert step.exclusive(sched) and sched.exclusive(step)


@pytest.mark.parametrize(
    "context,grad",
    [
        ("with torch.no_grad():", "off"),
        ("with torch.inference_mode():", "off"),
        ("with torch.set_grad_enabled(False):", "off"),
        ("with torch.set_grad_enabled(phase == 'train'):", "unknown"),
        ("with torch.enable_grad():", "on"),
        ("with open('log.txt') as f:", "on"),
    ],
)
def test_grad_contexts(context, grad):
    model = build(HEADER + f"for x, y in train_loader:\n    {context}\n        out = model(x)\n")
    (forward,) = model.loops.events("forward")
    assert forward.grad == grad


@pytest.mark.parametrize("decorator", ["@torch.no_grad()", "@torch.inference_mode()", "@torch.no_grad"])
def test_no_grad_decorator_on_an_evaluation_helper(decorator):
    model = build(
        HEADER
        + f"""
{decorator}
def evaluate(loader):
    model.eval()
    for x, y in loader:
        out = model(x)
    model.train()

for epoch in range(3):
    evaluate(val_loader)
"""
    )
    (forward,) = model.loops.events("forward")
    assert forward.grad == "off" and shape(model, "forward", model.positions.line(forward.node)) == "ED"
    assert [e.value for e in model.loops.events("mode")] == [False, True]


def test_train_false_is_eval_and_a_modules_own_train_method_is_a_call():
    model = build(
        """
import torch.nn as nn
class Net(nn.Module):
    def forward(self, x):
        return x
class Layer(nn.Module):
    def train(self, x_pos, x_neg):
        for i in range(10):
            self.opt.step()
net, layer = Net(), Layer()
net.train(False)
net.train(mode=True)
net.train(flag)
layer.train(a, b)
"""
    )
    assert [e.value for e in model.loops.events("mode")] == [False, True, None]
    (step,) = model.loops.events("step")
    assert [model.code(s.node.func) for s in step.via] == ["layer.train"]


def test_phase_loop_is_not_the_batch_loop():
    """transfer_learning_tutorial: `for phase in ['train', 'val']` inside the epoch loop."""
    model = build(
        HEADER
        + """
for epoch in range(25):
    for phase in ['train', 'val']:
        for inputs, labels in dataloaders[phase]:
            optimizer.step()
        if phase == 'train':
            scheduler.step()
"""
    )
    assert shape(model, "step", line_of(model, "optimizer.step()")) == "EED"
    assert shape(model, "scheduler_step", line_of(model, "scheduler.step()")) == "EE"


def test_lightning_training_step_is_a_root_of_its_own():
    model = build(
        """
import torch
import lightning as L
class Model(L.LightningModule):
    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        loss = self.compute_loss(batch)
        self.manual_backward(loss)
        opt.step()
        opt.zero_grad()
    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
"""
    )
    (trace,) = model.loops.traces
    assert trace.root.name == "training_step"
    assert [e.kind for e in trace.events] == ["backward", "step", "zero_grad"]


def test_model_forward_is_not_a_training_trace():
    model = build(
        """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
    def forward(self, x):
        return self.fc(x)
"""
    )
    assert model.loops.traces == [] and not model.loops.has_training


def test_loops_the_file_cannot_see_leave_no_events():
    model = build(
        """
import lightning as L
from engine import train_one_epoch
trainer = L.Trainer(max_epochs=10)
trainer.fit(model, datamodule=dm)
for epoch in range(10):
    train_one_epoch(model, loader, optimizer, epoch)
"""
    )
    assert model.loops.events() == [] and not model.loops.has_training


def test_recursion_and_depth_are_bounded():
    model = build(
        """
def a(n):
    optimizer.step()
    b(n)
def b(n):
    a(n)
a(3)
"""
    )
    assert len(model.loops.events("step")) <= 2


def test_train_and_eval_loops():
    model = build(
        HEADER
        + """
def validate(loader):
    model.eval()
    for x, y in loader:
        out = model(x)

for epoch in range(10):
    for x, y in train_loader:
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        for x, y in test_loader:
            out = model(x)
    validate(val_loader)
    for x, y in tqdm(val_loader):
        out = model(x)
    for x, y in other_loader:
        out = model(x)
"""
    )
    loops = model.loops
    roles = {}
    for event in loops.events("forward"):
        roles[model.positions.line(event.node)] = loops.role(event.loop)
    assert list(roles.values()) == ["train", "eval", "eval", "eval", None]
    (epoch_loop,) = {id(e.loops[0]): e.loops[0] for e in loops.events()}.values()
    assert loops.role(epoch_loop) == "train"
