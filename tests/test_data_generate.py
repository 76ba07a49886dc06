"""Scene generation: determinism, ground truth consistent with the rendered frames, dataset/CLI."""

import json
import math
import shutil

import numpy as np
import pytest

pytest.importorskip("open3d")

from ssr_runtime.cli import main
from ssr_runtime.data import sample_scene_path
from ssr_runtime.data.generate import (GenerationSettings, first_seen_min_pixels, generate_dataset, generate_scene,
                                       is_complete)
from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.data.rooms import points_in_polygon
from ssr_runtime.data.scene import Scene

SMALL = GenerationSettings(frames=10, width=96, height=72)


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scene")
    generate_scene(folder, 7, SMALL)
    return folder


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files(scene_dir, tmp_path):
    generate_scene(tmp_path / "again", 7, SMALL)
    assert _files(tmp_path / "again") == _files(scene_dir)
    generate_scene(tmp_path / "other", 8, SMALL)
    assert Scene.load(tmp_path / "other").to_json() != Scene.load(scene_dir).to_json()


def test_scene_json_describes_the_written_frames(scene_dir):
    scene = Scene.load(scene_dir)
    assert scene.scene_id == "scene_000007" and scene.seed == 7
    assert (scene.camera.width, scene.camera.height) == (96, 72)
    assert len(scene.frames) == 10
    times = [f.t for f in scene.frames]
    assert times[0] == 0.0 and np.allclose(np.diff(times), times[1])  # evenly spaced
    for frame in scene.frames:
        for name in (frame.color, frame.depth, frame.instance):
            assert (scene_dir / name).is_file()
    ids = [o.instance_id for o in scene.objects]
    assert ids == list(range(1, len(ids) + 1))
    assert all(o.id.startswith(o.label + "#") for o in scene.objects)
    for child, parent in scene.extras["supports"].items():
        assert child in {o.id for o in scene.objects} and parent in {o.id for o in scene.objects}
    assert scene.extras["doors"] and all(d["label"] == "door" for d in scene.extras["doors"])


def test_camera_walks_inside_the_room_at_head_height(scene_dir):
    scene = Scene.load(scene_dir)
    eyes = np.array([np.array(f.T_wc)[:3, 3] for f in scene.frames])
    assert points_in_polygon(eyes[:, :2], scene.room.polygon).all()
    assert np.all((eyes[:, 2] >= 1.4) & (eyes[:, 2] <= 1.7))
    steps = np.linalg.norm(np.diff(eyes, axis=0), axis=1)
    assert steps.max() < 1.5  # smooth: no jumps between consecutive frames
    for frame in scene.frames:
        rotation = np.array(frame.T_wc)[:3, :3]
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-9)
        assert rotation[2, 2] < -0.1  # optical axis points down towards the floor a little


def _inside_box(points, obj, margin):
    box = obj.box
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    d = points - np.asarray(box.center)
    local = np.stack([d[:, 0] * c + d[:, 1] * s, -d[:, 0] * s + d[:, 1] * c, d[:, 2]], axis=1)
    return np.all(np.abs(local) <= np.asarray(box.size) / 2 + margin, axis=1)


def test_depth_back_projects_into_the_box_of_the_pixels_instance(scene_dir):
    scene = Scene.load(scene_dir)
    objects = {o.instance_id: o for o in scene.objects}
    checked = 0
    for frame in iter_scene_frames(scene_dir):
        v, u = np.nonzero(frame.instance > 0)
        z = frame.depth[v, u].astype(np.float64)
        assert np.all(z > 0)
        rays = np.stack([(u - frame.K[0, 2]) / frame.K[0, 0], (v - frame.K[1, 2]) / frame.K[1, 1], np.ones_like(z)], 1)
        world = (rays * z[:, None]) @ frame.T_wc[:3, :3].T + frame.T_wc[:3, 3]
        ids = frame.instance[v, u]
        for instance_id in np.unique(ids):
            inside = _inside_box(world[ids == instance_id], objects[int(instance_id)], margin=0.01)
            assert inside.all(), (objects[int(instance_id)].id, inside.mean())
            checked += int(inside.size)
        background = frame.instance == 0
        assert np.all(frame.depth[background] >= 0)
    assert checked > 1000


def test_first_seen_is_the_first_frame_over_the_pixel_threshold(scene_dir):
    scene = Scene.load(scene_dir)
    threshold = first_seen_min_pixels(96, 72)
    assert scene.extras["first_seen_min_pixels"] == threshold
    counts = np.stack([np.bincount(f.instance.ravel(), minlength=len(scene.objects) + 1)
                       for f in iter_scene_frames(scene_dir)])
    for obj in scene.objects:
        seen = np.flatnonzero(counts[:, obj.instance_id] >= threshold)
        expected = scene.frames[seen[0]].t if len(seen) else None
        assert obj.first_seen_t == expected, obj.id
    assert any(o.first_seen_t is not None for o in scene.objects)


def test_noise_changes_depth_and_colour_but_not_ground_truth(scene_dir, tmp_path):
    generate_scene(tmp_path, 7, GenerationSettings(frames=10, width=96, height=72, noise=True))
    clean, noisy = list(iter_scene_frames(scene_dir)), list(iter_scene_frames(tmp_path))
    assert Scene.load(tmp_path).objects == Scene.load(scene_dir).objects
    for a, b in zip(clean, noisy):
        np.testing.assert_array_equal(a.instance, b.instance)
        np.testing.assert_array_equal(a.T_wc, b.T_wc)
        valid = (a.depth > 0) & (b.depth > 0)
        z = a.depth[valid]
        sigma = 0.0012 + 0.0019 * (z - 0.4) ** 2  # the documented noise model
        assert np.all(np.abs(z - b.depth[valid]) <= 6 * sigma + 0.001)
    holes = sum(int(((a.depth > 0) & (b.depth == 0)).sum()) for a, b in zip(clean, noisy))
    assert holes > 0
    assert any(not np.array_equal(a.depth, b.depth) for a, b in zip(clean, noisy))


