"""trainlint's learning-rate curves against torch's own schedulers on a dummy optimizer."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
from torch.optim import lr_scheduler

from trainlint.schedules import KINDS, Schedule, curve

BASE = 0.1
STEPS = 60


def _torch_curve(build: Any, steps: int = STEPS, base: float = BASE) -> list[float]:
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=base, momentum=0.9)
    scheduler = build(optimizer)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the warnings about stepping order and closed forms
        for _ in range(steps):
            out.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
    return out


def _torch_scheduler(optimizer: torch.optim.Optimizer, schedule: Schedule) -> Any:
    arguments = dict(schedule.arguments)
    if "schedulers" in arguments:
        arguments["schedulers"] = [_torch_scheduler(optimizer, s) for s in arguments["schedulers"]]
    if schedule.kind == "ChainedScheduler":
        return lr_scheduler.ChainedScheduler(arguments["schedulers"], optimizer)
    return getattr(lr_scheduler, schedule.kind)(optimizer, **arguments)


def s(kind: str, **arguments: Any) -> Schedule:
    return Schedule(kind, arguments)


CASES = [
    s("StepLR", step_size=7),
    s("StepLR", step_size=10, gamma=0.5),
    s("MultiStepLR", milestones=[10, 25, 40]),
    s("MultiStepLR", milestones=[30, 5], gamma=0.3),
    s("ExponentialLR", gamma=0.95),
    s("CosineAnnealingLR", T_max=50),
    s("CosineAnnealingLR", T_max=20, eta_min=0.001),  # past T_max the cosine rises again, as in torch
    s("CosineAnnealingWarmRestarts", T_0=10),
    s("CosineAnnealingWarmRestarts", T_0=5, T_mult=2, eta_min=1e-4),
    s("OneCycleLR", max_lr=1.0, total_steps=STEPS),
    s("OneCycleLR", max_lr=0.5, epochs=6, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear"),
    s("OneCycleLR", max_lr=0.3, total_steps=100, three_phase=True, div_factor=10, final_div_factor=100),
    s("CyclicLR", base_lr=0.001, max_lr=0.1, step_size_up=8),
    s("CyclicLR", base_lr=0.001, max_lr=0.1, step_size_up=5, step_size_down=10, mode="triangular2"),
    s("CyclicLR", base_lr=0.001, max_lr=0.1, step_size_up=6, mode="exp_range", gamma=0.97),
    s("LinearLR"),
    s("LinearLR", start_factor=0.01, total_iters=20),
    s("LinearLR", start_factor=1.0, end_factor=0.1, total_iters=30),
    s("ConstantLR"),
    s("ConstantLR", factor=0.5, total_iters=12),
    s("PolynomialLR", total_iters=40, power=2.0),
    s("PolynomialLR"),
    s("LambdaLR", lr_lambda=lambda e: 0.95**e),
    s("LambdaLR", lr_lambda=lambda e: min(1.0, (e + 1) / 10)),
    s("SequentialLR", schedulers=[s("LinearLR", start_factor=0.1, total_iters=5), s("ExponentialLR", gamma=0.9)], milestones=[5]),
    s(
        "SequentialLR",
        schedulers=[s("ConstantLR", factor=0.1, total_iters=3), s("StepLR", step_size=10), s("CosineAnnealingLR", T_max=30)],
        milestones=[3, 20],
    ),
    s("ChainedScheduler", schedulers=[s("ConstantLR", factor=0.1, total_iters=2), s("ExponentialLR", gamma=0.9)]),
    s("ChainedScheduler", schedulers=[s("LinearLR", start_factor=0.2, total_iters=8), s("StepLR", step_size=15, gamma=0.5)]),
]


@pytest.mark.parametrize("schedule", CASES, ids=[f"{c.kind}-{i}" for i, c in enumerate(CASES)])
def test_curve_matches_torch(schedule: Schedule) -> None:
    mine = curve(schedule, BASE, STEPS)
    assert mine is not None
    theirs = _torch_curve(lambda optimizer: _torch_scheduler(optimizer, schedule), steps=len(mine))
    assert mine == pytest.approx(theirs, rel=1e-6, abs=1e-12)


def test_every_kind_is_checked():
    assert {c.kind for c in CASES} == set(KINDS)


def test_one_cycle_stops_at_its_total():
    assert len(curve(s("OneCycleLR", max_lr=1.0, total_steps=10), BASE, 100) or []) == 11


@pytest.mark.parametrize(
    "schedule",
    [
        s("StepLR"),  # step_size not known
        s("ReduceLROnPlateau"),  # depends on the metric
        s("CosineAnnealingLR", T_max=0),
        s("LambdaLR", lr_lambda=None),
        s("ChainedScheduler", schedulers=[s("CosineAnnealingLR", T_max=10)]),  # recursive: not a product
        s("SequentialLR", schedulers=[s("StepLR", step_size=2)], milestones=[3]),
    ],
)
def test_unknown(schedule: Schedule) -> None:
    assert curve(schedule, BASE, STEPS) is None
