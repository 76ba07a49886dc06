"""Training-step cost of the small preset: float32 against bfloat16 autocast (`ssr train --precision`).

Times, interleaved in one run, a whole optimizer step (forward, backward, AdamW) on a stage-1 shaped
batch: `--samples` samples of `--tokens` tokens (the default 16 × 256 fills `ssr train`'s 4,096-token
budget), each with a window of 4 frames in its visual slots, the patch and position heads on. It also
prints the loss of one batch under both precisions (same weights), so a speed-up that costs accuracy
shows. bfloat16 is fast where the CPU has AVX512-BF16 or AMX (lscpu's flags; printed below), slow
where it is emulated.

Usage: .venv/bin/python benchmarks/bench_train.py [--threads 2] [--steps 5] [--rounds 2] [--fusion add]
"""

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

from ssr_runtime.model import SSRConfig, SSRModel
from ssr_runtime.model.train import auxiliary_losses

FRAMES_PER_SAMPLE = 4


def make_batch(config: SSRConfig, samples: int, tokens: int, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    slots = FRAMES_PER_SAMPLE * config.tokens_per_frame
    if tokens < slots + 40:
        raise SystemExit(f"--tokens: at least {slots + 40} (the window's {slots} visual slots and some text)")
    ids = torch.randint(10, config.vocab_size, (samples, tokens), generator=g)
    ids[:, 20:20 + slots] = config.vis_token_id
    labels = ids.clone()
    labels[:, :20 + slots] = -100  # the loss covers the target only, as in training
    frames = samples * FRAMES_PER_SAMPLE
    return dict(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels,
                pixels=torch.rand(frames, 3, config.image_size, config.image_size, generator=g),
                geometry=torch.rand(frames, config.grid, config.grid, config.geometry_features, generator=g) * 4,
                pose=torch.rand(frames, config.pose_features, generator=g),
                patch_labels=torch.randint(0, config.patch_classes, (frames, config.grid, config.grid), generator=g))


def total_loss(model: SSRModel, batch: dict, bf16: bool) -> torch.Tensor:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = model(**batch)
        return out.loss + sum(weight * value for weight, value in auxiliary_losses(model.config, out).values())


def time_steps(model: SSRModel, optimizer, batch: dict, bf16: bool, steps: int) -> list[float]:
    total_loss(model, batch, bf16).backward()  # warm-up: kernels chosen, buffers allocated
    optimizer.zero_grad(set_to_none=True)
    seconds = []
    for _ in range(steps):
        started = time.perf_counter()
        loss = total_loss(model, batch, bf16)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seconds.append(time.perf_counter() - started)
    return seconds


def cpu_flags() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    flags = set()
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    wanted = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags]
    return ", ".join(wanted) or "none of avx2, avx512f, avx512_bf16, amx_bf16"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per precision and round")
    ap.add_argument("--rounds", type=int, default=2, help="fp32 and bf16 alternate this many times")
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--fusion", default="add", choices=("2d", "add", "add+interleave"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config = SSRConfig.preset("small", fusion=args.fusion)
    model = SSRModel(config).train()
    batch = make_batch(config, args.samples, args.tokens)
    with torch.no_grad():
        losses = {bf16: float(total_loss(model, batch, bf16)) for bf16 in (False, True)}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for bf16 in (False, True):
            seconds[bf16] += time_steps(model, optimizer, batch, bf16, args.steps)

    print(f"# small preset ({args.fusion}), {args.samples} × {args.tokens} tokens, {FRAMES_PER_SAMPLE} frames "
          f"per sample, {args.threads} thread(s), torch {torch.__version__}, {platform.processor() or platform.machine()}"
          f"; CPU flags: {cpu_flags()}")
    print("| precision | s/step (median) | tokens/s | speed-up | loss of one batch |")
    print("|---|---:|---:|---:|---:|")
    base = statistics.median(seconds[False])
    for bf16, name in ((False, "fp32"), (True, "bf16 autocast")):
        median = statistics.median(seconds[bf16])
        print(f"| {name} | {median:.3f} | {args.samples * args.tokens / median:,.0f} | {base / median:.2f}× "
              f"| {losses[bf16]:.5f} |")


if __name__ == "__main__":
    main()
