"""Can the small language model learn to read label words from its visual slots, and in which order?

A probe of the LM alone, without frames or encoder: a fresh `small` LM is trained on stage 1's
label-list prompt (`samples.stage1_prompt`: no context, 4 frames × 16 slots) whose slots hold RMS-1 noise,
as the batch-normed visual tokens do, and the slots of each object also hold its label word's input
embedding scaled to RMS `--word-scale`. The target lists one label per object, in one of two orders:

- `label`: alphabetical, as stage 1's label lists are written;
- `slot`: by the first slot that shows the object (frame, then row and column), the order of
  what the frames show, as stage 1's new objects are by keyframe time.

With `--coords phase|digits` each object also stands at a random place (x, y to 0.1 m in [0, 10) m),
each line is `label x y` as stage 1's label lists write it, and the object's slots also hold its place,
coded one of two ways (at RMS 1):

- `phase`: x/10, y/10 and cos, sin of 2π·x/p, 2π·y/p for periods p = 16 … 0.5 m through a fixed
  random projection: what the encoder's position head teaches its tokens to hold;
- `digits`: the input embeddings of the four digits (x units, x tenths, y units, y tenths), each
  turned by a fixed random rotation of its own (so the four can be told apart), summed.

It prints, per order, the held-out loss, the teacher-forced accuracy of each line's label (the
token after a newline, as `vision_dependence.py` scores it) and, with places, of the target's
digits, on 300 fresh samples. A high accuracy here with a low one on real frames
(`vision_dependence.py --kind labels`) means the LM can read, and the visual tokens do not give it
the words (docs/MODEL.md).

    python benchmarks/slot_reading.py [--checkpoint CKPT] [--orders label slot] [--steps 250]
                                      [--coords none|phase|digits]

CKPT supplies the tokenizer (default: the shipped checkpoint); the LM is new, seed 0.
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass
from pathlib import Path

import torch
from vision_dependence import mark_positions

from ssr_runtime.data.categories import LABELS
from ssr_runtime.model import SSRConfig, SSRModel, load_checkpoint
from ssr_runtime.model.train import IGNORE, Example, collate, learning_rate
from ssr_runtime.runtime.session import DEFAULT_CHECKPOINT
from ssr_runtime.training.samples import LABELS_MARK, WINDOW, stage1_prompt

GRID = 4  # a frame's cells are GRID × GRID
SLOTS = WINDOW * GRID * GRID  # the `small` preset's 16 pooled cells per frame
ORDERS = ("label", "slot")
CODES = ("none", "phase", "digits")
PERIODS = (16.0, 8.0, 4.0, 2.0, 1.0, 0.5)  # metres, as the encoder's position head
WARMUP_STEPS = 50


@dataclass(frozen=True)
class SlotSample:
    slots: dict[int, int]  # slot index → the target line (object) shown there
    labels: list[str]  # the target's labels, in the probe's order
    places: list[tuple[float, float]]  # x, y of each target line's object, metres to 0.1

    def lines(self, with_places: bool) -> list[str]:
        if not with_places:
            return list(self.labels)
        return [f"{label} {x:.1f} {y:.1f}" for label, (x, y) in zip(self.labels, self.places)]


def make_sample(rng: random.Random, order: str, place_rng: random.Random) -> SlotSample:
    """1–6 objects, each over 1–3 cells in each of 1–3 consecutive frames; a cell shows at most one
    object (the first placed), and an object left without a cell is not listed. Places come from
    `place_rng`, so `rng`'s scenes are the same whether places are used or not. Lines sort as label lists
    do: by label, then place."""
    if order not in ORDERS:
        raise ValueError(f"order: expected one of {ORDERS}, got {order!r}")
    slots: dict[int, int] = {}
    first_slot: list[tuple[int, int, int]] = []  # (first slot, label, object)
    places: list[tuple[float, float]] = []
    for _ in range(rng.randint(1, 6)):
        label = rng.randrange(len(LABELS))
        places.append((place_rng.randrange(100) / 10, place_rng.randrange(100) / 10))
        start = rng.randrange(WINDOW)
        cells = []
        for frame in range(start, min(WINDOW, start + rng.randint(1, 3))):
            row, col = rng.randrange(GRID), rng.randrange(GRID)
            for d_row, d_col in [(0, 0), (0, 1), (1, 0)][:rng.randint(1, 3)]:
                if row + d_row < GRID and col + d_col < GRID:
                    cells.append(frame * GRID * GRID + (row + d_row) * GRID + col + d_col)
        cells = [c for c in cells if c not in slots]
        if cells:
            slots |= dict.fromkeys(cells, len(places) - 1)
            first_slot.append((min(cells), label, len(places) - 1))
    ordered = sorted(first_slot) if order == "slot" else sorted(first_slot, key=lambda s: (LABELS[s[1]], places[s[2]]))
    line_of = {obj: line for line, (_, _, obj) in enumerate(ordered)}
    return SlotSample({slot: line_of[obj] for slot, obj in slots.items()}, [LABELS[label] for _, label, _ in ordered],
                      [places[obj] for _, _, obj in ordered])


class SlotProbe:
    """A fresh LM, the prompt's token ids, the label words' and digits' ids, and the fixed codes of places."""

    def __init__(self, tokenizer, config: SSRConfig, word_scale: float, coords: str = "none"):
        if coords not in CODES:
            raise ValueError(f"coords: expected one of {CODES}, got {coords!r}")
        self.tokenizer = tokenizer
        self.lm = SSRModel(config).lm
        self.word_scale, self.coords = word_scale, coords
        self.word_ids = {label: tokenizer.convert_tokens_to_ids(tokenizer.tokenize(" " + label)[0]) for label in LABELS}
        self.digit_ids = [self._ids(str(d))[0] for d in range(10)]
        self.prompt = self._ids(stage1_prompt("", WINDOW, SLOTS // WINDOW, LABELS_MARK))
        self.newline = self._ids("\n")[0]
        self.vis, self.eos = config.vis_token_id, config.eos_token_id
        fixed = torch.Generator().manual_seed(1)  # not the global stream: the noise is the same for every code
        hidden = config.hidden_size
        self.projection = torch.randn(2 + 4 * len(PERIODS), hidden, generator=fixed)
        self.rotations = [torch.linalg.qr(torch.randn(hidden, hidden, generator=fixed))[0] for _ in range(4)]

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def place_code(self, x: float, y: float, table: torch.Tensor) -> torch.Tensor:
        """The place's code in the slots (RMS 1): `phase` or `digits` (module docstring)."""
        if self.coords == "phase":
            turns = [v / p for v in (x, y) for p in PERIODS]
            features = torch.tensor([x / 10, y / 10] + [f(2 * math.pi * t) for t in turns for f in (math.cos, math.sin)])
            code = features @ self.projection
        else:
            tenths = [round(x * 10), round(y * 10)]
            digits = [tenths[0] // 10 % 10, tenths[0] % 10, tenths[1] // 10 % 10, tenths[1] % 10]
            code = sum(rotation @ table[self.digit_ids[d]] for rotation, d in zip(self.rotations, digits))
        return code / code.pow(2).mean().sqrt()

    def batch(self, samples: list[SlotSample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """ids, labels, attention mask (`train.collate`) and inputs_embeds [B,T,H]: the token embeddings
        with the `<|vis|>` slots replaced by noise plus the label words (and place codes) of the objects
        they show."""
        with_places = self.coords != "none"
        targets = [self._ids("\n".join(s.lines(with_places))) + [self.eos] for s in samples]
        ids, labels, mask = collate([Example(self.prompt + t, [False] * len(self.prompt) + [True] * len(t), "probe", [])
                                     for t in targets], self.eos)
        table = self.lm.get_input_embeddings().weight
        embeds = table[ids].detach().clone()
        for b, sample in enumerate(samples):
            slots = torch.randn(SLOTS, table.shape[1])
            words = [table[self.word_ids[label]] for label in sample.labels]
            words = [self.word_scale * w / w.pow(2).mean().sqrt() for w in words]
            if with_places:
                words = [w + self.place_code(x, y, table) for w, (x, y) in zip(words, sample.places)]
            for slot, line in sample.slots.items():
                slots[slot] += words[line]
            embeds[b, ids[b] == self.vis] = slots
        return ids, labels, mask, embeds

    def run(self, ids, labels, mask, embeds) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean loss over the target tokens, logits)."""
        out = self.lm(inputs_embeds=embeds, attention_mask=mask, labels=labels)
        return out.loss, out.logits


def label_accuracy(ids: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor, newline: int) -> float:
    """Top-1 accuracy where a line's first token is predicted: after each newline (the prompt ends with
    one) whose next token is a target."""
    target = labels[:, 1:]
    at = mark_positions(ids, target != IGNORE, ((newline,),))
    return float((logits[:, :-1].argmax(-1)[at] == target[at]).float().mean())


def digit_accuracy(logits: torch.Tensor, labels: torch.Tensor, digit_ids: list[int]) -> float:
    """Top-1 accuracy where the target token is a digit (nan where there is none)."""
    target = labels[:, 1:]
    at = torch.isin(target, torch.tensor(digit_ids))
    return float((logits[:, :-1].argmax(-1)[at] == target[at]).float().mean()) if at.any() else float("nan")


def _rngs(seed: int) -> tuple[random.Random, random.Random]:
    """(scenes, places): places from a stream of their own, so scenes are the same with or without them."""
    return random.Random(seed), random.Random(seed + 7_919)


def train_probe(probe: SlotProbe, order: str, steps: int, batch_size: int = 32, lr: float = 1e-3,
                seed: int = 0) -> tuple[float, float, float]:
    """Trains `probe.lm` for `steps` (AdamW, training's `learning_rate` schedule); returns `held_out_score`."""
    rng, place_rng = _rngs(seed)
    optimizer = torch.optim.AdamW(probe.lm.parameters(), lr=lr, weight_decay=0.01)
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, lr, steps, WARMUP_STEPS)
        loss, _ = probe.run(*probe.batch([make_sample(rng, order, place_rng) for _ in range(batch_size)]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(probe.lm.parameters(), 1.0)
        optimizer.step()
    return held_out_score(probe, order, seed)


@torch.no_grad()
def held_out_score(probe: SlotProbe, order: str, seed: int = 0, n: int = 300) -> tuple[float, float, float]:
    """(loss, label accuracy, digit accuracy) on `n` samples drawn with another seed than training's."""
    rng, place_rng = _rngs(seed + 1_000_003)
    ids, labels, mask, embeds = probe.batch([make_sample(rng, order, place_rng) for _ in range(n)])
    loss, logits = probe.run(ids, labels, mask, embeds)
    return float(loss), label_accuracy(ids, logits, labels, probe.newline), digit_accuracy(logits, labels,
                                                                                          probe.digit_ids)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="where the tokenizer comes from")
    p.add_argument("--orders", nargs="+", choices=ORDERS, default=list(ORDERS))
    p.add_argument("--steps", type=int, default=250)
    p.add_argument("--word-scale", type=float, default=1.0, help="RMS of the label word added to a slot")
    p.add_argument("--coords", choices=CODES, default="none",
                   help="objects also stand at places, written after the label and held in the slots so coded")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    if args.steps < 1:
        p.error("--steps: must be >= 1")
    torch.set_num_threads(args.threads)
    _, tokenizer = load_checkpoint(args.checkpoint)
    print("| order | places | steps | word RMS | held-out loss | label acc | digit acc |\n|---|---|---:|---:|---:|---:|---:|")
    for order in args.orders:
        torch.manual_seed(0)
        config = SSRConfig.preset("small", tokenizer=tokenizer, fusion="add")
        probe = SlotProbe(tokenizer, config, args.word_scale, args.coords)
        loss, labels, digits = train_probe(probe, order, args.steps)
        print(f"| {order} | {args.coords} | {args.steps} | {args.word_scale:g} | {loss:.3f} | {labels:.2f} | "
              f"{digits:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
