"""TL601-TL614 on bad code, and silence on the clean shapes training loops take: helpers and
methods, accumulation, LBFGS closures, GANs with two optimizers, AMP and accelerate, manual updates,
autoencoders, Lightning code the file cannot see."""

import textwrap

import pytest
from conftest import lint

from trainlint.engine import lint_source
from trainlint.fixes import fix_text
from trainlint.settings import default_settings

HEADER = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 2))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
"""


def found(code: str, select: str = "ALL"):
    return [d.code for d in lint(HEADER + textwrap.dedent(code), [select]) if d.code.startswith("TL6")]


def only(code: str, rule: str):
    return [d for d in lint(HEADER + textwrap.dedent(code), [rule])]


# -- TL601 ------------------------------------------------------------------------------------


def test_tl601_no_clearing():
    (d,) = only(
        """
        for epoch in range(3):
            for x, y in train_loader:
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
        """,
        "TL601",
    )
    assert d.message.startswith("Gradients are never cleared: each iteration of the loop on line 12")
    assert "Call `optimizer.zero_grad()`" in d.message


def test_tl601_zero_grad_only_before_the_loop():
    assert found(
        """
        optimizer.zero_grad()
        for x, y in train_loader:
            criterion(model(x), y).backward()
            optimizer.step()
        """,
        "TL601",
    ) == ["TL601"]


def _long_iteration(before: str, after: str) -> str:
    """A loop whose body runs more calls than a trace holds (MAX_EVENTS), `before` and `after` them."""
    from trainlint.model.loops import MAX_EVENTS

    filler = "".join(f"        h{i} = model(x) * {i % 7}\n" for i in range(MAX_EVENTS + 1000))
    return f"for x, y in train_loader:\n{textwrap.indent(before, '        ')}{filler}{textwrap.indent(after, '        ')}"


@pytest.mark.parametrize(
    ("before", "after", "rule"),
    [
        ("loss = criterion(model(x), y)\nloss.backward()\noptimizer.step()\n", "optimizer.zero_grad()\n", "TL601"),
        ("loss = criterion(model(x), y)\noptimizer.zero_grad()\nloss.backward()\n", "optimizer.step()\n", "TL603"),
    ],
    ids=["zero_grad-after", "step-after"],
)
def test_a_loop_longer_than_its_trace_is_not_judged_by_what_the_cut_left_out(before, after, rule):
    """The loop model's trace stops at MAX_EVENTS events: what comes after the cut is missing from the
    iteration, and TL601 said the gradients of this loop, cleared at the end of each iteration, were
    never cleared. Nothing is concluded from the absences in a cut trace."""
    from trainlint.model.loops import MAX_EVENTS

    text = HEADER + _long_iteration(before, after)
    model = lint_source(text, "long.py", default_settings(["ALL"])).model
    assert model is not None and any(t.truncated for t in model.loops.traces)
    assert len(model.loops.events()) == MAX_EVENTS  # the cut is where this test puts it
    assert [d.code for d in lint(text, ["ALL"]) if d.code.startswith("TL6")] == []
    # The same iteration, short, without the statement that came after the cut: the rule still fires.
    assert found(f"for x, y in train_loader:\n{textwrap.indent(before, '    ')}", rule) == [rule]


def test_a_loop_the_trace_left_before_its_cut_is_still_judged():
    """Only a loop the cut falls in is set aside: this one ends before the filler that fills the trace."""
    from trainlint.model.loops import MAX_EVENTS

    filler = "".join(f"h{i} = model(x) * {i % 7}\n" for i in range(MAX_EVENTS + 1000))
    loop = "for x, y in train_loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    optimizer.step()\n"
    text = HEADER + "x = torch.randn(4, 20)\n" + loop + filler
    model = lint_source(text, "long.py", default_settings(["ALL"])).model
    assert model is not None and any(t.truncated for t in model.loops.traces)
    assert [d.code for d in lint(text, ["ALL"]) if d.code.startswith("TL6")] == ["TL601"]


@pytest.mark.parametrize(
    "clearing",
    [
        "optimizer.zero_grad()",
        "optimizer.zero_grad(set_to_none=True)",
        "model.zero_grad()",
        "reset_grad()",
        "for p in model.parameters():\n        p.grad = None",
        "for p in model.parameters():\n        if p.grad is not None:\n            p.grad.zero_()",
        "if (i + 1) % 4 == 0:\n        optimizer.zero_grad()",
    ],
)
def test_tl601_clearing_in_any_form(clearing):
    code = f"""
