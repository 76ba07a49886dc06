"""Run a method over a benchmark and write its scores.

Adding a method is one module, `ssr_runtime/eval/methods/<name>.py`, found by its file name (no
list to edit). The module defines a `Method` subclass and a factory:

    from ssr_runtime.eval.harness import Method, MethodOptions

    class Oracle(Method):
        name = "oracle"

        def setup(self, scene, scene_dir):          # optional: once before a scene's questions
            self.graph = build_graph(scene)

        def answer(self, question, scene, scene_dir):
            return "B"                              # the raw answer text, as a model would write it

        def teardown(self, scene, scene_dir):       # optional: once after them, even on error
            self.graph = None

    def create(options: MethodOptions) -> Method:
        return Oracle()

`answer` gets a `Question` (`question.prompt` is VSI's full prompt text, `question.query` the
structured form, `question.option_texts` / `question.letter_of(text)` help map an answer to a
letter), the `Scene` (ground truth: only oracles may look) and the scene's folder (frames).
Answers are scored with both of `metrics`' parsers, so return the text a model would produce.
Heavy imports (torch, llama.cpp) belong inside `create`, so listing methods stays cheap.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from tqdm import tqdm

from ssr_runtime.data.scene import Scene
from ssr_runtime.files import write_json_atomic, write_text_atomic
from ssr_runtime.eval import methods as methods_package
from ssr_runtime.eval import metrics, report
from ssr_runtime.eval.benchmark import scene_folders
from ssr_runtime.eval.records import Question

PREDICTIONS_FILE = "predictions.jsonl"  # one record per question: what `ssr compare` reads


class Method(ABC):
    """A way of answering benchmark questions; one instance serves a whole run."""

    name: ClassVar[str]

    def setup(self, scene: Scene, scene_dir: Path) -> None:
        """Called once before the questions of `scene`."""

    @abstractmethod
    def answer(self, question: Question, scene: Scene, scene_dir: Path) -> str:
        """The answer text for one question."""

    def teardown(self, scene: Scene, scene_dir: Path) -> None:
        """Called once after the questions of `scene`, also when one of them raised."""


@dataclass(frozen=True)
class MethodOptions:
    """What a method's `create` may use: the evaluated benchmark and the command-line options."""

    data_dir: Path
    questions: list[Question]
    seed: int
    checkpoint: Path | None = None
    train_data: Path | None = None
    variant: str | None = None  # a method's own choice of mode (each method documents its variants)


def available_methods() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(methods_package.__path__) if not m.name.startswith("_"))


def create_method(name: str, options: MethodOptions) -> Method:
    if name not in available_methods():
        raise ValueError(f"method: unknown {name!r}; available: {', '.join(available_methods())}")
    method = importlib.import_module(f"{methods_package.__name__}.{name}").create(options)
    if not isinstance(method, Method):
        raise TypeError(f"method {name!r}: create() returned {type(method).__name__}, not a Method")
    return method


def limit_per_key(questions: list[Question], limit: int | None) -> list[Question]:
    """The first `limit` questions of each raw key, in file order (all of them for None)."""
    if limit is None:
        return list(questions)
    if limit < 1:
        raise ValueError(f"limit: expected an integer >= 1, got {limit!r}")
    taken: dict[str, int] = defaultdict(int)
    kept = []
    for q in questions:
        if taken[q.question_type] < limit:
            taken[q.question_type] += 1
            kept.append(q)
    return kept


def _by_scene(questions: list[Question]) -> dict[str, list[Question]]:
    grouped: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        grouped[q.scene_id].append(q)
    return grouped


def run_method(method: Method, questions: list[Question], data_dir: Path,
               progress: bool = True) -> list[dict]:
    """Answer and score every question; one prediction record per question, in scene order."""
    folders = scene_folders(data_dir)
    grouped = _by_scene(questions)
    missing = sorted(set(grouped) - set(folders))
    if missing:
        raise ValueError(f"questions: scene_id {missing[0]!r} (question {grouped[missing[0]][0].id}) "
                         f"has no scene folder in {data_dir}")
    records = []
    with tqdm(total=len(questions), desc=method.name, unit="q", disable=not progress) as bar:
        for scene_id, scene_questions in grouped.items():
            scene = Scene.load(folders[scene_id])
            method.setup(scene, folders[scene_id])
            try:
                for q in scene_questions:
                    records.append(_predict(method, q, scene, folders[scene_id]))
                    bar.update()
            finally:
                method.teardown(scene, folders[scene_id])
    return records


def _predict(method: Method, question: Question, scene: Scene, scene_dir: Path) -> dict:
    answer = method.answer(question, scene, scene_dir)
    if not isinstance(answer, str):
        raise TypeError(f"method {method.name!r}: answer to {question.id} is {type(answer).__name__}, not str")
    s = metrics.score(question, answer)
    return {"id": question.id, "question_type": question.question_type, "prediction": answer,
            "ground_truth": question.ground_truth, "strict": s.strict, "lenient": s.lenient}


def evaluate(method: Method, questions: list[Question], data_dir: Path, out_dir: Path,
             progress: bool = True) -> dict:
    """Run `method` and write predictions.jsonl, results.json, results.md and results.png to `out_dir`."""
    records = run_method(method, questions, Path(data_dir), progress)
    results = {"method": method.name, "data": str(data_dir), **metrics.aggregate(
        (r["question_type"], metrics.Score(r["strict"], r["lenient"])) for r in records)}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / PREDICTIONS_FILE, "".join(json.dumps(r) + "\n" for r in records))
    write_json_atomic(out_dir / "results.json", results)
    write_text_atomic(out_dir / "results.md", report.markdown(results))
    report.bar_chart(results, out_dir / "results.png")
    return results
