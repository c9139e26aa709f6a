"""TL101-TL103 on bad code, and silence on the clean shapes real training code takes."""

import pytest
from conftest import codes, lint

from trainlint.rules.optimizer import LearningRateOptions


def tl101(code, **kw):
    return [d for d in lint(code, ["TL101"], **kw) if d.code == "TL101"]


# -- TL101: what fires, and the message names value and origin ---------------------------------------


def test_literal_keyword_lr():
    (d,) = tl101("""
        import torch
        model = torch.nn.Linear(2, 2)
        opt = torch.optim.SGD(model.parameters(), lr=10)
    """)
    assert d.message.startswith("SGD learning rate 10.0 is at or above 1.0")
    assert "Use about 0.1" in d.message
    assert (d.span.line, d.span.column) == (4, 42)  # the `lr=10` argument


def test_positional_lr():
    (d,) = tl101("""
        import torch.optim as optim
        opt = optim.Adam(params, 0.05)
    """)
    assert d.message.startswith("Adam learning rate 0.05 is at or above 0.01")


@pytest.mark.parametrize(
    ("setup", "lr", "expected"),
    [
        # an element of a list literal: the fix rewrites that element
        ("lrs = [0.01, 3.0]", "lrs[1]", "SGD learning rate 3.0 is"),
        # of a tuple of plain values, also inside a dict: the value is known, the fix is left to the user
        ("cfg = (0.1, 4.0)", "cfg[-1]", "SGD learning rate 4.0 (cfg, line 3) is"),
        ("cfg = {'lrs': (0.1, 4.0)}", "cfg['lrs'][1]", "SGD learning rate 4.0 (cfg['lrs'], line 3) is"),
    ],
)
def test_lr_from_an_element_of_a_literal_sequence(setup: str, lr: str, expected: str):
    (d,) = tl101(f"import torch\nmodel = torch.nn.Linear(2, 2)\n{setup}\nopt = torch.optim.SGD(model.parameters(), lr={lr})\n")
    assert d.message.startswith(expected), d.message
    assert (d.fix is not None) == lr.startswith("lrs")


def test_value_at_the_limit_fires_and_just_below_does_not():
    (at,) = tl101("import torch\nopt = torch.optim.SGD(p, lr=1.0)\n")
    assert tl101("import torch\nopt = torch.optim.SGD(p, lr=0.99)\n") == []
    (adam,) = tl101("import torch\nopt = torch.optim.Adam(p, lr=1e-2)\n")
    (above,) = tl101("import torch\nopt = torch.optim.Adam(p, lr=0.05)\n")
    # Exactly at the limit is borderline (small models and RL policies train there): info.
    assert at.severity.value == adam.severity.value == "info" and above.severity.value == "warning"


@pytest.mark.parametrize(
    "imports,callee",
    [
        ("import torch", "torch.optim.SGD"),
        ("import torch.optim as optim", "optim.SGD"),
        ("from torch import optim", "optim.SGD"),
        ("from torch.optim import SGD", "SGD"),
        ("from torch.optim import SGD as S", "S"),
        ("from torch.optim.sgd import SGD", "SGD"),
        ("import torch.optim", "torch.optim.SGD"),
        ("import torch as T", "T.optim.SGD"),
        ("from torch.optim import *", "SGD"),
        ("import torch\nOptim = torch.optim.SGD", "Optim"),
        ("import torch\nimport torch.nn\nimport torch.onnx", "torch.optim.SGD"),
    ],
)
def test_import_aliases(imports, callee):
    (d,) = tl101(f"{imports}\nopt = {callee}(params, lr=5.0)\n")
    assert "SGD learning rate 5.0" in d.message


def test_not_torch_optimizers_are_ignored():
    assert tl101("from mylib import SGD\nopt = SGD(params, lr=10)\n") == []
    assert tl101("import keras\nopt = keras.optimizers.SGD(learning_rate=10)\n") == []
    assert tl101("class SGD:\n    pass\nopt = SGD(params, lr=10)\n") == []


def test_constant_and_arithmetic():
    (d,) = tl101("""
        import torch
        BASE_LR = 0.1
        BATCH = 4096
        LR = BASE_LR * BATCH / 256
        opt = torch.optim.SGD(params, lr=LR)
    """)
    assert d.message.startswith("SGD learning rate 1.6 (BASE_LR, line 3; BATCH, line 4; LR, line 5) is at or above 1.0")


