"""Does a checkpoint read the label of a size question? For each label, the first direct
size question of a prepared stage-2 set, and the teacher-forced log probability of each candidate
size as the answer; a model that reads the label prefers different sizes for a book and a bed.

    python benchmarks/size_prior.py DATA/.prepared/v9-tpf16-seed0 CKPT [CKPT...]

Prints per checkpoint the preferred size of each label beside its truth, how many different sizes
are preferred, and how many labels' preferences lie within 35 % of the truth.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import torch

from ssr_runtime.model.modeling import load_checkpoint
from ssr_runtime.training import dataset
from ssr_runtime.training.samples import KIND_DIRECT, Sample

CANDIDATES_CM = (15, 25, 35, 50, 60, 90, 120, 150, 190)
SIZE_QUESTION = re.compile(r"longest dimension .* of the (\w+), measured in centimeters")
CLOSE = 0.35


def first_question_per_label(prepared: Path) -> dict[str, Sample]:
    found: dict[str, Sample] = {}
    for sample in dataset.load_samples(prepared, stage=2):
        match = SIZE_QUESTION.search(sample.prompt)
        if match and sample.kind == KIND_DIRECT:
            found.setdefault(match.group(1), sample)
    return dict(sorted(found.items()))


@torch.no_grad()
def answer_log_prob(model, tokenizer, prompt: str, answer: str) -> float:
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt_ids + tokenizer(answer, add_special_tokens=False)["input_ids"]])
    log_probs = torch.log_softmax(model.lm(input_ids=ids).logits[0, len(prompt_ids) - 1:-1], -1)
    return log_probs.gather(1, ids[0, len(prompt_ids):, None]).sum().item()


def preferred_sizes(checkpoint: Path, questions: dict[str, Sample]) -> dict[str, tuple[float, int]]:
    """label → (true size, preferred candidate) in cm."""
    model, tokenizer = load_checkpoint(checkpoint)
    model.eval()
    out = {}
    for label, sample in questions.items():
        truth = float(re.search(r"<ans> ([0-9.]+) cm", sample.target).group(1))
        scores = [answer_log_prob(model, tokenizer, sample.prompt, f"<ans> {c}.00 cm </ans>") for c in CANDIDATES_CM]
        out[label] = (truth, CANDIDATES_CM[max(range(len(scores)), key=scores.__getitem__)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prepared", type=Path, help="a prepared training set (DATA/.prepared/...)")
    parser.add_argument("checkpoints", type=Path, nargs="+")
    args = parser.parse_args()
    questions = first_question_per_label(args.prepared)
    results = {str(c): preferred_sizes(c, questions) for c in args.checkpoints}
    print("| label | truth (cm) | " + " | ".join(results) + " |")
    print("|---|---:|" + "---:|" * len(results))
    for label in questions:
        truth = next(iter(results.values()))[label][0]
        print(f"| {label} | {truth:.0f} | " + " | ".join(str(r[label][1]) for r in results.values()) + " |")
    for name, prefs in results.items():
        close = sum(abs(best - truth) <= CLOSE * truth for truth, best in prefs.values())
        print(f"{name}: {len({best for _, best in prefs.values()})} different sizes preferred, "
              f"{close} of {len(prefs)} labels within {CLOSE:.0%} of the truth")


if __name__ == "__main__":
    main()
