"""The benchmark's question record: one line of `questions.jsonl` (format in docs/BENCHMARK.md).

VSI-Bench's names and spellings are kept (raw keys, `ground_truth`, options written `A. left`) so
results line up with published tables; `query` is ours, the structured form of the question that a
structured method (the C++ query engine) answers without reading the text.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace

NUMERIC_KEYS = ("object_counting", "object_abs_distance", "object_size_estimation", "room_size_estimation")
CHOICE_KEYS = ("object_rel_distance", "object_rel_direction_easy", "object_rel_direction_medium",
               "object_rel_direction_hard", "route_planning", "obj_appearance_order")
RAW_KEYS = NUMERIC_KEYS + CHOICE_KEYS

PRE_PROMPT = "These are frames of a video."
NUMERIC_POST_PROMPT = "Please answer the question using a single word or phrase."
CHOICE_POST_PROMPT = "Answer with the option's letter from the given choices directly."


def vsi_prompt(question: str, options: Sequence[str] | None = None) -> str:
    """The full prompt, exactly as VSI-Bench's `doc_to_text` builds it; options are "A. text" strings."""
    if not options:
        return "\n".join([PRE_PROMPT, question, NUMERIC_POST_PROMPT])
    return "\n".join([PRE_PROMPT, question, "Options:\n" + "\n".join(options), CHOICE_POST_PROMPT])

LETTERS = string.ascii_uppercase


def canonical_options(options: Sequence[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """VSI-style `options` ("A. left") as the model reads them: sorted by text and lettered A, B, … in
    that order; and the map from each new letter to the one it had. Benchmarks shuffle their options,
    so a letter says nothing by itself; in a fixed order a prior over answers (the commonest turn of a
    route) is a prior over letters, which a small model learns where it cannot learn to read a
    shuffled list (it answered `B` to 84 of 88 routes). Training and `Session.ask` both use it."""
    ranked = sorted(options, key=lambda option: (option[3:].lower(), option[3:], option[0]))
    shown = tuple(f"{LETTERS[k]}. {option[3:]}" for k, option in enumerate(ranked))
    return shown, {LETTERS[k]: option[0] for k, option in enumerate(ranked)}


_FIELDS = ("id", "scene_id", "question_type", "question", "options", "ground_truth", "query")


class QuestionFormatError(ValueError):
    """A question record is malformed; the message names the line and the field."""


@dataclass(frozen=True)
class Question:
    """One benchmark question. `ground_truth` is a number (> 0) for the numeric keys and an option
    letter for the multiple-choice keys; `options` are VSI-style strings `"A. left"` (None for numbers);
    `query` is `{"task": question_type, "args": [labels...]}`."""

    id: str
    scene_id: str
    question_type: str
    question: str
    options: tuple[str, ...] | None
    ground_truth: float | str
    query: dict

    @property
    def is_numeric(self) -> bool:
        return self.question_type in NUMERIC_KEYS

    @property
    def option_texts(self) -> list[str]:
        """Option texts without their letters, in letter order (empty for numeric questions)."""
        return [option[3:] for option in self.options or ()]

    @property
    def letters(self) -> str:
        return LETTERS[: len(self.options or ())]

    def letter_of(self, text: str) -> str | None:
        """The letter of the option whose text is `text` (case-insensitive), None when absent."""
        wanted = text.strip().lower()
        return next((l for l, t in zip(self.letters, self.option_texts) if t.lower() == wanted), None)

    @property
    def prompt(self) -> str:
        return vsi_prompt(self.question, self.options)

    def with_canonical_options(self) -> Question:
        """This question with its options in `canonical_options` order (the ground truth relettered)."""
        if self.options is None:
            return self
        shown, original = canonical_options(self.options)
        truth = next(new for new, old in original.items() if old == self.ground_truth)
        return replace(self, options=shown, ground_truth=truth)

    def to_json(self) -> dict:
        record = {name: getattr(self, name) for name in _FIELDS}
        record["options"] = None if self.options is None else list(self.options)
        record["query"] = {"task": self.query["task"], "args": list(self.query["args"])}
        return record

    @classmethod
    def from_json(cls, record: object, where: str) -> Question:
        if not isinstance(record, dict):
            raise QuestionFormatError(f"{where}: expected a JSON object")
        missing = [name for name in _FIELDS if name not in record]
        unknown = sorted(set(record) - set(_FIELDS))
        if missing or unknown:
            raise QuestionFormatError(f"{where}: missing fields {missing}, unknown fields {unknown}")
        for name in ("id", "scene_id", "question"):
            if not isinstance(record[name], str) or not record[name]:
                raise QuestionFormatError(f"{where}.{name}: expected a non-empty string, got {record[name]!r}")
        key = record["question_type"]
        if key not in RAW_KEYS:
            raise QuestionFormatError(f"{where}.question_type: expected one of {list(RAW_KEYS)}, got {key!r}")
        if key in NUMERIC_KEYS:
            options, truth = _numeric_answer(record, where)
        else:
            options, truth = _choice_answer(record, where)
        return cls(record["id"], record["scene_id"], key, record["question"], options, truth,
                   _query(record["query"], key, where))


def _numeric_answer(record: dict, where: str) -> tuple[None, float]:
    if record["options"] is not None:
        raise QuestionFormatError(f"{where}.options: numeric questions have options null")
    truth = record["ground_truth"]
    if isinstance(truth, bool) or not isinstance(truth, (int, float)) or not math.isfinite(truth) or truth <= 0:
        raise QuestionFormatError(f"{where}.ground_truth: expected a finite number > 0, got {truth!r}")
    return None, truth


def _choice_answer(record: dict, where: str) -> tuple[tuple[str, ...], str]:
    options = record["options"]
    if not isinstance(options, list) or not 2 <= len(options) <= len(LETTERS):
        raise QuestionFormatError(f"{where}.options: expected a list of at least 2 option strings")
    for i, option in enumerate(options):
        if not isinstance(option, str) or not option.startswith(f"{LETTERS[i]}. ") or len(option) < 4:
            raise QuestionFormatError(f"{where}.options[{i}]: expected '{LETTERS[i]}. <text>', got {option!r}")
    truth = record["ground_truth"]
    if truth not in LETTERS[: len(options)]:
        raise QuestionFormatError(f"{where}.ground_truth: expected one of the option letters, got {truth!r}")
    return tuple(options), truth


def _query(query: object, key: str, where: str) -> dict:
    if not isinstance(query, dict) or set(query) != {"task", "args"}:
        raise QuestionFormatError(f"{where}.query: expected an object with exactly 'task' and 'args'")
    if query["task"] != key:
        raise QuestionFormatError(f"{where}.query.task: expected {key!r} (the question_type), got {query['task']!r}")
    args = query["args"]
    if not isinstance(args, list) or not all(isinstance(a, str) and a for a in args):
        raise QuestionFormatError(f"{where}.query.args: expected a list of labels, got {args!r}")
    return {"task": key, "args": list(args)}
