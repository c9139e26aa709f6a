"""`trainlint explain`: each stage's verdict and evidence, the learning-rate curves, the formats, and a
clear answer on files that are not training scripts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import torch
from conftest import ROOT, run_cli

from trainlint.explain import OK, PROBLEM, UNKNOWN, explain_bytes, explain_path, stage_of

BUGGY = ROOT / "examples" / "buggy" / "scheduler_steps.py"
CLEAN = ROOT / "examples" / "clean" / "scheduled_training.py"

SCRIPT = """
import torch
from torch import nn

EPOCHS = 30

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
criterion = nn.CrossEntropyLoss()


def train(loader):
    for epoch in range(EPOCHS):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        scheduler.step()
"""


def explain(code: str, path: str = "train.py"):
    return {s.key: s for s in explain_bytes(textwrap.dedent(code).encode(), path).stages}


def test_a_clean_script_ok_with_its_evidence():
    stages = explain(SCRIPT)
    lr = stages["learning-rate"]
    assert lr.verdict == OK
    assert lr.facts[0] == "SGD (line 8): lr 0.1; momentum 0.9, weight_decay 0.0005"
    assert "per batch (the batch loop on line 16, in the epoch loop on line 14)" in lr.facts[1]
    assert "StepLR (line 9) steps per epoch (the epoch loop on line 14)" in lr.facts
    (curve,) = lr.curves
    assert (curve.scheduler, curve.per, len(curve.values)) == ("StepLR", "epoch", 30)  # the epoch loop's length
    assert curve.values == _torch_step_lr(30)
    overfitting = stages["overfitting"]
    assert overfitting.verdict == OK
    model, augmentation, validation = overfitting.facts
    assert augmentation.startswith("augmentation: no training pipeline") and validation.startswith("validation: no evaluation")
    assert model.startswith(f"Sequential: {_torch_params():,} parameters, trained by SGD; weight_decay 0.0005")
    assert "Dropout, p=0.2" in model
    assert stages["data"].verdict == UNKNOWN and "no torchvision dataset" in (stages["data"].unknown or "")
    assert stages["architecture"].verdict == OK
    assert any("(ce) is fed linear output" in f for f in stages["architecture"].facts)


def _torch_step_lr(steps: int) -> list[float]:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


def _torch_params() -> int:
    with torch.device("meta"):
        model = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(64, 2))
    return sum(p.numel() for p in model.parameters())


def test_findings_go_to_their_stage():
    report = explain_bytes(BUGGY.read_bytes(), str(BUGGY))
    stages = {s.key: s for s in report.stages}
    lr = stages["learning-rate"]
    assert lr.verdict == PROBLEM
    assert {d.code for d in lr.findings} == {"TL202", "TL203", "TL204"}
    cosine = next(c for c in lr.curves if c.scheduler == "CosineAnnealingLR")
    assert cosine.per == "batch"  # the epoch schedule stepped per batch: the curve shows the collapse
    assert "MultiStepLR (line 46) is never stepped in this file" in lr.facts
    assert stages["architecture"].facts[0].startswith("line 34: `x = F.max_pool2d(F.relu(self.conv1(x)), 2)` -> (N, 32, 16, 16)")
    assert [stage_of(c) for c in ("TL101", "TL601", "TL301", "TL608", "TL401", "TL501", "TL604", "TL307")] == [
        "learning-rate",
        "learning-rate",
        "overfitting",
        "overfitting",
        "data",
        "architecture",
        "architecture",
        "architecture",
    ]


def test_not_a_training_script():
    stages = explain("import os\nprint(os.getcwd())\n")
    assert stages["learning-rate"].unknown.startswith("no torch optimizer is built in this file")
    assert stages["overfitting"].verdict == UNKNOWN and stages["architecture"].verdict == UNKNOWN


def test_unknown_curves_say_why():
    stages = explain(SCRIPT.replace("step_size=10", "step_size=len(loader)"))
    assert stages["learning-rate"].facts[-1] == (
        "StepLR (line 9) steps per epoch (the epoch loop on line 14); its learning-rate curve is not known: "
        "step_size (`len(loader)`) is not known from this file"
    )


def test_syntax_error_is_a_clear_answer(tmp_path: Path):
    path = tmp_path / "broken.py"
    path.write_text("def train(:\n    pass\n")
    run = run_cli("explain", str(path))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert "Syntax error" in run.stdout and run.stdout.count("UNKNOWN") == 4


def test_notebook_lines_are_cells():
    notebook = ROOT / "examples" / "buggy" / "fashion_mnist.ipynb"
    report = explain_bytes(notebook.read_bytes(), str(notebook))
    facts = [f for s in report.stages for f in s.facts]
    assert facts and any("cell " in f for f in facts)
    assert not any(" (line " in f for f in facts if "cell" not in f and "line" in f)


def test_notebook_findings_and_curves_cite_cells(tmp_path: Path):
    loop = "for epoch in range(5):\n    for x, y in loader:\n        opt.zero_grad()\n"
    loop += "        nn.functional.mse_loss(model(x), y).backward()\n        opt.step()\n    sched.step()"
    cells = [
        ("code", "import torch\nfrom torch import nn"),
        ("markdown", "# Training"),
        ("code", "LR = 10.0"),
        ("code", "model = nn.Linear(4, 2)\nopt = torch.optim.SGD(model.parameters(), lr=LR)\nsched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)"),
        ("code", loop),
    ]  # fmt: skip
    notebook = tmp_path / "train.ipynb"
    notebook.write_text(json.dumps({
        "cells": [{"cell_type": kind, "metadata": {}, "source": text, **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for kind, text in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }))  # fmt: skip
    data = json.loads(run_cli("explain", str(notebook), "--output-format", "json").stdout)
    lr = data["stages"][0]
    # Script lines 4 and 7: line 2 of cell 4, line 3 of cell 4 (cell 2 is markdown, and counts).
    assert [(f["code"], f["cell"], f["line"]) for f in lr["findings"]] == [("TL101", 4, 2)]
    assert [(c["scheduler"], c["cell"], c["line"]) for c in lr["curves"]] == [("ExponentialLR", 4, 3)]
    assert lr["facts"][0] == "SGD (line 2 of cell 4): lr 10.0 (LR, line 1 of cell 3)"
    text = run_cli("explain", str(notebook)).stdout
    assert "TL101 line 2 of cell 4: SGD learning rate 10.0 (LR, line 1 of cell 3)" in text
    assert "learning rate of ExponentialLR (line 3 of cell 4), stepped per epoch:" in text
    assert not re.search(r"\bline [5-9]\b(?! of cell)", text)  # no script line is left


def test_a_long_file(tmp_path: Path):
    path = tmp_path / "long.py"
    filler = "".join(f"value_{i} = {i}\n" for i in range(5000))
    path.write_text(textwrap.dedent(SCRIPT) + filler)
    run = run_cli("explain", str(path), "--output-format", "json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["stages"][0]["verdict"] == "ok"


def test_json_keys_are_the_documented_ones(tmp_path: Path):
    run = run_cli("explain", str(BUGGY), "--output-format", "json")
    data = json.loads(run.stdout)
    assert set(data) == {"version", "path", "error", "stages"}
    assert [s["key"] for s in data["stages"]] == ["learning-rate", "overfitting", "data", "architecture"]
    for stage in data["stages"]:
        assert set(stage) == {"key", "title", "verdict", "unknown", "facts", "findings", "curves"}
        for finding in stage["findings"]:
            assert set(finding) == {"code", "name", "severity", "cell", "line", "message"}
            assert finding["cell"] is None  # a script: its own lines
        for curve in stage["curves"]:
            assert set(curve) == {"scheduler", "cell", "line", "per", "learning_rates"}
    documented = (ROOT / "README.md").read_text()
    for key in ("learning_rates", "verdict", "unknown", "facts", "findings", "curves", "cell"):
        assert f"`{key}`" in documented


def test_text_markdown_and_colour(tmp_path: Path):
    plain = run_cli("explain", str(CLEAN), env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain.stdout
    assert "1. Learning rate and optimizer steps: OK" in plain.stdout
    assert "learning rate of CosineAnnealingLR (line 44), stepped per epoch:" in plain.stdout
    coloured = run_cli("explain", str(CLEAN), env={"FORCE_COLOR": "1"})
    assert "\x1b[1;92mOK" in coloured.stdout
    out = tmp_path / "report.md"
    run_cli("explain", str(CLEAN), "--output-format", "markdown", "-o", str(out))
    text = out.read_text()
    assert text.startswith(f"# trainlint explain `{CLEAN}`")
    assert "## 3. Data: **ok**" in text and "```" in text
    assert "- DataLoader val_loader (line 11) over `val_set`, a dataset whose transforms trainlint does not read" in text


def test_missing_file_exits_2():
    run = run_cli("explain", "no/such/file.py")
    assert run.returncode == 2 and "no such file" in run.stderr


def test_html_with_svg_curves_in_chromium(tmp_path: Path):
    out = tmp_path / "report.html"
    run = run_cli("explain", str(BUGGY), "--output-format", "html", "-o", str(out))
    assert run.returncode == 0, run.stderr
    page = out.read_text()
    assert (
        page.startswith("<!DOCTYPE html>")
        and "<script" not in page
        and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )  # one self-contained file
    report = explain_bytes(BUGGY.read_bytes(), str(BUGGY))
    curves = [c for s in report.stages for c in s.curves]
    polylines = re.findall(r'<polyline points="([^"]+)"', page)
    assert [len(p.split()) for p in polylines] == [len(c.values) for c in curves]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (tests/run-all.sh installs it)")
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "explain-html.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1000,1400",
         f"--screenshot={shot}", out.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000


WARMUP_THEN_COSINE = """
import torch
from torch import nn

