"""Generate trainlint/facts/torch.json from the installed torch.

trainlint never imports torch at run time; what it knows about PyTorch's classes
(which optimizers and schedulers exist, their argument order and defaults, which
nn layers exist) comes from this file. Run it after changing the pinned torch:

    python tools/gen_torch_facts.py            # rewrite the data file
    python tools/gen_torch_facts.py --check    # exit 1 if the file is stale

tests/test_torch_facts.py runs the check.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import sys
import typing
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "trainlint" / "facts" / "torch.json"


def _plain(value: object) -> object:
    """A JSON-able default, or a marker for defaults trainlint cannot use."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, tuple) and all(isinstance(v, (int, float, type(None))) for v in value):
        return list(value)
    return "<object>"


def _signature(cls: type) -> dict:
    params = list(_init_signature(cls).parameters.values())[1:]
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    keyword_only = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    defaults = {p.name: _plain(p.default) for p in params if p.default is not p.empty}
    return {"positional": positional, "keyword_only": keyword_only, "defaults": defaults}


def _init_signature(cls: type) -> inspect.Signature:
    """`__init__`'s signature; RNN, LSTM and GRU take `*args, **kwargs` and declare the real one as an overload."""
    signature = inspect.signature(cls.__init__)
    varargs = all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in list(signature.parameters.values())[1:])
    if varargs and inspect.isfunction(cls.__init__):  # Python 3.11's typing.get_overloads
        for overload in typing.get_overloads(cls.__init__):
            declared = inspect.signature(overload)
            if any(p.kind is p.POSITIONAL_OR_KEYWORD for p in list(declared.parameters.values())[1:]):
                return declared
    return signature


def _classes(namespace: object, base: type | tuple[type, ...], public: str) -> dict:
    out = {}
    for name in sorted(dir(namespace)):
        cls = getattr(namespace, name)
        if name.startswith("_") or not inspect.isclass(cls) or not issubclass(cls, base):
            continue
        if cls in (base if isinstance(base, tuple) else (base,)):
            continue
        out[name] = _entry(cls, public)
    return out


def _entry(cls: type, public: str) -> dict:
    qualname = f"{public}.{cls.__name__}"
    aliases = sorted({f"{cls.__module__}.{cls.__qualname__}"} - {qualname})
    return {"qualname": qualname, "aliases": aliases, **_signature(cls)}


def _functions(namespace: object, names: list[str], public: str) -> dict:
    out = {}
    for name in names:
        params = list(inspect.signature(getattr(namespace, name)).parameters.values())
        positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        out[name] = {"qualname": f"{public}.{name}", "positional": positional}
    return out


def generate() -> dict:
    import torch
    import torch.amp
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim as optim
    import torch.optim.lr_scheduler as sched
    import torch.utils.data as data

    schedulers = _classes(sched, sched.LRScheduler, "torch.optim.lr_scheduler")  # ReduceLROnPlateau included
    schedulers.pop("LRScheduler", None)  # the abstract base
    layers = _classes(nn, nn.Module, "torch.nn")
    losses = {name: layers.pop(name) for name in list(layers) if issubclass(getattr(nn, name), nn.modules.loss._Loss)}
    data_classes = _classes(data, (data.DataLoader, data.Dataset, data.Sampler), "torch.utils.data")
    for base in (data.DataLoader, data.Dataset, data.Sampler):  # _classes leaves out the bases themselves
        data_classes[base.__name__] = _entry(base, "torch.utils.data")
    return {
        "torch_version": torch.__version__.split("+")[0],
        "optimizers": _classes(optim, optim.Optimizer, "torch.optim"),
        "schedulers": schedulers,
        "layers": layers,
        "losses": losses,
        "data": data_classes,
        "amp": _scalers(),
        "loss_functions": _functions(F, _functional_losses(F), "torch.nn.functional"),
    }


def _functional_losses(F: object) -> list[str]:
    named = {"cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"}
    return sorted(n for n in dir(F) if n.endswith("_loss") or n in named)


def _scalers() -> dict:
    """GradScaler under each name torch gives it; the device-specific ones take other arguments, so
    each has its own entry (keyed by qualname)."""
    import torch.amp
    import torch.cpu.amp
    import torch.cuda.amp

    out = {}
    for cls, public in (
        (torch.amp.GradScaler, "torch.amp"),
        (torch.cuda.amp.GradScaler, "torch.cuda.amp"),
        (torch.cpu.amp.GradScaler, "torch.cpu.amp"),
    ):
        entry = _entry(cls, public)
        out[entry["qualname"]] = {"name": cls.__name__, **entry}
    return out


def render(facts: dict) -> str:
    return json.dumps(facts, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = render(generate())
    if args.check:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: run python tools/gen_torch_facts.py", file=sys.stderr)
            return 1
        print(f"{OUT} matches the installed torch")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
