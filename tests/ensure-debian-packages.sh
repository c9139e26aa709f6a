#!/usr/bin/env bash
# Installs the given Debian packages that are not installed yet (as root, or through sudo).
#   bash tests/ensure-debian-packages.sh neovim chromium ...
set -euo pipefail
need=()
for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
