"""A numeric answer by minimum Bayes risk: of the numbers the model would write, the one its own
distribution expects to score best under VSI-Bench's mean relative accuracy (MRA), not its single most
likely digit string.

Greedy decoding picks the likeliest digit at each step. Where the model is unsure (a distance whose
objects its graph lacks) that path can be a mode far from the mass: the shipped model wrote 0.20 m for
most such distances, while its distribution, read digit by digit, centres near the typical distance
(docs/MODEL.md, "Numbers by expected score"). So the runtime walks the tree of digit tokens the answer
grammar allows (`int "." d d`, MAX_INTEGER_DIGITS before the point), expanding every path that holds at
least MIN_PATH_MASS of the probability, and answers the leaf with the highest expected MRA against the
others. Digits past the resolution MRA needs (the second decimal; every decimal from 10 up) are taken
greedily. Works on any `LanguageModel` (llama.cpp, ONNX Runtime, torch) through its prefill/truncate
primitives, so every backend decodes numbers the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssr_runtime.eval.metrics import THRESHOLDS
from ssr_runtime.runtime.grammars import MAX_INTEGER_DIGITS
from ssr_runtime.runtime.lm import LanguageModel

MIN_PATH_MASS = 0.002  # a digit path with less of the probability is not expanded (its likeliest child always is)
MAX_EVALUATIONS = 256  # token evaluations per number at most: past it, only likeliest children are expanded
_SLACK = 1e-9  # as eval.metrics: an error of exactly 1 - threshold is a hit


@dataclass(frozen=True)
class NumberTokens:
    """The token ids of the digits "0".."9" and of ".", each a single token of the vocabulary."""

    digits: tuple[int, ...]
    point: int

    @classmethod
    def of(cls, tokenizer) -> NumberTokens:
        """From a `tokenizers.Tokenizer`; ValueError naming the first character that is not one token."""
        ids = []
        for text in [*"0123456789", "."]:
            token = tokenizer.token_to_id(text)
            if token is None:
                raise ValueError(f"tokenizer: {text!r} is not a single token; numeric answers are decoded "
                                 "digit by digit")
            ids.append(token)
        return cls(tuple(ids[:10]), ids[10])


def decode_number(lm: LanguageModel, tokens: NumberTokens) -> tuple[str, list[int]]:
    """The number to write at the LM's current position (its logits read, the answer's `<ans> ` fed):
    its text ("2.40") and token ids. The LM is left at that position, its logits dropped: the caller
    feeds the ids and continues."""
    text = best_number(number_distribution(lm, tokens))
    return text, [tokens.point if c == "." else tokens.digits[int(c)] for c in text]


def number_distribution(lm: LanguageModel, tokens: NumberTokens) -> dict[str, float]:
    """{number text: probability} over the digit tree (see the module docstring), the LM's position
    unchanged afterwards (its logits dropped: prefill before generating)."""
    if lm.next_logits is None:
        raise ValueError("number_distribution: nothing to continue from; prefill first")
    leaves: dict[str, float] = {}
    evaluations = 0

    def visit(text: str, logits: np.ndarray, mass: float) -> None:
        nonlocal evaluations
        children = _children(text, tokens)
        probs = _softmax(logits[[token for _, token in children]])
        likeliest = int(np.argmax(probs))
        if _greedy_digit(text):
            children, probs, likeliest = [children[likeliest]], np.ones(1), 0
        position = lm.position
        for k, (char, token) in enumerate(children):
            child_mass = mass * float(probs[k])
            if k != likeliest and (child_mass < MIN_PATH_MASS or evaluations >= MAX_EVALUATIONS):
                continue
            child = text + char
            if len(child.partition(".")[2]) == 2:
                leaves[child] = child_mass
                continue
            lm.prefill([[token]])
            evaluations += 1
            visit(child, lm.next_logits.copy(), child_mass)
            lm.truncate(position)

    visit("", lm.next_logits.copy(), 1.0)
    return leaves


def best_number(distribution: dict[str, float]) -> str:
    """The candidate with the highest expected MRA, each candidate scored against the positive ones
    as the truth, weighted by their probability; ties go to the likelier text."""
    texts = sorted(distribution, key=lambda t: -distribution[t])
    values = np.array([float(t) for t in texts])
    weights = np.array([distribution[t] for t in texts])
    truths = values > 0
    if not truths.any():
        return texts[0]
    error = np.abs(values[:, None] - values[None, truths]) / values[None, truths]
    hits = (error[..., None] <= 1 - np.array(THRESHOLDS) + _SLACK).mean(axis=-1)
    expected = hits @ (weights[truths] / weights[truths].sum())
    return texts[int(np.argmax(expected))]


def _children(text: str, tokens: NumberTokens) -> list[tuple[str, int]]:
    """The characters the answer grammar allows after `text` (int "." d d, no leading zeros)."""
    digits = [(str(d), token) for d, token in enumerate(tokens.digits)]
    if "." in text or text == "":
        return digits
    if text == "0" or len(text) == MAX_INTEGER_DIGITS:
        return [(".", tokens.point)]
    return digits + [(".", tokens.point)]


def _greedy_digit(text: str) -> bool:
    """Past MRA's resolution: the second decimal, or any decimal of a number from 10 up."""
    whole, point, fraction = text.partition(".")
    return bool(point) and (len(fraction) == 1 or int(whole) >= 10)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits.astype(np.float64) - logits.max())
    return shifted / shifted.sum()
