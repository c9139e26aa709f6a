"""TL301-TL307 on bad code, and silence on the shapes regularized models take: weight decay by default
(AdamW) or from options, dropout in containers, in forward or in layers that take it, augmentation and
label smoothing elsewhere in the file, parts of the model trainlint cannot see."""

import textwrap

import pytest
import torch
from conftest import lint

from trainlint.engine import lint_source
from trainlint.fixes import fix_text
from trainlint.rules.capacity import LargeModelOptions
from trainlint.settings import default_settings

BIG_MLP = """
import torch
from torch import nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, width=2048):
        super().__init__()
        self.fc1 = nn.Linear(4096, width)
        self.fc2 = nn.Linear(width, width)
        self.fc3 = nn.Linear(width, 10)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


model = MLP()
"""


def only(code: str, rule: str, **options):
    return lint(textwrap.dedent(code), [rule], **options)


def codes(code: str, rule: str) -> list[str]:
    return [d.code for d in only(code, rule)]


def _torch_count(code: str, expression: str) -> int:
    """Build the model with torch (on meta tensors) and count its parameters."""
    namespace: dict = {}
    with torch.device("meta"):
        exec(compile(textwrap.dedent(code), "<fixture>", "exec"), namespace)
        model = eval(expression, namespace)
    return sum(p.numel() for p in model.parameters())


# -- TL301 -----------------------------------------------------------------------------------------


def test_tl301_big_mlp_with_adam_and_no_decay():
    source = BIG_MLP + "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
    (d,) = only(source, "TL301")
    count = _torch_count(BIG_MLP, "model")
    assert d.message.startswith(f"MLP has {count:,} parameters and is trained by Adam (line 19)")
    assert "no weight decay (Adam's default is 0)" in d.message
    outcome = fix_text(textwrap.dedent(source), "x.py", default_settings(["TL301"]), unsafe=True)
    assert "torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.0001)" in outcome.text
    assert lint_source(outcome.text, "x.py", default_settings(["TL3"])).diagnostics == []


def test_tl301_weight_decay_zero_written_out_is_replaced():
    source = BIG_MLP + "optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0)\n"
    (d,) = only(source, "TL301")
    assert "with weight_decay=0" in d.message
    outcome = fix_text(textwrap.dedent(source), "x.py", default_settings(["TL301"]), unsafe=True)
    assert "lr=0.1, weight_decay=0.0005)" in outcome.text


def test_tl301_torchvision_resnet50_with_other_classes():
    source = """
    import torch
    import torchvision

    model = torchvision.models.resnet50(num_classes=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    """
    (d,) = only(source, "TL301")
    # 25,557,032 with 1000 classes; each class is a row of the 2048-wide fc and a bias.
    assert d.message.startswith(f"torchvision's resnet50 has {25_557_032 - 990 * 2049:,} parameters")


@pytest.mark.parametrize(
    "optimizer",
    [
        "torch.optim.AdamW(model.parameters(), lr=1e-3)",  # its default decay is 0.01
        "torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=5e-4)",
        "torch.optim.SGD([{'params': model.parameters(), 'weight_decay': 1e-4}], lr=0.1)",
        "torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=args.wd)",  # not known: silent
        "torch.optim.SGD(model.parameters(), lr=0.1, **config)",
    ],
)
def test_tl301_silent_with_weight_decay_or_when_not_known(optimizer):
    assert codes(BIG_MLP + f"optimizer = {optimizer}\n", "TL301") == []


@pytest.mark.parametrize(
    "extra",
    [
        "criterion = nn.CrossEntropyLoss(label_smoothing=0.1)",
        "import torchvision.transforms as T\naugment = T.Compose([T.RandomCrop(32, padding=4), T.ToTensor()])",
        "l2 = sum(p.pow(2).sum() for p in model.parameters())",
        "from timm.data import Mixup\nmixup = Mixup(mixup_alpha=0.8)",
    ],
)
def test_tl301_silent_with_regularization_elsewhere_in_the_file(extra):
    source = BIG_MLP + extra + "\noptimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\n"
    assert codes(source, "TL301") == []