def reset_grad():
    optimizer.zero_grad()

for i, (x, y) in enumerate(train_loader):
    criterion(model(x), y).backward()
    optimizer.step()
    {clearing}
"""
    assert found(code, "TL601") == []


def test_tl601_clearing_inside_an_lbfgs_closure_and_a_helper():
    code = """
lbfgs = torch.optim.LBFGS(model.parameters())

def closure():
    lbfgs.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    return loss

for x, y in train_loader:
    lbfgs.step(closure)
"""
    assert found(code, "TL601") == []


def test_tl601_fix_inserts_zero_grad_and_reparses():
    source = HEADER + textwrap.dedent("""
        for x, y in train_loader:
            out = model(x)
            loss = criterion(out, y)
            loss.backward()
            optimizer.step()
    """)
    outcome = fix_text(source, "x.py", default_settings(["TL601"]), unsafe=True)
    assert "    loss = criterion(out, y)\n    optimizer.zero_grad()\n    loss.backward()\n" in outcome.text
    assert lint_source(outcome.text, "x.py", default_settings(["TL6"])).diagnostics == []


def test_tl601_a_step_the_file_cannot_resolve_is_left_alone():
    assert found("for x in loader:\n    engine.backward(loss)\n    engine.step()\n", "TL601") == []


# -- TL602 / TL603 ------------------------------------------------------------------------------


def test_tl602_loss_never_backpropagated():
    (d,) = only(
        """
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            optimizer.step()
            print(loss.item())
        """,
        "TL602",
    )
    assert "steps with no backward pass" in d.message


@pytest.mark.parametrize(
    "backward",
    [
        "loss.backward()",
        "scaler.scale(loss).backward()",
        "accelerator.backward(loss)",
        "fabric.backward(loss)",
        "torch.autograd.backward(loss)",
        "loss_scaler(loss, optimizer)",  # handed to code the file cannot see
        "backprop(loss)",  # a helper of this file
    ],
)
def test_tl602_clean(backward):
    code = f"""
scaler = torch.cuda.amp.GradScaler()

def backprop(value):
    value.backward()

for x, y in train_loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    {backward}
    optimizer.step()
"""
    assert found(code, "TL602") == []


def test_tl602_manual_gradients_keep_it_silent():
    code = """
for x, y in train_loader:
    loss = criterion(model(x), y)
    grads = torch.autograd.grad(loss, model.parameters())
    for p, g in zip(model.parameters(), grads):
        p.grad = g
    optimizer.step()
"""
    assert found(code, "TL602") == []


def test_tl603_backward_without_any_step():
    (d,) = only(
        """
        for epoch in range(3):
            for x, y in train_loader:
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
        """,
        "TL603",
    )
    assert "nothing calls `step()` on SGD (line 8)" in d.message


def test_tl603_clean_when_the_optimizer_is_stepped_or_handed_on():
    assert found("for x, y in train_loader:\n    criterion(model(x), y).backward()\n    optimizer.step()\n", "TL603") == []
    handed = "trainer = Trainer(model, optimizer)\nfor x, y in train_loader:\n    criterion(model(x), y).backward()\n"
    assert found(handed, "TL603") == []
    profiling = "def profile(m, x):\n    for _ in range(10):\n        y = m(x)\n        y.sum().backward()\n"
    assert found(profiling, "TL603") == []


# -- TL604-TL607 ----------------------------------------------------------------------------------


def loss_of(forward_tail: str, loss: str, call: str = "criterion(model(x), y)") -> str:
    return f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 3)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.fc(x)
        return {forward_tail}

net = Net()
loss_fn = nn.{loss}()
for x, y in train_loader:
    optimizer.zero_grad()
    loss = {call.replace("model", "net").replace("criterion", "loss_fn")}
    loss.backward()
    optimizer.step()
"""


