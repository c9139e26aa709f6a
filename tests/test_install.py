"""A built wheel installs into a fresh environment without torch, and runs from its own files."""

import subprocess
import sys
import venv

from conftest import ROOT


def test_wheel_installs_and_runs_without_torch(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("trainlint-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    has_torch = subprocess.run([str(python), "-c", "import torch"], capture_output=True)
    assert has_torch.returncode != 0, "torch must not be installed as a dependency"

    trainlint = env_dir / "bin" / "trainlint"
    # The rule page comes from the installed package, not from this checkout.
    page = subprocess.run([str(trainlint), "rule", "TL101"], capture_output=True, text=True, cwd=tmp_path)
    assert page.returncode == 0
    assert page.stdout.startswith("# TL101 learning-rate-too-high")
    where = subprocess.run(
        [str(python), "-c", "import trainlint.pages as p; print(p.pages_dir())"], capture_output=True, text=True, cwd=tmp_path
    )
    assert str(env_dir) in where.stdout and "_pages" in where.stdout

    check = subprocess.run(
        [str(trainlint), "check", "--no-cache", str(ROOT / "examples")], capture_output=True, text=True, cwd=tmp_path
    )
    assert check.returncode == 1, check.stderr
    assert "warning[TL101]: SGD learning rate 10.0 (default of --lr, line 18)" in check.stdout