WARMUP = 5
model = nn.Linear(4, 2)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
warm = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / WARMUP))
decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=20)
schedule = torch.optim.lr_scheduler.SequentialLR(optimizer, [warm, decay], milestones=[WARMUP])
for epoch in range(25):
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    schedule.step()
"""


def test_a_lambda_warmup_then_cosine_as_torch_runs_it():
    lr = explain(WARMUP_THEN_COSINE)["learning-rate"]
    assert not any("never stepped" in f for f in lr.facts)  # SequentialLR steps the two it holds
    (curve,) = lr.curves
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=3e-4)
    warm = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 5))
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=20)
    schedule = torch.optim.lr_scheduler.SequentialLR(optimizer, [warm, decay], milestones=[5])
    expected = []
    for _ in range(25):
        expected.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert (curve.scheduler, curve.per) == ("SequentialLR", "epoch")
    assert curve.values == pytest.approx(expected, rel=1e-9)


def test_the_data_stage():
    code = """
    import torch
    from torchvision import datasets, transforms

    train = datasets.CIFAR10("d", train=True, transform=transforms.Compose([transforms.ToTensor()]))
    test = datasets.CIFAR10("d", train=False, transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5], [0.5])]))
    """
    data = explain(code)["data"]
    assert data.facts == [
        "CIFAR10 (line 5), training: the pipeline on line 5: ToTensor",
        "CIFAR10 (line 6), evaluation: the pipeline on line 6: ToTensor, Normalize",
    ]
    assert data.verdict == PROBLEM and [d.code for d in data.findings] == ["TL405"]


def test_the_data_stage_lists_the_loaders():
    code = """
    import argparse
    import torch
    from torchvision import datasets, transforms

    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set = datasets.MNIST("d", train=True, transform=tf)
    test_set = datasets.MNIST("d", train=False, transform=tf)
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test_set, 1000)
    model = torch.nn.Linear(784, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(3):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for x, y in test_loader:
                model(x)
    """
    data = explain(code)["data"]
    assert data.facts[2:] == [
        (
            "DataLoader train_loader (line 12) over MNIST (line 10): shuffled; batch size 64 (default of --batch-size, line 7); "
            "batches taken by the training loop on line 18"
        ),
        (
            "DataLoader test_loader (line 13) over MNIST (line 11): not shuffled (no shuffle=); batch size 1000; "
            "batches taken by the evaluation loop on line 24"
        ),
    ]
    assert data.verdict == OK


def test_the_data_stage_of_the_buggy_loaders_example():
    """examples/buggy/cifar_loaders.py: each loader with its dataset, split and loop, and the three findings."""
    report = explain_path(str(ROOT / "examples" / "buggy" / "cifar_loaders.py"))
    data = next(s for s in report.stages if s.key == "data")
    loaders = [f for f in data.facts if f.startswith("DataLoader")]
    assert [f.split(":")[0] for f in loaders] == [
        "DataLoader train_loader (line 18) over CIFAR10 (line 15) through `random_split` (line 16)",
        "DataLoader val_loader (line 19) over CIFAR10 (line 15) through `random_split` (line 16)",
        "DataLoader test_loader (line 22) over CIFAR10 (line 21)",
    ]
    assert sorted(d.code for d in data.findings) == ["TL403", "TL404", "TL406"] and data.verdict == PROBLEM


def test_the_overfitting_stage_reads_augmentation_and_validation():
    """examples/clean/cifar_loaders.py augments its training images and validates every epoch; a
    script with neither says so."""
    report = explain_path(str(ROOT / "examples" / "clean" / "cifar_loaders.py"))
    overfitting = next(s for s in report.stages if s.key == "overfitting")
    assert overfitting.facts[1:] == [
        "augmentation: RandomCrop, RandomHorizontalFlip (CIFAR10, the pipeline on line 10)",
        "validation: the evaluation loop on line 32, inside the loop on line 37",
    ]
    code = """
    import torch
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for x, y in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    """
    assert explain(code)["overfitting"].facts[1:] == [
        "augmentation: no training pipeline of a torchvision dataset is read in this file",
        "validation: no evaluation loop in this file, so overfitting would go unnoticed during training",
    ]


def test_a_loader_batch_size_from_keyword_arguments_is_not_known():
    code = """
    import torch
    from torchvision import datasets, transforms

    train_set = datasets.MNIST("d", train=True, transform=transforms.ToTensor())
    train_loader = torch.utils.data.DataLoader(train_set, shuffle=True, **loader_kwargs)
    """
    (loader,) = [f for f in explain(code)["data"].facts if f.startswith("DataLoader")]
    assert "shuffled; batch size not known;" in loader
