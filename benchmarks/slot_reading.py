"""Can the small language model learn to read label words from its visual slots, and in which order?

A probe of the LM alone, without frames or encoder: a fresh `small` LM is trained on stage 1's
label-list prompt (`samples.stage1_prompt`: no context, 4 frames × 16 slots) whose slots hold RMS-1 noise,
as the batch-normed visual tokens do, and the slots of each object also hold its label word's input
embedding scaled to RMS `--word-scale`. The target lists one label per object, in one of two orders:

- `label`: alphabetical, as stage 1's label lists are written;
- `slot`: by the first slot that shows the object (frame, then row and column), the order of
  what the frames show, as stage 1's new objects are by keyframe time.

It prints, per order, the held-out loss and the teacher-forced accuracy of each line's label (the
token after a newline, as `vision_dependence.py` scores it) on 300 fresh samples. A high accuracy here with a low one on real frames
(`vision_dependence.py --kind labels`) means the LM can read, and the visual tokens do not give it
the words (docs/MODEL.md).

    python benchmarks/slot_reading.py [--checkpoint CKPT] [--orders label slot] [--steps 250]

CKPT supplies the tokenizer (default: the shipped checkpoint); the LM is new, seed 0.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

import torch
from vision_dependence import mark_positions

from ssr_runtime.data.categories import LABELS
from ssr_runtime.model import SSRConfig, SSRModel, load_checkpoint
from ssr_runtime.model.train import IGNORE, Example, collate, learning_rate
from ssr_runtime.training.samples import LABELS_MARK, WINDOW, stage1_prompt

GRID = 4  # a frame's cells are GRID × GRID
SLOTS = WINDOW * GRID * GRID  # the `small` preset's 16 pooled cells per frame
ORDERS = ("label", "slot")
WARMUP_STEPS = 50
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "ssr_runtime" / "models" / "default-checkpoint"


@dataclass(frozen=True)
class SlotSample:
    slots: dict[int, int]  # slot index → label index of the object shown there
    labels: list[str]  # the target's labels, in the probe's order


def make_sample(rng: random.Random, order: str) -> SlotSample:
    """1–6 objects, each over 1–3 cells in each of 1–3 consecutive frames; a cell shows at most one
    object (the first placed), and an object left without a cell is not listed."""
    if order not in ORDERS:
        raise ValueError(f"order: expected one of {ORDERS}, got {order!r}")
    slots: dict[int, int] = {}
    first_slot: list[tuple[int, int]] = []
    for _ in range(rng.randint(1, 6)):
        label = rng.randrange(len(LABELS))
        start = rng.randrange(WINDOW)
        cells = []
        for frame in range(start, min(WINDOW, start + rng.randint(1, 3))):
            row, col = rng.randrange(GRID), rng.randrange(GRID)
            for d_row, d_col in [(0, 0), (0, 1), (1, 0)][:rng.randint(1, 3)]:
                if row + d_row < GRID and col + d_col < GRID:
                    cells.append(frame * GRID * GRID + (row + d_row) * GRID + col + d_col)
        cells = [c for c in cells if c not in slots]
        if cells:
            slots |= dict.fromkeys(cells, label)
            first_slot.append((min(cells), label))
    ordered = sorted(first_slot) if order == "slot" else sorted(first_slot, key=lambda s: LABELS[s[1]])
    return SlotSample(slots, [LABELS[label] for _, label in ordered])


class SlotProbe:
    """A fresh LM, the prompt's token ids and the label words' ids."""

    def __init__(self, tokenizer, config: SSRConfig, word_scale: float):
        self.tokenizer = tokenizer
        self.lm = SSRModel(config).lm
        self.word_scale = word_scale
        self.word_ids = [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(" " + label)[0]) for label in LABELS]
        self.prompt = self._ids(stage1_prompt("", WINDOW, SLOTS // WINDOW, LABELS_MARK))
        self.newline = self._ids("\n")[0]
        self.vis, self.eos = config.vis_token_id, config.eos_token_id

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def batch(self, samples: list[SlotSample]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """ids, labels, attention mask (`train.collate`) and inputs_embeds [B,T,H]: the token embeddings
        with the `<|vis|>` slots replaced by noise plus the label words of the objects they show."""
        targets = [self._ids("\n".join(s.labels)) + [self.eos] for s in samples]
        ids, labels, mask = collate([Example(self.prompt + t, [False] * len(self.prompt) + [True] * len(t), "probe", [])
                                     for t in targets], self.eos)
        table = self.lm.get_input_embeddings().weight
        embeds = table[ids].detach().clone()
        for b, sample in enumerate(samples):
            slots = torch.randn(SLOTS, table.shape[1])
            for slot, label in sample.slots.items():
                word = table[self.word_ids[label]]
                slots[slot] += self.word_scale * word / word.pow(2).mean().sqrt()
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


def train_probe(probe: SlotProbe, order: str, steps: int, batch_size: int = 32, lr: float = 1e-3,
                seed: int = 0) -> tuple[float, float]:
    """Trains `probe.lm` for `steps` (AdamW, training's `learning_rate` schedule); returns `held_out_score`."""
    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(probe.lm.parameters(), lr=lr, weight_decay=0.01)
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, lr, steps, WARMUP_STEPS)
        loss, _ = probe.run(*probe.batch([make_sample(rng, order) for _ in range(batch_size)]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(probe.lm.parameters(), 1.0)
        optimizer.step()
    return held_out_score(probe, order, seed)


@torch.no_grad()
def held_out_score(probe: SlotProbe, order: str, seed: int = 0, n: int = 300) -> tuple[float, float]:
    """(loss, label accuracy) on `n` samples drawn with another seed than training's."""
    held_out = random.Random(seed + 1_000_003)
    ids, labels, mask, embeds = probe.batch([make_sample(held_out, order) for _ in range(n)])
    loss, logits = probe.run(ids, labels, mask, embeds)
    return float(loss), label_accuracy(ids, logits, labels, probe.newline)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="where the tokenizer comes from")
    p.add_argument("--orders", nargs="+", choices=ORDERS, default=list(ORDERS))
    p.add_argument("--steps", type=int, default=250)
    p.add_argument("--word-scale", type=float, default=1.0, help="RMS of the label word added to a slot")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    if args.steps < 1:
        p.error("--steps: must be >= 1")
    torch.set_num_threads(args.threads)
    _, tokenizer = load_checkpoint(args.checkpoint)
    print("| order | steps | word RMS | held-out loss | label acc |\n|---|---:|---:|---:|---:|")
    for order in args.orders:
        torch.manual_seed(0)
        probe = SlotProbe(tokenizer, SSRConfig.preset("small", tokenizer=tokenizer, fusion="add"), args.word_scale)
        loss, accuracy = train_probe(probe, order, args.steps)
        print(f"| {order} | {args.steps} | {args.word_scale:g} | {loss:.3f} | {accuracy:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
