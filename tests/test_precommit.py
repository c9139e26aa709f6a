"""The pre-commit hooks, run by pre-commit itself on a scratch git repository (offline)."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, cell_sources, copy_of_this_project, notebook_json, readme_blocks

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True, capture_output=True
    )


def snapshot_of_this_project(tmp_path: Path) -> Path:
    """pre-commit installs a hook repository from a git commit: make one of the working tree."""
    repo = copy_of_this_project(tmp_path / "trainlint-repo")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot")
    return repo


def test_manifest_is_valid():
    proc = subprocess.run(
        [*PRE_COMMIT, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hooks_through_pre_commit_try_repo(tmp_path):
    hooks = snapshot_of_this_project(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    (work / "train.py").write_text("import torch\nopt = torch.optim.SGD(p, lr=10)\n")
    (work / "stale.py").write_text("import torch\nopt = torch.optim.SGD(p, lr=0.1)  # noqa: TL101\n")
    (work / "notes.md").write_text("not python\n")
    # A notebook (pre-commit's `jupyter` type) with an unused suppression in its second cell.
    notebook = notebook_json("import torch", ("markdown", "# Notes"), "opt = torch.optim.SGD(p, lr=0.1)  # noqa: TL101")
    (work / "explore.ipynb").write_text(notebook)
    git(work, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PIP_NO_INPUT": "1"}

    check = subprocess.run(
        [*PRE_COMMIT, "try-repo", str(hooks), "trainlint", "--all-files"],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    output = check.stdout + check.stderr
    assert check.returncode == 1, output
    assert "warning[TL101]: SGD learning rate 10.0" in output and "--> train.py:2:26\n" in output
    assert "warning[TL003] [*]: Unused suppression" in output and "--> stale.py:2:35\n" in output
    assert "--> explore.ipynb:cell 3:1:35\n" in output, output

    fix = subprocess.run(
        [*PRE_COMMIT, "try-repo", str(hooks), "trainlint-fix", "--all-files"],
        cwd=work,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert fix.returncode == 1, fix.stdout + fix.stderr  # files were modified, and TL101 remains
    assert (work / "stale.py").read_text() == "import torch\nopt = torch.optim.SGD(p, lr=0.1)\n"
    assert cell_sources((work / "explore.ipynb").read_text())[2] == "opt = torch.optim.SGD(p, lr=0.1)"
    assert (work / "train.py").read_text() == "import torch\nopt = torch.optim.SGD(p, lr=10)\n", "unsafe fixes stay off"


def test_the_projects_own_hooks_pass_on_the_checkout(tmp_path):
    """`.pre-commit-config.yaml` (ruff check, ruff format, mypy) as a contributor runs it."""
    repo = snapshot_of_this_project(tmp_path)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PIP_NO_INPUT": "1"}
    validate = subprocess.run([*PRE_COMMIT, "validate-config"], cwd=repo, capture_output=True, text=True, env=env)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    run = subprocess.run(
        [*PRE_COMMIT, "run", "--all-files", "--show-diff-on-failure"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    for hook in ("ruff check", "ruff format", "mypy (strict, trainlint/)"):
        assert any(line.startswith(hook) and line.rstrip().endswith("Passed") for line in output.splitlines()), output


def test_readme_snippet_as_written(tmp_path):
    """The README's configuration and commands, with the repository's URL pointing at a local clone:
    autoupdate pins a commit (there is no tag yet) and the hook runs."""
    hooks = snapshot_of_this_project(tmp_path)
    url = "https://github.com/trainlint/trainlint"
    (config,) = readme_blocks("pre-commit", "yaml")
    (commands,) = readme_blocks("pre-commit", "sh")
    assert url in config and url in commands
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    (work / "train.py").write_text("import torch\nopt = torch.optim.SGD(p, lr=10)\n")
    (work / ".pre-commit-config.yaml").write_text(config.replace(url, str(hooks)))
    git(work, "add", "-A")
    bin_dir = str(Path(sys.executable).parent)  # where pip installed pre-commit
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "PIP_NO_INPUT": "1",
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
    }
    lines = [line for line in commands.replace(url, str(hooks)).splitlines() if line.strip()]
    assert [line.split()[:2] for line in lines] == [["pre-commit", "autoupdate"], ["pre-commit", "run"]]
    update = subprocess.run(["bash", "-c", lines[0]], cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert update.returncode == 0, update.stdout + update.stderr
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=hooks, capture_output=True, text=True).stdout.strip()
    assert f"rev: {head}" in (work / ".pre-commit-config.yaml").read_text()
    run = subprocess.run(["bash", "-c", lines[1]], cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 1 and "warning[TL101]: SGD learning rate 10.0" in run.stdout, run.stdout + run.stderr