@pytest.mark.parametrize(
    "tail,loss,rule",
    [
        ("F.softmax(x, dim=1)", "CrossEntropyLoss", "TL604"),
        ("torch.softmax(x, 1)", "CrossEntropyLoss", "TL604"),
        ("x.softmax(dim=1)", "CrossEntropyLoss", "TL604"),
        ("self.softmax(x)", "CrossEntropyLoss", "TL604"),
        ("F.softmax(x, dim=1)", "NLLLoss", "TL604"),
        ("torch.sigmoid(x)", "BCEWithLogitsLoss", "TL605"),
        ("x", "BCELoss", "TL606"),
        ("F.relu(x)", "BCELoss", "TL606"),
        ("F.relu(x)", "CrossEntropyLoss", "TL607"),
    ],
)
def test_activation_and_loss_mismatch(tail, loss, rule):
    assert found(loss_of(tail, loss)) == [rule]


@pytest.mark.parametrize(
    "tail,loss",
    [
        ("x", "CrossEntropyLoss"),
        ("F.log_softmax(x, dim=1)", "NLLLoss"),
        ("torch.sigmoid(x)", "BCELoss"),
        ("x", "BCEWithLogitsLoss"),
        ("(x, F.softmax(x, dim=1))", "CrossEntropyLoss"),  # a tuple the loss is not fed whole
    ],
)
def test_matching_activation_and_loss_are_clean(tail, loss):
    assert found(loss_of(tail, loss)) == []


def test_log_softmax_before_cross_entropy_is_information():
    (d,) = only(loss_of("F.log_softmax(x, dim=1)", "CrossEntropyLoss"), "TL604")
    assert d.severity.value == "info" and "redundant (harmless" in d.message


def test_softmax_through_names_and_a_tuple_output():
    code = """
class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.adv = nn.Sequential(nn.Linear(20, 1), nn.Sigmoid())
        self.aux = nn.Sequential(nn.Linear(20, 10), nn.Softmax())

    def forward(self, x):
        return self.adv(x), self.aux(x)

disc = Discriminator()
adversarial_loss = nn.BCELoss()
auxiliary_loss = nn.CrossEntropyLoss()
for imgs, labels in train_loader:
    validity, pred_label = disc(imgs)
    d_loss = adversarial_loss(validity, valid) + auxiliary_loss(pred_label, labels)
    d_loss.backward()
    optimizer.step()
    optimizer.zero_grad()
"""
    (d,) = only(code, "TL604")
    assert "`nn.Softmax()` (line 15)" in d.message


def test_predictions_and_targets_are_not_the_loss_input():
    code = """
bce = nn.BCEWithLogitsLoss()
for x, y in train_loader:
    logits = model(x)
    loss = bce(logits, torch.sigmoid(teacher(x)))
    preds = torch.round(torch.sigmoid(logits))
    probs = F.softmax(logits, dim=1)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
"""
    assert found(code) == []


def test_tl604_fix_removes_an_inline_softmax():
    source = HEADER + "for x, y in train_loader:\n    loss = F.cross_entropy(F.softmax(model(x), dim=1), y)\n"
    outcome = fix_text(source, "x.py", default_settings(["TL604"]), unsafe=True)
    assert outcome.text.endswith("loss = F.cross_entropy(model(x), y)\n")


# -- TL608 / TL609 / TL610 ------------------------------------------------------------------------


