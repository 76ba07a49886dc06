"""Does the model read its frames? Teacher-forced stage-1 loss on held-out windows with each window's own
frames vs the frames of another window (same frame count, another scene), side by side per checkpoint.

A model that ignores its visual tokens scores the same on both; the gap is what vision buys. Also
reported: the accuracy of the first token of each box line's label (`<box> chair#1 ...` → " chair";
with --kind labels, of each label-list line: "chair 1.2 0.4" → "chair") and of the first digit of
its x and y (the metres: where the object is; box lines only), the parts of the target
only the frames can tell ("n/a" where the tokenizer does not have these marks as single tokens), and how many windows had no other-scene window of their frame count to
take frames from (these are scored with their own frames in both columns). The last column is the mean
cosine similarity between the visual tokens of the scored windows (pose tokens left out): near 1 means
the tokens have collapsed onto one shared vector and there is little left to read (docs/MODEL.md, run 4).
The very last is what the encoder itself sees: its patch head's accuracy on the patches of the scored
windows that show an object ("n/a" without a head), to tell a blind encoder from an LM that does not read.

    python benchmarks/vision_dependence.py --data DATA --scenes=-50: [--kind new|labels] CHECKPOINT [CHECKPOINT ...]

DATA is a folder of scans with a prepared training set (`ssr train` made it); --scenes selects scenes by
their position in the prepared list (python slice syntax, with a colon: 250:, -50:, 200:250), so
held-out scenes can be named. Write a negative start with "=" (--scenes=-50:): argparse takes a separate
"-50:" for an option.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from ssr_runtime.model import load_checkpoint
from ssr_runtime.model.train import IGNORE, Example, FrameStore, collate, prepared
from ssr_runtime.training import dataset
from ssr_runtime.training.samples import KIND_LABELS, KIND_NEW

BATCH = 8


def window_examples(tokenizer, cache: Path, scene_slice: slice, kind: str = KIND_NEW) -> list[Example]:
    samples = [s for s in dataset.load_samples(cache, stage=1) if s.kind == kind and s.frames]
    scenes = sorted({s.scene_id for s in samples})[scene_slice]
    keep = set(scenes)
    examples = []
    for s in samples:
        if s.scene_id in keep and s.target_document.strip():
            prompt = tokenizer(s.prompt, add_special_tokens=False)["input_ids"]
            target = tokenizer(s.target, add_special_tokens=False)["input_ids"]
            examples.append(Example(prompt + target, [False] * len(prompt) + [True] * len(target), s.scene_id,
                                    list(s.frames)))
    return examples


def scene_slice(text: str) -> slice:
    """'start:stop[:step]' (python slice syntax) → slice; ValueError without a colon or with a non-integer."""
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"expected a python slice with a colon (250:, -50:, 200:250), got {text!r}")
    try:
        return slice(*(int(x) if x else None for x in parts))
    except ValueError:
        raise ValueError(f"expected integers around the colon (250:, -50:, 200:250), got {text!r}") from None


@dataclass(frozen=True)
class Marks:
    """Token-id sequences (one or two ids) that precede a scored token. In box lines a label follows
    "<box" ">", and the first digit of x or y follows " x" or " y" and then "=" or "=-" (metres: the
    integer part). In label lists a label starts each line: it follows a newline."""

    label: tuple[tuple[int, ...], ...]
    coordinate: tuple[tuple[int, ...], ...]


def find_marks(tokenizer, kind: str = KIND_NEW) -> Marks | None:
    """The `Marks` of `kind`'s targets when each piece is one token in `tokenizer`, else None."""
    vocab = tokenizer.get_vocab()
    if kind == KIND_LABELS:
        newline = vocab.get("Ċ")
        return None if newline is None else Marks(((newline,),), ())
    pieces = ["<box", ">", "Ġx", "Ġy", "=", "=-"]
    ids = [vocab.get(piece) for piece in pieces]
    if None in ids:
        return None
    box, close, x, y, eq, eq_minus = ids
    return Marks(((box, close),), tuple((axis, sign) for axis in (x, y) for sign in (eq, eq_minus)))


def mark_positions(ids: torch.Tensor, trained: torch.Tensor, marks: tuple[tuple[int, ...], ...]) -> torch.Tensor:
    """[B, L-1] mask of the positions j whose tokens up to ids[j] end with one of `marks` and whose
    next token (the one position j predicts) is a trained target."""
    at = torch.zeros_like(trained)
    for mark in marks:
        n = len(mark)
        hit = torch.ones_like(at[:, n - 1:])
        for k, token in enumerate(mark):  # ids[j - n + 1 + k] == mark[k]
            hit &= ids[:, k:ids.shape[1] - n + k] == token
        at[:, n - 1:] |= hit
    return at & trained


