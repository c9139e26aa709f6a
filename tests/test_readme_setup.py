"""The README's set-up, run as written: the quick start in a fresh copy of the project, the CI
snippets' steps (GitHub Actions with and without the composite action, GitLab CI) in a fresh
virtual environment, with the repository's URL pointing at a local copy (the rest needs no network
but the package index)."""

import json
import os
import re
import subprocess
import textwrap
import venv
from pathlib import Path

import jsonschema
import junitparser
import yaml
from conftest import ROOT, copy_of_this_project, readme_blocks

URL = "git+https://github.com/trainlint/trainlint@main"
EXAMPLE = ROOT / "examples" / "buggy" / "cifar_argparse_lr.py"


def bash(script: str, cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """As GitHub runs a `shell: bash` step (and GitLab a script line): errexit and pipefail."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "CI_", "GITHUB_"))}
    env.pop("PYTHONSAFEPATH", None)
    return {**env, **extra}


def workspace(tmp_path: Path) -> Path:
    """A user's repository with one buggy training script."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "train.py").write_text(EXAMPLE.read_text())
    return work


def python_on_path(tmp_path: Path) -> dict[str, str]:
    """What actions/setup-python (or the python:3.12 image) gives: a Python whose pip installs into itself."""
    env_dir = tmp_path / "python"
    venv.create(env_dir, with_pip=True)
    return clean_env(PATH=f"{env_dir / 'bin'}:{os.environ['PATH']}")


def test_quick_start_as_written(tmp_path):
    """The first command: a fresh checkout, a fresh venv, `pip install .` (no torch), then the examples."""
    (command,) = readme_blocks("Quick start", "sh")[:1]
    checkout = copy_of_this_project(tmp_path / "trainlint")
    run = bash(command, checkout, clean_env())
    assert run.returncode == 1, run.stdout + run.stderr
    # The README's first example is what the command prints.
    readme = (ROOT / "README.md").read_text()
    example = readme.split("$ trainlint check examples/\n", 1)[1].split("```", 1)[0]
    assert example in run.stdout
    assert "warning[TL101]: SGD learning rate 10.0 (default of --lr, line 18)" in run.stdout
    assert "examples/clean" not in run.stdout
    python = checkout / ".venv" / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import torch"], capture_output=True).returncode != 0, "torch is no dependency"
    # The rule pages come from the installed package, not from the checkout.
    where = subprocess.run(
        [str(python), "-c", "import trainlint.pages as p; print(p.pages_dir())"], capture_output=True, text=True, cwd=tmp_path
    )
    assert "site-packages" in where.stdout and "_pages" in where.stdout
    page = subprocess.run(
        [str(checkout / ".venv" / "bin" / "trainlint"), "rule", "TL101"], capture_output=True, text=True, cwd=tmp_path
    )
    assert page.stdout.startswith("# TL101 learning-rate-too-high")


def test_github_actions_workflow_without_the_action(tmp_path):
    blocks = readme_blocks("GitHub Actions", "yaml")
    steps = yaml.safe_load(textwrap.dedent(blocks[1]))["steps"]
    assert [s.get("uses", "run").split("@")[0] for s in steps] == [
        "actions/checkout",
        "actions/setup-python",
        "run",
        "run",
        "run",
        "github/codeql-action/upload-sarif",
    ]
    checkout = copy_of_this_project(tmp_path / "trainlint")
    work = workspace(tmp_path)
    env = python_on_path(tmp_path)
    install, annotate, sarif = (s for s in steps if "run" in s)
    assert URL in install["run"]
    done = bash(install["run"].replace(URL, checkout.as_uri()), work, env)
    assert done.returncode == 0, done.stderr
    annotations = bash(annotate["run"], work, env)
    assert annotations.returncode == 1, "findings fail the check"
    assert annotations.stdout.startswith("::warning file=train.py,line=53,col=47,")
    assert sarif.get("if") == "always()" and steps[-1].get("if") == "always()"
    report = bash(sarif["run"], work, env)
    assert report.returncode == 0, report.stderr
    log = json.loads((work / steps[-1]["with"]["sarif_file"]).read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["TL101"]


def test_gitlab_ci_script(tmp_path):
    (block,) = readme_blocks("GitLab CI", "yaml")
    job = yaml.safe_load(block)["trainlint"]
    checkout = copy_of_this_project(tmp_path / "trainlint")
    work = workspace(tmp_path)
    env = {**python_on_path(tmp_path), "CI_PROJECT_DIR": str(work)}
    install, quality, junit = job["script"]
    assert URL in install
    assert bash(install.replace(URL, checkout.as_uri()), work, env).returncode == 0
    assert bash(quality, work, env).returncode == 0
    tests = bash(junit, work, env)
    assert tests.returncode == 1, "findings fail the job (the reports are kept: artifacts when: always)"
    assert job["artifacts"]["when"] == "always"
    reports = job["artifacts"]["reports"]
    schema = json.loads((ROOT / "tests" / "schemas" / "gitlab-code-quality.schema.json").read_text())
    quality_report = json.loads((work / reports["codequality"]).read_text())
    jsonschema.validate(quality_report, schema)
    assert [(i["location"]["path"], i["check_name"]) for i in quality_report] == [("train.py", "TL101")]
    xml = junitparser.JUnitXml.fromfile(str(work / reports["junit"]))
    assert (xml.tests, xml.failures) == (1, 1)


def test_composite_action_steps(tmp_path):
    """action.yml's `run:` steps through bash with what the runner sets (GITHUB_ACTION_PATH, RUNNER_TEMP,
    GITHUB_PATH, the inputs); the upload step is the one part that needs GitHub."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {name: spec["default"] for name, spec in action["inputs"].items()}
    steps = action["runs"]["steps"]
    action_path = copy_of_this_project(tmp_path / "action")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    github_path = tmp_path / "github-path"
    github_path.touch()
    work = workspace(tmp_path)
    contexts = {"inputs": inputs, "runner.temp": str(runner_temp), "github.action_path": str(action_path)}

    def evaluate(value: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("inputs."):
                return str(inputs[name.removeprefix("inputs.")])
            assert name in contexts, f"an expression the test does not know: {name}"
            return str(contexts[name])

        return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", one, value)

    outcomes = {}
    for step in steps:
        if "uses" in step:
            assert step["uses"].startswith("github/codeql-action/upload-sarif@")
            assert "!cancelled()" in step["if"] and "steps.sarif.outcome == 'success'" in step["if"]
            assert Path(evaluate(step["with"]["sarif_file"])) == runner_temp / "trainlint.sarif"
            continue
        assert step["shell"] == "bash" and "${{" not in step["run"], "inputs reach scripts through env only"
        env = clean_env(
            GITHUB_ACTION_PATH=str(action_path),
            RUNNER_TEMP=str(runner_temp),
            GITHUB_PATH=str(github_path),
            GITHUB_WORKSPACE=str(work),
            **{key: evaluate(value) for key, value in step.get("env", {}).items()},
        )
        outcomes[step["name"]] = run = bash(step["run"], work, env)
        if "if" in step:
            assert "!cancelled()" in step["if"], "runs after the check step failed"
    install, check, sarif = outcomes.values()
    assert install.returncode == 0, install.stderr
    assert github_path.read_text().strip() == str(runner_temp / "trainlint-venv" / "bin")
    assert check.returncode == 1 and check.stdout.startswith("::warning file=train.py,line=53,col=47,")
    assert sarif.returncode == 0, sarif.stderr
    log = json.loads((runner_temp / "trainlint.sarif").read_text())
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["TL101"]
    assert not any(p.name == "trainlint.sarif" for p in work.iterdir()), "nothing written into the workspace but the cache"
    # Paths and options as the input says.
    inputs["args"] = "train.py --select TL102"
    run = bash(
        steps[1]["run"], work, clean_env(RUNNER_TEMP=str(runner_temp), TRAINLINT_ARGS=evaluate(steps[1]["env"]["TRAINLINT_ARGS"]))
    )
    assert run.returncode == 0 and run.stdout == ""
