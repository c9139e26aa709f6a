"""[tool.trainlint] configuration: discovery, options, and clear errors (exit 2)."""

import json

import pytest

BAD = "import torch\nopt = torch.optim.SGD(p, lr=1.5)\nopt2 = torch.optim.SGD(p, lr=0.1, momentum=1.5)\n"


def found(project, *args, path="a.py"):
    run = project.run("check", "--no-cache", "--output-format", "json", *args, path)
    assert run.returncode in (0, 1), run.stderr
    return [d["code"] for d in json.loads(run.stdout)]


def test_pyproject_select_ignore(project):
    project.write("a.py", BAD)
    project.write("pyproject.toml", '[project]\nname = "x"\n\n[tool.trainlint]\nignore = ["TL102"]\n')
    assert found(project) == ["TL101"]


def test_trainlint_toml_and_precedence_over_pyproject(project):
    project.write("a.py", BAD)
    project.write("pyproject.toml", '[tool.trainlint]\nignore = ["TL102"]\n')
    project.write("trainlint.toml", 'ignore = ["TL101"]\n')
    assert found(project) == ["TL102"]


def test_pyproject_without_trainlint_table_is_skipped(project):
    project.write("pyproject.toml", '[tool.trainlint]\nignore = ["TL1"]\n')
    project.write("sub/pyproject.toml", '[project]\nname = "sub"\n')
    project.write("sub/a.py", BAD)
    assert found(project, path="sub/a.py") == []


def test_nearest_config_wins_per_file(project):
    project.write("pyproject.toml", '[tool.trainlint]\nignore = ["TL102"]\n')
    project.write("pkg/trainlint.toml", 'ignore = ["TL101"]\n')
    project.write("a.py", BAD)
    project.write("pkg/b.py", BAD)
    run = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert sorted((d["path"], d["code"]) for d in json.loads(run.stdout)) == [("a.py", "TL101"), ("pkg/b.py", "TL102")]


def test_explicit_config_file(project):
    project.write("a.py", BAD)
    project.write("pyproject.toml", '[tool.trainlint]\nignore = ["TL102"]\n')
    project.write("ci/strict.toml", 'select = ["TL102"]\n')
    assert found(project, "--config", "ci/strict.toml") == ["TL102"]


def test_rule_options_and_severity_override(project):
    project.write("a.py", BAD)
    project.write(
        "pyproject.toml",
        '[tool.trainlint]\n[tool.trainlint.severity]\nTL102 = "info"\n[tool.trainlint.rules.learning-rate-too-high]\nlimits = { SGD = 2.0 }\n',
    )
    run = project.run("check", "--no-cache", "--output-format", "json", "a.py")
    data = json.loads(run.stdout)
    assert [(d["code"], d["severity"]) for d in data] == [("TL102", "info")]


def test_per_file_ignores_table(project):
    project.write("pyproject.toml", '[tool.trainlint.per-file-ignores]\n"experiments/*" = ["TL101"]\n"legacy.py" = ["ALL"]\n')
    project.write("experiments/sweep.py", BAD)
    project.write("legacy.py", BAD)
    project.write("train.py", BAD)
    run = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert sorted((d["path"], d["code"]) for d in json.loads(run.stdout)) == [
        ("experiments/sweep.py", "TL102"),
        ("train.py", "TL101"),
        ("train.py", "TL102"),
    ]