DROPOUT_MODELS = {
    "dropout in a Sequential": (
        "self.net = nn.Sequential(nn.Linear(4096, 2048), nn.ReLU(), nn.Dropout(0.3), nn.Linear(2048, 2048))",
        "self.net(x)",
    ),
    "a dropout layer applied in forward": (
        "self.net = nn.Linear(4096, 4096)\n            self.drop = nn.Dropout()",
        "self.drop(self.net(x))",
    ),
    "nn.Transformer's default dropout of 0.1": ("self.net = nn.Transformer(d_model=512)", "self.net(x, x)"),
    "a stacked LSTM's dropout": ("self.net = nn.LSTM(1024, 1024, num_layers=2, dropout=0.3)", "self.net(x)"),
}


@pytest.mark.parametrize(("layers", "forward"), DROPOUT_MODELS.values(), ids=DROPOUT_MODELS.keys())
def test_tl301_silent_when_the_model_has_dropout(layers, forward):
    source = f"""
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            {layers}

        def forward(self, x):
            return {forward}


    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    """
    assert codes(source, "TL301") == []


def test_tl301_dropout_of_a_single_layer_lstm_does_nothing():
    source = """
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(1024, 1024, dropout=0.5)

        def forward(self, x):
            return self.rnn(x)[0]


    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    """
    (d,) = only(source, "TL301")
    assert d.message.startswith(f"Net has {_torch_count(source, 'Net()'):,} parameters")


def test_tl301_functional_dropout_counts():
    source = BIG_MLP.replace("return self.fc3(", "return self.fc3(F.dropout(").replace(
        "self.fc1(x)))))", "self.fc1(x)))), 0.5, self.training))"
    )
    assert codes(source + "optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)\n", "TL301") == []


def test_tl301_torchvision_models_with_dropout_or_stochastic_depth():
    for constructor in ("efficientnet_b0", "vgg16", "convnext_tiny", "alexnet"):
        source = f"""
        import torch
        import torchvision

        model = torchvision.models.{constructor}()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        """
        assert codes(source, "TL301") == [], constructor


def test_tl301_fine_tuning_with_a_new_head_of_dropout():
    source = """
    import torch
    import torchvision
    from torch import nn

    model = torchvision.models.resnet50(weights="IMAGENET1K_V2")
    model.fc = nn.Sequential(nn.Dropout(0.5), nn.Linear(2048, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    """
    assert codes(source, "TL301") == []


def test_tl301_silent_when_a_part_of_the_model_is_not_known():
    source = """
    import timm
    import torch
    from torch import nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = timm.create_model("resnet50")
            self.head = nn.Linear(4096, 4096)

        def forward(self, x):
            return self.head(self.backbone(x))


    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    """
    assert codes(source, "TL301") == []


def test_tl301_small_models_are_not_large_and_the_threshold_is_an_option():
    source = """
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    """
    assert codes(source, "TL301") == []
    (d,) = only(source, "TL301", TL301=LargeModelOptions(min_parameters=100_000))
    assert d.message.startswith(f"Sequential has {_torch_count(source, 'model'):,} parameters")


# -- TL302 -----------------------------------------------------------------------------------------

NET = """
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x):
{body}
"""


def test_tl302_dropout_built_and_never_called():
    (d,) = only(NET.format(body="        return self.fc2(F.relu(self.fc1(x)))"), "TL302")
    assert d.message.startswith("self.dropout = nn.Dropout(0.5) (line 10) is never used: Net.forward (line 13)")
    assert d.severity.value == "warning" and d.span.line == 10


@pytest.mark.parametrize(
    "body",
    [
        "        return self.fc2(self.dropout(F.relu(self.fc1(x))))",
        "        return self.head(x)\n\n    def head(self, x):\n        return self.fc2(self.dropout(x))",
        "        for layer in self.children():\n            x = layer(x)\n        return x",
        "        return getattr(self, 'drop' + 'out')(x)",
    ],
    ids=["forward", "a helper method", "self.children()", "getattr"],
)
def test_tl302_silent_when_the_layer_is_reached(body):
    assert codes(NET.format(body=body), "TL302") == []