TRAIN = """
def train():
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
"""


def test_tl608_evaluation_in_train_mode():
    code = (
        TRAIN
        + """
@torch.no_grad()
def test(loader):
    for x, y in loader:
        correct = (model(x).argmax(1) == y).sum()

for epoch in range(10):
    train()
    test(val_loader)
"""
    )
    (d,) = only(code, "TL608")
    assert d.message.startswith("`model` evaluates in training mode")


@pytest.mark.parametrize(
    "evaluation",
    [
        "model.eval()\n    with torch.no_grad():\n        out = model(x)",
        "model.train(False)\n    with torch.no_grad():\n        out = model(x)",
        "evaluate()",
    ],
)
def test_tl608_clean(evaluation):
    code = (
        TRAIN
        + f"""
def evaluate():
    model.eval()
    with torch.no_grad():
        return model(x)

for epoch in range(10):
    train()
    {evaluation}
"""
    )
    assert found(code, "TL608") == []


def test_tl608_silent_for_models_without_dropout_or_batch_norm_and_unknown_ones():
    plain = "net = nn.Sequential(nn.Linear(4, 4), nn.ReLU())\nwith torch.no_grad():\n    net(x)\n"
    imported = "from models import Net\nnet = Net()\nwith torch.no_grad():\n    net(x)\n"
    helper = "def evaluate(m, loader):\n    with torch.no_grad():\n        for x in loader:\n            m(x)\n"
    assert found(plain, "TL608") == found(imported, "TL608") == found(helper, "TL608") == []


NET_WITH_PARTS = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(20, 64), nn.Dropout(0.5), nn.BatchNorm1d(64))
        self.blocks = nn.ModuleList([nn.Sequential(nn.Linear(64, 64), nn.Dropout(0.5))])
        self.head = nn.Linear(64, 2)

    def forward(self, x):
        return self.head(self.blocks[0](self.encoder(x)))

net = Net()
"""


@pytest.mark.parametrize("call", ["net.encoder(x)", "net.blocks[0](net.encoder(x))"])
def test_tl608_parts_of_a_model_follow_its_mode(call):
    evaluation = f"""
for epoch in range(10):
    train()
    net.eval()
    with torch.no_grad():
        for x, y in val_loader:
            features = {call}
"""
    code = NET_WITH_PARTS + TRAIN.replace("model", "net") + evaluation
    assert found(code, "TL608") == []
    (d,) = only(code.replace("    net.eval()\n", ""), "TL608")
    assert d.message.startswith("`net.encoder` evaluates in training mode")


def test_tl608_pretrained_torchvision_model_used_for_inference():
    code = "import torchvision\nnet = torchvision.models.resnet18(weights='DEFAULT')\nwith torch.no_grad():\n    out = net(img)\n"
    assert found(code, "TL608") == ["TL608"]
    fixed = code.replace("with torch.no_grad():", "net.eval()\nwith torch.no_grad():")
    assert found(fixed, "TL608") == []


def test_tl609_eval_never_undone():
    code = """
def validate():
    model.eval()
    with torch.no_grad():
        for x, y in val_loader:
            model(x)

for epoch in range(10):
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    validate()
"""
    (d,) = only(code, "TL609")
    eval_line = (HEADER + code).splitlines().index("    model.eval()") + 1
    assert f"`model.eval()` (line {eval_line}) is never undone" in d.message
    restored = code.replace("for epoch in range(10):\n", "for epoch in range(10):\n    model.train()\n")
    assert found(restored, "TL609") == []
    restored_by_the_helper = code.replace("            model(x)\n", "            model(x)\n    model.train()\n")
    assert found(restored_by_the_helper, "TL609") == []


def test_tl610_is_opt_in_and_fires_on_an_evaluation_loop_with_gradients():
    code = TRAIN + "\ndef evaluate():\n    model.eval()\n    for x, y in val_loader:\n        out = model(x)\n\nevaluate()\n"
    assert "TL610" not in [d.code for d in lint(HEADER + code)]
    assert found(code, "TL610") == ["TL610"]
    assert (
        found(code.replace("    for x, y in val_loader", "    with torch.no_grad():\n     for x, y in val_loader"), "TL610") == []
    )


# -- TL611 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accumulate,bad",
    [
        ("total += loss", True),
        ("total += loss * x.size(0)", True),
        ("losses.append(loss)", True),
        ("total += loss.item()", False),
        ("total += loss.detach()", False),
        ("total += float(loss)", False),
        ("total += loss.data", False),
        ("losses.append(loss.item())", False),
    ],
)
def test_tl611(accumulate, bad):
    code = f"""
