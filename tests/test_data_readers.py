"""Frame readers: our scene folders, ScanNet exports and TUM RGB-D sequences written by the tests."""

import math

import numpy as np
import pytest
from PIL import Image

from ssr_runtime.data.readers import (TUM_FR1_INTRINSICS, FrameFormatError, detect_format, iter_frames,
                                      iter_scannet_frames, iter_scene_frames, iter_tum_frames, read_depth, read_matrix)
from ssr_runtime.data.scene import SceneFormatError

RNG = np.random.default_rng(0)


def _rotation_z(angle):
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _pose(angle, t):
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = _rotation_z(angle), t
    return pose


def _write_matrix(path, matrix):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(" ".join(f"{v:.9g}" for v in row) for row in matrix) + "\n")


def _write_png16(path, values):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values.astype(np.uint16)).save(path)


def _write_color(path, size=(8, 6)):
    """A smooth random colour image (JPEG keeps those close to the original)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ramp = np.linspace(0, 60, size[0])[None, :, None]
    rgb = (RNG.integers(20, 180, 3)[None, None, :] + ramp + np.zeros((size[1], 1, 1))).astype(np.uint8)
    Image.fromarray(rgb).save(path)
    return rgb


# --- ScanNet -----------------------------------------------------------------------------------------

def _scannet(folder, numbers=(0, 1, 2), color_size=(8, 6), depth_size=(8, 6)):
    K_depth = np.array([[5.0, 0, 3.5, 0], [0, 5.0, 2.5, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    _write_matrix(folder / "intrinsic" / "intrinsic_depth.txt", K_depth)
    _write_matrix(folder / "intrinsic" / "intrinsic_color.txt", K_depth * [[2], [2], [1], [1]])
    truth = {}
    for n in numbers:
        pose = _pose(0.1 * n, [n, 2.0, 1.5])
        _write_matrix(folder / "pose" / f"{n}.txt", pose)
        depth_mm = RNG.integers(0, 5000, (depth_size[1], depth_size[0]))
        _write_png16(folder / "depth" / f"{n}.png", depth_mm)
        truth[n] = (pose, depth_mm / 1000.0, _write_color(folder / "color" / f"{n}.jpg", color_size))
    return K_depth[:3, :3], truth


def test_scannet_round_trip_in_numeric_order(tmp_path):
    K, truth = _scannet(tmp_path, numbers=(0, 2, 10, 9))
    frames = list(iter_scannet_frames(tmp_path))
    assert [f.t for f in frames] == [n / 30.0 for n in (0, 2, 9, 10)]
    for frame, n in zip(frames, (0, 2, 9, 10)):
        pose, depth, rgb = truth[n]
        np.testing.assert_allclose(frame.T_wc, pose, atol=1e-8)
        np.testing.assert_allclose(frame.K, K)
        np.testing.assert_allclose(frame.depth, depth, atol=1e-6)
        assert frame.depth.dtype == np.float32 and frame.rgb.dtype == np.uint8 and frame.rgb.shape == (6, 8, 3)
        assert frame.T_wc.dtype == np.float64 and frame.K.dtype == np.float64
        assert np.abs(frame.rgb.astype(int) - rgb).mean() < 8  # JPEG is lossy


def test_scannet_resizes_colour_to_depth_or_depth_to_colour(tmp_path):
    _scannet(tmp_path, numbers=(0,), color_size=(16, 12), depth_size=(8, 6))
    (frame,) = iter_scannet_frames(tmp_path)
    assert frame.rgb.shape == (6, 8, 3) and frame.depth.shape == (6, 8) and frame.K[0, 0] == 5.0
    (frame,) = iter_scannet_frames(tmp_path, intrinsic="color")
    assert frame.rgb.shape == (12, 16, 3) and frame.depth.shape == (12, 16) and frame.K[0, 0] == 10.0


def test_scannet_skips_lost_tracking_poses(tmp_path):
    _scannet(tmp_path)
    _write_matrix(tmp_path / "pose" / "1.txt", np.full((4, 4), -np.inf))
    assert [f.t * 30 for f in iter_scannet_frames(tmp_path)] == [0, 2]
    with pytest.raises(FrameFormatError, match="1.txt: pose has non-finite"):
        list(iter_scannet_frames(tmp_path, skip_invalid_poses=False))


def test_scannet_bad_pose_line_names_file_and_line(tmp_path):
    _scannet(tmp_path)
    (tmp_path / "pose" / "1.txt").write_text("1 0 0 0\n0 1 0 0\n0 0 1\n0 0 0 1\n")
    with pytest.raises(FrameFormatError, match=r"1\.txt: line 3: expected 4 numbers, got 3"):
        list(iter_scannet_frames(tmp_path))
    (tmp_path / "pose" / "1.txt").write_text("1 0 0 0\n0 1 0 0\n0 0 1 x\n0 0 0 1\n")
    with pytest.raises(FrameFormatError, match=r"line 3, field 4: expected a number, got 'x'"):
        list(iter_scannet_frames(tmp_path))
    (tmp_path / "pose" / "1.txt").write_text("2 0 0 0\n0 1 0 0\n0 0 1 0\n0 0 0 1\n")
    with pytest.raises(FrameFormatError, match="not a rigid transform"):
        list(iter_scannet_frames(tmp_path))


def test_scannet_missing_files_are_named(tmp_path):
    _scannet(tmp_path)
    (tmp_path / "depth" / "2.png").unlink()
    with pytest.raises(FrameFormatError, match=r"depth/2\.png: file not found"):
        list(iter_scannet_frames(tmp_path))
    (tmp_path / "intrinsic" / "intrinsic_depth.txt").unlink()
    with pytest.raises(FrameFormatError, match="intrinsic_depth.txt: file not found"):
        list(iter_scannet_frames(tmp_path))


@pytest.mark.parametrize("image", [np.zeros((6, 8), np.uint8), np.zeros((6, 8, 3), np.uint8)])
def test_depth_that_is_not_16_bit_is_rejected(tmp_path, image):
    _scannet(tmp_path)
    Image.fromarray(image).save(tmp_path / "depth" / "1.png")
    with pytest.raises(FrameFormatError, match=r"1\.png: depth must be a 16-bit single-channel PNG, got mode"):
        list(iter_scannet_frames(tmp_path))


def test_unreadable_image_and_matrix_row_count(tmp_path):
    (tmp_path / "d.png").write_bytes(b"not a png")
    with pytest.raises(FrameFormatError, match="d.png: not a readable image"):
        read_depth(tmp_path / "d.png", 1000.0)
    _write_matrix(tmp_path / "m.txt", np.eye(3))
    with pytest.raises(FrameFormatError, match="expected 4 rows of 4 numbers, found 3"):
        read_matrix(tmp_path / "m.txt")


# --- TUM RGB-D -----------------------------------------------------------------------------------

def _tum(folder, rgb_times=(1.0, 1.5, 2.0), depth_times=(1.01, 1.49, 2.3), pose_times=(0.99, 1.5, 2.0)):
    folder.mkdir(parents=True, exist_ok=True)
    rgb_lines, depth_lines, gt_lines = ["# color images"], ["# depth maps", "# timestamp filename"], ["# ground truth"]
    for t in rgb_times:
        _write_color(folder / "rgb" / f"{t:.6f}.png")
        rgb_lines.append(f"{t:.6f} rgb/{t:.6f}.png")
    depths = {}
    for t in depth_times:
        depths[t] = RNG.integers(1, 20000, (6, 8))
        _write_png16(folder / "depth" / f"{t:.6f}.png", depths[t])
        depth_lines.append(f"{t:.6f} depth/{t:.6f}.png")
    half = math.pi / 4  # 90° about z: q = (0, 0, sin 45°, cos 45°)
    for t in pose_times:
        gt_lines.append(f"{t:.4f} 1.0 2.0 3.0 0 0 {math.sin(half):.9f} {math.cos(half):.9f}")
    (folder / "rgb.txt").write_text("\n".join(rgb_lines) + "\n")
    (folder / "depth.txt").write_text("\n".join(depth_lines) + "\n")
    (folder / "groundtruth.txt").write_text("\n".join(gt_lines) + "\n")
    return depths


def test_tum_associates_by_nearest_timestamp_within_tolerance(tmp_path):
    depths = _tum(tmp_path)
    frames = list(iter_tum_frames(tmp_path))
    assert [f.t for f in frames] == [1.0, 1.5]  # the colour image at 2.0 has no depth within 0.02 s
    np.testing.assert_allclose(frames[0].depth, depths[1.01] / 5000.0, rtol=1e-6)
    np.testing.assert_allclose(frames[1].depth, depths[1.49] / 5000.0, rtol=1e-6)
    expected = _pose(math.pi / 2, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(frames[0].T_wc, expected, atol=1e-8)
    fx, fy, cx, cy = TUM_FR1_INTRINSICS
    np.testing.assert_allclose(frames[0].K, [[fx, 0, cx], [0, fy, cy], [0, 0, 1]])
    assert len(list(iter_tum_frames(tmp_path, max_dt=0.5))) == 3


def test_tum_intrinsics_and_depth_scale_can_be_overridden(tmp_path):
    depths = _tum(tmp_path)
    frame = next(iter_tum_frames(tmp_path, intrinsics=(500.0, 501.0, 4.0, 3.0), depth_scale=1000.0))
    assert frame.K[0, 0] == 500.0 and frame.K[1, 1] == 501.0 and frame.K[0, 2] == 4.0
    np.testing.assert_allclose(frame.depth, depths[1.01] / 1000.0, rtol=1e-6)


@pytest.mark.parametrize("line, message", [
    ("1.0 1 2 3 0 0 0", r"groundtruth.txt: line 2: expected 8 numbers 'timestamp tx ty tz qx qy qz qw', got 7"),
    ("1.0 1 2 3 0 0 zero 1", r"groundtruth.txt: line 2, field 7: expected a number, got 'zero'"),
    ("1.0 1 2 3 0 0 0 0", r"groundtruth.txt: line 2: quaternion norm 0 is not close to 1"),
    ("1.0 nan 2 3 0 0 0 1", r"groundtruth.txt: line 2: non-finite value"),
])
def test_tum_bad_pose_lines_are_named(tmp_path, line, message):
    _tum(tmp_path)
    (tmp_path / "groundtruth.txt").write_text(f"# header\n{line}\n")
    with pytest.raises(FrameFormatError, match=message):
        list(iter_tum_frames(tmp_path))


def test_tum_missing_list_and_image_and_nothing_associated(tmp_path):
    _tum(tmp_path)
    (tmp_path / "rgb" / "1.500000.png").unlink()
    with pytest.raises(FrameFormatError, match=r"rgb/1\.500000\.png: file not found"):
        list(iter_tum_frames(tmp_path))
    (tmp_path / "rgb.txt").write_text("1.0 a.png extra\n")
    with pytest.raises(FrameFormatError, match=r"rgb.txt: line 1: expected a timestamp and 1 value"):
        list(iter_tum_frames(tmp_path))
    (tmp_path / "rgb.txt").write_text("100.0 rgb/1.000000.png\n")
    with pytest.raises(FrameFormatError, match="no colour image has a depth image and a pose"):
        list(iter_tum_frames(tmp_path))
    (tmp_path / "depth.txt").unlink()
    with pytest.raises(FrameFormatError, match="depth.txt: file not found"):
        list(iter_tum_frames(tmp_path))


# --- our scene folders and detection ----------------------------------------------------------------

@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory):
    pytest.importorskip("open3d")
    from ssr_runtime.data.generate import GenerationSettings, generate_scene

    folder = tmp_path_factory.mktemp("scene")
    generate_scene(folder, 3, GenerationSettings(frames=4, width=64, height=48))
    return folder


def test_scene_frames_round_trip_the_rendered_images(scene_dir):
    from ssr_runtime.data.render import Renderer
    from ssr_runtime.data.rooms import generate_layout
    from ssr_runtime.data.scene import Scene

    scene = Scene.load(scene_dir)
    layout = generate_layout(np.random.default_rng(3))  # the scene's layout is the seed's first draw
    renderer = Renderer(layout, scene.camera)
    frames = list(iter_scene_frames(scene_dir))
    assert len(frames) == 4
    for frame, record in zip(frames, scene.frames):
        rgb, depth, instance = renderer.render(frame.T_wc)
        np.testing.assert_allclose(frame.depth, depth, atol=0.0005 + 1e-6)  # millimetre PNG
        np.testing.assert_array_equal(frame.instance, instance)
        assert np.abs(frame.rgb.astype(int) - rgb).mean() < 6  # JPEG
        assert frame.t == record.t and frame.K[0, 0] == scene.camera.fx


def test_scene_frame_with_wrong_size_or_dtype_is_rejected(scene_dir, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(scene_dir, folder)
    _write_png16(folder / "depth" / "000002.png", np.zeros((10, 10)))
    with pytest.raises(FrameFormatError, match=r"000002\.png: image is 10×10, expected 64×48"):
        list(iter_scene_frames(folder))
    Image.fromarray(np.zeros((48, 64), np.uint8)).save(folder / "instance" / "000001.png")
    with pytest.raises(FrameFormatError, match="instance mask must be a 16-bit"):
        list(iter_scene_frames(folder))


def test_detect_format(scene_dir, tmp_path):
    assert detect_format(scene_dir) == "ssr"
    assert len(list(iter_frames(scene_dir))) == 4
    _scannet(tmp_path / "scannet")
    assert detect_format(tmp_path / "scannet") == "scannet"
    _tum(tmp_path / "tum")
    assert detect_format(tmp_path / "tum") == "tum"
    with pytest.raises(FrameFormatError, match="not a scene folder"):
        detect_format(tmp_path)
    assert issubclass(FrameFormatError, SceneFormatError) and issubclass(FrameFormatError, ValueError)
