"""Generate trainlint/facts/torchvision.json from the torchvision wheel paired with the pinned torch.

trainlint knows `torchvision.models.resnet50()`, `vit_b_16(weights=...)`, ... without importing
torchvision, which cannot be imported beside torch 2.13.0+cpu (its compiled operators do not load).

    python tools/gen_torchvision_facts.py                # pip download --no-deps the wheel, rewrite the table
    python tools/gen_torchvision_facts.py --wheel W.whl  # from a wheel on disk
    python tools/gen_torchvision_facts.py --check        # exit 1 if the shipped table differs (its date aside)

Two passes over the wheel's `torchvision/models/**/*.py`, unzipped to a temporary directory:
1. `ast`: every public constructor (`@register_model`), the Weights enum of its `weights=` argument, and
   each enum entry's `meta`: `num_params`, `min_size` and the number of `categories`.
2. torch: the same sources run as plain Python on meta tensors (the package's `__init__` and its
   compiled operators are skipped; nothing is downloaded). Each constructor is built with its
   default arguments (weights=None) and with num_classes=10 and 20; that gives its parameter count,
   the parameters each class adds (exact: it is checked to be linear), the classifier's in_features
   when one Linear layer depends on num_classes, and whether the default model has batch norm,
   dropout (p > 0) or stochastic depth. Each enum entry is also built and its count checked
   against its `num_params`, so the table only holds numbers torch agrees with.

tests/test_torchvision_facts.py runs the check when the wheel can be had, else checks spot values.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import importlib
import itertools
import json
import subprocess
import sys
import tempfile
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

VERSION = "0.28.0"  # the torchvision release built against torch 2.13.0
OUT = Path(__file__).resolve().parent.parent / "trainlint" / "facts" / "torchvision.json"
_UNKNOWN = object()


# ---------------------------------------------------------------- the wheel


def download(directory: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            f"torchvision=={VERSION}",
            "-d",
            str(directory),
        ],
        check=True,
    )
    return next(directory.glob("torchvision-*.whl"))


def unpack(wheel: Path, directory: Path) -> Path:
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(directory, [n for n in archive.namelist() if n.startswith("torchvision/") and n.endswith(".py")])
    return directory / "torchvision"


# ---------------------------------------------------------------- pass 1: ast


class Source:
    """One module's top level: assignments, imports, classes and functions, by name."""

    def __init__(self, qualname: str, path: Path, is_package: bool) -> None:
        self.qualname = qualname
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.package = qualname if is_package else qualname.rpartition(".")[0]
        self.assigns: dict[str, ast.expr] = {}
        self.imports: dict[str, tuple[str, str]] = {}
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.assigns[node.targets[0].id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                self.assigns[node.target.id] = node.value
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node)
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (base, alias.name)

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = self.package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1])
        return f"{base}.{node.module}" if node.module else base

    def classes(self) -> Iterator[ast.ClassDef]:
        return (n for n in self.tree.body if isinstance(n, ast.ClassDef))

    def functions(self) -> Iterator[ast.FunctionDef]:
        return (n for n in self.tree.body if isinstance(n, ast.FunctionDef))


