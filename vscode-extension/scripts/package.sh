#!/usr/bin/env bash
# Builds trainlint-<version>.vsix: type-checks, bundles with esbuild, bundles a trainlint wheel
# built from this checkout, packages with vsce and checks what went into the package.
#   bash vscode-extension/scripts/package.sh            (PYTHON=... to choose the interpreter that builds the wheel)
# Needs node_modules (npm ci). Writes trainlint-<version>.vsix next to package.json.
set -euo pipefail
EXT=$(cd "$(dirname "$0")/.." && pwd)
REPO=$(cd "$EXT/.." && pwd)
cd "$EXT"

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
    if [ -x "$REPO/.venv/bin/python" ]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON=python3; fi
fi

version=$(node -p 'require("./package.json").version')
vsix="$EXT/trainlint-$version.vsix"

# The project's LICENSE ships in the package; the copy here must not drift from it.
if [ -f "$REPO/LICENSE" ] && ! cmp -s "$REPO/LICENSE" LICENSE; then
    cp "$REPO/LICENSE" LICENSE
fi

echo "-- type-check and bundle"
npx --no-install tsc -p . --noEmit
node scripts/build.mjs

echo "-- trainlint wheel from $REPO"
rm -rf bundled
mkdir -p bundled
"$PYTHON" -m pip wheel --quiet --no-deps --disable-pip-version-check -w bundled "$REPO"
ls bundled/trainlint-*-py3-none-any.whl >/dev/null

echo "-- vsce package"
rm -f "$vsix"
npx --no-install vsce package --no-dependencies --out "$vsix" >/dev/null

echo "-- check the package's contents"
node scripts/check-vsix.mjs "$vsix"
echo "$vsix"
