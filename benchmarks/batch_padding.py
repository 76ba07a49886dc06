"""How much of a training batch is padding: `make_batches` (lengths grouped within windows of
LENGTH_WINDOW shuffled samples) beside one shuffled order cut under the same budget (the batching
before session 15), on a prepared training set, with stage 2's replay mixed in as `ssr train` does.

    python benchmarks/batch_padding.py DATA/.prepared/v9-tpf16-seed0 --checkpoint CKPT

Padding costs the same compute as real tokens, so a step under a padded-token budget sees
`1 / padded-per-real` of the samples it could.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from ssr_runtime.model.tokenizer import load_tokenizer
from ssr_runtime.model.train import Example, TrainSettings, cut_batches, make_batches, tokenize, training_samples


def padding(batches: list[list[Example]]) -> float:
    padded = sum(max(len(e.ids) for e in batch) * len(batch) for batch in batches)
    return padded / sum(len(e.ids) for batch in batches for e in batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prepared", type=Path, help="a prepared training set (DATA/.prepared/...)")
    parser.add_argument("--checkpoint", type=Path, required=True, help="a checkpoint folder (its tokenizer)")
    parser.add_argument("--stage", type=int, choices=(1, 2), default=2)
    parser.add_argument("--replay", type=float, default=0.25, help="stage 2: share of stage-1 samples")
    parser.add_argument("--batch-tokens", type=int, default=4096)
    args = parser.parse_args()

    rng = random.Random(0)
    settings = TrainSettings(stage=args.stage, data=".", out=".", replay=args.replay)
    samples = training_samples(settings, args.prepared, rng)
    examples = tokenize(samples, load_tokenizer(str(args.checkpoint)), 1 << 16)
    shuffled = list(examples)
    rng.shuffle(shuffled)
    rows = {"one shuffled order": cut_batches(shuffled, args.batch_tokens),
            "make_batches (windows)": make_batches(examples, args.batch_tokens, rng)}
    print(f"{len(examples)} samples, stage {args.stage}, {args.batch_tokens} padded tokens per batch\n")
    print("| batching | batches per epoch | samples per batch | padded tokens per real one |")
    print("|---|---:|---:|---:|")
    for name, batches in rows.items():
        print(f"| {name} | {len(batches)} | {len(examples) / len(batches):.1f} | {padding(batches):.2f} |")


if __name__ == "__main__":
    main()
