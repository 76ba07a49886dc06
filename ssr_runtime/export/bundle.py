"""One checkpoint → one export folder (`ssr export`): encoder ONNX, language-model GGUFs, manifest.

Folder written::

    encoder.onnx          fusion encoder, float32 (onnx_encoder.py)
    encoder.fp16.onnx     with --fp16-onnx or --tensorrt: float16 weights, float32 inputs, float16 output
    encoder.fp16.engine   with --tensorrt: a TensorRT engine of encoder.fp16.onnx (tensorrt_engine.py), for
                          this machine's kind of GPU and TensorRT version
    grounding.onnx        the encoder's patch and position heads per visual cell, where the model has
                          both (onnx_encoder.export_grounding; runtime.grounding), float32
    tokenizer.json        the training tokenizer (the runtime's, whichever language-model backend runs)
    lm-<type>.gguf        one per requested type: f32, f16 (written here), q8_0, q4_0, q4_k_m (llama.cpp)
    lm.onnx               with --onnx-lm: the language model through Hugging Face Optimum, float32, and
    lm-embeddings.npy     its input embeddings (onnx_lm.py), for ONNX-Runtime-only devices
    manifest.json         written last (manifest.py)

Quantized files are made from an F32 GGUF (kept only when "f32" is requested), so no type is
quantized twice. Each encoder file is checked against torch on random frames, and lm.onnx on random
ids (its next-token logits); the largest differences are recorded in the manifest. --tensorrt is
refused before anything is read or written when TensorRT or a GPU is missing
(BackendUnavailableError naming it), so an earlier export stays.
"""

from __future__ import annotations

import datetime
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

import ssr_runtime
from ssr_runtime.export import gguf_writer, onnx_encoder, tensorrt_engine
from ssr_runtime.export.gguf_writer import QuantPlan, gguf_file_name, plan_quantization
from ssr_runtime.export.manifest import MANIFEST_FILE, ManifestError, read_manifest, sha256_file, write_manifest
from ssr_runtime.runtime.grounding import GROUNDING_FILE
from ssr_runtime.runtime.tensorrt_encoder import require_tensorrt

ENCODER_FILE = "encoder.onnx"
ENCODER_FP16_FILE = "encoder.fp16.onnx"
ENGINE_FILE = "encoder.fp16.engine"
TOKENIZER_FILE = "tokenizer.json"
DEFAULT_QUANTS = ("f16", "q8_0")
CHECK_FRAMES = 3


@dataclass
class ExportResult:
    folder: Path
    files: dict[str, int]  # name → size in bytes, manifest.json included
    quantizations: list[QuantPlan]
    encoder_max_abs_diff: dict[str, float]  # file → largest |ONNX Runtime − torch| on random frames (+ grounding)
    seconds: dict[str, float] = field(default_factory=dict)  # step → wall time
    lm_onnx_max_abs_diff: dict[str, float] = field(default_factory=dict)  # lm.onnx → largest logit difference