def test_constant_origin_line():
    (d,) = tl101("""
        import torch
        LR = 10.0
        opt = torch.optim.SGD(params, lr=LR)
    """)
    assert "SGD learning rate 10.0 (LR, line 3)" in d.message


def test_argparse_default():
    (d,) = tl101("""
        import argparse
        import torch

        parser = argparse.ArgumentParser()
        parser.add_argument('--batch-size', type=int, default=64)
        parser.add_argument('--lr', type=float, default=10)
        args = parser.parse_args()
        opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    """)
    assert d.message.startswith("SGD learning rate 10.0 (default of --lr, line 7) is at or above 1.0")


@pytest.mark.parametrize(
    "add_argument,attribute",
    [
        ("parser.add_argument('--learning-rate', type=float, default=5.0)", "learning_rate"),
        ("parser.add_argument('-lr', type=float, default=5.0)", "lr"),
        ("parser.add_argument('-l', '--lr', type=float, default=5.0)", "lr"),
        ("parser.add_argument('--lr', dest='base_lr', type=float, default=5.0)", "base_lr"),
        ("parser.add_argument('--lr', type=float, default='5.0')", "lr"),
        ("group = parser.add_argument_group('optim')\ngroup.add_argument('--lr', type=float, default=5.0)", "lr"),
    ],
)
def test_argparse_flag_shapes(add_argument, attribute):
    (d,) = tl101(f"""
import argparse
import torch
parser = argparse.ArgumentParser()
{add_argument}
args = parser.parse_args()
opt = torch.optim.SGD(params, lr=args.{attribute})
""")
    assert "SGD learning rate 5.0 (default of -" in d.message


def test_argparse_through_a_function_returning_args_and_a_train_function():
    (d,) = tl101("""
        import argparse
        import torch

        def get_args():
            parser = argparse.ArgumentParser()
            parser.add_argument("--lr", type=float, default=2.0)
            return parser.parse_args()

        def train(args, model):
            return torch.optim.SGD(model.parameters(), lr=args.lr)

        def main():
            args = get_args()
            train(args, None)
    """)
    assert "SGD learning rate 2.0 (default of --lr, line 7)" in d.message


def test_argparse_parse_known_args():
    (d,) = tl101("""
        import argparse, torch
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=3.0)
        args, _ = parser.parse_known_args()
        opt = torch.optim.SGD(params, lr=args.lr)
    """)
    assert "default of --lr" in d.message


@pytest.mark.parametrize(
    ("call", "fires"),
    [
        ("parse_args([])", True),
        ("parse_args(args=[])", True),
        ("parse_args(['--lr', '0.1'])", False),
        ("parse_args(argv)", False),
    ],
)
def test_argparse_empty_argument_list_gives_the_defaults(call, fires):
    """`parser.parse_args([])` (notebooks) takes exactly the defaults; any other list sets values not known here."""
    found = tl101(f"""
import argparse, torch
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=3.0)
args = parser.{call}
opt = torch.optim.SGD(params, lr=args.lr)
""")
    assert [d.message.startswith("SGD learning rate 3.0 (default of --lr, line 4)") for d in found] == ([True] if fires else [])


def test_config_dict_and_objects():
    found = tl101("""
        import torch
        from types import SimpleNamespace
        from dataclasses import dataclass

        cfg = {"lr": 5, "optim": {"lr": 3}}
        ns = SimpleNamespace(lr=4.0)
        d = dict(lr=6.0)

        @dataclass
        class Config:
            lr: float = 7.0
            momentum: float = 0.9

        class Settings:
            lr = 8.0

        config = Config()
        torch.optim.SGD(p, lr=cfg["lr"])
        torch.optim.SGD(p, lr=cfg["optim"]["lr"])
        torch.optim.SGD(p, lr=ns.lr)
        torch.optim.SGD(p, lr=d["lr"])
        torch.optim.SGD(p, lr=config.lr)
        torch.optim.SGD(p, lr=Settings.lr)
        torch.optim.SGD(p, lr=cfg.get("lr", 0.1))
    """)
    messages = [d.message.split(" is at")[0] for d in found]
    assert messages == [
        "SGD learning rate 5.0 (cfg['lr'], line 6)",
        "SGD learning rate 3.0 (cfg['optim']['lr'], line 6)",
        "SGD learning rate 4.0 (ns.lr, line 7)",
        "SGD learning rate 6.0 (d['lr'], line 8)",
        "SGD learning rate 7.0 (Config.lr, line 12)",
        "SGD learning rate 8.0 (Settings.lr, line 16)",
        "SGD learning rate 5.0 (cfg['lr'], line 6)",
    ]