@pytest.mark.parametrize(
    "toml,message",
    [
        ("[tool.trainlint]\nselct = ['TL1']\n", "unknown key tool.trainlint.selct (did you mean 'select'?)"),
        ("[tool.trainlint]\nselect = 'TL1'\n", "tool.trainlint.select: expected a list of strings"),
        ("[tool.trainlint]\nselect = ['TL9']\n", "tool.trainlint.select: unknown rule selector 'TL9'"),
        ("[tool.trainlint]\nignore = ['no-such-rule']\n", "unknown rule selector 'no-such-rule'"),
        (
            "[tool.trainlint.severity]\nTL101 = 'fatal'\n",
            "tool.trainlint.severity.TL101: severity must be 'error', 'warning' or 'info'",
        ),
        (
            "[tool.trainlint.rules.TL101]\nlimit = 2\n",
            "tool.trainlint.rules.TL101: unknown option 'limit' for TL101 (options: limits)",
        ),
        (
            "[tool.trainlint.rules.TL101]\nlimits = { SGD = 'high' }\n",
            "tool.trainlint.rules.TL101.limits: expected a table of a string -> a number",
        ),
        ("[tool.trainlint.rules.TL777]\nx = 1\n", "tool.trainlint.rules.TL777: no rule has this code or name"),
        (
            "[tool.trainlint.rules.TL101]\nlimits = { SDG = 2.0 }\n",
            "tool.trainlint.rules.TL101.limits.SDG: unknown optimizer 'SDG' (did you mean 'SGD'?); the optimizers of torch",
        ),
        ("[tool.trainlint.rules.TL101]\nlimits = { adamw = 0.1 }\n", "unknown optimizer 'adamw' (did you mean 'AdamW'?)"),
        ("[tool.trainlint.rules.TL102]\nx = 1\n", "unknown option 'x' for TL102 (options: none)"),
        ("[tool.trainlint]\nrespect-gitignore = 'yes'\n", "tool.trainlint.respect-gitignore: expected true or false"),
        ("[tool.trainlint\nselect = []\n", "invalid TOML"),
    ],
)
def test_config_errors_name_file_and_key_and_exit_2(project, toml, message):
    project.write("a.py", BAD)
    project.write("pyproject.toml", toml)
    run = project.run("check", "--no-cache", "a.py")
    assert run.returncode == 2
    assert "pyproject.toml" in run.stderr and message in run.stderr, run.stderr
    assert run.stdout == ""


def test_bad_per_file_ignores_flag(project):
    project.write("a.py", BAD)
    run = project.run("check", "--per-file-ignores", "TL101", "a.py")
    assert run.returncode == 2 and "expected GLOB:CODE" in run.stderr


def test_missing_explicit_config(project):
    project.write("a.py", BAD)
    run = project.run("check", "--config", "nope.toml", "a.py")
    assert run.returncode == 2 and "nope.toml: no such configuration file" in run.stderr


def test_rule_options_keyed_by_scheduler_names_are_checked_too():
    """Any table option declared `metadata={"keys": ...}` names torch classes of that kind."""
    from dataclasses import dataclass, field

    from trainlint.config import ConfigError, parse_rule_options
    from trainlint.registry import Rule

    @dataclass(frozen=True)
    class WarmupOptions:
        warmup: dict[str, int] = field(default_factory=dict, metadata={"keys": "scheduler"})

    class SchedulerRule(Rule):
        code = "TL299"
        name = "example"
        Options = WarmupOptions

    assert parse_rule_options(SchedulerRule, {"warmup": {"StepLR": 3}}, "x").warmup == {"StepLR": 3}
    with pytest.raises(ConfigError, match=r"x\.warmup\.StepLRR: unknown scheduler 'StepLRR' \(did you mean 'StepLR'\?\)"):
        parse_rule_options(SchedulerRule, {"warmup": {"StepLRR": 3}}, "x")


def test_extend_per_file_ignores_adds_to_per_file_ignores(project):
    project.write(
        "pyproject.toml",
        '[tool.trainlint.extend-per-file-ignores]\n"experiments/*" = ["TL102"]\n"legacy.py" = ["TL101"]\n'
        '[tool.trainlint.per-file-ignores]\n"experiments/*" = ["TL101"]\n',
    )
    project.write("experiments/sweep.py", BAD)
    project.write("legacy.py", BAD)
    run = project.run("check", "--no-cache", "--output-format", "json", ".")
    assert sorted((d["path"], d["code"]) for d in json.loads(run.stdout)) == [("legacy.py", "TL102")]


def test_readme_documents_every_configuration_key():
    from conftest import ROOT

    from trainlint.config import _KEYS

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Configuration") : readme.index("## Suppressions")]
    missing = [key for key in _KEYS if f"`{key}`" not in section]
    assert missing == [], f"README's Configuration section does not mention {missing}"
