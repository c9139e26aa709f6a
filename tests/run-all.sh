#!/usr/bin/env bash
# Installs everything the tests need (pip, Debian and npm packages), then runs the whole suite.
# Safe to run again: each step skips what is already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

step() { printf '\n== %s\n' "$*"; }

step "Python: .venv with trainlint and its test dependencies"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,dev]'

step "The project's own checks: ruff check, ruff format --check, mypy (before the slow tests)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

step "Debian packages"
bash tests/ensure-debian-packages.sh neovim chromium ripgrep libkrb5-dev

step "npm packages for the tests (SARIF validator)"
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
chmod u+x tests/node/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool

if [ -f vscode-extension/scripts/test.sh ]; then
    step "VS Code extension: build, package, unit tests, end-to-end in code-server"
    bash vscode-extension/scripts/test.sh
fi

step "pytest"
.venv/bin/python -m pytest -q "$@"