def test_dataclass_config_instance_arguments():
    (d,) = tl101("""
        import torch
        from dataclasses import dataclass

        @dataclass
        class TrainConfig:
            epochs: int = 10
            lr: float = 1e-3

        cfg = TrainConfig(epochs=5, lr=0.5)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    """)
    assert "Adam learning rate 0.5 (passed to TrainConfig(), line 10)" in d.message


def test_self_attribute_through_trainer_and_call_sites():
    (d,) = tl101("""
        import argparse
        import torch

        class Trainer:
            def __init__(self, model, lr):
                self.model = model
                self.lr = lr

            def configure(self):
                return torch.optim.Adam(self.model.parameters(), lr=self.lr)

        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        args = parser.parse_args()
        trainer = Trainer(model=None, lr=args.lr)
    """)
    assert d.message.startswith("Adam learning rate 0.1 (default of --lr, line 14; passed to Trainer(), line 16)")


def test_function_parameter_per_call_site_and_default():
    found = tl101("""
        import torch

        def make_optimizer(model, lr=0.01):
            return torch.optim.SGD(model.parameters(), lr=lr)

        make_optimizer(a, 0.05)
        make_optimizer(b, lr=5.0)
        make_optimizer(c)
    """)
    assert [d.message.split(" is at")[0] for d in found] == ["SGD learning rate 5.0 (passed to make_optimizer(), line 8)"]


def test_parameter_default_when_nobody_calls():
    (d,) = tl101("""
        import torch

        def main(lr=3.0):
            opt = torch.optim.SGD(model.parameters(), lr=lr)
    """)
    assert "(default of parameter lr, line 4)" in d.message


def test_param_groups():
    (d,) = tl101("""
        import torch
        opt = torch.optim.SGD(
            [
                {"params": model.backbone.parameters(), "lr": 0.01},
                {"params": model.head.parameters(), "lr": 2.0},
            ],
            lr=0.1,
            momentum=0.9,
        )
    """)
    assert d.message.startswith("SGD learning rate 2.0 in parameter group 1 is at or above 1.0")
    assert d.span.line == 6


def test_kwargs_from_a_config_dict():
    (d,) = tl101("""
        import torch
        OPTIM = {"lr": 0.5, "weight_decay": 0.01}
        opt = torch.optim.AdamW(model.parameters(), **OPTIM)
    """)
    assert "AdamW learning rate 0.5 (OPTIM['lr'], line 3)" in d.message


def test_limits_are_options():
    code = "import torch\nopt = torch.optim.SGD(p, lr=1.5)\n"
    assert len(tl101(code)) == 1
    assert tl101(code, TL101=LearningRateOptions(limits={"SGD": 2.0})) == []


# -- TL101: clean shapes ------------------------------------------------------------------------------