class Sources:
    def __init__(self, root: Path) -> None:
        self.modules: dict[str, Source] = {}
        for path in sorted((root / "models").rglob("*.py")):
            parts = path.relative_to(root.parent).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            qualname = ".".join(parts[:-1] if is_package else parts)
            self.modules[qualname] = Source(qualname, path, is_package)

    def value(self, source: Source, node: ast.expr) -> Any:
        """A literal value, following module-level names and imports; `_UNKNOWN` otherwise."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List)):
            return [self.value(source, e) for e in node.elts]
        if isinstance(node, ast.Dict):
            out: dict[str, Any] = {}
            for key, item in zip(node.keys, node.values, strict=True):
                if key is None:  # **splat
                    splat = self.value(source, item)
                    out.update(splat if isinstance(splat, dict) else {})
                elif isinstance(key, ast.Constant):
                    out[key.value] = self.value(source, item)
            return out
        if isinstance(node, ast.Name):
            return self.name(source, node.id)
        return _UNKNOWN

    def name(self, source: Source, name: str) -> Any:
        if name in source.assigns:
            return self.value(source, source.assigns[name])
        if name in source.imports:
            module, attr = source.imports[name]
            if module in self.modules:
                return self.name(self.modules[module], attr)
        return _UNKNOWN

    def class_qualname(self, source: Source, name: str) -> str | None:
        if any(c.name == name for c in source.classes()):
            return f"{source.qualname}.{name}"
        module, attr = source.imports.get(name, ("", ""))
        return self.class_qualname(self.modules[module], attr) if module in self.modules else None


def weights_enums(sources: Sources) -> dict[str, dict[str, Any]]:
    enums = {}
    for source in sources.modules.values():
        for cls in source.classes():
            if not any(isinstance(b, ast.Name) and b.id == "WeightsEnum" for b in cls.bases):
                continue
            entries, default = {}, None
            for node in cls.body:
                if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
                    continue
                name = node.targets[0].id
                if isinstance(node.value, ast.Name):
                    default = node.value.id
                elif isinstance(node.value, ast.Call):
                    meta = next((k.value for k in node.value.keywords if k.arg == "meta"), None)
                    entries[name] = _meta(sources.value(source, meta) if meta is not None else {})
            enums[f"{source.qualname}.{cls.name}"] = {"entries": entries, "default": default}
    return enums


def _meta(meta: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"num_params": meta.get("num_params"), "min_size": None, "num_categories": None}
    size = meta.get("min_size")
    if isinstance(size, list) and all(isinstance(s, int) for s in size):
        out["min_size"] = size
    categories = meta.get("categories")
    if isinstance(categories, list):
        out["num_categories"] = len(categories)
    return out


def constructors(sources: Sources) -> dict[str, dict[str, Any]]:
    """Public builders: functions decorated with @register_model, by defining qualname."""
    out = {}
    for source in sources.modules.values():
        for fn in source.functions():
            registry = _registered_name(fn)
            if registry is None:
                continue
            arguments = {a.arg: a for a in fn.args.kwonlyargs + fn.args.args}
            weights = arguments.get("weights")
            enums = [sources.class_qualname(source, n) for n in _annotation_names(weights.annotation)] if weights else []
            parts = source.qualname.split(".")
            out[f"{source.qualname}.{fn.name}"] = {
                "name": registry,
                "task": parts[2] if len(parts) > 3 else "classification",
                "weights": [e for e in enums if e],
            }
    return out


def _registered_name(fn: ast.FunctionDef) -> str | None:
    for decorator in fn.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if isinstance(target, ast.Name) and target.id == "register_model":
            named = [k.value for k in (call.keywords if call else []) if k.arg == "name"]
            return named[0].value if named and isinstance(named[0], ast.Constant) else fn.name
    return None


def _annotation_names(node: ast.expr | None) -> list[str]:
    """`Optional[Union[A, B]]` -> [A, B]."""
    if node is None:
        return []
    names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
    return [n for n in names if n not in ("Optional", "Union")]


# ---------------------------------------------------------------- pass 2: torch


class _Preset:
    """Stands in for the transform presets (which need PIL): a constructor builds no transform."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass


def import_models(root: Path) -> types.ModuleType:
    """torchvision.models from the unpacked sources, without torchvision's __init__ (which loads the
    compiled operators) and without the image utilities (PIL): stub packages and the two helpers the
    model code takes from torchvision.utils, compiled from their own source."""
    import torch

    def package(name: str, path: Path | None = None, **attrs: object) -> types.ModuleType:
        module = types.ModuleType(name)
        if path is not None:
            module.__path__ = [str(path)]
        module.__dict__.update(attrs)
        sys.modules[name] = module
        return module

    utils = ast.parse((root / "utils.py").read_text(encoding="utf-8"))
    helpers = ast.Module(
        [n for n in utils.body if isinstance(n, ast.FunctionDef) and n.name in ("_log_api_usage_once", "_make_ntuple")], []
    )
    namespace: dict[str, Any] = {"collections": __import__("collections"), "repeat": itertools.repeat, "torch": torch}
    namespace |= {"Any": Any, "FunctionType": types.FunctionType}
    exec(compile(helpers, str(root / "utils.py"), "exec"), namespace)
    package("torchvision", root)
    package("torchvision.transforms", root / "transforms")
    presets = {
        n: _Preset
        for n in ("ImageClassification", "ObjectDetection", "SemanticSegmentation", "VideoClassification", "OpticalFlow")
    }
    package(
        "torchvision.transforms._presets",
        InterpolationMode=types.SimpleNamespace(BICUBIC="bicubic", BILINEAR="bilinear"),
        **presets,
    )
    package("torchvision.utils", _log_api_usage_once=namespace["_log_api_usage_once"], _make_ntuple=namespace["_make_ntuple"])
    return importlib.import_module("torchvision.models")


