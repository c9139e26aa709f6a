"""The rule pages are the one source of rule text; their examples are tests."""

import dataclasses
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, lint

from trainlint.pages import RULES_BASE_URL, load_pages, pages_dir
from trainlint.registry import all_rules

PAGES = load_pages()
RULES = all_rules()
# Engine findings that no code snippet can produce (a crash, an unreadable file).
NO_EXAMPLES = {"TL002", "TL004"}


def test_every_rule_has_one_page_and_every_page_a_rule():
    assert sorted(PAGES) == [r.code for r in RULES]
    for rule in RULES:
        assert (ROOT / "rules" / f"{rule.code}-{rule.name}.md").is_file()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_page_metadata_matches_the_rule(rule):
    page = PAGES[rule.code]
    assert page.name == rule.name
    assert page.facts["Severity"] == rule.severity.value
    assert page.facts["Fix"] == rule.fix.value
    assert page.facts["Default"] == ("on" if rule.default else "opt-in")
    assert page.summary and len(page.summary) < 300
    for section in ("Why it hurts training", "Bad", "Good", "Fix safety", "Options"):
        assert page.sections.get(section), f"{rule.code} lacks '## {section}'"
    if rule.fix.value == "unsafe":
        assert "Unsafe" in page.sections["Fix safety"]
    if rule.fix.value == "safe":
        assert "Safe" in page.sections["Fix safety"]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_page_documents_every_option_with_its_default(rule):
    options = PAGES[rule.code].sections["Options"]
    fields = dataclasses.fields(rule.Options)
    if not fields:
        assert options.strip().startswith("None")
    for field in fields:
        assert f"`{field.name.replace('_', '-')}`" in options


EXAMPLES = [
    (code, kind, i, block)
    for code, page in sorted(PAGES.items())
    for kind in ("bad", "good")
    for i, block in enumerate(page.examples.get(kind, []))
]


def test_examples_exist_for_every_rule_that_can_have_them():
    for rule in RULES:
        examples = PAGES[rule.code].examples
        if rule.code in NO_EXAMPLES:
            assert not examples
        else:
            assert examples.get("bad") and examples.get("good"), rule.code


@pytest.mark.parametrize("code,kind,index,block", EXAMPLES, ids=[f"{c}-{k}{i}" for c, k, i, _ in EXAMPLES])
def test_page_example(code, kind, index, block):
    found = [d.code for d in lint(block, ["ALL"])]
    if kind == "bad":
        assert code in found, f"{code} bad example #{index} is not flagged: {found}"
    else:
        assert found == [], f"{code} good example #{index} has findings: {found}"


def test_rule_page_urls_point_into_the_rules_folder():
    assert RULES_BASE_URL.endswith("/rules/")
    assert all(page.url.startswith(RULES_BASE_URL) and page.url.endswith(".md") for page in PAGES.values())


def test_built_wheel_carries_every_page(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("trainlint-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    for page in pages_dir().glob("TL*.md"):
        assert f"trainlint/_pages/{page.name}" in names
    assert "trainlint/facts/torch.json" in names
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert requires and not any("torch" in line for line in requires)