CLEAN = {
    "resnet_sgd": """
        import torch.optim as optim
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    """,
    "adam_defaults": """
        import torch
        a = torch.optim.Adam(model.parameters())
        b = torch.optim.Adam(model.parameters(), lr=3e-4)
        c = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.05)
        d = torch.optim.Adadelta(model.parameters(), lr=1.0)
        e = torch.optim.LBFGS(model.parameters(), lr=1)
    """,
    "unknown_values_are_not_guessed": """
        import os, sys, json, torch
        lr = float(os.environ.get("LR", "10"))
        cfg = json.load(open("cfg.json"))
        a = torch.optim.SGD(p, lr=lr)
        b = torch.optim.SGD(p, lr=cfg["lr"])
        c = torch.optim.SGD(p, lr=sys.argv[1])
        d = torch.optim.SGD(p, lr=get_lr())
    """,
    "reassigned_names_are_not_guessed": """
        import torch
        lr = 10
        lr = lr / 1000
        opt = torch.optim.SGD(p, lr=lr)
        scale = 10
        scale *= 0.001
        opt2 = torch.optim.SGD(p, lr=scale)
    """,
    "argparse_value_changed_after_parsing": """
        import argparse, torch
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=10)
        parser.add_argument("--batch-size", type=int, default=256)
        args = parser.parse_args()
        args.lr = args.lr * args.batch_size / 25600
        opt = torch.optim.SGD(p, lr=args.lr)
    """,
    "argparse_defaults_replaced": """
        import argparse, torch, yaml
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=10)
        args = parser.parse_args()
        vars(args).update(yaml.safe_load(open("config.yaml")))
        opt = torch.optim.SGD(p, lr=args.lr)
    """,
    "config_mutated": """
        import torch
        cfg = {"lr": 10}
        cfg.update(overrides)
        opt = torch.optim.SGD(p, lr=cfg["lr"])
        other = {"lr": 5}
        other["lr"] = other["lr"] / 100
        opt2 = torch.optim.SGD(p, lr=other["lr"])
    """,
    "spread_config_mutated": """
        import torch
        OPTIM = {"lr": 10}
        OPTIM["lr"] = 0.01
        opt = torch.optim.SGD(p, **OPTIM)
    """,
    "conditional_value": """
        import torch
        lr = 10.0 if use_lbfgs else 0.01
        opt = torch.optim.SGD(p, lr=lr)
    """,
    "not_an_optimizer_lr": """
        import torch
        scheduler = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=10, total_steps=100)
        lr = 10
        print(lr)
    """,
    "lr_range_test_parameter_with_call_sites_passing_small_values": """
        import torch
        def build(model, lr=10.0):
            return torch.optim.SGD(model.parameters(), lr=lr)
        build(m, lr=0.1)
        build(m, 0.05)
    """,
    "scaled_by_unknown_world_size": """
        import torch, torch.distributed as dist
        lr = 0.1 * dist.get_world_size()
        opt = torch.optim.SGD(p, lr=lr)
    """,
    "instance_attribute_set_twice": """
        import torch
        class T:
            def __init__(self):
                self.lr = 10
            def warmup(self):
                self.lr = 0.001
            def opt(self):
                return torch.optim.SGD(p, lr=self.lr)
    """,
}


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_clean_shapes(name):
    assert lint(CLEAN[name]) == []


# -- TL102 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,expected",
    [
        ("torch.optim.SGD(p, lr=0.1, momentum=1.0)", "SGD momentum is 1.0; it must be in [0, 1)"),
        ("torch.optim.SGD(p, lr=0.1, momentum=-0.9)", "SGD momentum is -0.9"),
        ("torch.optim.RMSprop(p, lr=0.01, momentum=1.5)", "RMSprop momentum is 1.5"),
        ("torch.optim.Adam(p, betas=(0.9, 1.0))", "Adam betas[1] is 1.0"),
        ("torch.optim.Adam(p, betas=(-0.1, 0.999))", "Adam betas[0] is -0.1"),
        ("torch.optim.AdamW(p, eps=0)", "AdamW eps is 0; it must be positive"),
        ("torch.optim.Adam(p, eps=-1e-8)", "Adam eps is -1e-08"),
        ("torch.optim.SGD(p, lr=-0.1)", "SGD lr is -0.1; it must be zero or positive"),
        ("torch.optim.SGD(p, lr=0.1, weight_decay=-5e-4)", "SGD weight_decay is -0.0005"),
        ("torch.optim.SGD(p, 0.1, 1.0)", "SGD momentum is 1.0"),
        ("torch.optim.SGD([{'params': a, 'momentum': 1.0}], lr=0.1)", "SGD momentum of parameter group 0 is 1.0"),
    ],
)
def test_tl102_bad(call, expected):
    found = [d for d in lint(f"import torch\nopt = {call}\n") if d.code == "TL102"]
    assert len(found) == 1 and found[0].message.startswith(expected), [d.message for d in found]
    assert found[0].severity.value == "error"


def test_tl102_resolves_constants():
    (d,) = [d for d in lint("import torch\nBETAS = (0.9, 1.0)\nopt = torch.optim.Adam(p, betas=BETAS)\n") if d.code == "TL102"]
    assert "betas[1] is 1.0 (BETAS, line 2)" in d.message


