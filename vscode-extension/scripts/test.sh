#!/usr/bin/env bash
# CI for the VS Code extension: installs what it needs, builds and checks the .vsix, runs the unit
# tests, then the end-to-end test in a real VS Code (code-server 4.100.3 driven by headless
# Chromium). Safe to run again: npm packages and code-server are reused when already installed.
#
#   bash vscode-extension/scripts/test.sh
#
# Expects the repository's .venv with trainlint installed (tests/run-all.sh makes it), or
# TRAINLINT=/path/to/trainlint. Set SKIP_E2E=1 to stop after the unit tests.
set -euo pipefail
EXT=$(cd "$(dirname "$0")/.." && pwd)
REPO=$(cd "$EXT/.." && pwd)
cd "$EXT"

CODE_SERVER_VERSION=4.100.3
CACHE="$EXT/.e2e"
# code-server (300 MB, ~50 s to install) is cached outside the checkout, so that CI's fresh clones
# on the same machine reuse it; it is pinned, so sharing it is safe.
SHARED_CACHE=${TRAINLINT_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trainlint-vscode-e2e}
CODE_SERVER_DIR="$SHARED_CACHE/code-server-$CODE_SERVER_VERSION"
CODE_SERVER="$CODE_SERVER_DIR/node_modules/.bin/code-server"
TRAINLINT=${TRAINLINT:-$REPO/.venv/bin/trainlint}
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
export PYTHON

t0=$SECONDS
step() { printf '\n-- vscode-extension [%3ds]: %s\n' "$((SECONDS - t0))" "$*"; }

step "npm packages (npm ci, skipped when package-lock.json is unchanged)"
stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch "$stamp"
fi

step "lint: eslint with typescript-eslint (type-aware; tsc --strict runs in the build)"
npm run lint --silent

step "build and check the .vsix"
bash scripts/package.sh
vsix="$EXT/trainlint-$(node -p 'require("./package.json").version').vsix"

step "unit tests"
node scripts/build.mjs --tests
node --test out/test/

if [ "${SKIP_E2E:-}" = 1 ]; then
    step "SKIP_E2E=1: no end-to-end test"
    exit 0
fi

step "Debian packages for the end-to-end test"
bash "$REPO/tests/ensure-debian-packages.sh" chromium ripgrep libkrb5-dev

step "code-server $CODE_SERVER_VERSION (cached in $SHARED_CACHE)"
# Two runs on one machine (two checkouts) would delete each other's half-done install: one at a time.
mkdir -p "$SHARED_CACHE"
exec 9>"$SHARED_CACHE/.install-lock"
flock 9
if [ ! -f "$CODE_SERVER_DIR/.installed" ] || [ ! -x "$CODE_SERVER" ]; then
    rm -rf "$CODE_SERVER_DIR"
    mkdir -p "$CODE_SERVER_DIR"
    # @vscode/ripgrep downloads a ripgrep binary at install time, which cannot work here: put
    # Debian's rg in the cache it looks in first.
    rg_cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
    rg_tarball="$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
    if [ ! -f "$rg_tarball" ]; then
        mkdir -p "$rg_cache"
        tmp=$(mktemp -d)
        cp "$(command -v rg)" "$tmp/rg"
        tar czf "$rg_tarball" -C "$tmp" rg
        rm -rf "$tmp"
    fi
    echo '{"private": true}' > "$CODE_SERVER_DIR/package.json"
    # unsafe_perm: install scripts run as root; nodedir: node-gyp uses local headers; yes: node-pty's postinstall.
    (cd "$CODE_SERVER_DIR" && env npm_config_unsafe_perm=true npm_config_nodedir=/usr npm_config_yes=true \
        npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION")
    [ -x "$CODE_SERVER" ]
    touch "$CODE_SERVER_DIR/.installed"
fi
flock -u 9

step "a Python without trainlint but with its dependencies (for the install-from-.vsix test)"
# Its dependencies come from the package index the first time only; the extension's pip install
# of the bundled wheel then needs no network.
bare="$CACHE/python-without-trainlint"
[ -x "$bare/bin/python" ] || "$PYTHON" -m venv "$bare"
"$bare/bin/python" -m pip install --quiet --disable-pip-version-check bundled/trainlint-*.whl
"$bare/bin/python" -m pip uninstall --quiet --disable-pip-version-check -y trainlint

step "end-to-end test in code-server (server: $TRAINLINT)"
if [ ! -x "$TRAINLINT" ]; then
    echo "vscode-extension: $TRAINLINT is missing: make the .venv first (tests/run-all.sh) or set TRAINLINT" >&2
    exit 1
fi
node test/e2e/e2e.mjs --code-server "$CODE_SERVER" --vsix "$vsix" --server "$TRAINLINT" --install-python "$bare/bin/python"

step "done"
