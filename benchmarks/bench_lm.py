"""Language-model and encoder speed of the runtime's backends against the torch references, side by side.

A random-init model of the `small` preset (speed does not depend on the weights' values) is saved and
exported once (encoder.onnx, lm-f16/q8_0/q4_k_m.gguf, lm.onnx through Optimum) into a temporary
folder. Then, with the same prompt for every backend — text, one window of visual tokens (as
embeddings), text — it measures:
- prefill tokens/s: the whole prompt fed from an empty cache;
- decode tokens/s: greedy generation of --new-tokens tokens (no stop token, so every run is as long);
each the best of --reps runs, for TorchLM (fp32 eager), LlamaCppLM per GGUF type and OnnxLM (fp32,
ONNX Runtime CPU), all on --threads threads (best-of: on a shared machine the other load only ever slows
a run), beside each file's size and the lm.onnx export's seconds. Encoder: torch
vs ONNX Runtime (CPU) on the same random frames, one frame and one runtime window (4 frames) per
call, each the median of --encoder-reps calls after warm-up, the two backends' calls alternating so
that load changes on a shared machine reach both alike. --clock cpu times the encoder calls in process
CPU time instead of wall time: with --threads 1 that leaves out the time other work on a shared
machine holds the core (with more threads it would count spin-waiting too).

Usage (from the checkout, with the train and export extras):
    PYTHONPATH=. python benchmarks/bench_lm.py [--threads 2] [--reps 3] [--new-tokens 128] [--clock wall|cpu]
"""

import argparse
import platform
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ssr_runtime import _core
from ssr_runtime.export.bundle import export_checkpoint
from ssr_runtime.export.onnx_encoder import example_frames
from ssr_runtime.model import SSRConfig, SSRModel, save_checkpoint, train_tokenizer
from ssr_runtime.runtime.encoders import OnnxEncoder
from ssr_runtime.runtime.llama_lm import LlamaCppLM
from ssr_runtime.runtime.onnx_lm import OnnxLM
from ssr_runtime.runtime.torch_backends import TorchEncoder, TorchLM
from ssr_runtime.training.samples import WINDOW

GGUF_TYPES = ("f16", "q8_0", "q4_k_m")


def tokenizer_texts(count: int = 200) -> list[str]:
    rng = random.Random(0)
    labels = ("chair", "table", "lamp", "sofa", "bed", "tv", "door")
    texts = []
    for _ in range(count):
        box = _core.Box3D([rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(0, 2)], [rng.uniform(0.2, 2)] * 3,
                          rng.uniform(-3, 3))
        texts.append(_core.format_box(f"{rng.choice(labels)}#{rng.randint(1, 9)}", box))
    return texts


def build(folder: Path, threads: int):
    texts = tokenizer_texts()
    tokenizer = train_tokenizer(texts, vocab_size=1024)
    torch.manual_seed(0)
    model = SSRModel(SSRConfig.preset("small", tokenizer)).eval()
    save_checkpoint(folder / "ck", model, tokenizer)
    result = export_checkpoint(folder / "ck", folder / "out", quants=GGUF_TYPES, onnx_lm=True, threads=threads,
                               progress=False)
    graph_text = "<|graph|>\n" + "\n".join(texts[:6]) + "\n<|window|>"
    segments = [tokenizer(graph_text, add_special_tokens=False)["input_ids"], None,
                tokenizer("\n<|new|>\n", add_special_tokens=False)["input_ids"]]
    return model, result, segments


def best_rates(lm, segments, new_tokens: int, reps: int) -> tuple[float, float]:
    """(prefill tokens/s, decode tokens/s), each the best of `reps` runs."""
    prompt_tokens = sum(len(s) for s in segments)
    prefill, decode = [], []
    for _ in range(reps):
        lm.reset()
        start = time.perf_counter()
        lm.prefill(segments)
        middle = time.perf_counter()
        out = lm.generate(new_tokens, stop=[])
        end = time.perf_counter()
        assert len(out) == new_tokens
        prefill.append(prompt_tokens / (middle - start))
        decode.append(new_tokens / (end - middle))
    return max(prefill), max(decode)


