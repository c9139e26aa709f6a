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
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

step "Debian packages"
need=()
command -v nvim >/dev/null || need+=(neovim)
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

step "npm packages for the tests (SARIF validator)"
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
chmod u+x tests/node/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool

if [ -f vscode-extension/scripts/test.sh ]; then
    step "VS Code extension: build, package, unit tests, end-to-end in code-server"
    bash vscode-extension/scripts/test.sh
fi

step "pytest"
.venv/bin/python -m pytest -q "$@"