total, losses = 0.0, []
for x, y in train_loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    {accumulate}
"""
    assert found(code, "TL611") == (["TL611"] if bad else [])


def test_tl611_harmless_under_no_grad_and_fix():
    code = "total = 0\nwith torch.no_grad():\n    for x, y in val_loader:\n        loss = criterion(model(x), y)\n        total += loss\n"
    assert found(code, "TL611") == []
    source = HEADER + "total = 0\nfor x, y in train_loader:\n    loss = criterion(model(x), y)\n    total += loss\n"
    outcome = fix_text(source, "x.py", default_settings(["TL611"]), unsafe=True)
    assert outcome.text.endswith("    total += loss.item()\n")


# -- TL612 ------------------------------------------------------------------------------------------


NET = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(20, 2)

    def forward(self, x):
        return self.fc(x)

net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
"""


@pytest.mark.parametrize(
    "replacement,bad",
    [
        ("net = Net()", True),
        ("net = copy.deepcopy(other)", True),
        ("net = torch.load('model.pt')", True),
        ("net = net.to('cuda')", False),
        ("net = nn.DataParallel(net)", False),
        ("net = torch.compile(net)", False),
    ],
)
def test_tl612(replacement, bad):
    code = (
        NET
        + replacement
        + "\nfor x, y in train_loader:\n    opt.zero_grad()\n    criterion(net(x), y).backward()\n    opt.step()\n"
    )
    result = found(code, "TL612")
    assert result == (["TL612"] if bad else [])


def test_tl612_reloaded_only_to_evaluate_is_clean():
    code = (
        NET
        + "for x, y in train_loader:\n    opt.zero_grad()\n    criterion(net(x), y).backward()\n    opt.step()\nnet = Net()\nnet.load_state_dict(torch.load('best.pt'))\n"
    )
    assert found(code, "TL612") == []


# -- TL613 ------------------------------------------------------------------------------------------


CLIP = "torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)"


@pytest.mark.parametrize(
    "body,problem",
    [
        (f"criterion(model(x), y).backward()\n    optimizer.step()\n    {CLIP}", "after"),
        (f"{CLIP}\n    criterion(model(x), y).backward()\n    optimizer.step()", "before"),
        (
            f"scaler.scale(criterion(model(x), y)).backward()\n    {CLIP}\n    scaler.step(optimizer)\n    scaler.update()",
            "scaled",
        ),
        (f"criterion(model(x), y).backward()\n    {CLIP}\n    optimizer.step()", None),
        (
            f"scaler.scale(criterion(model(x), y)).backward()\n    scaler.unscale_(optimizer)\n    {CLIP}\n    scaler.step(optimizer)",
            None,
        ),
    ],
)
def test_tl613(body, problem):
    code = f"scaler = torch.cuda.amp.GradScaler()\nfor x, y in train_loader:\n    optimizer.zero_grad()\n    {body}\n"
    findings = only(code, "TL613")
    if problem is None:
        assert findings == []
    else:
        (d,) = findings
        assert {"after": "runs after", "before": "runs before", "scaled": "clips the gradients scaled"}[problem] in d.message


