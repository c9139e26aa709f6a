"""The models in the editor, through pytest-lsp's real client over stdio: hovers with parameter counts (on a
model class, a name bound to a model, an optimizer), checked against what torch counts for the same code on
meta tensors, and the shape inlay hints of `forward` (trainlint.shapeHints), checked against the shapes torch
computes running the same lines on meta tensors."""

from __future__ import annotations

import ast
import sys
import textwrap
import types as pytypes

import torch
from lsprotocol import types
from test_server import BAD, diagnostics_until, lsp, open_doc, start

from trainlint.server.editor_settings import parse

__all__ = ["lsp"]  # the fixture, shared with test_server

CNN = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output


    model = Net()
    out = model(torch.randn(1, 1, 28, 28))
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
""")

FINETUNE = textwrap.dedent("""\
    import timm
    import torch
    from torch import nn


    class Finetune(nn.Module):
        def __init__(self, classes=10):
            super().__init__()
            self.backbone = timm.create_model("resnet18", pretrained=False, num_classes=0)
            self.head = nn.Linear(512, classes)

        def forward(self, x):
            return self.head(self.backbone(x))


    net = Finetune()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
""")


def _build(code: str, expression: str, modules: dict | None = None) -> torch.nn.Module:
    """Run the file with torch on meta tensors and return one of its models."""
    namespace: dict = {}
    saved = {name: sys.modules.get(name) for name in modules or {}}
    sys.modules.update(modules or {})
    try:
        with torch.device("meta"):
            exec(compile(code, "<fixture>", "exec"), namespace)
            return eval(expression, namespace)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _position(text: str, needle: str, occurrence: int = 0, offset: int = 0) -> types.Position:
    """The position of the `occurrence`-th `needle` in `text` (plus `offset` characters)."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    line = text.count("\n", 0, start)
    column = start - (text.rfind("\n", 0, start) + 1)
    return types.Position(line, column + offset)


async def _hover(client, uri: str, position: types.Position) -> str:
    hover = await client.text_document_hover_async(types.HoverParams(types.TextDocumentIdentifier(uri), position))
    assert hover is not None, position
    return hover.contents.value


async def _hints(client, uri: str) -> list[types.InlayHint]:
    whole = types.Range(types.Position(0, 0), types.Position(200, 0))
    return list(await client.text_document_inlay_hint_async(types.InlayHintParams(types.TextDocumentIdentifier(uri), whole)))


# -- hover: parameter counts -----------------------------------------------------------------------------


async def test_hover_counts_on_model_class_instance_and_optimizer(lsp, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", CNN)
    await diagnostics_until(lsp, uri, lambda ds: True)
    net = _build(CNN, "Net()")
    total = _count(net)
    assert total == 1_199_882
    rows = {name: _count(child) for name, child in net.named_children()}

    on_class = await _hover(lsp, uri, _position(CNN, "class Net", offset=7))
    assert on_class.startswith(f"**Net: {total:,} parameters**"), on_class
    assert "as built on line 31 (`Net()`)" in on_class
    for name, kind in (("conv1", "Conv2d"), ("conv2", "Conv2d"), ("fc1", "Linear"), ("fc2", "Linear")):
        assert f"| `{name}` | {kind} | {rows[name]:,} |" in on_class, name
    assert "dropout1" not in on_class, "a module without parameters is no row"
    assert sum(rows.values()) == total

    on_assignment = await _hover(lsp, uri, _position(CNN, "model = Net()", offset=2))
    assert on_assignment.startswith(f"**model (Net): {total:,} parameters**"), on_assignment
    assert f"| `fc1` | Linear | {rows['fc1']:,} |" in on_assignment

    on_use = await _hover(lsp, uri, _position(CNN, "model.parameters()", offset=1))
    assert on_use.startswith(f"**model (Net): {total:,} parameters**"), on_use
    assert "assigned on line 31: `Net()`" in on_use
    on_call = await _hover(lsp, uri, _position(CNN, "model(torch.randn", offset=0))
    assert on_call.startswith(f"**model (Net): {total:,} parameters**")

    on_optimizer = await _hover(lsp, uri, _position(CNN, "optim.SGD", offset=7))
    assert on_optimizer.startswith("**SGD (torch.optim.SGD)**"), on_optimizer
    inline = ", ".join(f"`{name}` {count:,}" for name, count in rows.items() if count)
    assert f"trains the parameters of `Net`: {total:,} parameters ({inline})" in on_optimizer
    assert "| `lr` | `0.01` | as written |" in on_optimizer, "the call's table is still there"

    inside_forward = await lsp.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), _position(CNN, "x = self.conv1(x)", offset=6))
    )
    assert inside_forward is None, "`self` in the model's own methods is no hover"