def export_checkpoint(checkpoint: str | os.PathLike, out: str | os.PathLike, quants: tuple[str, ...] = DEFAULT_QUANTS,
                      fp16_onnx: bool = False, onnx_lm: bool = False, tensorrt: bool = False, threads: int = 2,
                      progress: bool = True) -> ExportResult:
    """Export a ``save_checkpoint`` folder into ``out`` (layout in the module docstring).

    ``out`` may be new, empty, or an earlier export (its listed files are replaced); any other
    non-empty folder is refused rather than mixed into. Unknown quantization types are refused before
    any work; a K-quant the model's dimensions do not allow is replaced (see ``plan_quantization``).
    ``onnx_lm``: also the language model as ONNX through Optimum (needs optimum-onnx). The GGUFs stay
    required: constrained decoding reads the vocabulary of one, whichever backend runs the model.
    """
    import torch

    from ssr_runtime.model import load_checkpoint

    checkpoint, out = Path(checkpoint).resolve(), Path(out)
    if not quants:
        raise ValueError("export: at least one language-model type is needed (--quant)")
    if len(set(quants)) != len(quants):
        raise ValueError(f"export: a quantization type is listed twice in {list(quants)}")
    for gguf_type in quants:
        gguf_writer.check_gguf_type(gguf_type)
    if tensorrt:
        require_tensorrt("--tensorrt")
    onnx_lm_export = _onnx_lm_exporter() if onnx_lm else None
    torch.set_num_threads(threads)
    seconds: dict[str, float] = {}
    encoder_files = {"fp32": ENCODER_FILE} | ({"fp16": ENCODER_FP16_FILE} if fp16_onnx or tensorrt else {})
    encoder_steps = len(encoder_files) + tensorrt
    steps = tqdm(total=2 + encoder_steps + len(quants) + onnx_lm, desc="export", unit="step", disable=not progress)
    last = time.monotonic()

    def step(name: str) -> None:
        """Record the time since the previous step under ``name`` and advance the bar."""
        nonlocal last
        now = time.monotonic()
        seconds[name] = round(now - last, 3)
        last = now
        steps.set_postfix_str(f"done: {name}")
        steps.update()

    with steps:
        model, tokenizer = load_checkpoint(checkpoint)
        config = model.config
        plans = [plan_quantization(config, q) for q in quants]
        grounded = model.encoder.has_grounding_heads  # grounding.onnx
        steps.total = 2 + encoder_steps + grounded + onnx_lm + len(produced_types(plans))
        _prepare_out(out)
        step("load")

        diffs = {}
        check = onnx_encoder.example_frames(config, CHECK_FRAMES, seed=1)
        for precision, name in encoder_files.items():
            onnx_encoder.export_encoder(model.encoder, out / name, fp16=precision == "fp16")
            diffs[name] = onnx_encoder.max_abs_diff(model.encoder, out / name, *check)
            step(name)
        engine = {}
        if tensorrt:
            engine = {"tensorrt": tensorrt_engine.build_engine(out / ENCODER_FP16_FILE, out / ENGINE_FILE,
                                                               onnx_encoder.input_shapes(config))}
            diffs[ENGINE_FILE] = tensorrt_engine.max_abs_diff(model.encoder, out / ENGINE_FILE, *check)
            step(ENGINE_FILE)

        grounding = {}
        if grounded:
            onnx_encoder.export_grounding(model.encoder, out / GROUNDING_FILE)
            grounding = {"grounding": grounding_entry(config) | {
                "check_max_abs_diff": onnx_encoder.grounding_max_abs_diff(model.encoder, out / GROUNDING_FILE, *check)}}
            step(GROUNDING_FILE)

        shutil.copyfile(checkpoint / TOKENIZER_FILE, out / TOKENIZER_FILE)
        lm_files = _export_lm(model, tokenizer, out, plans, threads, step)
        language_model = {"arch": gguf_writer.GGUF_ARCH, "tokenizer_pre": gguf_writer.GGUF_TOKENIZER_PRE,
                          "quantizations": [p.to_json() | {"file": gguf_file_name(p.produced)} for p in plans]}
        lm_onnx_diff = {}
        if onnx_lm_export:
            lm_files += onnx_lm_export.export_lm(model.lm, out)
            diff = onnx_lm_export.max_abs_diff(model.lm, out, config.eos_token_id)
            lm_onnx_diff = {onnx_lm_export.ONNX_LM_FILE: diff}
            language_model["onnx"] = onnx_lm_export.manifest_entry(diff)
            step(onnx_lm_export.ONNX_LM_FILE)
        files = [*encoder_files.values(), *([ENGINE_FILE] if tensorrt else []),
                 *([GROUNDING_FILE] if grounding else []), TOKENIZER_FILE, *lm_files]
        write_manifest(out, files, package_version=ssr_runtime.__version__,
                       created_utc=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                       source_checkpoint=str(checkpoint), config=config.to_dict(),
                       tokenizer_sha256=sha256_file(checkpoint / TOKENIZER_FILE),
                       encoder={"opset": onnx_encoder.OPSET, "inputs": onnx_encoder.input_shapes(config),
                                "outputs": onnx_encoder.output_shapes(config), "files": encoder_files,
                                "check_max_abs_diff": diffs, "check_frames": CHECK_FRAMES} | engine,
                       language_model=language_model, **grounding)
        step(MANIFEST_FILE)
    sizes = {name: (out / name).stat().st_size for name in [*files, MANIFEST_FILE]}
    checks = diffs | ({GROUNDING_FILE: grounding["grounding"]["check_max_abs_diff"]} if grounding else {})
    return ExportResult(out, sizes, plans, checks, seconds, lm_onnx_diff)


