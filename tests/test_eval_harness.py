"""The evaluation harness end to end: the blind baseline, method hooks, output files, `ssr eval`."""

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ssr_runtime.cli import main
from ssr_runtime.data.scene import BoxRecord, Camera, Room, Scene, SceneObject
from ssr_runtime.eval import harness
from ssr_runtime.eval.benchmark import build_benchmark, load_questions
from ssr_runtime.eval.harness import Method, MethodOptions
from ssr_runtime.eval.methods.blind import FrequencyBaseline
from ssr_runtime.eval.records import Question
from ssr_runtime.runtime.session import DEFAULT_CHECKPOINT

LABELS = ["bed", "sofa", "table", "chair", "lamp", "tv", "desk", "stool", "plant"]


def save_scenes(folder, seeds):
    for seed in seeds:
        rng = np.random.default_rng(seed)
        objects = []
        for i in range(12):
            label = LABELS[int(rng.integers(len(LABELS)))]
            n = sum(o.label == label for o in objects) + 1
            box = BoxRecord((float(rng.uniform(0.5, 7.5)), float(rng.uniform(0.5, 5.5)), 0.4), (0.5, 0.4, 0.8),
                            float(rng.uniform(-math.pi, math.pi)))
            objects.append(SceneObject(f"{label}#{n}", label, box, i + 1, float(rng.uniform(0, 20))))
        Scene(f"scene{seed}", seed, Room(((0, 0), (8, 0), (8, 6), (0, 6)), 2.5), Camera(64, 48, 50, 50, 32, 24),
              tuple(objects), ()).save(Path(folder) / f"scene{seed}")
    return Path(folder)


@pytest.fixture
def data_dir(tmp_path):
    return save_scenes(tmp_path / "data", range(4))


def choice(key, texts, truth):
    options = tuple(f"{'ABCD'[i]}. {t}" for i, t in enumerate(texts))
    return Question(f"s/{key}/{texts}{truth}", "s", key, "?", options, truth, {"task": key, "args": []})


def numeric(key, value):
    return Question(f"s/{key}/{value}", "s", key, "?", None, value, {"task": key, "args": []})


def test_blind_answers_the_mean_and_the_most_frequent_answer():
    easy = "object_rel_direction_easy"
    reference = [numeric("object_counting", 2), numeric("object_counting", 5),
                 choice(easy, ["left", "right"], "A"), choice(easy, ["right", "left"], "B"),
                 choice(easy, ["right", "left"], "A"),
                 choice("object_rel_distance", ["tv", "bed", "sofa", "desk"], "C"),
                 choice("object_rel_distance", ["bed", "tv", "sofa", "desk"], "C"),
                 choice("object_rel_distance", ["tv", "bed", "sofa", "desk"], "A")]
    blind = FrequencyBaseline(reference)
    scene, folder = None, Path(".")
    assert float(blind.answer(numeric("object_counting", 9), scene, folder)) == pytest.approx(3.5)
    # "left" was right twice, "right" once: the blind answer is wherever "left" is listed.
    assert blind.answer(choice(easy, ["right", "left"], "A"), scene, folder) == "B"
    assert blind.answer(choice(easy, ["left", "right"], "A"), scene, folder) == "A"
    # Category options: the most frequent correct letter (C), whatever the texts.
    assert blind.answer(choice("object_rel_distance", ["tv", "bed", "lamp", "desk"], "A"), scene, folder) == "C"


