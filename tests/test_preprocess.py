"""The encoder's per-frame inputs: shapes, dtypes, agreement with the core, and bad frames."""

import numpy as np
import pytest
from PIL import Image

from ssr_runtime import _core
from ssr_runtime.data import sample_scene_path
from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.preprocess import GRID, IMAGE_SIZE, FrameBatch, frame_inputs


@pytest.fixture(scope="module")
def frames():
    return [f for _, f in zip(range(3), iter_scene_frames(sample_scene_path()))]


def test_shapes_dtypes_and_values(frames):
    f = frames[0]
    inputs = frame_inputs(f.rgb, f.depth, f.K, f.T_wc)
    assert inputs.pixels.shape == (3, IMAGE_SIZE, IMAGE_SIZE) and inputs.pixels.dtype == np.uint8
    assert inputs.geometry.shape == (GRID, GRID, 7) and inputs.geometry.dtype == np.float32
    assert inputs.pose.shape == (12,) and inputs.pose.dtype == np.float32
    np.testing.assert_array_equal(inputs.geometry, _core.pool_patches(f.depth, f.K, f.T_wc, grid=GRID))
    np.testing.assert_array_equal(inputs.pose, f.T_wc[:3].ravel().astype(np.float32))
    resized = np.asarray(Image.fromarray(f.rgb).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR))
    np.testing.assert_array_equal(inputs.pixels, resized.transpose(2, 0, 1))
    assert inputs.pixels.flags.c_contiguous


def test_pixels_keep_the_image_layout():
    # A red left half and a blue right half: the resized image keeps them apart, channel first.
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[:, :32, 0] = 255
    rgb[:, 32:, 2] = 255
    depth = np.full((48, 64), 2.0, np.float32)
    K = np.array([[50.0, 0, 31.5], [0, 50.0, 23.5], [0, 0, 1]])
    pixels = frame_inputs(rgb, depth, K, np.eye(4)).pixels
    assert (pixels[0, :, :30] == 255).all() and (pixels[2, :, :30] == 0).all()
    assert (pixels[2, :, 34:] == 255).all() and (pixels[0, :, 34:] == 0).all()


@pytest.mark.parametrize("change, field", [
    (lambda f: f.update(rgb=f["rgb"].astype(np.float32)), "rgb"),
    (lambda f: f.update(rgb=f["rgb"][:, :, :2]), "rgb"),
    (lambda f: f.update(depth=f["depth"][:-1]), "depth"),
    (lambda f: f.update(depth=f["depth"].astype(np.float64)), "depth"),
    (lambda f: f.update(K=np.zeros((3, 3))), "K"),
    (lambda f: f.update(K=np.eye(2)), "K"),
    (lambda f: f.update(T_wc=np.full((4, 4), np.nan)), "T_wc"),
    (lambda f: f.update(T_wc=np.diag([2.0, 1, 1, 1])), "T_wc"),
])
def test_bad_frames_raise_naming_the_field(frames, change, field):
    f = frames[0]
    args = {"rgb": f.rgb, "depth": f.depth, "K": f.K, "T_wc": f.T_wc}
    change(args)
    with pytest.raises(_core.InvalidInputError, match=field):
        frame_inputs(**args)


def test_image_smaller_than_the_grid_is_an_error():
    with pytest.raises(_core.InvalidInputError):
        frame_inputs(np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), np.float32),
                     np.array([[4.0, 0, 1.5], [0, 4.0, 1.5], [0, 0, 1]]), np.eye(4))


def test_batch_stack_select_and_npz_round_trip(frames, tmp_path):
    inputs = [frame_inputs(f.rgb, f.depth, f.K, f.T_wc) for f in frames]
    batch = FrameBatch.stack(inputs)
    assert len(batch) == 3 and batch.pixels.shape == (3, 3, IMAGE_SIZE, IMAGE_SIZE)
    picked = batch.select([2, 0])
    np.testing.assert_array_equal(picked.geometry[0], inputs[2].geometry)
    np.testing.assert_array_equal(picked.pose[1], inputs[0].pose)
    batch.save(tmp_path / "b.npz")
    loaded = FrameBatch.load(tmp_path / "b.npz")
    for name in ("pixels", "geometry", "pose"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(batch, name))
    assert len(FrameBatch.stack([])) == 0


def test_batch_rejects_wrong_shapes_and_dtypes(frames):
    f = frames[0]
    good = frame_inputs(f.rgb, f.depth, f.K, f.T_wc)
    with pytest.raises(ValueError, match="geometry"):
        FrameBatch(good.pixels[None], good.geometry[None, :4], good.pose[None])
    with pytest.raises(ValueError, match="pixels"):
        FrameBatch(good.pixels[None].astype(np.float32), good.geometry[None], good.pose[None])
    with pytest.raises(ValueError, match="pose"):
        FrameBatch(good.pixels[None], good.geometry[None], good.pose[None].astype(np.float64))