def mib(result, *names: str) -> str:
    """The files' size together, in MiB, from the export's record."""
    return f"{sum(result.files[n] for n in names) / 2 ** 20:.1f}"


def encoder_medians_ms(encoders: dict, frames, reps: int, clock) -> dict[str, float]:
    """Median ms per call of each encoder on `frames` by `clock`, their calls alternating, after warm-up."""
    for encoder in encoders.values():
        for _ in range(10):  # first-run allocations and graph optimisation
            encoder.encode(*frames)
    times = {name: [] for name in encoders}
    for _ in range(reps):
        for name, encoder in encoders.items():
            start = clock()
            encoder.encode(*frames)
            times[name].append(clock() - start)
    return {name: 1e3 * float(np.median(t)) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--encoder-reps", type=int, default=200)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="encoder timing: wall or CPU time")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        model, result, segments = build(Path(tmp), args.threads)
        out, c = result.folder, model.config
        frames = example_frames(c, WINDOW, seed=0)
        onnx_encoder = OnnxEncoder(out / "encoder.onnx", providers=["CPUExecutionProvider"], threads=args.threads)
        visual = onnx_encoder.encode(*frames)
        segments[1] = visual.reshape(-1, c.hidden_size)
        prompt = sum(len(s) for s in segments)
        print(f"{platform.processor() or platform.machine()}, {args.threads} threads; small preset "
              f"({model.parameter_counts()['lm'] / 1e6:.1f} M LM parameters, hidden {c.hidden_size}, "
              f"{c.num_hidden_layers} layers, vocab {c.vocab_size}); prompt {prompt} tokens "
              f"({len(segments[1])} visual), {args.new_tokens} new tokens, best of {args.reps}\n")

        rows = [("torch fp32 eager", "", *best_rates(TorchLM(model), segments, args.new_tokens, args.reps))]
        for gguf_type in GGUF_TYPES:
            name = f"lm-{gguf_type}.gguf"
            with LlamaCppLM(out / name, n_ctx=1024, threads=args.threads) as lm:
                rows.append((f"llama.cpp {gguf_type}", mib(result, name),
                             *best_rates(lm, segments, args.new_tokens, args.reps)))
        onnx_lm = OnnxLM(out / "lm.onnx", out / "lm-embeddings.npy", c.eos_token_id, capacity=1024,
                         threads=args.threads, providers=["CPUExecutionProvider"])
        rows.append(("onnxruntime fp32", mib(result, "lm.onnx", "lm-embeddings.npy"),
                     *best_rates(onnx_lm, segments, args.new_tokens, args.reps)))
        torch_prefill, torch_decode = rows[0][2:]
        print(f"lm.onnx exported through Optimum in {result.seconds['lm.onnx']:.1f} s "
              f"(export, check against torch)\n")
        print(f"{'language model':<18} {'MiB':>5} {'prefill tok/s':>13} {'×torch':>7} {'decode tok/s':>13} "
              f"{'×torch':>7}")
        for name, size, prefill, decode in rows:
            print(f"{name:<18} {size:>5} {prefill:>13.0f} {prefill / torch_prefill:>7.2f} {decode:>13.1f} "
                  f"{decode / torch_decode:>7.2f}")

        encoders = {"torch fp32 eager": TorchEncoder(model), "ONNX Runtime CPU": onnx_encoder}
        clock = time.perf_counter if args.clock == "wall" else time.process_time
        print(f"\n{'encoder (' + args.clock + ' time)':<20} {'frames/call':>11} {'ms/call':>8} {'ms/frame':>9} "
              f"{'×torch':>7}")
        for count in (1, WINDOW):
            ms = encoder_medians_ms(encoders, example_frames(c, count, seed=0), args.encoder_reps, clock)
            for name, value in ms.items():
                print(f"{name:<20} {count:>11} {value:>8.3f} {value / count:>9.3f} "
                      f"{ms['torch fp32 eager'] / value:>7.2f}")


if __name__ == "__main__":
    main()