@contextlib.contextmanager
def _no_downloads(models: types.ModuleType) -> Iterator[None]:
    """Weights given to a builder change the architecture (image size, frozen batch norm) but their
    values do not matter here: loading them is skipped."""
    import torch

    enum, load = models.WeightsEnum.get_state_dict, torch.nn.Module.load_state_dict
    models.WeightsEnum.get_state_dict = lambda self, *a, **k: {}
    torch.nn.Module.load_state_dict = lambda self, *a, **k: None  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        models.WeightsEnum.get_state_dict = enum
        torch.nn.Module.load_state_dict = load  # type: ignore[method-assign]


@contextlib.contextmanager
def _parameters_on_meta() -> Iterator[None]:
    """Each parameter and buffer moves to the meta device as it is registered, before its initialization
    runs: no memory, no compute. (A default device of meta would not do: RegNet computes its widths with
    tensors.)"""
    import torch.nn as nn

    register, register_buffer = nn.Module.register_parameter, nn.Module.register_buffer

    def parameter(self: nn.Module, name: str, param: nn.Parameter | None) -> None:
        register(self, name, param)
        if param is not None:
            self._parameters[name] = nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)

    def buffer(self: nn.Module, name: str, tensor: Any, persistent: bool = True) -> None:
        register_buffer(self, name, tensor.to("meta") if tensor is not None else None, persistent)

    nn.Module.register_parameter, nn.Module.register_buffer = parameter, buffer  # type: ignore[method-assign]
    try:
        yield
    finally:
        nn.Module.register_parameter, nn.Module.register_buffer = register, register_buffer  # type: ignore[method-assign]


def _build(models: types.ModuleType, fn: Any, **kwargs: Any) -> Any:
    with _parameters_on_meta(), _no_downloads(models):
        return fn(**kwargs)


def _count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def measure(models: types.ModuleType, qualname: str) -> dict[str, Any]:
    """What the built default model says: its count, what depends on num_classes, its regularizers."""
    import torch.nn as nn

    fn = _resolve(qualname)
    model = _build(models, fn)
    out: dict[str, Any] = {"num_params": _count(model)}
    out["batch_norm"] = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    out["dropout"] = any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in model.modules())
    out["stochastic_depth"] = any(type(m).__name__ == "StochasticDepth" and m.p > 0 for m in model.modules())
    out |= _classes(models, fn, out["num_params"])
    return out


def _classes(models: types.ModuleType, fn: Any, default_count: int) -> dict[str, Any]:
    """num_classes: the default, the parameters each class adds, and the classifier's in_features."""
    out: dict[str, Any] = {"num_classes": None, "params_per_class": None, "classifier_in_features": None}
    try:
        ten, twenty = _build(models, fn, num_classes=10), _build(models, fn, num_classes=20)
    except TypeError:  # the builder takes no num_classes (optical flow)
        return out
    per_class, rest = divmod(_count(twenty) - _count(ten), 10)
    extra, rest2 = divmod(default_count - _count(ten), per_class) if per_class > 0 else (0, 1)
    if rest or rest2:
        return out
    out["num_classes"], out["params_per_class"] = 10 + extra, per_class
    shapes = dict((n, p.shape) for n, p in twenty.named_parameters())
    changed = {n.rpartition(".")[0] for n, p in ten.named_parameters() if shapes.get(n) != p.shape}
    if len(changed) == 1:
        layer = ten.get_submodule(changed.pop())
        if type(layer).__name__ == "Linear" and layer.in_features + (layer.bias is not None) == per_class:
            out["classifier_in_features"] = layer.in_features
    return out


def check_entries(models: types.ModuleType, enums: dict[str, dict[str, Any]], builders: dict[str, dict[str, Any]]) -> list[str]:
    """Build every constructor with each of its weights entries: the count must be the entry's num_params."""
    problems = []
    for qualname, entry in builders.items():
        if entry["task"] == "quantization":
            # Their quantized weights need quantize=True (a quantized model); given float weights they
            # build a float model without the auxiliary classifiers the float builder keeps (inception_v3).
            continue
        fn = _resolve(qualname)
        for enum_name in entry["weights"]:
            enum = _resolve(enum_name)
            for weight, meta in enums[enum_name]["entries"].items():
                count = _count(_build(models, fn, weights=getattr(enum, weight)))
                if count != meta["num_params"]:
                    problems.append(f"{qualname}(weights={weight}): torch counts {count}, the meta says {meta['num_params']}")
    return problems