async def test_hover_count_is_a_lower_bound_with_a_module_trainlint_cannot_see(lsp, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "finetune.py", FINETUNE)
    await diagnostics_until(lsp, uri, lambda ds: True)
    # timm is not installed: a stand-in backbone, which trainlint cannot see either way.
    fake_timm = pytypes.ModuleType("timm")
    fake_timm.create_model = lambda *a, **k: torch.nn.Sequential(  # type: ignore[attr-defined]
        torch.nn.Conv2d(3, 512, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )
    model = _build(FINETUNE, "Finetune()", {"timm": fake_timm})
    known = _count(model.head)
    assert known == 5_130 and _count(model) > known

    for position in (_position(FINETUNE, "class Finetune", offset=8), _position(FINETUNE, "net = ", offset=1)):
        text = await _hover(lsp, uri, position)
        assert f": at least {known:,} parameters**" in text.splitlines()[0], text
        assert "a lower bound: trainlint cannot count `backbone`" in text
        assert "| `backbone` | `timm.create_model(...)` | not known |" in text
        assert f"| `head` | Linear | {known:,} |" in text

    on_optimizer = await _hover(lsp, uri, _position(FINETUNE, "AdamW", offset=2))
    assert f"trains the parameters of `Finetune`: at least {known:,} parameters (`backbone` not known, `head` 5,130)" in (
        on_optimizer
    )


async def test_hover_counts_a_model_class_of_another_file(lsp, tmp_path):
    """train.py builds `Net` from models.py: the hover on its model counts the layers written there
    (as torch counts them), and hovers and hints never point into models.py."""
    models = CNN[: CNN.index("model = Net()")]
    (tmp_path / "models.py").write_text(models, encoding="utf-8")
    train = (
        "import torch\nimport torch.optim as optim\n\nfrom models import Net\n\n"
        "model = Net()\nout = model(torch.randn(1, 1, 28, 28))\n"
        "optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)\n"
    )
    await start(lsp, tmp_path, options={"settings": {"inlayHints": True, "shapeHints": True}})
    uri = open_doc(lsp, tmp_path / "train.py", train)
    await diagnostics_until(lsp, uri, lambda ds: True)
    total = _count(_build(models, "Net()"))

    on_assignment = await _hover(lsp, uri, _position(train, "model = Net()", offset=2))
    assert on_assignment.startswith(f"**model (Net): {total:,} parameters**"), on_assignment
    on_optimizer = await _hover(lsp, uri, _position(train, "optim.SGD", offset=7))
    assert f"trains the parameters of `Net`: {total:,} parameters" in on_optimizer, on_optimizer
    lines = train.count("\n")
    assert all(h.position.line < lines for h in await _hints(lsp, uri)), "no hint from models.py's lines"


# -- inlay hints: shapes through forward -------------------------------------------------------------------


def _torch_shapes(code: str, method: str = "forward") -> dict[int, tuple[int, ...]]:
    """Line (0-based) -> the shape of what it assigns, running `forward`'s statements one by one with torch on
    meta tensors, from the input the file feeds the model."""
    net = _build(code, "Net()")
    tree = ast.parse(code)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Net")
    function = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == method)
    env: dict = {"torch": torch, "F": torch.nn.functional, "self": net, "x": torch.randn(1, 1, 28, 28, device="meta")}
    out = {}
    for statement in function.body:
        if isinstance(statement, ast.Return):
            break
        exec(compile(ast.Module([statement], []), "<forward>", "exec"), env)
        if isinstance(statement, ast.Assign):
            (target,) = statement.targets
            assert isinstance(target, ast.Name)
            out[statement.lineno - 1] = tuple(env[target.id].shape)
    return out


def _shown(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


async def test_shape_hints_are_the_shapes_torch_computes(lsp, tmp_path):
    await start(lsp, tmp_path, options={"settings": {"shapeHints": True}})
    uri = open_doc(lsp, tmp_path / "train.py", CNN)
    await diagnostics_until(lsp, uri, lambda ds: True)
    expected = _torch_shapes(CNN)
    assert expected[22] == (1, 9216), "the flatten line"
    lines = CNN.splitlines()

    hints = await _hints(lsp, uri)
    assert {h.position.line: h.label for h in hints} == {line: _shown(shape) for line, shape in expected.items()}
    for hint in hints:
        assert hint.position.character == len(lines[hint.position.line].rstrip()), "at the end of the line"
        assert hint.kind == types.InlayHintKind.Type and hint.padding_left
        assert hint.tooltip == "the shape of the tensor after this line, for the input torch.randn(1, 1, 28, 28) (line 32)"
    assert [h.position.line for h in hints] == sorted(expected), "in source order"

    part = await lsp.text_document_inlay_hint_async(
        types.InlayHintParams(types.TextDocumentIdentifier(uri), types.Range(types.Position(21, 0), types.Position(22, 80)))
    )
    assert [(h.position.line, h.label) for h in part] == [(21, "(1, 64, 12, 12)"), (22, "(1, 9216)")], "the range asked"

    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"trainlint": {"shapeHints": False}}))
    assert await _hints(lsp, uri) == []


async def test_shape_hints_are_off_by_default_and_apart_from_inlay_hints(lsp, tmp_path):
    await start(lsp, tmp_path)
    uri = open_doc(lsp, tmp_path / "train.py", CNN)
    await diagnostics_until(lsp, uri, lambda ds: True)
    assert await _hints(lsp, uri) == [], "both settings are off by default"

    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"trainlint": {"inlayHints": True}}))
    assert await _hints(lsp, uri) == [], "the CNN's arguments are all literals: no argument hints, and no shapes"

    other = open_doc(lsp, tmp_path / "bad.py", BAD)
    await diagnostics_until(lsp, other, lambda ds: len(ds) == 1)
    (hint,) = await _hints(lsp, other)
    assert hint.label == "10.0" and hint.position == types.Position(8, 58), "trainlint.inlayHints as before"
    assert hint.kind == types.InlayHintKind.Parameter

    settings = {"trainlint": {"inlayHints": True, "shapeHints": True}}
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    both = await _hints(lsp, uri)
    assert len(both) == len(_torch_shapes(CNN)) and all(h.kind == types.InlayHintKind.Type for h in both)
    (hint,) = await _hints(lsp, other)
    assert hint.label == "10.0", "no model input in that file: no shapes"


def test_shape_hints_setting_is_parsed():
    assert parse({"settings": {"shapeHints": True}})[0].shape_hints is True
    assert parse({"trainlint": {}})[0].shape_hints is False
    settings, problems = parse({"shapeHints": "yes"})
    assert settings.shape_hints is False and problems == ["trainlint.shapeHints: expected true or false, got 'yes'"]