def test_tl302_dropout_of_zero_is_silent_or_information_when_callers_may_pass_more():
    built = NET.format(body="        return self.fc2(F.relu(self.fc1(x)))")
    assert codes(built.replace("nn.Dropout(0.5)", "nn.Dropout(0.0)"), "TL302") == []
    timm_like = built.replace("def __init__(self):", "def __init__(self, drop=0.0):").replace(
        "nn.Dropout(0.5)", "nn.Dropout(drop)"
    )
    (d,) = only(timm_like, "TL302")
    assert d.severity.value == "info" and "(its p is 0.0 by default; callers may pass more)" in d.message


def test_tl302_a_parameter_of_the_same_name_is_no_use_of_the_layer():
    code = NET.format(body="        return self.fc2(F.relu(self.fc1(x)))")
    code = code.replace("def __init__(self):", "def __init__(self, dropout=0.5):").replace(
        "nn.Dropout(0.5)", "nn.Dropout(dropout)"
    )
    assert codes(code, "TL302") == ["TL302"]


def test_tl302_is_information_when_other_dropout_is_applied():
    body = "        x = F.dropout(F.relu(self.fc1(x)), 0.3, self.training)\n        return self.fc2(x)"
    (d,) = only(NET.format(body=body), "TL302")
    assert d.severity.value == "info" and "the model applies other dropout" in d.message


# -- TL303 -----------------------------------------------------------------------------------------

PARSER = """
import argparse
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--weight-decay", "--wd", type=float, default=5e-4)
parser.add_argument("--dropout", type=float, default=0.2)
args = parser.parse_args()
model = torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.Dropout(args.dropout))
"""


def test_tl303_weight_decay_option_never_read():
    (d,) = only(PARSER + "optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, weight_decay=5e-4)\n", "TL303")
    assert d.message.startswith("--weight-decay is parsed (line 7) but `args.weight_decay` is never read")
    assert d.span.line == 7


@pytest.mark.parametrize(
    "tail",
    [
        "optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)",
        "from timm.optim import create_optimizer\noptimizer = create_optimizer(args, model)",
        "config = vars(args)",
        "def train(opts):\n    return torch.optim.SGD(model.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)",
    ],
    ids=["read", "passed to a function of another module", "vars(args)", "read through a parameter"],
)
def test_tl303_silent_when_the_option_is_read_or_may_be(tail):
    assert codes(PARSER + tail + "\n", "TL303") == []


def test_tl303_silent_when_the_arguments_are_returned():
    source = """
    import argparse

    def get_args():
        parser = argparse.ArgumentParser()
        parser.add_argument("--weight-decay", type=float, default=5e-4)
        return parser.parse_args()
    """
    assert codes(source, "TL303") == []


# -- TL304 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code,start",
    [
        ("nn.Dropout(1.5)", "nn.Dropout with p=1.5 is not a probability"),
        ("nn.Dropout2d(p=-0.1)", "nn.Dropout2d with p=-0.1 is not a probability"),
        ("nn.Dropout(1.0)", "nn.Dropout with p=1.0 zeroes every activation"),
        ("nn.LSTM(8, 8, num_layers=2, dropout=2)", "nn.LSTM with dropout=2 is not a probability"),
        ("F.dropout(x, 1.2)", "F.dropout with p=1.2 is not a probability"),
    ],
)
def test_tl304_probabilities_out_of_range(code, start):
    (d,) = only(f"from torch import nn\nimport torch.nn.functional as F\nlayer = {code}\n", "TL304")
    assert d.message.startswith(start)
    if "1.5" in code or "1.2" in code or "-0.1" in code or "=2" in code:
        with pytest.raises(ValueError):
            eval(code, {"nn": torch.nn, "F": torch.nn.functional, "x": torch.zeros(2)})


def test_tl304_value_from_an_option_names_its_origin():
    source = """
    import argparse
    from torch import nn

    parser = argparse.ArgumentParser()
    parser.add_argument("--keep-prob", type=float, default=0.9)
    parser.add_argument("--dropout", type=float, default=1.0)
    args = parser.parse_args()
    drop = nn.Dropout(args.dropout)
    """
    (d,) = only(source, "TL304")
    assert "p=1.0 (default of --dropout, line 7)" in d.message and "keep_prob" in d.message


