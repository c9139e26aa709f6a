"""The script model's structural queries: modules and layers, forward order, schedulers, loops."""

import textwrap

import libcst
from conftest import ROOT

from trainlint.model import ScriptModel
from trainlint.model.values import Instance

SCRIPT = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.optim.lr_scheduler import StepLR, OneCycleLR

    class Block(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc = nn.Linear(width, width)

    class Net(nn.Module):
        def __init__(self, hidden=128):
            super().__init__()
            self.fc1 = nn.Linear(28 * 28, hidden)
            self.body = nn.Sequential(nn.Linear(hidden, 64), nn.ReLU(), nn.Dropout(0.5), nn.Sequential(nn.Linear(64, 10)))
            self.block = Block(10)
            self.name = "net"

        def forward(self, x):
            x = x.view(-1, 28 * 28)
            x = self.body(F.relu(self.fc1(x)))
            return self.block(x)

    class Head(Net):
        pass

    class NotAModule:
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = StepLR(optimizer, step_size=10)
    cycle = OneCycleLR(optimizer, max_lr=0.1, total_steps=100)

    for epoch in range(10):
        for batch in range(100):
            optimizer.step()
            cycle.step()
        steps.step()
    while False:
        pass
""")


def build():
    return ScriptModel(libcst.parse_module(SCRIPT))


def test_module_classes_and_their_layers():
    model = build()
    classes = {m.name: m for m in model.torch.module_classes}
    assert set(classes) == {"Block", "Net", "Head"}
    net = classes["Net"]
    assert [(layer.attribute, layer.call.name) for layer in net.layers] == [("fc1", "Linear"), ("body", "Sequential")]
    body = net.layers[1]
    assert [c.call.name for c in body.children] == ["Linear", "ReLU", "Dropout", "Sequential"]
    assert [c.call.name for c in body.children[3].children] == ["Linear"]
    fc1 = net.layers[0].call
    assert [k.value for k in fc1.values("in_features")] == [784]
    assert [k.value for k in fc1.values("out_features")] == [128]
    assert [layer.attribute for layer in classes["Head"].layers] == ["fc1", "body"], "inherited __init__"


def test_forward_calls_in_evaluation_order():
    model = build()  # the model's parts live as long as it does
    net = next(m for m in model.torch.module_classes if m.name == "Net")
    assert [build_code(net, site) for site in net.forward_calls] == ["x.view", "self.fc1", "F.relu", "self.body", "self.block"]


def build_code(module_class, site):
    return module_class.torch.ev.tables.code(site.node.func)


def test_schedulers_know_their_optimizer_and_the_optimizer_its_model():
    model = build()
    (optimizer,) = model.torch.optimizers
    assert [s.name for s in model.torch.schedulers] == ["StepLR", "OneCycleLR"]
    assert all(s.optimizers == [optimizer] for s in model.torch.schedulers)
    (trained,) = optimizer.trained
    assert isinstance(trained.value, Instance) and trained.value.cls.name == "Net"


def test_loops_and_nesting():
    model = build()
    loops = model.tables.loops
    assert [type(loop.node).__name__ for loop in loops] == ["For", "For", "While"]
    outer, inner, _ = loops
    assert inner.parent is outer and inner.depth == 2 and outer.depth == 1
    steps = {model.code(site.node.func): site.loops for site in model.calls_named("step")}
    assert steps["cycle.step"] == (outer, inner)
    assert steps["steps.step"] == (outer,)


def test_model_building_is_one_cheap_pass():
    model = build()
    # Nothing derived is computed until a query asks for it.
    assert "torch" not in vars(model) and "evaluator" not in vars(model)
    assert [o.name for o in model.torch.optimizers] == ["SGD"]
    assert "_taught" in vars(model) and "loops" not in vars(model)


# -- the layers of trainlint/model/ depend one way ------------------------------------------------

LAYERS = [
    "syntax",
    "positions",
    "values",
    "classes",
    "evaluator",
    "imports",
    "config_files",
    "cli_args",
    "torch_objects",
    "networks",
    "inputs",
    "shapes",
    "uses",
    "loops",
    "pipelines",
    "script",
]


def _model_imports(path):
    """(module imported, whether only for type checking) for every trainlint.model import in a file."""
    import ast

    tree = ast.parse(path.read_text())
    typing_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trainlint.model."):
            yield node.module.split(".")[2], id(node) in typing_only


def test_model_layers_depend_one_way():
    """Each module of trainlint/model/ imports (at run time, anywhere in the file) only the layers
    before it; type-only imports never reach the façade. A new recognizer takes its place in LAYERS."""
    directory = ROOT / "trainlint" / "model"
    modules = sorted(p.stem for p in directory.glob("*.py") if p.stem != "__init__")
    assert sorted(LAYERS) == modules, "add the new module to LAYERS, after what it uses"
    for name in LAYERS:
        for imported, typing_only in _model_imports(directory / f"{name}.py"):
            if typing_only:
                assert imported != "script", f"{name} reaches back to the façade"
            else:
                assert LAYERS.index(imported) < LAYERS.index(name), f"{name} imports {imported} at run time"
