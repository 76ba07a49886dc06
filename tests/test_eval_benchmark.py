"""questions.jsonl: building it from scene folders, loading it, and clear errors on bad records."""

import json
import math

import numpy as np
import pytest

from ssr_runtime.data.scene import BoxRecord, Camera, Room, Scene, SceneObject
from ssr_runtime.eval.benchmark import QUESTIONS_FILE, build_benchmark, load_questions, scene_folders
from ssr_runtime.eval.questions import generate_questions
from ssr_runtime.eval.records import Question, QuestionFormatError, canonical_options

LABELS = ["bed", "sofa", "table", "chair", "lamp", "tv", "desk", "stool"]


def small_scene(scene_id, seed):
    rng = np.random.default_rng(seed)
    objects = []
    for i in range(10):
        label = LABELS[i % len(LABELS)]
        n = sum(o.label == label for o in objects) + 1
        box = BoxRecord((float(rng.uniform(0.5, 6.5)), float(rng.uniform(0.5, 5.5)), 0.4), (0.5, 0.4, 0.8),
                        float(rng.uniform(-math.pi, math.pi)))
        objects.append(SceneObject(f"{label}#{n}", label, box, i + 1, float(i)))
    return Scene(scene_id, seed, Room(((0, 0), (7, 0), (7, 6), (0, 6)), 2.5), Camera(64, 48, 50, 50, 32, 24),
                 tuple(objects), ())


@pytest.fixture
def data_dir(tmp_path):
    for i in range(3):
        small_scene(f"scene_{i}", i).save(tmp_path / f"folder{i}")
    return tmp_path


def test_build_and_load_round_trip(data_dir):
    path = build_benchmark(data_dir, seed=5)
    assert path == data_dir / QUESTIONS_FILE
    loaded = load_questions(path)
    expected = generate_questions([Scene.load(data_dir / f"folder{i}") for i in range(3)], seed=5)
    assert loaded == expected
    first = path.read_bytes()
    build_benchmark(data_dir, seed=5)
    assert path.read_bytes() == first
    assert not [p for p in data_dir.iterdir() if p.name.endswith(".tmp")]


def test_build_with_a_per_task_limit(data_dir):
    questions = load_questions(build_benchmark(data_dir, seed=5, per_task_limit=1))
    types = [q.question_type for q in questions]
    assert len(types) == len(set(types))