# -- TL614 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code,fixed",
    [
        ("p = torch.log(torch.softmax(logits, dim=1))", "p = torch.log_softmax(logits, dim=1)"),
        ("p = torch.log(F.softmax(logits, 1))", "p = F.log_softmax(logits, 1)"),
        ("p = torch.log(F.sigmoid(z))", "p = F.logsigmoid(z)"),
        ("p = torch.log(torch.sigmoid(z))", None),
    ],
)
def test_tl614(code, fixed):
    assert found(code + "\n", "TL614") == ["TL614"]
    assert "TL614" not in [d.code for d in lint(HEADER + code + "\n")], "opt-in"
    outcome = fix_text(HEADER + code + "\n", "x.py", default_settings(["TL614"]), unsafe=True)
    assert outcome.text.endswith((fixed or code) + "\n")


# -- shapes that must stay clean ----------------------------------------------------------------------


CLEAN_SHAPES = {
    "GAN with two optimizers": """
netD, netG = nn.Linear(4, 1), nn.Linear(2, 4)
optD = torch.optim.Adam(netD.parameters(), lr=2e-4)
optG = torch.optim.Adam(netG.parameters(), lr=2e-4)
bce = nn.BCEWithLogitsLoss()
for epoch in range(5):
    for real, _ in train_loader:
        netD.zero_grad()
        errD = bce(netD(real), ones) + bce(netD(netG(noise).detach()), zeros)
        errD.backward()
        optD.step()
        netG.zero_grad()
        errG = bce(netD(netG(noise)), ones)
        errG.backward()
        optG.step()
""",
    "autoencoder reconstructing [0, 1] images": """
ae = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 784), nn.Sigmoid())
opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
for x, _ in train_loader:
    opt.zero_grad()
    loss = F.binary_cross_entropy(ae(x), x)
    loss.backward()
    opt.step()
""",
    "manual SGD update": """
lr = 0.1
for x, y in train_loader:
    model.zero_grad()
    criterion(model(x), y).backward()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(p.grad, alpha=-lr)
""",
    "accelerate": """
model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
for x, y in train_loader:
    with accelerator.accumulate(model):
        loss = criterion(model(x), y)
        accelerator.backward(loss)
        optimizer.step()
        optimizer.zero_grad()
""",
    "Lightning it cannot see": """
import lightning as L

class Module(L.LightningModule):
    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y))

L.Trainer(max_epochs=3).fit(Module(), train_loader)
""",
    "AMP training step": """
scaler = torch.cuda.amp.GradScaler()
for epoch in range(3):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda"):
            loss = criterion(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
    model.eval()
    with torch.no_grad():
        for x, y in val_loader:
            val_loss = criterion(model(x), y).item()
""",
}


@pytest.mark.parametrize("name", CLEAN_SHAPES)
def test_clean_shapes(name):
    assert found(CLEAN_SHAPES[name]) == []


def test_tl608_silent_in_a_lightning_training_step():
    """Lightning's own test of SyncBatchNorm: a no_grad() forward inside training_step runs in train
    mode on purpose (the trainer calls training_step in training)."""
    code = """
import lightning as L

class BNModule(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.bn_layer = nn.BatchNorm1d(1)
        self.linear = nn.Linear(1, 10)

    def training_step(self, batch, batch_idx):
        with torch.no_grad():
            out_bn = self.bn_layer(batch)
        return self.linear(out_bn).sum()

    def validation_step(self, batch, batch_idx):
        with torch.no_grad():
            return self.bn_layer(batch)
"""
    assert found(code, "TL608") == []
    # and when a loop of the file runs it: the no_grad() forward is part of a backpropagating iteration
    loop = """
model = BNModule()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
model.train()
for batch_idx, batch in enumerate(train_loader):
    optimizer.zero_grad()
    loss = model.training_step(batch, batch_idx)
    loss.backward()
    optimizer.step()
"""
    assert found(code + loop, "TL608") == []
