"""The learning rate a torch scheduler gives, step by step, computed without torch.

`curve(kind, arguments, base_lr, steps)` is the learning rate in effect after 0, 1, ... steps of the
scheduler (index 0: right after it is built), as torch's own scheduler gives it on an optimizer
whose learning rate is `base_lr`; tests compare every kind with torch. None when the kind is not
one of these, or an argument it needs is not known (a number the file does not state).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Factor = Callable[[int], float]  # LambdaLR's lr_lambda, as a function of the step


@dataclass(frozen=True)
class Schedule:
    """A scheduler and its arguments: numbers, lists of numbers, nested schedules for SequentialLR and
    ChainedScheduler (`schedulers`), a factor function for LambdaLR (`lr_lambda`)."""

    kind: str
    arguments: Mapping[str, Any]


KINDS = (
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "CyclicLR",
    "LinearLR",
    "ConstantLR",
    "PolynomialLR",
    "LambdaLR",
    "SequentialLR",
    "ChainedScheduler",
)


def curve(schedule: Schedule, base_lr: float, steps: int) -> list[float] | None:
    """The learning rate after each of `steps` steps (the first: before any step)."""
    try:
        rate = _rate(schedule, base_lr)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if rate is None:
        return None
    limit = _limit(schedule)
    try:
        return [rate(step) for step in range(min(steps, limit) if limit is not None else steps)]
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None


DEFAULT_LENGTH = 100  # steps drawn when neither the loop nor the schedule says how many


def natural_length(schedule: Schedule) -> int:
    """Steps that show the whole shape of a schedule, for a loop whose length is not known."""
    a = schedule.arguments
    lengths: dict[str, Callable[[], Any]] = {
        "CosineAnnealingLR": lambda: a["T_max"] + 1,
        "StepLR": lambda: 4 * a["step_size"],
        "MultiStepLR": lambda: max(a["milestones"]) * 5 // 4 + 1,
        "CosineAnnealingWarmRestarts": lambda: 3 * a["T_0"] * a.get("T_mult", 1),
        "CyclicLR": lambda: 2 * (a.get("step_size_up", 2000) + (a.get("step_size_down") or a.get("step_size_up", 2000))),
        "LinearLR": lambda: 2 * a.get("total_iters", 5),
        "ConstantLR": lambda: 2 * a.get("total_iters", 5),
        "PolynomialLR": lambda: a.get("total_iters", 5) + 1,
        "OneCycleLR": lambda: _limit(schedule),
    }
    found = lengths.get(schedule.kind)
    try:
        length = int(found()) if found is not None else DEFAULT_LENGTH
    except (KeyError, TypeError, ValueError):
        return DEFAULT_LENGTH
    return max(2, min(length, 100_000))


def _limit(schedule: Schedule) -> int | None:
    """How many values the scheduler has (OneCycleLR raises when stepped past its total)."""
    if schedule.kind == "OneCycleLR":
        return _total_steps(schedule.arguments) + 1
    return None


def _number(arguments: Mapping[str, Any], name: str, default: Any = ...) -> float:
    value = arguments.get(name, default)
    if value is ... or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(name)
    return value


def _rate(schedule: Schedule, base: float) -> Callable[[int], float] | None:
    a = schedule.arguments
    kind = schedule.kind
    if kind == "StepLR":
        size, gamma = int(_number(a, "step_size")), _number(a, "gamma", 0.1)
        return lambda e: base * gamma ** (e // size)
    if kind == "MultiStepLR":
        milestones = sorted(int(m) for m in a["milestones"])
        gamma = _number(a, "gamma", 0.1)
        return lambda e: base * gamma ** bisect_right(milestones, e)
    if kind == "ExponentialLR":
        gamma = _number(a, "gamma")
        return lambda e: base * gamma**e
    if kind == "CosineAnnealingLR":
        t_max, eta_min = _number(a, "T_max"), _number(a, "eta_min", 0.0)
        return lambda e: eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2
    if kind == "CosineAnnealingWarmRestarts":
        return _warm_restarts(a, base)
    if kind == "OneCycleLR":
        return _one_cycle(a)
    if kind == "CyclicLR":
        return _cyclic(a)
    if kind in ("LinearLR", "ConstantLR", "PolynomialLR", "LambdaLR"):
        factor = _factor(kind, a)
        return lambda e: base * factor(e)
    if kind == "SequentialLR":
        return _sequential(a, base)
    if kind == "ChainedScheduler":
        return _chained(a, base)
    return None


def _factor(kind: str, a: Mapping[str, Any]) -> Factor:
    """The multiplier of the base rate of the schedulers that are one."""
    if kind == "LinearLR":
        start, end = _number(a, "start_factor", 1.0 / 3), _number(a, "end_factor", 1.0)
        total = int(_number(a, "total_iters", 5))
        return lambda e: start + (end - start) * min(total, e) / total
    if kind == "ConstantLR":
        factor, total = _number(a, "factor", 1.0 / 3), int(_number(a, "total_iters", 5))
        return lambda e: factor if e < total else 1.0
    if kind == "PolynomialLR":
        total, power = int(_number(a, "total_iters", 5)), _number(a, "power", 1.0)
        return lambda e: (1.0 - min(total, e) / total) ** power
    function = a["lr_lambda"]
    if not callable(function):
        raise TypeError("lr_lambda")
    return lambda e: float(function(e))


def _warm_restarts(a: Mapping[str, Any], base: float) -> Callable[[int], float]:
    t_0, t_mult, eta_min = int(_number(a, "T_0")), int(_number(a, "T_mult", 1)), _number(a, "eta_min", 0.0)
    if t_0 <= 0 or t_mult < 1:
        raise ValueError("T_0")

    def rate(e: int) -> float:
        t_cur, t_i = e, t_0
        while t_cur >= t_i:  # the restarts before this step
            t_cur -= t_i
            t_i *= t_mult
        return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2

    return rate


def _total_steps(a: Mapping[str, Any]) -> int:
    if a.get("total_steps") is not None:
        return int(_number(a, "total_steps"))
    return int(_number(a, "epochs")) * int(_number(a, "steps_per_epoch"))


def _anneal(strategy: str) -> Callable[[float, float, float], float]:
    if strategy == "linear":
        return lambda start, end, pct: (end - start) * pct + start
    return lambda start, end, pct: end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _one_cycle(a: Mapping[str, Any]) -> Callable[[int], float]:
    total = _total_steps(a)
    max_lr = _number(a, "max_lr")
    pct = _number(a, "pct_start", 0.3)
    initial = max_lr / _number(a, "div_factor", 25.0)
    minimum = initial / _number(a, "final_div_factor", 1e4)
    anneal = _anneal(str(a.get("anneal_strategy", "cos")))
    if a.get("three_phase", False):
        phases = [
            (float(pct * total) - 1, initial, max_lr),
            (float(2 * pct * total) - 2, max_lr, initial),
            (total - 1.0, initial, minimum),
        ]
    else:
        phases = [(float(pct * total) - 1, initial, max_lr), (total - 1.0, max_lr, minimum)]

    def rate(step: int) -> float:
        start = 0.0
        for i, (end, begin_lr, end_lr) in enumerate(phases):
            if step <= end or i == len(phases) - 1:
                return anneal(begin_lr, end_lr, (step - start) / (end - start))
            start = end
        raise AssertionError("unreachable")

    return rate


def _cyclic(a: Mapping[str, Any]) -> Callable[[int], float]:
    base_lr, max_lr = _number(a, "base_lr"), _number(a, "max_lr")
    up = float(_number(a, "step_size_up", 2000))
    down_given = a.get("step_size_down")
    down = float(_number(a, "step_size_down")) if down_given is not None else up
    total = up + down
    ratio = up / total
    mode = str(a.get("mode", "triangular"))
    gamma = _number(a, "gamma", 1.0)
    if a.get("scale_fn") is not None:
        raise ValueError("scale_fn")

    def rate(e: int) -> float:
        cycle = math.floor(1 + e / total)
        x = 1.0 + e / total - cycle
        scale = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        height = (max_lr - base_lr) * scale
        if mode == "triangular2":
            return base_lr + height * (1 / (2.0 ** (cycle - 1)))
        if mode == "exp_range":
            return base_lr + height * gamma**e
        return base_lr + height

    return rate


def _schedules(a: Mapping[str, Any]) -> Sequence[Schedule]:
    found = a["schedulers"]
    if not found or not all(isinstance(s, Schedule) for s in found):
        raise TypeError("schedulers")
    return list(found)


def _sequential(a: Mapping[str, Any], base: float) -> Callable[[int], float] | None:
    """Each scheduler in turn, counting its steps from 0 again at its milestone."""
    schedules = _schedules(a)
    milestones = [int(m) for m in a["milestones"]]
    if len(milestones) != len(schedules) - 1:
        raise ValueError("milestones")
    rates = [_rate(s, base) for s in schedules]
    if any(r is None for r in rates):
        return None

    def rate(e: int) -> float:
        index = bisect_right(milestones, e)
        since = e - milestones[index - 1] if index > 0 else e
        found = rates[index]
        assert found is not None
        return found(since)

    return rate


def _chained(a: Mapping[str, Any], base: float) -> Callable[[int], float] | None:
    """Every scheduler at once, each multiplying the rate (the factor kinds, step and exponential decays)."""
    factors: list[Factor] = []
    for s in _schedules(a):
        rate = _rate(s, 1.0) if s.kind in _MULTIPLYING else None
        if rate is None:
            return None
        factors.append(rate)
    return lambda e: base * math.prod(f(e) for f in factors)


# Schedulers whose step multiplies the rate by a factor of the step alone: chaining them multiplies.
_MULTIPLYING = frozenset({"StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "ConstantLR", "PolynomialLR"})
