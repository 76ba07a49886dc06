"""`blind`: VSI-Bench's "Chance Level (Frequency)" baseline; it never looks at the scene.

Numeric questions get the mean ground truth of their raw key. Multiple-choice questions whose
options come from a closed vocabulary (directions, turn sequences) get the option whose text was most
often the correct answer for their raw key (e.g. "left" if left is more common than right), ties
broken by the letter most often correct, then by letter order. Where options name the scene's
categories (relative distance, appearance order) the most frequent correct letter is chosen instead:
counting those texts would let a benchmark's own statistics give its answers away. The
statistics come from a separate benchmark (`--train-data`: a data folder or a questions.jsonl)
when given; otherwise from the evaluated benchmark itself, as VSI-Bench computes its chance row,
which lets the baseline see the evaluated answers' distribution (an upper bound on blind guessing).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.benchmark import QUESTIONS_FILE, build_benchmark, load_questions
from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.records import Question


# Raw keys whose option texts do not name scene content, so their frequencies are a fair prior.
CLOSED_VOCABULARY_KEYS = ("object_rel_direction_easy", "object_rel_direction_medium",
                          "object_rel_direction_hard", "route_planning")


class FrequencyBaseline(Method):
    name = "blind"

    def __init__(self, reference: list[Question]):
        values: dict[str, list[float]] = defaultdict(list)
        self.text_counts: dict[str, Counter] = defaultdict(Counter)
        self.letter_counts: dict[str, Counter] = defaultdict(Counter)
        for q in reference:
            if q.is_numeric:
                values[q.question_type].append(q.ground_truth)
            else:
                self.text_counts[q.question_type][q.option_texts[q.letters.index(q.ground_truth)]] += 1
                self.letter_counts[q.question_type][q.ground_truth] += 1
        self.means = {key: sum(v) / len(v) for key, v in values.items()}
        self.known = set(self.means) | set(self.letter_counts)

    def answer(self, question: Question, scene: Scene, scene_dir: Path) -> str:
        key = question.question_type
        if question.is_numeric:
            return f"{self.means[key]:.6g}"
        texts = self.text_counts[key] if key in CLOSED_VOCABULARY_KEYS else Counter()
        letters = self.letter_counts[key]
        ranked = sorted(zip(question.letters, question.option_texts),
                        key=lambda lt: (-texts[lt[1]], -letters[lt[0]], lt[0]))
        return ranked[0][0]


def _reference(options: MethodOptions) -> list[Question]:
    if options.train_data is None:
        return options.questions
    path = Path(options.train_data)
    if path.is_dir():
        path = path / QUESTIONS_FILE if (path / QUESTIONS_FILE).is_file() else build_benchmark(path, options.seed)
    return load_questions(path)


def create(options: MethodOptions) -> Method:
    method = FrequencyBaseline(_reference(options))
    uncovered = sorted({q.question_type for q in options.questions} - method.known)
    if uncovered:
        raise ValueError(f"train_data: {options.train_data} has no questions of raw keys {uncovered}")
    return method