def test_scene_folders_maps_scene_ids(data_dir, tmp_path):
    assert {k: v.name for k, v in scene_folders(data_dir).items()} == {f"scene_{i}": f"folder{i}" for i in range(3)}
    small_scene("scene_0", 9).save(data_dir / "copy")
    with pytest.raises(ValueError, match="scene_0"):
        scene_folders(data_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no scene folders"):
        scene_folders(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="not a data folder"):
        scene_folders(tmp_path / "missing")


GOOD_NUMERIC = {"id": "s/object_counting/0", "scene_id": "s", "question_type": "object_counting",
                "question": "How many chair(s) are in this room?", "options": None, "ground_truth": 3,
                "query": {"task": "object_counting", "args": ["chair"]}}
GOOD_CHOICE = {"id": "s/object_rel_direction_easy/0", "scene_id": "s", "question_type": "object_rel_direction_easy",
               "question": "left or right?", "options": ["A. left", "B. right"], "ground_truth": "B",
               "query": {"task": "object_rel_direction_easy", "args": ["bed", "tv", "lamp"]}}


def write_lines(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def test_good_records_load_with_their_prompt(tmp_path):
    numeric, choice = load_questions(write_lines(tmp_path / "q.jsonl", [GOOD_NUMERIC, "", GOOD_CHOICE]))
    assert numeric.prompt == ("These are frames of a video.\nHow many chair(s) are in this room?\n"
                              "Please answer the question using a single word or phrase.")
    assert choice.prompt.endswith("Options:\nA. left\nB. right\n"
                                  "Answer with the option's letter from the given choices directly.")
    assert choice.option_texts == ["left", "right"] and choice.letter_of("Right") == "B"


@pytest.mark.parametrize("change, message", [
    ({"ground_truth": 0}, "ground_truth"),
    ({"ground_truth": -2.5}, "ground_truth"),
    ({"ground_truth": "3"}, "ground_truth"),
    ({"ground_truth": True}, "ground_truth"),
    ({"options": ["A. 3"]}, "options"),
    ({"question_type": "object_count"}, "question_type"),
    ({"id": ""}, ".id"),
    ({"question": 3}, ".question"),
    ({"query": {"task": "object_counting"}}, "query"),
    ({"query": {"task": "room_size_estimation", "args": []}}, "query.task"),
    ({"query": {"task": "object_counting", "args": [1]}}, "query.args"),
    ({"extra": 1}, "unknown fields"),
])
def test_bad_numeric_records_name_line_and_field(tmp_path, change, message):
    path = write_lines(tmp_path / "q.jsonl", [GOOD_CHOICE, {**GOOD_NUMERIC, **change}])
    with pytest.raises(QuestionFormatError, match=f"q.jsonl:2.*{message}"):
        load_questions(path)


@pytest.mark.parametrize("change, message", [
    ({"options": None}, "options"),
    ({"options": ["A. left"]}, "options"),
    ({"options": ["A. left", "C. right"]}, r"options\[1\]"),
    ({"options": ["A.left", "B. right"]}, r"options\[0\]"),
    ({"ground_truth": "C"}, "ground_truth"),
    ({"ground_truth": "b"}, "ground_truth"),
])
def test_bad_choice_records_name_line_and_field(tmp_path, change, message):
    path = write_lines(tmp_path / "q.jsonl", [{**GOOD_CHOICE, **change}])
    with pytest.raises(QuestionFormatError, match=f"q.jsonl:1.*{message}"):
        load_questions(path)


def test_missing_fields_duplicate_ids_bad_json_and_empty_files(tmp_path):
    record = dict(GOOD_NUMERIC)
    del record["query"]
    with pytest.raises(QuestionFormatError, match=r"q.jsonl:1: missing fields \['query'\]"):
        load_questions(write_lines(tmp_path / "q.jsonl", [record]))
    with pytest.raises(QuestionFormatError, match="q.jsonl:2.id: .* line 1"):
        load_questions(write_lines(tmp_path / "q.jsonl", [GOOD_NUMERIC, GOOD_NUMERIC]))
    with pytest.raises(QuestionFormatError, match="q.jsonl:3: column"):
        load_questions(write_lines(tmp_path / "q.jsonl", [GOOD_NUMERIC, GOOD_CHOICE, '{"id": ']))
    with pytest.raises(QuestionFormatError, match="q.jsonl:1: expected a JSON object"):
        load_questions(write_lines(tmp_path / "q.jsonl", ["[1, 2]"]))
    with pytest.raises(QuestionFormatError, match="no questions"):
        load_questions(write_lines(tmp_path / "q.jsonl", []))


def test_to_json_round_trips_through_from_json():
    question = Question.from_json(GOOD_CHOICE, "here")
    assert question.to_json() == GOOD_CHOICE


def test_canonical_options_sort_by_text_and_keep_the_right_answer():
    shown, original = canonical_options(["A. right", "B. back", "C. left", "D. Back"])
    assert shown == ("A. Back", "B. back", "C. left", "D. right")
    assert original == {"A": "D", "B": "B", "C": "C", "D": "A"}
    question = Question.from_json({**GOOD_CHOICE, "options": ["A. right", "B. left"], "ground_truth": "B"}, "q")
    canonical = question.with_canonical_options()
    assert canonical.options == ("A. left", "B. right") and canonical.ground_truth == "A"
    assert canonical.option_texts[canonical.letters.index(canonical.ground_truth)] == "left"
    numeric = Question.from_json(GOOD_NUMERIC, "q")
    assert numeric.with_canonical_options() is numeric
