"""The shipped type stub must describe the built module exactly (regenerate: scripts/gen-stubs.sh)."""

import subprocess
import sys
from pathlib import Path

import ssr_runtime

PACKAGE = Path(ssr_runtime.__file__).parent


def test_stub_matches_built_module(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pybind11_stubgen", "ssr_runtime._core", "--numpy-array-use-type-var", "-o", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    generated = (tmp_path / "ssr_runtime" / "_core.pyi").read_text()
    shipped = (PACKAGE / "_core.pyi").read_text()
    assert generated == shipped, "ssr_runtime/_core.pyi is stale: run scripts/gen-stubs.sh"


def test_package_reexports_core():
    assert "SceneGraph" in ssr_runtime.__all__
    assert ssr_runtime.SceneGraph is ssr_runtime._core.SceneGraph
    assert not any(name.startswith("_") for name in ssr_runtime.__all__)