def test_blind_end_to_end_writes_every_output(data_dir, tmp_path):
    questions = load_questions(build_benchmark(data_dir, seed=2))
    method = harness.create_method("blind", MethodOptions(data_dir, questions, seed=2))
    results = harness.evaluate(method, questions, data_dir, tmp_path / "out", progress=False)

    predictions = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in predictions] == [q.id for q in questions]
    means = {}
    for q in questions:
        if q.is_numeric:
            means.setdefault(q.question_type, []).append(q.ground_truth)
    for p in predictions:
        if p["question_type"] in means:
            assert float(p["prediction"]) == pytest.approx(np.mean(means[p["question_type"]]), rel=1e-5)
        else:
            assert p["prediction"] in "ABCD"

    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved == json.loads(json.dumps(results))
    assert saved["method"] == "blind"
    assert set(saved["tasks"]) == {"object_count", "abs_distance", "object_size", "room_size", "rel_distance",
                                   "rel_direction", "route_plan", "appearance_order"}
    assert saved["overall"]["n"] == len(questions)
    counts = Counter(q.question_type for q in questions)
    assert {k: v["n"] for k, v in saved["raw_keys"].items()} == counts
    assert saved["overall"]["strict"] == pytest.approx(np.mean([t["strict"] for t in saved["tasks"].values()]))
    table = (tmp_path / "out" / "results.md").read_text()
    assert "| Rel. Dir. |" in table and "| object_rel_direction_hard |" in table and "**Overall**" in table
    png = (tmp_path / "out" / "results.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_blind_takes_its_statistics_from_train_data(data_dir, tmp_path):
    train = save_scenes(tmp_path / "train", range(10, 16))
    questions = load_questions(build_benchmark(data_dir, seed=2))
    method = harness.create_method("blind", MethodOptions(data_dir, questions, seed=2, train_data=train))
    size_question = next(q for q in questions if q.question_type == "object_size_estimation")
    train_sizes = [q.ground_truth for q in load_questions(train / "questions.jsonl")
                   if q.question_type == "object_size_estimation"]
    assert float(method.answer(size_question, None, data_dir)) == pytest.approx(np.mean(train_sizes), rel=1e-5)


def test_blind_refuses_train_data_without_a_raw_key(data_dir, tmp_path):
    questions = load_questions(build_benchmark(data_dir, seed=2))
    partial = tmp_path / "partial.jsonl"
    partial.write_text("".join(json.dumps(q.to_json()) + "\n" for q in questions
                               if q.question_type != "route_planning"))
    with pytest.raises(ValueError, match="route_planning"):
        harness.create_method("blind", MethodOptions(data_dir, questions, seed=2, train_data=partial))


class Recorder(Method):
    """Answers "1" and records the hooks it sees; raises on the question named in `fail_on`."""

    name = "recorder"

    def __init__(self, fail_on=None, reply="1"):
        self.calls, self.fail_on, self.reply = [], fail_on, reply

    def setup(self, scene, scene_dir):
        self.calls.append(("setup", scene.scene_id, scene_dir.name))

    def answer(self, question, scene, scene_dir):
        assert question.scene_id == scene.scene_id
        if question.id == self.fail_on:
            raise RuntimeError("boom")
        self.calls.append(("answer", question.id))
        return self.reply

    def teardown(self, scene, scene_dir):
        self.calls.append(("teardown", scene.scene_id))


def test_hooks_run_once_per_scene_around_its_questions(data_dir):
    questions = load_questions(build_benchmark(data_dir, seed=2))
    recorder = Recorder()
    records = harness.run_method(recorder, questions, data_dir, progress=False)
    assert len(records) == len(questions)
    scenes = [c[1] for c in recorder.calls if c[0] == "setup"]
    assert scenes == sorted(set(q.scene_id for q in questions))
    for scene_id in scenes:
        start = recorder.calls.index(("setup", scene_id, scene_id))
        end = recorder.calls.index(("teardown", scene_id))
        assert [c[1] for c in recorder.calls[start + 1:end]] == [q.id for q in questions if q.scene_id == scene_id]


def test_teardown_runs_when_an_answer_raises(data_dir):
    questions = load_questions(build_benchmark(data_dir, seed=2))
    recorder = Recorder(fail_on=questions[1].id)
    with pytest.raises(RuntimeError, match="boom"):
        harness.run_method(recorder, questions, data_dir, progress=False)
    assert recorder.calls[-1] == ("teardown", questions[1].scene_id)


def test_answers_must_be_text_and_scenes_must_exist(data_dir):
    questions = load_questions(build_benchmark(data_dir, seed=2))
    with pytest.raises(TypeError, match="not str"):
        harness.run_method(Recorder(reply=1), questions, data_dir, progress=False)
    stray = Question("elsewhere/room_size_estimation/0", "elsewhere", "room_size_estimation", "?", None, 3.0,
                     {"task": "room_size_estimation", "args": []})
    with pytest.raises(ValueError, match="'elsewhere'.*no scene folder"):
        harness.run_method(Recorder(), [stray], data_dir, progress=False)


def test_registry_lists_and_creates_methods(data_dir):
    assert "blind" in harness.available_methods()
    with pytest.raises(ValueError, match="unknown 'nope'; available: .*blind"):
        harness.create_method("nope", MethodOptions(data_dir, [], seed=0))


def test_limit_per_key_keeps_the_first_questions_of_each_key(data_dir):
    questions = load_questions(build_benchmark(data_dir, seed=2))
    limited = harness.limit_per_key(questions, 1)
    assert [q.id for q in limited] == [next(q for q in questions if q.question_type == k).id
                                       for k in dict.fromkeys(q.question_type for q in questions)]
    with pytest.raises(ValueError, match="limit"):
        harness.limit_per_key(questions, 0)


def test_ssr_eval_command(data_dir, capsys):
    assert main(["eval", "--data", str(data_dir), "--method", "blind", "--limit", "2", "--seed", "4",
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {data_dir / 'questions.jsonl'}" in printed
    assert "| **Overall** |" in printed
    results = json.loads((data_dir / "results" / "blind" / "results.json").read_text())
    assert all(row["n"] <= 2 for row in results["raw_keys"].values())
    assert (data_dir / "results" / "blind" / "results.png").is_file()


def test_ssr_eval_rejects_bad_arguments(data_dir, capsys):
    with pytest.raises(SystemExit):
        main(["eval", "--data", str(data_dir), "--method", "nope"])
    with pytest.raises(SystemExit):
        main(["eval", "--data", str(data_dir), "--method", "blind", "--limit", "0"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_ssr_eval_names_a_training_checkpoint_passed_as_an_export(data_dir, capsys):
    """A user error ends with its message and status 1, not a traceback (cli.main catches it)."""
    assert main(["eval", "--data", str(data_dir), "--method", "runtime", "--checkpoint", str(DEFAULT_CHECKPOINT),
                 "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "ssr eval: " in err and "a training checkpoint, not an `ssr export` folder" in err
    assert "Traceback" not in err