def test_interrupted_folder_is_regenerated_and_complete_one_kept(tmp_path):
    settings = GenerationSettings(frames=3, width=32, height=24)
    entries = generate_dataset(tmp_path, 2, seed=5, settings=settings, progress=False)
    assert [e["seed"] for e in entries] == [5, 6]
    folder = tmp_path / "scene_000005"
    assert is_complete(folder, 5, settings)
    assert not is_complete(folder, 5, GenerationSettings(frames=4, width=32, height=24))
    stamp = (folder / "scene.json").stat().st_mtime_ns
    # An interrupted run leaves frames but no scene.json: the next run redoes that scene only.
    broken = tmp_path / "scene_000006"
    (broken / "scene.json").unlink()
    (broken / "depth" / "000001.png").unlink()
    generate_dataset(tmp_path, 2, seed=5, settings=settings, progress=False)
    assert (folder / "scene.json").stat().st_mtime_ns == stamp
    assert is_complete(broken, 6, settings) and (broken / "depth" / "000001.png").is_file()


def test_regeneration_removes_the_old_scene_json_before_touching_frames(tmp_path):
    settings = GenerationSettings(frames=2, width=32, height=24)
    generate_scene(tmp_path, 1, settings)
    shutil.rmtree(tmp_path / "instance")
    (tmp_path / "instance").write_text("a file where the instance folder belongs")  # makes the rerun fail
    with pytest.raises(OSError):
        generate_scene(tmp_path, 2, settings)
    assert not (tmp_path / "scene.json").exists() and not is_complete(tmp_path, 1, settings)


def test_cli_gen_with_workers_writes_index_and_info_reads_it(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["data", "gen", "--out", str(out), "--scenes", "2", "--frames", "2", "--size", "32x24",
                 "--seed", "3", "--workers", "2", "--quiet"]) == 0
    assert "2 scenes" in capsys.readouterr().out
    index = json.loads((out / "index.json").read_text())
    assert [e["scene_id"] for e in index["scenes"]] == ["scene_000003", "scene_000004"]
    for entry in index["scenes"]:
        scene = Scene.load(out / entry["path"])
        assert scene.seed == entry["seed"] and len(scene.frames) == 2
    generate_scene(tmp_path / "single", 3, GenerationSettings(frames=2, width=32, height=24))
    assert _files(tmp_path / "single") == _files(out / "scene_000003")  # worker processes change nothing
    assert main(["data", "info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scenes"] == 2
    assert main(["data", "info", str(out / "scene_000003")]) == 0
    assert "scene_000003" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--size", "32"], ["--size", "4x4"], ["--scenes", "0"], ["--seed", "-1"],
                                  ["--workers", "x"]])
def test_cli_rejects_bad_arguments(tmp_path, argv):
    with pytest.raises(SystemExit):
        main(["data", "gen", "--out", str(tmp_path)] + argv)


def test_info_on_a_folder_without_scene_fails_cleanly(tmp_path, capsys):
    assert main(["data", "info", str(tmp_path)]) == 1
    assert "scene.json" in capsys.readouterr().err


def test_sample_scene_ships_with_the_package():
    folder = sample_scene_path()
    scene = Scene.load(folder)
    assert len(scene.frames) >= 20 and len(scene.objects) >= 10
    frames = list(iter_scene_frames(folder))
    assert frames[0].rgb.shape == (scene.camera.height, scene.camera.width, 3)
    assert sum(o.first_seen_t is not None for o in scene.objects) >= 8


def test_a_folder_grows_by_another_seed_range_and_refuses_other_settings(tmp_path):
    settings = GenerationSettings(frames=2, width=32, height=24)
    generate_dataset(tmp_path, 2, seed=5, settings=settings, progress=False)
    entries = generate_dataset(tmp_path, 1, seed=40, settings=settings, progress=False)
    assert [e["seed"] for e in entries] == [5, 6, 40]
    index = json.loads((tmp_path / "index.json").read_text())
    assert [e["seed"] for e in index["scenes"]] == [5, 6, 40]
    # Regenerating a range already listed does not list it twice.
    assert [e["seed"] for e in generate_dataset(tmp_path, 2, seed=6, settings=settings, progress=False)] == [5, 6, 7, 40]
    with pytest.raises(ValueError, match=r"generated with frames=2 \(this run: 3\)"):
        generate_dataset(tmp_path, 1, seed=50, settings=GenerationSettings(frames=3, width=32, height=24), progress=False)
    assert not (tmp_path / "scene_000050").exists()
    (tmp_path / "index.json").write_text('{"scenes": [{"path": "scene_000005"}]}')
    with pytest.raises(ValueError, match="not a scene index"):
        generate_dataset(tmp_path, 1, seed=50, settings=settings, progress=False)


def test_cli_gen_refuses_a_folder_of_other_settings(tmp_path, capsys):
    generate_dataset(tmp_path, 1, seed=1, settings=GenerationSettings(frames=2, width=32, height=24), progress=False)
    assert main(["data", "gen", "--out", str(tmp_path), "--scenes", "1", "--frames", "2", "--size", "48x24",
                 "--seed", "9", "--quiet"]) == 1
    assert "generated with width=32 (this run: 48)" in capsys.readouterr().err