def grounding_entry(config) -> dict:
    """The manifest's `grounding` entry (runtime.grounding): the file, its outputs' shapes, the label of
    each patch class from 1 on, and each label's typical size (l, w, h: the midpoints of the training
    categories' ranges, averaged over a label's kinds) for the boxes grounding adds."""
    from ssr_runtime.data.categories import KINDS, LABELS

    if config.patch_classes != len(LABELS) + 1:
        raise ValueError(f"export: patch_classes {config.patch_classes} does not match the {len(LABELS)} "
                         "categories (+ none) the grounding heads name")
    sizes: dict[str, list[list[float]]] = {}
    for kind in KINDS.values():
        length = sum(kind.l) / 2
        width = length if kind.square else sum(kind.w) / 2
        sizes.setdefault(kind.label, []).append([length, width, sum(kind.h) / 2])
    return {"file": GROUNDING_FILE, "outputs": onnx_encoder.grounding_shapes(config), "labels": list(LABELS),
            "sizes": {label: [round(float(v), 3) for v in np.mean(rows, axis=0)] for label, rows in sizes.items()}}


def _export_lm(model, tokenizer, out: Path, plans: list[QuantPlan], threads: int, step) -> list[str]:
    """The GGUF files of ``plans``; quantized ones from an F32 file that is kept only if requested."""
    produced = produced_types(plans)
    config = model.config
    keep_f32 = "f32" in produced
    f32_path = out / gguf_file_name("f32") if keep_f32 else out / ".lm-f32.gguf.source"
    needs_f32 = keep_f32 or any(t not in gguf_writer.FLOAT_TYPES for t in produced)
    try:
        if needs_f32:
            gguf_writer.write_gguf(model.lm, config, tokenizer, f32_path, "f32")
        for gguf_type in produced:
            if gguf_type == "f16":
                gguf_writer.write_gguf(model.lm, config, tokenizer, out / gguf_file_name("f16"), "f16")
            elif gguf_type != "f32":
                gguf_writer.quantize_gguf(f32_path, out / gguf_file_name(gguf_type), gguf_type, threads)
            step(gguf_file_name(gguf_type))
    finally:
        if needs_f32 and not keep_f32:
            f32_path.unlink(missing_ok=True)
    return [gguf_file_name(t) for t in produced]


def _onnx_lm_exporter():
    """export/onnx_lm.py, imported before any work: it needs Optimum, which the other steps do not."""
    try:
        from ssr_runtime.export import onnx_lm
    except ImportError as e:
        raise ValueError(f"export: --onnx-lm needs Hugging Face Optimum's ONNX exporter "
                         f"(pip install 'ssr-runtime[export]'): {e}") from None
    return onnx_lm


def produced_types(plans: list[QuantPlan]) -> list[str]:
    """The GGUF types to write, in request order, once each (a fallback may repeat a requested type)."""
    return list(dict.fromkeys(p.produced for p in plans))


def _prepare_out(out: Path) -> None:
    """Make ``out`` ready: new or empty, or an earlier export whose manifest and files are removed
    first (so an interrupted re-export never looks finished)."""
    if not out.exists():
        out.mkdir(parents=True)
        return
    if not out.is_dir():
        raise ValueError(f"export: --out {out} exists and is not a folder")
    entries = list(out.iterdir())
    if not entries:
        return
    if not (out / MANIFEST_FILE).is_file():
        raise ValueError(f"export: --out {out} is a non-empty folder that is not an earlier export "
                         f"(no {MANIFEST_FILE}); choose a new or empty folder")
    try:
        listed = read_manifest(out)["files"]
    except ManifestError:
        listed = {}
    (out / MANIFEST_FILE).unlink()
    for name in listed:
        path = out / name
        if path.parent == out and path.is_file():
            path.unlink()
