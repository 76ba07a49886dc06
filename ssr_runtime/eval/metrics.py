"""VSI-Bench scoring: answer parsing, Mean Relative Accuracy, accuracy, and the task aggregation.

Two parsers are reported side by side (docs/BENCHMARK.md):
- strict, VSI-Bench's own: the answer's first whitespace-separated token with trailing '.' removed,
  then `float()` for numbers or a case-insensitive compare with the option letter. Anything else
  scores 0. This is the number to compare with published tables.
- lenient: the first number in the answer ("3.5m", "About 3", "<ans> 3.50 m </ans>"), or the first
  option letter standing alone ("(A)", "The answer is B"), or an answer that is exactly an option's
  text. No unit conversion: an answer in the wrong unit stays wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ssr_runtime.eval.records import Question

# MRA thresholds, written out: a float linspace count formula gives 10 only by rounding luck.
THRESHOLDS = (0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95)
# A hit is `relative error <= 1 - threshold` (VSI's code uses `<=`, its paper `<`). The slack makes an
# error of exactly 1 - threshold count whatever the float rounding of the two sides.
_SLACK = 1e-9

TASKS = {
    "object_count": ("object_counting",),
    "abs_distance": ("object_abs_distance",),
    "object_size": ("object_size_estimation",),
    "room_size": ("room_size_estimation",),
    "rel_distance": ("object_rel_distance",),
    "rel_direction": ("object_rel_direction_easy", "object_rel_direction_medium", "object_rel_direction_hard"),
    "route_plan": ("route_planning",),
    "appearance_order": ("obj_appearance_order",),
}
TASK_TITLES = {
    "object_count": "Obj. Count", "abs_distance": "Abs. Dist.", "object_size": "Obj. Size",
    "room_size": "Room Size", "rel_distance": "Rel. Dist.", "rel_direction": "Rel. Dir.",
    "route_plan": "Route Plan", "appearance_order": "Appr. Order",
}

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_LONE_CAPITAL = re.compile(r"(?<![A-Za-z])[A-Z](?![A-Za-z])")


def mean_relative_accuracy(prediction: float | None, ground_truth: float) -> float:
    """Fraction of the ten thresholds θ for which |pred − gt| / gt ≤ 1 − θ, in steps of 0.1.

    A missing or non-finite prediction scores 0. Raises ValueError for gt ≤ 0 or non-finite gt,
    where the relative error is undefined.
    """
    if isinstance(ground_truth, bool) or not isinstance(ground_truth, (int, float)) \
            or not math.isfinite(ground_truth) or ground_truth <= 0:
        raise ValueError(f"ground_truth: MRA needs a finite number > 0, got {ground_truth!r}")
    if prediction is None or not math.isfinite(prediction):
        return 0.0
    error = abs(prediction - ground_truth) / ground_truth
    return sum(error <= 1 - theta + _SLACK for theta in THRESHOLDS) / len(THRESHOLDS)


def first_token(answer: str) -> str:
    """VSI's `fuzzy_matching`: first whitespace-separated token, trailing dots removed."""
    tokens = answer.split()
    return tokens[0].rstrip(".") if tokens else ""


def strict_number(answer: str) -> float | None:
    try:
        return float(first_token(answer))
    except ValueError:
        return None


def lenient_number(answer: str) -> float | None:
    match = _NUMBER.search(answer)
    return None if match is None else float(match.group().replace(",", ""))


def strict_choice(answer: str) -> str:
    """The token VSI compares with the letter (upper-cased; the comparison is case-insensitive)."""
    return first_token(answer).upper()


def lenient_choice(answer: str, question: Question) -> str | None:
    """The letter an answer names: its first token stripped of brackets, else the first lone capital
    that is an option letter, else the option whose text is the whole answer."""
    letters = question.letters
    token = first_token(answer).strip("()[]<>:*").upper()
    if len(token) == 1 and token in letters:
        return token
    for match in _LONE_CAPITAL.finditer(answer):
        if match.group() in letters:
            return match.group()
    return question.letter_of(answer.strip().rstrip("."))


@dataclass(frozen=True)
class Score:
    strict: float
    lenient: float


def score(question: Question, answer: str) -> Score:
    """The answer's score under both parsers, each in [0, 1]."""
    if question.is_numeric:
        return Score(mean_relative_accuracy(strict_number(answer), question.ground_truth),
                     mean_relative_accuracy(lenient_number(answer), question.ground_truth))
    return Score(float(strict_choice(answer) == question.ground_truth),
                 float(lenient_choice(answer, question) == question.ground_truth))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def aggregate(scored: Iterable[tuple[str, Score]]) -> dict:
    """VSI-Bench's aggregation of (raw key, score) pairs, in percent.

    Mean per raw key → relative direction is the unweighted mean of its easy/medium/hard keys
    present → overall is the unweighted mean of the tasks present. Counts are numbers of questions.
    """
    by_key: dict[str, list[Score]] = {}
    for key, s in scored:
        by_key.setdefault(key, []).append(s)
    unknown = sorted(set(by_key) - {k for keys in TASKS.values() for k in keys})
    if unknown:
        raise ValueError(f"question_type: unknown raw keys {unknown}")
    if not by_key:
        raise ValueError("scored: nothing to aggregate")
    raw = {key: {"n": len(by_key[key]), "strict": 100 * _mean([s.strict for s in by_key[key]]),
                 "lenient": 100 * _mean([s.lenient for s in by_key[key]])}
           for keys in TASKS.values() for key in keys if key in by_key}
    tasks = {}
    for task, keys in TASKS.items():
        present = [raw[k] for k in keys if k in raw]
        if present:
            tasks[task] = {"n": sum(r["n"] for r in present), **{
                mode: _mean([r[mode] for r in present]) for mode in ("strict", "lenient")}}
    overall = {"n": sum(t["n"] for t in tasks.values()),
               **{mode: _mean([t[mode] for t in tasks.values()]) for mode in ("strict", "lenient")}}
    return {"raw_keys": raw, "tasks": tasks, "overall": overall}
