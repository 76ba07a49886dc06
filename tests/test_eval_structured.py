"""Structured methods end to end on generated scans: the oracle must agree with the benchmark, and
the geometric reconstruction must recover the scene from depth and masks."""

import math

import numpy as np
import pytest

from ssr_runtime import _core
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.benchmark import build_benchmark, load_questions
from ssr_runtime.eval.harness import MethodOptions, create_method, evaluate
from ssr_runtime.reconstruct import _outer_loop, room_outline


@pytest.fixture(scope="module")
def benchmark_dir(generated_scans):
    folder = generated_scans(scenes=3, seed=77, frames=30, width=160, height=120)
    build_benchmark(folder, seed=0)
    return folder


def run(method_name, folder, out):
    questions = load_questions(folder / "questions.jsonl")
    method = create_method(method_name, MethodOptions(folder, questions, seed=0))
    return evaluate(method, questions, folder, out, progress=False)


def test_oracle_agrees_with_every_generated_answer(benchmark_dir, tmp_path):
    results = run("oracle", benchmark_dir, tmp_path)
    assert results["overall"]["strict"] == pytest.approx(100.0)


def test_geometric_reconstructs_the_scans(benchmark_dir, tmp_path):
    results = run("geometric", benchmark_dir, tmp_path)
    assert results["overall"]["strict"] >= 85.0
    assert (tmp_path / "results.png").stat().st_size > 0


def test_geometric_boxes_match_the_annotation(benchmark_dir):
    from ssr_runtime.data.generate import first_seen_min_pixels
    from ssr_runtime.data.readers import iter_scene_frames
    from ssr_runtime.reconstruct import reconstruct_scene

    folder = next(p for p in sorted(benchmark_dir.iterdir()) if (p / "scene.json").is_file())
    scene = Scene.load(folder)
    labels = {o.instance_id: o.label for o in scene.objects}
    graph = reconstruct_scene(iter_scene_frames(folder), labels, first_seen_min_pixels(160, 120))
    truth = {o.label: o for o in scene.objects}
    ious = [_core.box_iou_3d(obj.box, _core.Box3D(truth[obj.label].box.center, truth[obj.label].box.size,
                                                   truth[obj.label].box.yaw))
            for obj in graph.objects if len(scene.objects_with_label(obj.label)) == 1]
    assert np.median(ious) > 0.5
    assert _core.room_size(graph) == pytest.approx(scene.room.area_m2, rel=0.08)
    report = graph.compose(graph.objects[0].id)
    assert not report.unreached and report.max_residual < 1e-6


def test_outer_loop_of_an_l_shape():
    mask = np.zeros((6, 7), dtype=bool)
    mask[1:5, 1:3] = True  # x in [1, 5), y in [1, 3)
    mask[1:3, 3:6] = True  # x in [1, 3), y in [3, 6)
    loop = _outer_loop(mask)
    assert len(loop) == 6
    assert _core.polygon_area(loop) == pytest.approx(4 * 2 + 2 * 3)
    xs, ys = zip(*loop)
    assert 0.5 * sum(xs[i - 1] * ys[i] - xs[i] * ys[i - 1] for i in range(len(loop))) > 0  # counter-clockwise


def test_room_outline_from_rays_in_a_square_room():
    # A camera at the centre of a 4 m × 3 m room sees every wall point; rays carve the interior.
    angles = np.linspace(-math.pi, math.pi, 720, endpoint=False)
    cam = np.array([2.0, 1.5])
    hits = []
    for a in angles:
        d = np.array([math.cos(a), math.sin(a)])
        t = min(((4.0 if d[0] > 0 else 0.0) - cam[0]) / d[0] if abs(d[0]) > 1e-12 else np.inf,
                ((3.0 if d[1] > 0 else 0.0) - cam[1]) / d[1] if abs(d[1]) > 1e-12 else np.inf)
        hits.append(cam + t * d * (1 - 1e-9))
    outline = room_outline([(cam, np.array(hits))])
    assert _core.polygon_area(outline) == pytest.approx(12.0, rel=0.06)


def test_a_label_several_objects_carry_resolves_to_the_most_observed_and_the_program_runs():
    from ssr_runtime.eval.structured import most_observed_referents, run_program

    graph = _core.SceneGraph()
    graph.add_object(_core.Object("sofa", _core.Box3D([0, 0, 0.4], [2, 1, 0.8]), observations=1))
    graph.add_object(_core.Object("sofa", _core.Box3D([4, 0, 0.4], [2, 1, 0.8]), observations=3))
    graph.add_object(_core.Object("bed", _core.Box3D([4, 3, 0.3], [2, 1.5, 0.6])))
    query = _core.Query("object_abs_distance", ["sofa", "bed"])
    assert run_program(graph, query) is None  # "the sofa" is ambiguous
    resolved = most_observed_referents(graph, query)
    assert [o.id for o in resolved.objects] == ["sofa#2", "bed#1"] and len(graph.objects) == 3  # a copy
    result = run_program(resolved, query)
    assert result.conclusive and result.value == pytest.approx(1.75)  # box to box: 3 − 0.5 − 0.75
    # a relative distance's candidates may name several objects (their nearest counts): only the target resolves
    candidates = _core.Query("object_rel_distance", ["bed", "sofa", "lamp"])
    assert len(most_observed_referents(graph, candidates).objects) == 3
    assert len(most_observed_referents(graph, _core.Query("object_counting", ["sofa"])).objects) == 3
