"""Does the model read its frames? Teacher-forced stage-1 loss on held-out windows with each window's own
frames vs the frames of another window (same frame count, another scene), side by side per checkpoint.

A model that ignores its visual tokens scores the same on both; the gap is what vision buys. Also
reported: the accuracy of the first token of each box line's label (`<box> chair#1 ...` → " chair"),
the part of the target only the frames can tell.

    python benchmarks/vision_dependence.py --data DATA --scenes 250: CHECKPOINT [CHECKPOINT ...]

DATA is a folder of scans with a prepared training set (`ssr train` made it); --scenes selects scenes by
their position in the prepared list (python slice syntax), so held-out scenes can be named.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from ssr_runtime.model import load_checkpoint
from ssr_runtime.model.train import IGNORE, Example, FrameStore, collate, prepared
from ssr_runtime.training import dataset
from ssr_runtime.training.samples import KIND_NEW

BATCH = 8


def window_examples(tokenizer, cache: Path, scene_slice: slice) -> list[Example]:
    samples = [s for s in dataset.load_samples(cache, stage=1) if s.kind == KIND_NEW and s.frames]
    scenes = sorted({s.scene_id for s in samples})[scene_slice]
    keep = set(scenes)
    examples = []
    for s in samples:
        if s.scene_id in keep and s.target_document.strip():
            prompt = tokenizer(s.prompt, add_special_tokens=False)["input_ids"]
            target = tokenizer(s.target, add_special_tokens=False)["input_ids"]
            examples.append(Example(prompt + target, len(prompt), s.scene_id, list(s.frames)))
    return examples


def donors(examples: list[Example]) -> list[Example]:
    """For each example, the next one (cyclically) from another scene with the same frame count."""
    out = []
    for i, e in enumerate(examples):
        others = (examples[(i + k) % len(examples)] for k in range(1, len(examples)))
        out.append(next((o for o in others if o.scene_id != e.scene_id and len(o.frames) == len(e.frames)), e))
    return out


@torch.no_grad()
def score(model, store: FrameStore, examples: list[Example], frame_sources: list[Example],
          box_token: int) -> tuple[float, float]:
    """(mean target-token loss, label accuracy after each `<box` `>` pair)."""
    loss_sum = tokens = hits = labels_seen = 0
    for k in range(0, len(examples), BATCH):
        batch = examples[k:k + BATCH]
        ids, labels, mask = collate(batch, model.config.eos_token_id)
        pixels, geometry, pose, _ = store.batch(frame_sources[k:k + BATCH], "cpu")
        logits = model(ids, attention_mask=mask, pixels=pixels, geometry=geometry, pose=pose).logits
        logp = logits[:, :-1].log_softmax(-1)
        target = labels[:, 1:]
        trained = target != IGNORE
        picked = logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        loss_sum -= float(picked[trained].sum())
        tokens += int(trained.sum())
        # position j predicts ids[j + 1]; a label follows "<box" ">", so ids[j - 1] is "<box"
        is_label = torch.zeros_like(trained)
        is_label[:, 1:] = (ids[:, :-2] == box_token) & trained[:, 1:]
        hits += int((logp.argmax(-1)[is_label] == target[is_label]).sum())
        labels_seen += int(is_label.sum())
    return loss_sum / max(1, tokens), hits / max(1, labels_seen)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", type=Path)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--scenes", default="-50:", help="python slice over the prepared scenes (default: last 50)")
    p.add_argument("--limit", type=int, default=200, help="windows scored per checkpoint")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    scene_slice = slice(*(int(x) if x else None for x in args.scenes.split(":")))
    print("| checkpoint | windows | loss own frames | loss other frames | gap | label acc own | label acc other |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for checkpoint in tqdm(args.checkpoints, desc="checkpoints", leave=False):
        model, tokenizer = load_checkpoint(checkpoint)
        cache = prepared(args.data, model.config.tokens_per_frame, seed=0, progress=True)
        examples = window_examples(tokenizer, cache, scene_slice)[: args.limit]
        if not examples:
            print(f"{checkpoint}: no stage-1 windows with targets in scenes {args.scenes}", file=sys.stderr)
            return 1
        store = FrameStore(cache, {e.scene_id for e in examples})
        box = tokenizer.convert_tokens_to_ids("<box")
        own = score(model, store, examples, examples, box)
        other = score(model, store, examples, donors(examples), box)
        print(f"| {checkpoint} | {len(examples)} | {own[0]:.3f} | {other[0]:.3f} | {other[0] - own[0]:+.3f} "
              f"| {own[1]:.2f} | {other[1]:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