def _min_size(enums: list[dict[str, Any]], num_params: int) -> list[int] | None:
    """The smallest input the default architecture takes: the smallest min_size of the entries with its
    parameter count (ViT's larger-image weights resize its position embedding, so their count differs;
    RegNet's SWAG weights want 384 pixels of an architecture that takes any), of any entry if none has it."""
    entries = [meta for enum in enums for meta in enum["entries"].values()]
    same = [m for m in entries if m["num_params"] == num_params] or entries
    return min((m["min_size"] for m in same), key=lambda size: size[0] * size[1], default=None)


def _resolve(qualname: str) -> Any:
    module, _, name = qualname.rpartition(".")
    return getattr(importlib.import_module(module), name)


def aliases(models: types.ModuleType, qualname: str) -> list[str]:
    """The public names of an object: its defining module and the packages (or __all__ lists) re-exporting it."""
    target = _resolve(qualname)
    names = set()
    for module_name, module in sorted(sys.modules.items()):
        if not module_name.startswith("torchvision.models") or module is None:
            continue
        public = hasattr(module, "__path__") or qualname.rpartition(".")[2] in getattr(module, "__all__", ())
        for attr, value in vars(module).items():
            if value is target and public and not attr.startswith("_"):
                names.add(f"{module_name}.{attr}")
    return sorted(names - {qualname})


# ---------------------------------------------------------------- the table


def generate(wheel: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        wheel = wheel or download(Path(tmp))
        root = unpack(wheel, Path(tmp) / "src")
        sources = Sources(root)
        enums, builders = weights_enums(sources), constructors(sources)
        models = import_models(root)
        registered = set(models.list_models())
        missing = registered ^ {b["name"] for b in builders.values()}
        problems = [f"registered but not found by ast (or the reverse): {sorted(missing)}"] if missing else []
        problems += [
            f"{e}.{w}: no num_params or min_size in its meta"
            for e, enum in enums.items()
            for w, m in enum["entries"].items()
            if not (isinstance(m["num_params"], int) and m["min_size"])
        ]
        problems += check_entries(models, enums, builders)
        table: dict[str, Any] = {}
        for qualname, builder in sorted(builders.items()):
            measured = measure(models, qualname)
            builder = {**builder, **measured, "aliases": aliases(models, qualname)}
            builder["min_size"] = _min_size([enums[e] for e in builder["weights"]], measured["num_params"])
            table[qualname] = builder
        weights = {name: {**enum, "aliases": aliases(models, name)} for name, enum in sorted(enums.items())}
        if problems:
            raise SystemExit("torchvision facts disagree with torch:\n" + "\n".join(problems))
    import torch

    return {
        "generated": {
            "by": "tools/gen_torchvision_facts.py",
            "from": f"torchvision=={VERSION} wheel (pip download --no-deps): torchvision/models/**/*.py",
            "torch": torch.__version__.split("+")[0],
            "on": datetime.date.today().isoformat(),
        },
        "torchvision_version": VERSION,
        "constructors": table,
        "weights": weights,
    }


def render(facts: dict[str, Any]) -> str:
    return json.dumps(facts, indent=1, sort_keys=True) + "\n"


def _dateless(facts: dict[str, Any]) -> dict[str, Any]:
    return {**facts, "generated": {k: v for k, v in facts["generated"].items() if k != "on"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a torchvision=={VERSION} wheel on disk (default: pip download it)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    facts = generate(args.wheel)
    if args.check:
        shipped = json.loads(OUT.read_text(encoding="utf-8"))
        if _dateless(shipped) != _dateless(facts):
            print(f"{OUT} is stale: run python tools/gen_torchvision_facts.py", file=sys.stderr)
            return 1
        print(f"{OUT} matches torchvision {VERSION}")
        return 0
    OUT.write_text(render(facts), encoding="utf-8")
    print(f"wrote {OUT}: {len(facts['constructors'])} constructors, {len(facts['weights'])} weights enums")
    return 0


if __name__ == "__main__":
    sys.exit(main())
