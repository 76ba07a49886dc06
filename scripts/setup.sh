#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine: apt packages, a virtual
# environment in .venv, and the package itself (the C++ core is built by pip through CMake).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(libusb-1.0-0)   # open3d-cpu imports only with it
missing=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Editable, so `python -m pytest` from the checkout imports the built extension.
.venv/bin/python -m pip install -e '.[dev]'
