"""ssr-runtime: edge runtime for SSR (Structured Scene Reasoning) spatial-intelligence models.

The C++17 core is exposed as :mod:`ssr_runtime._core`; this package re-exports its public names.
"""

from ssr_runtime._core import (
    Box3D,
    InvalidInputError,
    ParseError,
    QueryError,
    SsrError,
    __version__,
    box_distance,
    box_iou_3d,
)

__all__ = [
    "Box3D",
    "InvalidInputError",
    "ParseError",
    "QueryError",
    "SsrError",
    "__version__",
    "box_distance",
    "box_iou_3d",
]
