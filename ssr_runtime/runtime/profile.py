"""`ssr profile`: the runtime's per-stage latency for chosen backends, side by side in one run.

Every language-model backend streams the same scene through a Session (encoder: the export's "auto"
backend, named in profile.json as "lm_encoder") and answers the same questions; every encoder backend
encodes the same keyframe window. Torch rows (the reference) need the training extra and the model's
checkpoint. A backend this machine or export cannot run (no GPU, no TensorRT, no such ONNX Runtime
provider, an engine or lm.onnx the export lacks, an engine built for another GPU) gets a row that says
"unavailable: <reason>" rather than none. Writes profile.json, profile.csv and profile.png to --out.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from ssr_runtime.files import atomic_open, write_json_atomic

ENCODER_REPEATS = 20


def register(subparsers) -> None:
    p = subparsers.add_parser("profile", help="per-stage latency of runtime backends, side by side",
                              description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="an exported model folder (default: the shipped one)")
    p.add_argument("--checkpoint", type=Path,
                   help="the torch checkpoint it was exported from, for the torch rows (default: the shipped one)")
    p.add_argument("--scene", type=Path, help="a scene folder (default: the shipped sample scene)")
    p.add_argument("--lm", default="torch,f16,q8_0",
                   help="language-model backends (comma-separated): torch, GGUF types of the export folder, and "
                        "onnx (its lm.onnx, from `ssr export --onnx-lm`)")
    p.add_argument("--encoder", default="torch,onnx-cpu,onnx-cuda,onnx-tensorrt,tensorrt",
                   help="encoder backends (comma-separated): torch and the runtime's (onnx, onnx-cpu, onnx-cuda, "
                        "onnx-tensorrt: ONNX Runtime providers; tensorrt: the export's engine)")
    p.add_argument("--threads", type=int, default=1, help="threads per backend, torch's too (Session's default: 1)")
    p.add_argument("--out", type=Path, default=Path("out/profile"))
    p.set_defaults(func=_profile)


def _profile(args: argparse.Namespace) -> int:
    from ssr_runtime.data import sample_scene_path
    from ssr_runtime.data.readers import iter_scene_frames
    from ssr_runtime.runtime.bundle import load_bundle
    from ssr_runtime.runtime.session import DEFAULT_CHECKPOINT, DEFAULT_MODEL

    folder = args.model or DEFAULT_MODEL
    checkpoint = args.checkpoint or (DEFAULT_CHECKPOINT if args.model is None else None)
    frames = list(iter_scene_frames(args.scene or sample_scene_path(), with_instance=False))
    bundle = load_bundle(folder, threads=args.threads)  # its "auto" encoder serves every LM row
    torch_model = _torch_model(checkpoint, args.threads) if "torch" in args.encoder + args.lm else None

    rows = []
    for name in _names(args.encoder):
        encoder, reason = _encoder(name, bundle, torch_model, args.threads)
        rows.append(_encoder_row(name, encoder, frames) if encoder is not None
                    else {"kind": "encoder", "backend": name, "unavailable": reason})
    for name in _names(args.lm):
        lm, reason = _lm(name, bundle, torch_model, args.threads)
        rows.append(_session_row(name, folder, bundle.encoder, lm, frames) if lm is not None
                    else {"kind": "lm", "backend": name, "unavailable": reason})
    args.out.mkdir(parents=True, exist_ok=True)
    lm_encoder = describe_encoder(bundle.encoder)
    _print_table(rows, lm_encoder)
    write_json_atomic(args.out / "profile.json", {"model": str(folder), "frames": len(frames), "threads": args.threads,
                                                   "lm_encoder": lm_encoder, "rows": rows})
    _write_csv(args.out / "profile.csv", rows)
    _plot(args.out / "profile.png", rows)
    print(f"wrote {args.out}/profile.json, profile.csv, profile.png")
    return 0


def _names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _torch_model(checkpoint: Path | None, threads: int):
    if checkpoint is None:
        print("torch rows skipped: no --checkpoint given")
        return None
    try:
        import torch

        from ssr_runtime.model import load_checkpoint
    except ImportError as e:
        print(f"torch rows skipped: {e}")
        return None
    torch.set_num_threads(threads)
    return load_checkpoint(checkpoint)[0].eval()


def _encoder(name: str, bundle, torch_model, threads: int):
    """(encoder, None), or (None, why this machine or export cannot run it)."""
    from ssr_runtime.runtime.bundle import ENCODER_BACKENDS, open_encoder
    from ssr_runtime.runtime.errors import BackendUnavailableError, ModelFileError

    if name == "torch":
        if torch_model is None:
            return None, "no torch model (the train extra and --checkpoint)"
        from ssr_runtime.runtime.torch_backends import TorchEncoder

        return TorchEncoder(torch_model), None
    if name not in ENCODER_BACKENDS or name == "auto":
        raise ValueError(f"--encoder: unknown backend {name!r} (torch, {', '.join(ENCODER_BACKENDS[1:])})")
    try:
        return open_encoder(bundle.folder, bundle.manifest, name, threads), None
    except (BackendUnavailableError, ModelFileError) as e:  # ModelFileError: an engine for another GPU
        return None, str(e)


def describe_encoder(encoder) -> str:
    """The encoder's class, with its ONNX Runtime providers where it has them."""
    providers = getattr(encoder, "providers", None)
    return type(encoder).__name__ + (f" ({', '.join(providers)})" if providers else "")