def donors(examples: list[Example]) -> list[Example]:
    """For each example, the next one (cyclically) from another scene with the same frame count; the
    example itself where there is none."""
    out = []
    for i, e in enumerate(examples):
        others = (examples[(i + k) % len(examples)] for k in range(1, len(examples)))
        out.append(next((o for o in others if o.scene_id != e.scene_id and len(o.frames) == len(e.frames)), e))
    return out


@dataclass
class Score:
    loss: float
    label_accuracy: float | None  # None without marks or labels
    coordinate_accuracy: float | None


@torch.no_grad()
def score(model, store: FrameStore, examples: list[Example], frame_sources: list[Example],
          marks: Marks | None) -> Score:
    """Mean target-token loss, top-1 accuracy of box labels and of the integer digit of box x/y."""
    loss_sum = tokens = 0
    hits = {"label": 0, "coordinate": 0}
    seen = {"label": 0, "coordinate": 0}
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
        if marks is not None:
            predicted = logp.argmax(-1)
            for name in hits:
                at = mark_positions(ids, trained, getattr(marks, name))
                hits[name] += int((predicted[at] == target[at]).sum())
                seen[name] += int(at.sum())
    rate = {name: hits[name] / seen[name] if seen[name] else None for name in hits}
    return Score(loss_sum / max(1, tokens), rate["label"], rate["coordinate"])


@torch.no_grad()
def token_similarity(model, store: FrameStore, examples: list[Example]) -> float:
    """Mean pairwise cosine similarity of the visual tokens of the examples' frames (pose tokens left out)."""
    pixels, geometry, pose, _ = store.batch(examples, "cpu")
    tokens = model.encode_frames(pixels, geometry, pose)
    visual = tokens[:, tokens.shape[1] - model.config.visual_tokens_per_frame:].reshape(-1, tokens.shape[-1])
    unit = torch.nn.functional.normalize(visual, dim=-1)
    return float((unit @ unit.T).mean())


def object_patch_accuracy(logits: torch.Tensor, patch_labels: torch.Tensor) -> float | None:
    """Share of the patches that show an object (class > 0) whose likeliest class is the true one;
    None without such patches. logits [..., classes], patch_labels [...] (the same leading shape)."""
    shown = patch_labels > 0
    if not bool(shown.any()):
        return None
    return float((logits.argmax(-1)[shown] == patch_labels[shown].long()).float().mean())


@torch.no_grad()
def patch_head_accuracy(model, store: FrameStore, examples: list[Example]) -> float | None:
    """What the encoder sees, beside what the LM reads: the patch head's `object_patch_accuracy` over the
    examples' own frames; None without a patch head."""
    if model.encoder.patch_head is None:
        return None
    pixels, geometry, _, patch_labels = store.batch(examples, "cpu")
    logits = model.encoder.patch_head(model.encoder.patch_features(pixels, geometry))
    return object_patch_accuracy(logits, patch_labels.reshape(logits.shape[:-1]))


def accuracy(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+", type=Path)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--scenes", default="-50:",
                   help="python slice over the prepared scenes, with a colon (default: the last 50; write a "
                        "negative start as --scenes=-50:)")
    p.add_argument("--limit", type=int, default=200, help="windows scored per checkpoint")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--kind", choices=(KIND_NEW, KIND_LABELS), default=KIND_NEW,
                   help="which stage-1 windows: new objects' boxes (default) or the label lists only frames give")
    args = p.parse_args(argv)
    try:
        scenes = scene_slice(args.scenes)
    except ValueError as e:
        p.error(f"--scenes: {e}")
    torch.set_num_threads(args.threads)
    print("| checkpoint | windows | without donor | loss own frames | loss other frames | gap | label acc own "
          "| label acc other | x/y digit acc own | x/y digit acc other | token cos | patch head acc |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for checkpoint in tqdm(args.checkpoints, desc="checkpoints", leave=False):
        model, tokenizer = load_checkpoint(checkpoint)
        cache = prepared(args.data, model.config.tokens_per_frame, seed=0, progress=True)
        examples = window_examples(tokenizer, cache, scenes, args.kind)[: args.limit]
        if not examples:
            print(f"{checkpoint}: no stage-1 windows with targets in scenes {args.scenes}", file=sys.stderr)
            return 1
        store = FrameStore(cache, {e.scene_id for e in examples})
        marks = find_marks(tokenizer, args.kind)
        sources = donors(examples)
        own = score(model, store, examples, examples, marks)
        other = score(model, store, examples, sources, marks)
        alone = sum(d is e for d, e in zip(sources, examples))
        print(f"| {checkpoint} | {len(examples)} | {alone} | {own.loss:.3f} | {other.loss:.3f} "
              f"| {other.loss - own.loss:+.3f} | {accuracy(own.label_accuracy)} | {accuracy(other.label_accuracy)} "
              f"| {accuracy(own.coordinate_accuracy)} | {accuracy(other.coordinate_accuracy)} "
              f"| {token_similarity(model, store, examples):.3f} "
              f"| {accuracy(patch_head_accuracy(model, store, examples))} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
