"""ssr-runtime: edge runtime for SSR (Structured Scene Reasoning) spatial-intelligence models.

The C++17 core lives in :mod:`ssr_runtime._core` (typed in ``_core.pyi``); its public names are
re-exported here, so ``ssr_runtime.SceneGraph`` and ``ssr_runtime._core.SceneGraph`` are the same.
``ssr_runtime.Session`` (the streaming SDK, :mod:`ssr_runtime.runtime.session`) is imported on first
use, so importing the package loads neither onnxruntime nor llama.cpp.
"""

from ssr_runtime import _core
from ssr_runtime._core import *  # noqa: F403  (the list is _core.__all__ in _core.pyi)

__version__ = _core.__version__
__all__ = sorted(name for name in vars(_core) if not name.startswith("_"))


def __getattr__(name: str):
    if name == "Session":
        from ssr_runtime.runtime.session import Session

        return Session
    raise AttributeError(f"module 'ssr_runtime' has no attribute {name!r}")
