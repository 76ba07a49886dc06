"""benchmarks/graph_quality.py on a generated scan: its true objects score 1 everywhere; moved 2 m they are
found by label but not in place; the questions' named objects are all held by a graph of every
object, whose engine answers every question but a count and right, and missing from an empty one; a missing graph is named."""

import sys
from pathlib import Path

import pytest

from ssr_runtime import _core
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.benchmark import scene_folders

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import graph_quality as gq  # noqa: E402


@pytest.fixture(scope="module")
def scans(generated_scans):
    return generated_scans(scenes=1, seed=11, frames=12, width=96, height=72)


def write_graphs(scans: Path, out: Path, shift: float = 0.0, drop_last: bool = False, unseen: bool = False,
                 empty: bool = False) -> Path:
    """Each scan's shown objects (with `unseen`, every object; with `empty`, none) as a graph, moved
    `shift` metres along x (and without its last object)."""
    out.mkdir()
    for scene_id, folder in scene_folders(scans).items():
        shown = [o for o in Scene.load(folder).objects if (o.first_seen_t is not None or unseen) and not empty]
        graph = _core.SceneGraph()
        for o in shown[:-1] if drop_last else shown:
            center = (o.box.center[0] + shift, o.box.center[1], o.box.center[2])
            seen = o.first_seen_t if o.first_seen_t is not None else 1e9  # appearance order needs the times
            graph.add_object(_core.Object(o.label, _core.Box3D(center, o.box.size, o.box.yaw), id=o.id, first_seen=seen))
        graph.save(out / f"{scene_id}.json")
    return out


def test_true_objects_score_one_and_a_dropped_one_lowers_recall_only(scans, tmp_path):
    exact = gq.score_folder(write_graphs(scans, tmp_path / "exact"), scene_folders(scans), radius=1.0)[0].row()
    assert exact["label precision"] == exact["in-place recall"] == 1.0
    assert exact["median distance, in place (m)"] == pytest.approx(0.0, abs=1e-6)
    fewer = gq.score_folder(write_graphs(scans, tmp_path / "fewer", drop_last=True), scene_folders(scans), 1.0)[0].row()
    assert fewer["in-place precision"] == 1.0
    assert fewer["in-place recall"] == pytest.approx(1 - 1 / exact["true per scan"])


def test_shuffled_centres_keep_the_labels_and_lose_places(scans, tmp_path):
    exact, shuffled = gq.score_folder(write_graphs(scans, tmp_path / "exact"), scene_folders(scans), radius=0.1)
    assert shuffled.row()["label recall"] == exact.row()["label recall"] == 1.0
    assert shuffled.row()["in-place recall"] < 0.5


def test_moved_objects_are_found_by_label_but_not_in_place(scans, tmp_path):
    moved = gq.score_folder(write_graphs(scans, tmp_path / "moved", shift=2.0), scene_folders(scans), 1.0)[0].row()
    assert moved["label recall"] == 1.0
    assert moved["in-place recall"] < 0.5  # only where another object of the label lies within 1 m of the moved one
    assert moved["median distance, nearest same label (m)"] <= 2.0 + 1e-6


def test_named_objects_are_held_once_by_every_object_and_missing_from_none(scans, tmp_path):
    questions = gq.benchmark_questions(scans)
    named = [q for q in questions if gq.engine_args(q)]
    every = gq.score_folder(write_graphs(scans, tmp_path / "every", unseen=True), scene_folders(scans), 1.0,
                            questions=questions)[0].row()
    assert every["named objects missing"] == 0.0
    assert every["named objects held once"] + every["named objects held more than once"] == pytest.approx(1.0)
    # over the true objects the engine answers every question but a count (never conclusive), and right
    counts = sum(q.question_type == "object_counting" for q in named)
    assert every["questions the engine answers"] == pytest.approx(1 - counts / len(named))
    assert every["their mean score"] == every["their mean score, resolved"] == 1.0
    assert every["... a label's duplicates resolved"] == every["questions the engine answers"]
    none = gq.score_folder(write_graphs(scans, tmp_path / "none", empty=True), scene_folders(scans), 1.0,
                           questions=questions)[0].row()
    assert none["named objects missing"] == 1.0
    assert none["questions the engine answers"] == 0.0


def test_closest_pairs_are_one_to_one_and_closest_first():
    read = gq.np.array([[0.0, 0, 0], [0.1, 0, 0]])
    true = gq.np.array([[0.05, 0, 0], [5.0, 0, 0]])
    assert gq.closest_pairs(read, true, radius=1.0) == [(0, 0, pytest.approx(0.05))]


def test_a_missing_graph_names_the_scan(scans, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit):
        gq.main(["--data", str(scans), f"none={tmp_path / 'empty'}"])
    assert "no graph" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        gq.main(["--data", str(scans), "no-equals-sign"])
    assert "NAME=GRAPHS_FOLDER" in capsys.readouterr().err