def test_tl102_clean():
    assert (
        codes("""
        import torch
        a = torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0)
        b = torch.optim.Adam(p, betas=(0.9, 0.999), eps=1e-8)
        c = torch.optim.Adam(p, betas=(0.0, 0.99))
        d = torch.optim.Adafactor(p, eps=(None, 1e-3))
        e = torch.optim.Adagrad(p, eps=1e-10)
        f = torch.optim.Adam(p, betas=betas_from_somewhere)
        g = torch.optim.Adadelta(p, momentum=5)
    """)
        == []
    )


# -- TL103 ----------------------------------------------------------------------------------------------


def test_tl103_flags_adam_weight_decay_as_info():
    (d,) = lint("import torch\nopt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)\n", ["ALL"])
    assert d.code == "TL103" and d.severity.value == "info"
    assert d.message.startswith("Adam with weight_decay=0.0001 adds an L2 term")
    assert d.fix is not None and d.fix.applicability.value == "unsafe"


def test_tl103_positional_weight_decay():
    assert codes("import torch\nopt = torch.optim.Adam(p, 1e-3, (0.9, 0.999), 1e-8, 1e-4)\n", ["ALL"]) == ["TL103"]


def test_tl103_clean():
    assert (
        codes(
            """
        import torch
        a = torch.optim.Adam(p, lr=1e-3)
        b = torch.optim.Adam(p, lr=1e-3, weight_decay=0)
        c = torch.optim.AdamW(p, lr=1e-3, weight_decay=0.05)
        d = torch.optim.Adam(p, lr=1e-3, weight_decay=1e-4, decoupled_weight_decay=True)
        e = torch.optim.NAdam(p, weight_decay=1e-4, decoupled_weight_decay=True)
        f = torch.optim.Adam(p, weight_decay=wd_from_elsewhere)
    """,
            ["ALL"],
        )
        == []
    )


def test_config_attributes_set_once():
    found = tl101("""
        import argparse
        import torch
        from types import SimpleNamespace

        class Config:
            pass

        config = Config()
        config.lr = 2.0
        ns = SimpleNamespace()
        ns.lr = 3.0
        cfg = {}
        cfg["lr"] = 4.0
        args = argparse.Namespace()
        args.lr = 5.0
        torch.optim.SGD(p, lr=config.lr)
        torch.optim.SGD(p, lr=ns.lr)
        torch.optim.SGD(p, lr=cfg["lr"])
        torch.optim.SGD(p, lr=args.lr)
    """)
    assert [d.message.split(" is at")[0] for d in found] == [
        "SGD learning rate 2.0 (config.lr, line 10)",
        "SGD learning rate 3.0 (ns.lr, line 12)",
        "SGD learning rate 4.0 (cfg['lr'], line 14)",
        "SGD learning rate 5.0 (args.lr, line 16)",
    ]


def test_config_attributes_set_more_than_once_are_not_guessed():
    assert (
        tl101("""
        import torch

        class Config:
            lr = 0.01

        config = Config()
        config.lr = 2.0
        other = Config()
        cfg = {}
        cfg["lr"] = 4.0
        cfg["lr"] = cfg["lr"] / 1000
        torch.optim.SGD(p, lr=config.lr)
        torch.optim.SGD(p, lr=cfg["lr"])
    """)
        == []
    )


def test_schedulers_that_replace_the_learning_rate():
    assert (
        tl101("""
        import torch
        from torch.optim.lr_scheduler import LambdaLR, OneCycleLR
        a = torch.optim.SGD(p, lr=1.0)
        sa = LambdaLR(a, lambda epoch: 0.007 * (1 - epoch / 100) ** 0.9)
        b = torch.optim.Adam(p, lr=1.0)
        sb = OneCycleLR(b, max_lr=1e-3, total_steps=1000)
        c = torch.optim.SGD(p, lr=10)
        sc = torch.optim.lr_scheduler.StepLR(c, step_size=10)
    """)[0].span.line
        == 8
    ), "only c: a StepLR does not replace the rate"


def test_no_fix_when_the_literal_also_sets_a_rate_that_is_fine():
    found = tl101("""
        import argparse, torch
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        parser.add_argument("--optim", type=str, default="SGD")
        args = parser.parse_args()
        if args.optim == "SGD":
            opt = torch.optim.SGD(p, lr=args.lr)
        elif args.optim == "Adam":
            opt = torch.optim.Adam(p, lr=args.lr)
    """)
    (d,) = found
    assert d.fix is None, "0.1 is right for the default SGD path: fixing it for Adam would break SGD"
    assert d.severity.value == "info"
    assert d.message.endswith('This optimizer is built only when `args.optim == "Adam"`, which the defaults do not satisfy')


