"""`ssr export`: a trained checkpoint → encoder ONNX (+ TensorRT engine) + language-model GGUFs (+ the
language model as ONNX through Optimum) + manifest (needs the `train` and `export` extras; --tensorrt the
`tensorrt` extra and a CUDA GPU)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ssr_runtime.export.gguf_writer import GGUF_TYPES


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a checkpoint: encoder → ONNX, language model → GGUF",
                              description="Export a checkpoint folder (from `ssr train`) for the runtime: "
                                          "encoder.onnx, lm-<type>.gguf per --quant, and manifest.json.")
    p.add_argument("--checkpoint", type=Path, required=True, help="checkpoint folder (model + tokenizer)")
    p.add_argument("--out", type=Path, required=True, help="output folder: new, empty, or an earlier export")
    p.add_argument("--quant", type=_gguf_types, default=("f16", "q8_0"),
                   help="comma-separated GGUF types among f32, f16, q8_0, q4_0, q4_k_m (default: f16,q8_0); "
                        "q4_k_m falls back to q4_0 when the model's sizes are not multiples of 256")
    p.add_argument("--fp16-onnx", action="store_true", help="also write encoder.fp16.onnx")
    p.add_argument("--onnx-lm", action="store_true",
                   help="also write the language model as ONNX through Hugging Face Optimum (lm.onnx + "
                        "lm-embeddings.npy), for the runtime's ONNX Runtime language-model backend")
    p.add_argument("--tensorrt", action="store_true",
                   help="also build encoder.fp16.engine (TensorRT, float16, 1-16 frames) from encoder.fp16.onnx; "
                        "needs the tensorrt extra and a CUDA GPU, and runs only on this kind of GPU")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from ssr_runtime.export.bundle import export_checkpoint
    result = export_checkpoint(args.checkpoint, args.out, quants=args.quant, fp16_onnx=args.fp16_onnx,
                               onnx_lm=args.onnx_lm, tensorrt=args.tensorrt, threads=args.threads,
                               progress=not args.quiet)
    print(format_table(result))
    return 0


def _gguf_types(text: str) -> tuple[str, ...]:
    types = tuple(t.strip().lower() for t in text.split(",") if t.strip())
    unknown = [t for t in types if t not in GGUF_TYPES]
    if not types or unknown:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(GGUF_TYPES)}, got {text!r}")
    if len(set(types)) != len(types):
        raise argparse.ArgumentTypeError(f"a type is listed twice in {text!r}")
    return types


def format_table(result) -> str:
    """Files, sizes and notes (fallbacks, ONNX and engine checks) as an aligned text table."""
    notes = {name: f"max |{'tensorrt' if name.endswith('.engine') else 'onnx'} - torch| = {diff:.2e}"
             for name, diff in result.encoder_max_abs_diff.items()}
    notes |= {name: f"max |onnx - torch| logit = {diff:.2e}" for name, diff in result.lm_onnx_max_abs_diff.items()}
    for plan in result.quantizations:
        if plan.reason:
            notes[f"lm-{plan.produced}.gguf"] = f"for {plan.requested}: {plan.reason}"
    rows = [(name, _human_size(size), notes.get(name, "")) for name, size in result.files.items()]
    width = max(len(name) for name, _, _ in rows)
    lines = [f"export: {result.folder} ({sum(result.seconds.values()):.1f} s)",
             f"{'file':<{width}}  {'size':>9}  note"]
    lines += [f"{name:<{width}}  {size:>9}  {note}".rstrip() for name, size, note in rows]
    return "\n".join(lines)


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 ** 2:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 ** 2:.1f} MiB"
