"""``manifest.json``: what an export folder holds, so a runtime can trust it before loading anything.

Written last, so a folder with a manifest is a finished export. Every file is listed with its size and
sha256; ``verify_manifest`` refuses a folder where one is missing, truncated or modified, or whose
manifest has a format or version this reader does not know. Needs no torch: the runtime uses it.

Layout (version 1)::

    {"format": "ssr-export-manifest", "version": 1,
     "package_version": "0.1.0", "created_utc": "...", "source_checkpoint": "/abs/path",
     "config": {... SSRConfig.to_dict() ...},
     "tokenizer_sha256": "...",            # of the checkpoint's tokenizer.json
     "encoder": {"opset": 20, "inputs": {name: shape}, "outputs": {name: shape}, "files": {"fp32": ..., "fp16": ...},
                 "check_max_abs_diff": {file: d}, "check_frames": 3,
                 "tensorrt": {"file": "encoder.fp16.engine", "source": "encoder.fp16.onnx", "precision": "fp16",
                              "tensorrt_version", "gpu", "compute_capability", "frames": {"min", "opt", "max"}}},
                                          # "tensorrt" only in an export made with --tensorrt
     "language_model": {"arch": "qwen2", "tokenizer_pre": "qwen2",
                        "quantizations": [{"requested", "produced", "fallback_reason", "file"}],
                        "onnx": {"file": "lm.onnx", "embeddings": "lm-embeddings.npy", "opset": 18,   # only
                                 "exporter": "optimum", "optimum_version", "optimum_onnx_version",    # with
                                 "check_max_abs_diff", "check_tokens"}},                               # --onnx-lm
     "grounding": {"file": "grounding.onnx", "outputs": {name: shape}, "labels": [label of class 1, ...],
                   "sizes": {label: [l, w, h]}, "check_max_abs_diff": d},   # only for a model with both heads
     "files": {"encoder.onnx": {"size": n, "sha256": "..."}, ...}}

Shapes name the dynamic frame axis ``"frames"``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ssr_runtime.files import write_json_atomic

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "ssr-export-manifest"
MANIFEST_VERSION = 1
_HASH_CHUNK = 1 << 20


class ManifestError(ValueError):
    """An export folder that does not match its manifest; the message names the file."""


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: str | os.PathLike) -> dict[str, Any]:
    return {"size": os.path.getsize(path), "sha256": sha256_file(path)}


def write_manifest(folder: str | os.PathLike, files: list[str], **fields: Any) -> Path:
    """Hash ``files`` (names relative to ``folder``) and write the manifest with ``fields`` beside them.

    ``fields`` are the descriptive entries of the layout above (source_checkpoint, config, ...).
    """
    folder = Path(folder)
    for reserved in ("format", "version", "files"):
        if reserved in fields:
            raise ValueError(f"write_manifest: {reserved!r} is set by the writer")
    record = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, **fields,
              "files": {name: file_record(folder / name) for name in sorted(files)}}
    path = folder / MANIFEST_FILE
    write_json_atomic(path, record)
    return path


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    """The manifest of ``folder``, its header checked (format and version), files not yet checked."""
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        # a training checkpoint: model.modeling.SSR_CONFIG_FILE (not imported: that module needs torch)
        if (Path(folder) / "ssr_config.json").is_file():
            raise ManifestError(f"{folder}: a training checkpoint, not an `ssr export` folder; make one with "
                                f"`ssr export --checkpoint {folder} --out FOLDER`")
        raise ManifestError(f"{path}: missing; not an `ssr export` folder, or an unfinished one")
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(record, dict) or record.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{path}: format is not {MANIFEST_FORMAT!r}")
    if record.get("version") != MANIFEST_VERSION:
        raise ManifestError(f"{path}: version {record.get('version')!r} is not known to this reader "
                            f"(it reads version {MANIFEST_VERSION}); re-export with this package")
    files = record.get("files")
    if not isinstance(files, dict) or not all(_is_file_entry(v) for v in files.values()):
        raise ManifestError(f"{path}: 'files' must map names to {{size, sha256}}")
    return record


def verify_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    """Check every listed file exists with the recorded size and sha256; returns the manifest.

    Raises ManifestError naming the first file that is missing, truncated/grown, or modified.
    """
    folder = Path(folder)
    record = read_manifest(folder)
    for name, expected in sorted(record["files"].items()):
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ManifestError(f"{folder / MANIFEST_FILE}: file name {name!r} leaves the export folder")
        if not path.is_file():
            raise ManifestError(f"{path}: missing (listed in {MANIFEST_FILE})")
        size = path.stat().st_size
        if size != expected["size"]:
            raise ManifestError(f"{path}: size {size} bytes, the manifest says {expected['size']} "
                                f"(truncated or incompletely copied)")
        if sha256_file(path) != expected["sha256"]:
            raise ManifestError(f"{path}: sha256 differs from the manifest (the file was modified)")
    return record


def _is_file_entry(entry: Any) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("size"), int) and not isinstance(entry["size"], bool)
            and isinstance(entry.get("sha256"), str))