def _lm(name: str, bundle, torch_model, threads: int):
    """(language model, None), or (None, why this machine or export cannot run it)."""
    from ssr_runtime.runtime.bundle import (
        ONNX_LM_FILE,
        grammar_gguf,
        lm_files,
        onnx_lm_file,
        open_lm,
    )

    files = lm_files(bundle.manifest)
    if name == "torch":
        if torch_model is None:
            return None, "no torch model (the train extra and --checkpoint)"
        from ssr_runtime.runtime.torch_backends import TorchLM

        return TorchLM(torch_model, grammar_vocab=bundle.folder / grammar_gguf(bundle.folder, bundle.manifest)), None
    if name == "onnx":
        if onnx_lm_file(bundle.manifest) is None:
            return None, f"{bundle.folder} has no {ONNX_LM_FILE} (export it with `ssr export --onnx-lm`)"
        return open_lm(bundle.folder, bundle.manifest, bundle.config, ONNX_LM_FILE, threads), None
    if name not in files:
        raise ValueError(f"--lm: {name!r} is neither torch, onnx nor a GGUF type of {bundle.folder} "
                         f"({', '.join(files)})")
    return open_lm(bundle.folder, bundle.manifest, bundle.config, files[name], threads), None


def _encoder_row(name: str, encoder, frames) -> dict:
    """ms per 4-frame window of the scene's first frames, after one warm-up; the encoder is closed after."""
    from ssr_runtime.preprocess import FrameBatch, frame_inputs

    batch = FrameBatch.stack([frame_inputs(f.rgb, f.depth, f.K, f.T_wc) for f in frames[:4]])
    times = []
    try:
        encoder.encode(batch.pixels, batch.geometry, batch.pose)
        for _ in range(ENCODER_REPEATS):
            start = time.perf_counter()
            encoder.encode(batch.pixels, batch.geometry, batch.pose)
            times.append((time.perf_counter() - start) * 1e3)
    finally:
        if hasattr(encoder, "close"):
            encoder.close()
    return {"kind": "encoder", "backend": name, "encoder_p50_ms": float(np.median(times)),
            "encoder_p95_ms": float(np.percentile(times, 95))}


