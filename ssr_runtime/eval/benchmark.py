"""Benchmark files: a data folder of scenes and its `questions.jsonl` (docs/BENCHMARK.md).

A data folder holds one sub-folder per scene, each with a `scene.json`
(`ssr_runtime.data.scene.Scene`); the folder name need not equal the scene_id.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.questions import generate_questions
from ssr_runtime.eval.records import Question, QuestionFormatError
from ssr_runtime.files import read_jsonl, write_text_atomic

QUESTIONS_FILE = "questions.jsonl"


def scene_folders(data_dir: str | os.PathLike) -> dict[str, Path]:
    """scene_id → folder, for every sub-folder of `data_dir` that holds a scene.json."""
    root = Path(data_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a data folder")
    folders: dict[str, Path] = {}
    for folder in sorted(p for p in root.iterdir() if (p / "scene.json").is_file()):
        scene_id = Scene.load(folder).scene_id
        if scene_id in folders:
            raise ValueError(f"{folder}: scene_id {scene_id!r} is also used by {folders[scene_id]}")
        folders[scene_id] = folder
    if not folders:
        raise FileNotFoundError(f"{root}: no scene folders (sub-folders with a scene.json)")
    return folders


def build_benchmark(data_dir: str | os.PathLike, seed: int, per_task_limit: int | None = None) -> Path:
    """Generate the questions of every scene in `data_dir` and write `data_dir/questions.jsonl`
    atomically (a crash leaves the old file or the new one). Returns the file's path."""
    scenes = [Scene.load(folder) for folder in scene_folders(data_dir).values()]
    questions = generate_questions(scenes, seed, per_task_limit)
    path = Path(data_dir) / QUESTIONS_FILE
    write_questions(path, questions)
    return path


def write_questions(path: Path, questions: list[Question]) -> None:
    write_text_atomic(path, "".join(json.dumps(q.to_json()) + "\n" for q in questions))


def load_questions(path: str | os.PathLike) -> list[Question]:
    """Read and validate a questions.jsonl; errors name the file, the line and the field."""
    path = Path(path)
    questions, where_of_id = [], {}
    for where, record in read_jsonl(path, QuestionFormatError):
        question = Question.from_json(record, where)
        if question.id in where_of_id:
            raise QuestionFormatError(f"{where}.id: {question.id!r} already used on line "
                                      f"{where_of_id[question.id].rsplit(':', 1)[1]}")
        where_of_id[question.id] = where
        questions.append(question)
    if not questions:
        raise QuestionFormatError(f"{path}: no questions")
    return questions
