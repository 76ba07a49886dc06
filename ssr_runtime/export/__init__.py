"""Exporters: fusion encoder → ONNX, language model → GGUF (+ llama.cpp quantization), and the manifest
that describes an export folder (`ssr export`).

Only the manifest is imported here: the runtime checks an export folder with ``verify_manifest``
without torch. The exporters themselves (``onnx_encoder``, ``gguf_writer``, ``bundle``) need the
``train`` and ``export`` extras (torch, transformers, onnx, onnxruntime, gguf, llama-cpp-python).
"""

from ssr_runtime.export.manifest import (
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    MANIFEST_VERSION,
    ManifestError,
    read_manifest,
    verify_manifest,
)

__all__ = ["MANIFEST_FILE", "MANIFEST_FORMAT", "MANIFEST_VERSION", "ManifestError", "read_manifest",
           "verify_manifest"]