def _session_row(name: str, folder: Path, encoder, lm, frames) -> dict:
    from ssr_runtime.runtime.session import Session

    session = Session(folder, encoder=encoder, lm=lm)
    started = time.perf_counter()
    session.push_frames(frames)
    for question in ("How many chair(s) are in this room?", "What is the size of this room (in square meters)?"):
        session.ask(question)
    row = {"kind": "lm", "backend": name, "seconds": time.perf_counter() - started}
    for stage, values in session.latency.summary().items():
        row[f"{stage}_p50_ms"] = values["p50_ms"]
        row[f"{stage}_p95_ms"] = values["p95_ms"]
        if "tokens_per_s" in values:
            row["decode_tokens_per_s"] = values["tokens_per_s"]
    return row


def _print_table(rows: list[dict], lm_encoder: str) -> None:
    from ssr_runtime.runtime.demo import markdown_table

    encoders = [r for r in rows if r["kind"] == "encoder"]
    if encoders:
        base = next((r["encoder_p50_ms"] for r in encoders if r["backend"] == "torch" and "unavailable" not in r), None)
        print(markdown_table(["backend", "p50 ms/window", "p95 ms/window", "speed-up vs torch"], [
            {"backend": r["backend"], "p50 ms/window": f"unavailable: {r['unavailable']}", "p95 ms/window": "",
             "speed-up vs torch": ""} if "unavailable" in r else
            {"backend": r["backend"], "p50 ms/window": f"{r['encoder_p50_ms']:.2f}",
             "p95 ms/window": f"{r['encoder_p95_ms']:.2f}",
             "speed-up vs torch": f"{base / r['encoder_p50_ms']:.2f}×" if base else ""} for r in encoders]))
        print()
    lms = [r for r in rows if r["kind"] == "lm"]
    if lms:
        base = next((r.get("decode_tokens_per_s") for r in lms if r["backend"] == "torch"), None)
        columns = ["backend", "preprocess p50", "encoder p50", "prefill p50/p95 ms", "decode tok/s", "vs torch",
                   "number p50", "parse+merge p50", "query p50", "total s"]
        print(f"language models (encoder: {lm_encoder})")
        print(markdown_table(columns, [
            dict.fromkeys(columns, "") | {"backend": r["backend"],
                                          "preprocess p50": f"unavailable: {r['unavailable']}"}
            if "unavailable" in r else {
                "backend": r["backend"], "preprocess p50": f"{r.get('preprocess_p50_ms', 0):.2f}",
                "encoder p50": f"{r.get('encoder_p50_ms', 0):.2f}",
                "prefill p50/p95 ms": f"{r.get('prefill_p50_ms', 0):.1f}/{r.get('prefill_p95_ms', 0):.1f}",
                "decode tok/s": f"{r.get('decode_tokens_per_s', 0):.0f}",
                "vs torch": f"{r.get('decode_tokens_per_s', 0) / base:.2f}×" if base else "",
                "number p50": f"{r.get('number_p50_ms', 0):.1f}",
                "parse+merge p50": f"{r.get('parse_merge_p50_ms', 0):.2f}",
                "query p50": f"{r.get('query_p50_ms', 0):.2f}", "total s": f"{r['seconds']:.1f}"} for r in lms]))


def _write_csv(path: Path, rows: list[dict]) -> None:
    columns = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("kind", "backend"), k))
    with atomic_open(path, "w") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _plot(path: Path, rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lms = [r for r in rows if r["kind"] == "lm" and "unavailable" not in r]
    encoders = [r for r in rows if r["kind"] == "encoder" and "unavailable" not in r]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].bar([r["backend"] for r in encoders], [r["encoder_p50_ms"] for r in encoders], color="tab:blue")
    axes[0].set_title("encoder, p50 ms per window")
    axes[1].bar([r["backend"] for r in lms], [r.get("decode_tokens_per_s", 0) for r in lms], color="tab:orange")
    axes[1].set_title("language model, decode tokens/s")
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format="png", dpi=120)
    plt.close(fig)