@pytest.mark.parametrize("code", ["nn.Dropout()", "nn.Dropout(0.0)", "nn.Dropout(0.5)", "nn.Dropout(p)", "F.dropout(x, 0.1)"])
def test_tl304_silent_for_probabilities_and_unknowns(code):
    assert codes(f"from torch import nn\nimport torch.nn.functional as F\nlayer = {code}\n", "TL304") == []


# -- TL305 -----------------------------------------------------------------------------------------


def test_tl305_functional_dropout_without_training():
    source = NET.format(body="        x = F.dropout(F.relu(self.fc1(x)), p=0.5)\n        return self.fc2(x)")
    (d,) = only(source, "TL305")
    assert "its `training` argument defaults to True" in d.message and d.span.line == 14
    outcome = fix_text(textwrap.dedent(source), "x.py", default_settings(["TL305"]), unsafe=True)
    assert "F.dropout(F.relu(self.fc1(x)), p=0.5, training=self.training)" in outcome.text
    assert lint_source(outcome.text, "x.py", default_settings(["TL305"])).diagnostics == []


@pytest.mark.parametrize(
    "call",
    [
        "F.dropout(x, p=0.5, training=self.training)",
        "F.dropout(x, 0.5, self.training)",
        "F.dropout(x, 0.5) if self.training else x",
    ],
)
def test_tl305_silent_when_training_is_passed(call):
    assert codes(NET.format(body=f"        return self.fc2({call})"), "TL305") == []


def test_tl305_silent_under_a_test_of_training_and_outside_modules():
    guarded = "        if self.training:\n            x = F.dropout(x, p=0.5)\n        return self.fc2(x)"
    assert codes(NET.format(body=guarded), "TL305") == []
    assert codes("import torch.nn.functional as F\n\ndef augment(x):\n    return F.dropout(x, 0.1)\n", "TL305") == []


# -- TL306 / TL307 (opt-in) ------------------------------------------------------------------------


def test_tl306_batch_norm_right_after_dropout():
    source = "from torch import nn\n\nblock = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Dropout2d(0.2), nn.BatchNorm2d(8))\n"
    (d,) = only(source, "TL306")
    assert d.message.startswith("nn.BatchNorm2d block[2] (line 3) comes right after nn.Dropout2d block[1] (line 3)")
    assert codes(source, "ALL").count("TL306") == 1
    assert "TL306" not in [d.code for d in lint(source)]  # opt-in


def test_tl306_in_forward_and_clean_orders():
    source = """
    from torch import nn


    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.drop = nn.Dropout2d(0.2)
            self.bn = nn.BatchNorm2d(8)

        def forward(self, x):
            return self.bn(self.drop(self.conv(x)))
    """
    assert codes(source, "TL306") == ["TL306"]
    clean = "from torch import nn\n\nblock = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout2d(0.2))\n"
    assert codes(clean, "TL306") == []


def test_tl307_linear_after_linear():
    (d,) = only(
        "from torch import nn\n\nmlp = nn.Sequential(nn.Linear(784, 256), nn.Dropout(0.1), nn.Linear(256, 10))\n", "TL307"
    )
    assert d.message.startswith("nn.Linear mlp[2] (line 3) follows nn.Linear mlp[0] (line 3) with no activation")


@pytest.mark.parametrize(
    "layers",
    [
        "nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)",
        "nn.Linear(784, 256), nn.GELU(), nn.Dropout(0.1), nn.Linear(256, 10)",
        "nn.Linear(784, 3), nn.Linear(3, 784)",  # a bottleneck
    ],
)
def test_tl307_silent_with_an_activation_or_a_bottleneck(layers):
    assert codes(f"from torch import nn\n\nmlp = nn.Sequential({layers})\n", "TL307") == []


def test_tl307_silent_across_modules():
    source = """
    from torch import nn


    class AutoEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 32))
            self.decoder = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 784))

        def forward(self, x):
            return self.decoder(self.encoder(x))
    """
    assert codes(source, "TL307") == []
