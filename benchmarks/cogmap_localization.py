"""The LocalCogMap experiment in miniature: localization error (in cells) of the model's local maps
around an anchor object vs its global map of the whole room, on held-out scans.

The model gets what a stage-1 cog-map sample gives it (the graph so far as text and the window's
frames; half the samples ask for the global map, anchor `room`) and is scored two ways:
- free-running: it writes a `<cog>` line, the C++ core parses it and compares it with the map it
  builds from the ground truth (`localization_error`: mean cell distance over the objects in both
  maps); a line that does not parse, or names another anchor, is not usable;
- teacher-forced: the true line is fed, and at each object's cell the model's most likely digits
  (x, then y, each with the true text before it) are compared with the true cell: where the model
  puts objects when ids and map header are given, whatever its free-running text does.
A constant guess (the median true cell) is printed beside them for scale. The paper reports 0.71
cells (local) vs 3.95 (global).

    python benchmarks/cogmap_localization.py --checkpoint out/model --data /tmp/bench50 [--limit 200]
"""

from __future__ import annotations

import argparse
import math
import re
from collections import defaultdict
from dataclasses import dataclass
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

CELL = re.compile(r" \((\d),(\d)\)")  # an object's cell in a <cog> line: " (x,y)", one digit each


@dataclass
class MapResult:
    free_running: tuple[float, float] | None  # (mean cell error, fraction of true objects missing); None: unusable
    teacher_forced: float  # mean cell error with the true text fed (nan when the map has no object)
    cells: list[tuple[int, int]]  # the true cells, for the constant-guess reference


def measure(checkpoint: Path, data: Path, limit: int | None, seed: int) -> dict:
    model, tokenizer = load_checkpoint(checkpoint)
    model.eval()
    cache = prepared(data, model.config.tokens_per_frame, seed, progress=True)
    samples = [(s, f) for s, f in iter_samples(cache, 1) if s.kind == KIND_COGMAP]
    if limit:
        samples = [samples[i] for i in np.random.default_rng(seed).permutation(len(samples))[:limit]]
    digits = [tokenizer.convert_tokens_to_ids(str(d)) for d in range(10)]
    rows: dict[str, list[MapResult]] = defaultdict(list)
    for sample, frames in tqdm(samples, desc="cog maps", unit="map"):
        kind = "global" if sample.prompt.rstrip().endswith(f"{COGMAP_MARK} room") else "local"
        truth = _core.parse_cogmap(sample.target_document)
        prompt = tokenizer(sample.prompt, add_special_tokens=False)["input_ids"]
        inputs = frame_tensors(frames)
        with torch.no_grad():
            text = model.generate_text(tokenizer, torch.tensor(prompt), *inputs, max_new_tokens=256)
            forced = teacher_forced_error(model, tokenizer, prompt, sample.target_document, inputs, digits)
        rows[kind].append(MapResult(_compare(text, truth), forced, [(c.i, c.j) for c in truth.cells]))
    return {kind: _summary(results) for kind, results in sorted(rows.items())}


def cell_tokens(target: str, offsets: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """(token index of the x digit, x, token index of the y digit, y) for each cell of a <cog> line,
    from the tokenizer's character offsets of `target`; ValueError when a digit is not a token alone."""
    index_of = {start: i for i, (start, end) in enumerate(offsets) if end == start + 1}
    cells = []
    for match in CELL.finditer(target):
        x_at, y_at = index_of.get(match.start(1)), index_of.get(match.start(2))
        if x_at is None or y_at is None:
            raise ValueError(f"cell {match.group(0).strip()!r}: its digits are not single tokens")
        cells.append((x_at, int(match.group(1)), y_at, int(match.group(2))))
    return cells


def teacher_forced_error(model, tokenizer, prompt: list[int], target: str, inputs, digits: list[int]) -> float:
    """Mean Euclidean cell distance between the true cells of `target` and the model's most likely
    digit at each, the true text fed (nan when the map lists no object)."""
    encoded = tokenizer(target, add_special_tokens=False, return_offsets_mapping=True)
    cells = cell_tokens(target, encoded["offset_mapping"])
    if not cells:
        return math.nan
    ids = torch.tensor([prompt + encoded["input_ids"]])
    logits = model(ids, pixels=inputs[0], geometry=inputs[1], pose=inputs[2]).logits[0, :, digits]
    guess = logits.argmax(-1)  # position p predicts token p + 1: the digit at p is guess[p - 1]
    errors = [math.hypot(int(guess[len(prompt) + xi - 1]) - x, int(guess[len(prompt) + yi - 1]) - y)
              for xi, x, yi, y in cells]
    return float(np.mean(errors))


def _compare(text: str, truth: _core.CogMap) -> tuple[float, float] | None:
    """(mean cell error, fraction of the true objects missing) or None when the line is unusable."""
    try:
        predicted = _core.parse_cogmap(text.strip())
        error = _core.localization_error(predicted, truth)
    except (_core.ParseError, _core.InvalidInputError):
        return None
    missing = len(error.missing) / max(1, len(truth.cells))
    return error.mean_cells, missing


def constant_guess_error(maps: list[list[tuple[int, int]]]) -> float:
    """Teacher-forced error of a guesser that ignores everything: the median true cell of these maps
    for every object (per-map mean, then the mean over maps, as for the model); a reference for what
    a column's number is worth."""
    cells = np.array([cell for cells in maps for cell in cells], dtype=float).reshape(-1, 2)
    if not len(cells):
        return math.nan
    guess = np.median(cells, axis=0)
    return float(np.mean([np.mean(np.hypot(*(np.array(c, dtype=float) - guess).T)) for c in maps if c]))


def _summary(results: list[MapResult]) -> dict:
    usable = [r.free_running for r in results if r.free_running is not None and not math.isnan(r.free_running[0])]
    forced = [r.teacher_forced for r in results if not math.isnan(r.teacher_forced)]
    return {"constant_cells": constant_guess_error([r.cells for r in results]),"n": len(results), "usable": len(usable),
            "mean_cells": float(np.mean([u[0] for u in usable])) if usable else math.nan,
            "missing": float(np.mean([u[1] for u in usable])) if usable else math.nan,
            "forced_cells": float(np.mean(forced)) if forced else math.nan}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="held-out scans (ssr data gen)")
    parser.add_argument("--limit", type=int, help="at most this many maps (random subset)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    table = measure(args.checkpoint, args.data, args.limit, args.seed)
    print("| map | n | free-running usable | free-running error (cells) | objects missing "
          "| teacher-forced error (cells) | constant guess (cells) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, row in table.items():
        print(f"| {kind} | {row['n']} | {row['usable']} | {row['mean_cells']:.2f} | {100 * row['missing']:.0f} % "
              f"| {row['forced_cells']:.2f} | {row['constant_cells']:.2f} |")


if __name__ == "__main__":
    main()
