"""Shared helpers: lint a snippet in-process, or run the real `trainlint` command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from trainlint.config import Overrides, Resolver
from trainlint.engine import lint_source
from trainlint.settings import LintSettings, default_settings

ROOT = Path(__file__).resolve().parent.parent


def lint(code: str, select: list[str] | None = None, path: str = "snippet.py", **rule_options):
    """Diagnostics for a snippet (dedented), with the given rules selected."""
    settings = default_settings(select)
    if rule_options:
        settings = LintSettings(settings.enabled, {}, rule_options)
    return lint_source(textwrap.dedent(code), path, settings).diagnostics


def codes(code: str, select: list[str] | None = None) -> list[str]:
    return [d.code for d in lint(code, select)]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, cwd: Path | str | None = None, stdin: bytes | None = None, env: dict | None = None, timeout: float = 120
) -> Run:
    """The real command line, as a subprocess: `python -m trainlint ARGS`."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "PYTHONSAFEPATH")}
    full_env = {**inherited, **(env or {})}  # the output is the plain one unless a test asks for colours
    proc = subprocess.run(
        [sys.executable, "-m", "trainlint", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=full_env,
    )
    return Run(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


@pytest.fixture
def project(tmp_path: Path):
    """A scratch project directory; write files with project.write('a.py', code)."""

    class Project:
        root = tmp_path

        def write(self, name: str, text: str, encoding: str = "utf-8") -> Path:
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding=encoding)
            return path

        def run(self, *args: str, **kwargs) -> Run:
            return run_cli(*args, cwd=tmp_path, **kwargs)

    return Project()


def copy_of_this_project(dest: Path) -> Path:
    """The working tree as a fresh clone would have it (no virtual environments, caches or builds)."""
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "node_modules", ".trainlint_cache", "__pycache__", "*.egg-info", ".e2e", "test-artifacts", "*.vsix"
    )
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def readme_blocks(section: str, language: str) -> list[str]:
    """The fenced code blocks of one README section (`## title`) in one language, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else len(text)]
    return re.findall(rf"^```{language}\n(.*?)^```$", body, re.MULTILINE | re.DOTALL)


def resolver_for(root: Path, **overrides) -> Resolver:
    return Resolver(Overrides(**overrides), cwd=root)


def notebook_json(*cells, indent=1, ensure_ascii=False, sort_keys=True, language="python", end="\n", as_string=False) -> str:
    """A notebook's text as Jupyter writes it (nbformat 4.5: indent 1, sorted keys, a final line break).

    Each cell is a code cell's source (a str), ("markdown", text), or a dict: a whole cell. Sources
    are stored as lists of lines, or as one string with `as_string`."""
    out = []
    for i, cell in enumerate(cells, start=1):
        if isinstance(cell, dict):
            out.append(cell)
            continue
        kind, text = ("code", cell) if isinstance(cell, str) else cell
        source = text if as_string else text.splitlines(keepends=True)
        entry = {"cell_type": kind, "id": f"cell-{i}", "metadata": {}, "source": source}
        if kind == "code":
            entry |= {"execution_count": None, "outputs": []}
        out.append(entry)
    metadata = {"kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"}}
    metadata["language_info"] = {"name": language, "version": "3.11.7"}
    document = {"cells": out, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(document, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys) + end


def cell_sources(text: str) -> list[str]:
    """Every cell's source, joined, from a notebook's text."""
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in json.loads(text)["cells"]]
