#!/usr/bin/env bash
# Regenerates ssr_runtime/_core.pyi from the built module (tests/test_stub.py checks it is current).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$py" -m pybind11_stubgen ssr_runtime._core --numpy-array-use-type-var -o "$out" >/dev/null
cp "$out/ssr_runtime/_core.pyi" ssr_runtime/_core.pyi
