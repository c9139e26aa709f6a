"""trainlint's table of PyTorch facts is generated from, and checked against, the pinned torch."""

import subprocess
import sys

from conftest import ROOT

from trainlint.facts import torch_facts
from trainlint.rules.optimizer import DEFAULT_LR_LIMITS


def test_facts_match_installed_torch():
    import torch

    assert torch.__version__.split("+")[0] == "2.13.0", "tests pin torch==2.13.0"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_torch_facts.py"), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_facts_agree_with_torch_signatures():
    import inspect

    import torch.optim

    facts = torch_facts()
    for name in ("SGD", "Adam", "AdamW", "Adadelta", "LBFGS"):
        entry = facts.lookup(f"torch.optim.{name}")
        signature = inspect.signature(getattr(torch.optim, name).__init__)
        assert entry.positional[1] == "lr" == list(signature.parameters)[2]
        assert entry.defaults["lr"] == signature.parameters["lr"].default
    assert facts.lookup("torch.optim.sgd.SGD") is facts.lookup("torch.optim.SGD")
    assert facts.lookup("torch.optim.lr_scheduler.StepLR").kind == "scheduler"
    assert facts.lookup("torch.nn.Linear").positional[:2] == ("in_features", "out_features")


def test_every_optimizer_has_a_learning_rate_limit():
    optimizers = {f.name for f in torch_facts().of_kind("optimizer")}
    assert optimizers == set(DEFAULT_LR_LIMITS)


def test_default_limits_leave_standard_recipes_clean():
    facts = torch_facts()
    for optimizer in facts.of_kind("optimizer"):
        assert optimizer.defaults["lr"] < DEFAULT_LR_LIMITS[optimizer.name], optimizer.name
