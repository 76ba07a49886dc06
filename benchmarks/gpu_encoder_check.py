"""Encoder latency and agreement with torch on every backend this machine has: torch (CPU, CUDA), ONNX
Runtime (CPU, CUDA and TensorRT providers) and the TensorRT engine; a backend that is missing is
printed with the reason.

The encoder files come from --bundle (an `ssr export` folder: its encoder.onnx, and its engine when it
has one) or are exported here from --checkpoint into a temporary folder (encoder.onnx,
encoder.fp16.onnx, and encoder.fp16.engine where TensorRT and a GPU are present). Every backend encodes
the same random window of --frames frames: median ms per call over --reps calls after warm-up, and
max |backend − torch CPU float32|.

Usage (from the checkout, with the train and export extras; the tensorrt extra for the engine):
    PYTHONPATH=. python benchmarks/gpu_encoder_check.py [--checkpoint DIR | --bundle DIR --checkpoint DIR]
        [--frames 4] [--reps 200] [--threads 1] [--json OUT.json]
"""

import argparse
import copy
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ssr_runtime.export import onnx_encoder, tensorrt_engine
from ssr_runtime.export.bundle import ENCODER_FILE, ENCODER_FP16_FILE, ENGINE_FILE
from ssr_runtime.export.manifest import read_manifest
from ssr_runtime.model import load_checkpoint
from ssr_runtime.runtime.bundle import ONNX_PROVIDERS
from ssr_runtime.runtime.encoders import OnnxEncoder, with_cpu_fallback
from ssr_runtime.runtime.errors import BackendUnavailableError
from ssr_runtime.runtime.session import DEFAULT_CHECKPOINT
from ssr_runtime.runtime.tensorrt_encoder import TensorRTEncoder, tensorrt_missing
from ssr_runtime.runtime.torch_backends import TorchEncoder


def median_ms(encode, frames, reps: int) -> float:
    for _ in range(10):
        encode(*frames)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        encode(*frames)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def encoder_files(args, model, folder: Path) -> tuple[Path, Path | None, str | None]:
    """(encoder.onnx, the engine or None, why there is no engine)."""
    if args.bundle is not None:
        engine = read_manifest(args.bundle)["encoder"].get("tensorrt")
        if engine is None:
            return args.bundle / ENCODER_FILE, None, f"{args.bundle} has no engine (ssr export --tensorrt)"
        return args.bundle / ENCODER_FILE, args.bundle / engine["file"], None
    onnx_encoder.export_encoder(model.encoder, folder / ENCODER_FILE)
    reason = tensorrt_missing()
    if reason is not None:
        return folder / ENCODER_FILE, None, reason
    onnx_encoder.export_encoder(model.encoder, folder / ENCODER_FP16_FILE, fp16=True)
    tensorrt_engine.build_engine(folder / ENCODER_FP16_FILE, folder / ENGINE_FILE,
                                 onnx_encoder.input_shapes(model.config))
    return folder / ENCODER_FILE, folder / ENGINE_FILE, None


def backends(model, onnx_path: Path, engine: Path | None, no_engine: str | None, threads: int):
    """(name, encoder or None, reason) for every backend, in a fixed order."""
    yield "torch-cpu", TorchEncoder(model), None
    if torch.cuda.is_available():
        yield "torch-cuda", TorchEncoder(copy.deepcopy(model).to("cuda")), None
    else:
        yield "torch-cuda", None, "torch sees no CUDA device"
    for name in ONNX_PROVIDERS:
        provider = ONNX_PROVIDERS[name]
        try:
            yield name, OnnxEncoder(onnx_path, providers=with_cpu_fallback(provider), threads=threads), None
        except BackendUnavailableError as e:
            yield name, None, str(e)
    if engine is None:
        yield "tensorrt", None, no_engine
    else:
        try:
            yield "tensorrt", TensorRTEncoder(engine), None
        except BackendUnavailableError as e:
            yield "tensorrt", None, str(e)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT,
                        help="the torch checkpoint (the reference, and the source when no --bundle)")
    parser.add_argument("--bundle", type=Path, help="an `ssr export` folder of that checkpoint")
    parser.add_argument("--frames", type=int, default=4, help="frames per encode call (the runtime's window: 4)")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch and ONNX Runtime")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_checkpoint(args.checkpoint)[0].eval()
    frames = onnx_encoder.example_frames(model.config, args.frames, seed=0)
    reference = onnx_encoder.torch_tokens(model.encoder, *frames)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device (torch)"
    print(f"{platform.processor() or platform.machine()}, {args.threads} CPU threads, {gpu}; "
          f"window of {args.frames} frames, median of {args.reps}\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path, engine, no_engine = encoder_files(args, model, Path(tmp))
        print(f"{'backend':<14} {'ms/window':>10} {'ms/frame':>9} {'max |Δ torch|':>14}")
        for name, encoder, reason in backends(model, onnx_path, engine, no_engine, args.threads):
            if encoder is None:
                rows.append({"backend": name, "unavailable": reason})
                print(f"{name:<14} unavailable: {reason}")
                continue
            ms = median_ms(encoder.encode, frames, args.reps)
            diff = float(np.abs(encoder.encode(*frames) - reference).max())
            rows.append({"backend": name, "ms_per_window": ms, "ms_per_frame": ms / args.frames, "max_abs_diff": diff})
            print(f"{name:<14} {ms:>10.3f} {ms / args.frames:>9.3f} {diff:>14.2e}")
    if args.json:
        args.json.write_text(json.dumps({"frames": args.frames, "threads": args.threads, "gpu": gpu, "rows": rows},
                                        indent=1))


if __name__ == "__main__":
    main()
