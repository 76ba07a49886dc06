"""A numeric answer by minimum Bayes risk: of the numbers the model would write, the one its own
distribution expects to score best under VSI-Bench's mean relative accuracy (MRA), not its single most
likely digit string.

Greedy decoding picks the likeliest digit at each step. Where the model is unsure (a distance whose
objects its graph lacks) that path can be a mode far from the mass: the shipped model wrote 0.20 m for
most such distances, while its distribution, read digit by digit, centres near the typical distance
(docs/MODEL.md, "Numbers by expected score"). So the runtime walks the tree of digit tokens the answer
grammar allows (`int "." d d`, MAX_INTEGER_DIGITS before the point) down to two significant digits
(`_resolved`), best-first: the node of most probability next, until MAX_EVALUATIONS or until the nodes
left hold under MIN_PATH_MASS each. A size in centimetres spreads over hundreds of three-digit leaves;
the depth-first walk before spent its budget on the numbers starting with 1 (docs/MODEL.md, "Numbers:
the digit tree best-first"). It answers the leaf with the highest expected MRA against the others, its
remaining digits written greedily. A count (`integer=True`) stops at the point and writes `.00`: under
MRA a hedged 2.1 scores above 2 against a truth of 3, but nobody asks for 2.1 chairs. Works on any
`LanguageModel` (llama.cpp, ONNX Runtime, torch) through its prefill/truncate primitives, so every
backend decodes numbers the same way.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

import numpy as np

from ssr_runtime.eval.metrics import THRESHOLDS
from ssr_runtime.runtime.grammars import MAX_INTEGER_DIGITS
from ssr_runtime.runtime.lm import LanguageModel

MIN_PATH_MASS = 0.001  # a node with less of the probability is not expanded (the greedy path always is)
MAX_EVALUATIONS = 256  # nodes expanded per number at most: past it, only the greedy path's are
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

    def ids(self, text: str) -> list[int]:
        return [self.point if c == "." else self.digits[int(c)] for c in text]


def decode_number(lm: LanguageModel, tokens: NumberTokens, integer: bool = False) -> tuple[str, list[int]]:
    """The number to write at the LM's current position (its logits read, the answer's `<ans> ` fed):
    its text ("2.40"; with `integer`, a whole number: "3.00") and token ids. The LM is left at that
    position, its logits dropped: the caller feeds the ids and continues."""
    start = lm.position
    leaf = best_number(number_distribution(lm, tokens, integer))
    if integer:
        return leaf + "00", tokens.ids(leaf + "00")
    lm.prefill([tokens.ids(leaf)])
    text = _greedy_completion(lm, tokens, leaf)
    lm.truncate(start)
    return text, tokens.ids(text)


def number_distribution(lm: LanguageModel, tokens: NumberTokens, integer: bool = False) -> dict[str, float]:
    """{leaf: probability} over the digit tree down to MRA's resolution ("133.", "2.4"; with `integer`,
    the whole numbers: "2."; see the module docstring), the LM's position unchanged afterwards (its
    logits dropped: prefill before generating)."""
    if lm.next_logits is None:
        raise ValueError("number_distribution: nothing to continue from; prefill first")
    walk = _TreeWalk(lm, tokens, integer)
    walk.expand("", lm.next_logits.copy(), 1.0, greedy=True)
    while walk.frontier:
        negative_mass, _, text, greedy = heapq.heappop(walk.frontier)
        if greedy or (-negative_mass >= MIN_PATH_MASS and walk.evaluations < MAX_EVALUATIONS):
            walk.expand(text, walk.logits_at(text), -negative_mass, greedy)
    lm.truncate(walk.start)
    return walk.leaves


class _TreeWalk:
    """The state of one best-first walk: the frontier (a heap of unexpanded nodes, most mass first;
    `greedy` marks the nodes of the greedy path, expanded whatever their mass or the budget, so the
    greedy number is always among the leaves), the leaves found, and which node the LM holds past
    `start`."""

    def __init__(self, lm: LanguageModel, tokens: NumberTokens, integer: bool):
        self.lm, self.tokens, self.start, self.integer = lm, tokens, lm.position, integer
        self.frontier: list[tuple[float, int, str, bool]] = []
        self.leaves: dict[str, float] = {}
        self.evaluations = 0
        self._held = ""
        self._order = itertools.count()  # ties in mass: first pushed, first expanded

    def expand(self, text: str, logits: np.ndarray, mass: float, greedy: bool) -> None:
        children = _children(text, self.tokens)
        probs = _softmax(logits[[token for _, token in children]])
        likeliest = int(np.argmax(probs))
        for k, (char, _) in enumerate(children):
            child, child_mass = text + char, mass * float(probs[k])
            if _resolved(child, self.integer):
                self.leaves[child] = child_mass
            else:
                heapq.heappush(self.frontier, (-child_mass, next(self._order), child, greedy and k == likeliest))

    def logits_at(self, text: str) -> np.ndarray:
        """The next-token logits after `text`, the LM moved there from the node it held (shared digits
        kept in its cache)."""
        shared = 0
        while shared < min(len(text), len(self._held)) and text[shared] == self._held[shared]:
            shared += 1
        self.lm.truncate(self.start + shared)
        self.lm.prefill([self.tokens.ids(text[shared:])])
        self._held = text
        self.evaluations += 1
        return self.lm.next_logits.copy()


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


def _greedy_completion(lm: LanguageModel, tokens: NumberTokens, text: str) -> str:
    """`text` (a leaf; the LM just past it) completed to two decimals with the likeliest digits."""
    while len(text.partition(".")[2]) < 2:
        digit = int(np.argmax(lm.next_logits[list(tokens.digits)]))
        text += str(digit)
        lm.prefill([[tokens.digits[digit]]])
    return text


def _children(text: str, tokens: NumberTokens) -> list[tuple[str, int]]:
    """The characters the answer grammar allows after `text` (int "." d d, no leading zeros)."""
    digits = [(str(d), token) for d, token in enumerate(tokens.digits)]
    if "." in text or text == "":
        return digits
    if text == "0" or len(text) == MAX_INTEGER_DIGITS:
        return [(".", tokens.point)]
    return digits + [(".", tokens.point)]


def _resolved(text: str, integer: bool) -> bool:
    """A leaf of the digit tree: with `integer`, the point; else two significant digits at least (the
    point of a number from 10 up, the first decimal from 1 up, the second below 1). The digits past
    it, written greedily, move the value by under 10 % (under 1 % from 100 up), and MRA's steps are
    5 % apart: a cheaper tree that still tells the candidates apart."""
    whole, point, fraction = text.partition(".")
    if not point:
        return False
    return integer or int(whole) >= 10 or len(fraction) == 2 or (len(fraction) == 1 and whole != "0")


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits.astype(np.float64) - logits.max())
    return shifted / shifted.sum()
