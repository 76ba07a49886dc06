"""The LocalCogMap experiment in miniature: localization error (in cells) of the model's local maps
around an anchor object vs its global map of the whole room, on held-out scans.

The model gets what a stage-1 cog-map sample gives it (the graph so far as text and the window's
frames) and writes a `<cog>` line; the C++ core parses it and compares it with the map it builds from
the ground truth (`localization_error`: mean cell distance over the objects in both maps). The paper
reports 0.71 cells (local) vs 3.95 (global).

    python benchmarks/cogmap_localization.py --checkpoint out/model --data /tmp/bench50 [--limit 200]
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ssr_runtime import _core
from ssr_runtime.model import load_checkpoint
from ssr_runtime.model.modeling import frame_tensors
from ssr_runtime.model.train import prepared
from ssr_runtime.training.dataset import iter_samples
from ssr_runtime.training.samples import COGMAP_MARK, KIND_COGMAP


def measure(checkpoint: Path, data: Path, limit: int | None, seed: int) -> dict:
    model, tokenizer = load_checkpoint(checkpoint)
    model.eval()
    cache = prepared(data, model.config.tokens_per_frame, seed, progress=True)
    samples = [(s, f) for s, f in iter_samples(cache, 1) if s.kind == KIND_COGMAP]
    if limit:
        samples = [samples[i] for i in np.random.default_rng(seed).permutation(len(samples))[:limit]]
    rows: dict[str, list] = defaultdict(list)
    for sample, frames in tqdm(samples, desc="cog maps", unit="map"):
        kind = "global" if sample.prompt.rstrip().endswith(f"{COGMAP_MARK} room") else "local"
        truth = _core.parse_cogmap(sample.target_document)
        ids = torch.tensor(tokenizer(sample.prompt, add_special_tokens=False)["input_ids"])
        text = model.generate_text(tokenizer, ids, *frame_tensors(frames), max_new_tokens=256)
        rows[kind].append(_compare(text, truth))
    return {kind: _summary(results) for kind, results in sorted(rows.items())}


def _compare(text: str, truth: _core.CogMap) -> tuple[float, float] | None:
    """(mean cell error, fraction of the true objects missing) or None when the line is unusable."""
    try:
        predicted = _core.parse_cogmap(text.strip())
        error = _core.localization_error(predicted, truth)
    except (_core.ParseError, _core.InvalidInputError):
        return None
    missing = len(error.missing) / max(1, len(truth.cells))
    return error.mean_cells, missing


def _summary(results: list) -> dict:
    usable = [r for r in results if r is not None and not math.isnan(r[0])]
    return {"n": len(results), "usable": len(usable),
            "mean_cells": float(np.mean([r[0] for r in usable])) if usable else math.nan,
            "missing": float(np.mean([r[1] for r in usable])) if usable else math.nan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="held-out scans (ssr data gen)")
    parser.add_argument("--limit", type=int, help="at most this many maps (random subset)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = measure(args.checkpoint, args.data, args.limit, args.seed)
    print("| map | n | usable | localization error (cells) | objects missing |")
    print("|---|---:|---:|---:|---:|")
    for kind, row in table.items():
        print(f"| {kind} | {row['n']} | {row['usable']} | {row['mean_cells']:.2f} | {100 * row['missing']:.0f} % |")


if __name__ == "__main__":
    main()