def test_unmet_else_branch_condition():
    (d,) = tl101("""
        import torch
        USE_SGD = True
        if USE_SGD:
            opt = torch.optim.SGD(p, lr=0.1)
        else:
            opt = torch.optim.Adam(p, lr=0.5)
    """)
    assert "built only when `not (USE_SGD)`" in d.message and d.severity.value == "info"


def test_call_sites_with_high_values_are_one_finding():
    (d,) = tl101("""
        import torch
        def build(model, lr):
            return torch.optim.SGD(model.parameters(), lr=lr)
        build(a, 2.0)
        build(b, 5.0)
        build(c, 0.1)
    """)
    assert d.message.startswith("SGD learning rate 5.0 (passed to build(), line 6)")
    assert "(1 more value from other call sites also reach the limit)" in d.message and d.fix is None


def test_noqa_where_the_value_is_written():
    assert (
        tl101("""
        import argparse, torch
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=10)  # noqa: TL101 (an LR range test)
        args = parser.parse_args()
        opt = torch.optim.SGD(p, lr=args.lr)
    """)
        == []
    )


def test_lightning_hparams():
    found = tl101("""
        import torch
        import lightning.pytorch as pl

        class LitModel(pl.LightningModule):
            def __init__(self, learning_rate=0.5, hidden=64):
                super().__init__()
                self.save_hyperparameters()

            def configure_optimizers(self):
                return torch.optim.Adam(self.parameters(), lr=self.hparams.learning_rate)

        class FromConfig(pl.LightningModule):
            def __init__(self, config):
                super().__init__()
                self.save_hyperparameters(config)

            def configure_optimizers(self):
                return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

        FromConfig({"lr": 3.0})
    """)
    assert [d.message.split(" is at")[0] for d in found] == [
        "Adam learning rate 0.5 (default of parameter learning_rate, line 6)",
        "SGD learning rate 3.0 (self.hparams.lr, line 21)",
    ]


def test_add_param_group():
    found = lint(
        """
        import torch
        opt = torch.optim.Adam(model.backbone.parameters(), lr=1e-4)
        opt.add_param_group({"params": model.head.parameters(), "lr": 0.5, "weight_decay": 1e-5})
    """,
        ["ALL"],
    )
    assert [(d.code, d.span.line) for d in found] == [("TL103", 3), ("TL101", 4)]
    assert "in parameter group 0" in found[1].message


def test_tl102_nan():
    (d,) = lint("import torch\nopt = torch.optim.SGD(p, lr=float('nan'))\n")
    assert d.code == "TL102" and d.message.startswith("SGD lr is nan; it must be a real number")


# -- optimizers built through functools.partial ---------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # the lr given to partial, the rest at the call
        ("make = functools.partial(torch.optim.SGD, lr=6.0, momentum=0.9)\nopt = make(model.parameters())", ["SGD 6.0 5"]),
        # the lr given at the call, positionally after the parameters
        ("make = partial(torch.optim.Adam, weight_decay=0.0)\nopt = make(model.parameters(), 0.5)", ["Adam 0.5 6"]),
        # the call's own lr overrides the partial's
        ("make = partial(torch.optim.SGD, lr=6.0)\nopt = make(model.parameters(), lr=0.01)", []),
        # stored on self and called in another method
        (
            (
                "class Trainer:\n    def __init__(self):\n        self.make_opt = partial(torch.optim.SGD, lr=2.0)\n"
                "    def fit(self):\n        self.opt = self.make_opt(model.parameters())"
            ),
            ["SGD 2.0 7"],
        ),
        # a partial of something that is not a torch class
        ("make = partial(build, lr=6.0)\nopt = make(model.parameters())", []),
    ],
)
def test_a_partial_optimizer(code: str, expected: list[str]):
    head = "import functools\nfrom functools import partial\nimport torch\nmodel = torch.nn.Linear(2, 2)\n"
    found = tl101(head + code + "\n")
    assert [f"{d.message.split()[0]} {d.message.split()[3]} {d.span.line}" for d in found] == expected
