#!/usr/bin/env bash
# Incremental developer build of the C++ core without pip: puts ssr_runtime/_core*.so next to the
# sources, so `python -m pytest` in this checkout tests it. Usage: scripts/dev-build.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-python3}
if [ ! -f build/dev/build.ninja ]; then
  cmake -S . -B build/dev -G Ninja -DPython_EXECUTABLE="$(command -v "$py")" \
    -Dpybind11_DIR="$("$py" -c 'import pybind11; print(pybind11.get_cmake_dir())')"
fi
cmake --build build/dev
