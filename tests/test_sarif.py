"""SARIF output, checked by Microsoft's validator with GitHub code scanning's rules."""

import json
import re
import subprocess

from conftest import ROOT

from trainlint.pages import page_url
from trainlint.registry import find_rule

VALIDATOR = ROOT / "tests" / "node" / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"


def validate(path):
    assert VALIDATOR.is_file(), "run tests/run-all.sh (npm ci in tests/node) to install the SARIF validator"
    proc = subprocess.run(
        [str(VALIDATOR), "validate", "--rule-kind", "Gh;Sarif", str(path)], capture_output=True, text=True, timeout=300
    )
    # It exits 0 even when it reports errors: read its output.
    output = proc.stdout + proc.stderr
    assert "Analysis completed successfully" in output, output
    return output


def test_sarif_is_valid_for_github(project):
    project.write("src/train.py", (ROOT / "examples" / "buggy" / "trainer_config.py").read_text())
    project.write("src/noqa.py", "x = 1  # noqa: TL101\n")
    project.write("src/broken.py", "def f(:\n")
    run = project.run("check", "--no-cache", "--output-format", "sarif", "-o", "out.sarif", "src")
    assert run.returncode == 1
    output = validate(project.root / "out.sarif")
    errors = [line for line in output.splitlines() if re.search(r":\s*error\s", line)]
    assert errors == [], "\n".join(errors)


def test_sarif_content(project):
    project.write("train.py", "import torch\nopt = torch.optim.SGD(p, lr=10)\nx = 1  # noqa: TL102\n")
    run = project.run("check", "--no-cache", "--output-format", "sarif", "train.py")
    log = json.loads(run.stdout)
    assert log["version"] == "2.1.0"
    (sarif_run,) = log["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "trainlint" and driver["version"] and driver["informationUri"].startswith("https://")
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) >= {"TL001", "TL003", "TL101", "TL102", "TL103"}
    for rule in rules.values():
        assert len(rule["shortDescription"]["text"]) < 1024 and len(rule["fullDescription"]["text"]) < 1024
        assert rule["helpUri"] == page_url(rule["id"], find_rule(rule["id"]).name)
        assert rule["help"]["markdown"].startswith(f"# {rule['id']}")
    assert sarif_run["columnKind"] == "unicodeCodePoints"
    results = sarif_run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("TL101", "warning"), ("TL003", "warning")]
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "train.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 2, "startColumn": 26, "endLine": 2, "endColumn": 31}
    assert all(r["partialFingerprints"] for r in results)


def test_fingerprints_survive_lines_moving(project):
    path = project.write("train.py", "import torch\nopt = torch.optim.SGD(p, lr=10)\n")
    first = json.loads(project.run("check", "--no-cache", "--output-format", "sarif", "train.py").stdout)
    path.write_text("import torch\n\n# a comment added above\nopt = torch.optim.SGD(p, lr=10)\n")
    second = json.loads(project.run("check", "--no-cache", "--output-format", "sarif", "train.py").stdout)

    def fingerprint(log):
        return log["runs"][0]["results"][0]["partialFingerprints"]

    assert fingerprint(first) == fingerprint(second)


def test_related_locations_cite_where_the_value_was_written(project):
    project.write(
        "train.py",
        "import argparse\nimport torch\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--lr', type=float, default=10.0)\n"
        "args = parser.parse_args()\n"
        "opt = torch.optim.SGD(p, lr=args.lr)\n",
    )
    log = json.loads(project.run("check", "--no-cache", "--output-format", "sarif", "train.py").stdout)
    (result,) = log["runs"][0]["results"]
    (related,) = result["relatedLocations"]
    assert related["message"] == {"text": "default of --lr"}
    assert related["physicalLocation"]["region"] == {"startLine": 4, "startColumn": 41, "endLine": 4, "endColumn": 53}
    assert related["physicalLocation"]["artifactLocation"] == {"uri": "train.py", "uriBaseId": "%SRCROOT%"}
