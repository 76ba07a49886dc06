"""Frame validation, back-projection, patch pooling and keyframe selection (ssr_runtime._core)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssr_runtime import _core

SETTINGS = settings(max_examples=40, deadline=None)


# --- helpers: cameras and analytic renders --------------------------------------------------------


def intrinsics(fx=500.0, fy=480.0, cx=319.5, cy=239.5):
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def pose(R, t):
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = t
    return T


def look_at(eye, target):
    """T_wc of an OpenCV camera at `eye` looking at `target`, world z up (x right, y down)."""
    forward = np.asarray(target, float) - np.asarray(eye, float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return pose(np.column_stack([right, down, forward]), eye)


def rot_z(deg):
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1.0]])


def pixel_rays(K, T_wc, height, width):
    """World direction of each pixel's ray, scaled so that its camera z component is 1."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
    return cam @ T_wc[:3, :3].T


def render_plane(K, T_wc, height, width, normal, offset):
    """Depth (camera z, metres) of the plane normal . p = offset; 0 where the ray misses it."""
    rays = pixel_rays(K, T_wc, height, width)
    denom = rays @ normal
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (offset - T_wc[:3, 3] @ normal) / denom
    z[~np.isfinite(z) | (z <= 0) | (z > 100)] = 0.0
    return z.astype(np.float32)


def reference_world_points(depth_m, K, T_wc):
    """float64 world points H×W×3 and the validity mask, the plain numpy way."""
    d = depth_m.astype(np.float64)
    valid = np.isfinite(d) & (d > 0)
    z = np.where(valid, d, 0.0)
    height, width = d.shape
    points = pixel_rays(K, T_wc, height, width) * z[..., None] + T_wc[:3, 3]
    return points, valid


def reference_pool(depth_m, K, T_wc, grid):
    points, valid = reference_world_points(depth_m, K, T_wc)
    height, width = depth_m.shape
    rows = [r * height // grid for r in range(grid + 1)]
    cols = [c * width // grid for c in range(grid + 1)]
    out = np.zeros((grid, grid, 7))
    for r in range(grid):
        for c in range(grid):
            patch_valid = valid[rows[r] : rows[r + 1], cols[c] : cols[c + 1]]
            pts = points[rows[r] : rows[r + 1], cols[c] : cols[c + 1]][patch_valid]
            if len(pts) == 0:
                continue
            out[r, c, :3] = pts.mean(axis=0)
            out[r, c, 3] = patch_valid.sum() / patch_valid.size
            out[r, c, 4:] = pts.max(axis=0) - pts.min(axis=0)
    return out


def depth_with_holes(rng, height, width):
    depth = rng.uniform(0.3, 8.0, size=(height, width)).astype(np.float32)
    holes = rng.integers(0, 6, size=(height, width))
    depth[holes == 1] = np.nan
    depth[holes == 2] = 0.0
    depth[holes == 3] = np.inf
    depth[holes == 4] = -1.0
    return depth


def random_pose(rng):
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    R = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )
    return pose(R, rng.uniform(-5, 5, size=3))


FRAME = dict(
    rgb=np.zeros((48, 64, 3), np.uint8),
    depth=np.full((48, 64), 2.0, np.float32),
    K=intrinsics(fx=60.0, fy=60.0, cx=31.5, cy=23.5),
    T_wc=np.eye(4),
)


# --- back-projection ------------------------------------------------------------------------------


@SETTINGS
@given(
    eye_xy=st.tuples(st.floats(-3, 3), st.floats(-3, 3)),
    height=st.floats(0.5, 2.5),
    target_xy=st.tuples(st.floats(-3, 3), st.floats(-3, 3)),
)
def test_backprojected_floor_lies_on_the_floor(eye_xy, height, target_xy):
    eye = np.array([eye_xy[0], eye_xy[1], height])
    target = np.array([eye_xy[0] + 1 + target_xy[0] * 0.1, eye_xy[1] + target_xy[1] * 0.1, 0.0])
    K, T_wc = intrinsics(fx=80, fy=80, cx=39.5, cy=29.5), look_at(eye, target)
    depth = render_plane(K, T_wc, 60, 80, normal=np.array([0.0, 0.0, 1.0]), offset=0.0)

    points = _core.backproject(depth, K, T_wc)

    assert points.dtype == np.float32 and points.shape == (np.count_nonzero(depth), 3)
    assert np.count_nonzero(depth) > 0
    np.testing.assert_allclose(points[:, 2], 0.0, atol=2e-5 * (1 + np.abs(points).max()))


def test_backprojected_tilted_plane_matches_numpy_reference():
    rng = np.random.default_rng(3)
    K, T_wc = intrinsics(fx=70, fy=75, cx=40.0, cy=30.0), look_at([0, -2, 1.5], [0.3, 2, 0.8])
    normal = np.array([0.2, -1.0, 0.3]) / np.linalg.norm([0.2, -1.0, 0.3])
    offset = -3.0
    depth = render_plane(K, T_wc, 61, 83, normal, offset)
    depth[rng.random(depth.shape) < 0.2] = np.nan

    points = _core.backproject(depth, K, T_wc)

    np.testing.assert_allclose(points @ normal, offset, atol=1e-4)
    expected, valid = reference_world_points(depth, K, T_wc)
    np.testing.assert_allclose(points, expected[valid], rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("stride", [1, 2, 3, 7])
def test_stride_takes_every_stride_th_pixel(stride):
    rng = np.random.default_rng(stride)
    depth = depth_with_holes(rng, 37, 53)
    K, T_wc = intrinsics(fx=40, fy=40, cx=26, cy=18), random_pose(rng)

    points = _core.backproject(depth, K, T_wc, stride=stride)

    expected, valid = reference_world_points(depth, K, T_wc)
    sub = expected[::stride, ::stride][valid[::stride, ::stride]]
    np.testing.assert_allclose(points, sub, rtol=1e-6, atol=1e-5)


def test_non_contiguous_depth_is_read_correctly():
    rng = np.random.default_rng(11)
    wide = depth_with_holes(rng, 40, 120)
    view = wide[:, ::2]
    K, T_wc = intrinsics(fx=50, fy=50, cx=30, cy=20), random_pose(rng)
    np.testing.assert_array_equal(
        _core.backproject(view, K, T_wc), _core.backproject(np.ascontiguousarray(view), K, T_wc)
    )


def test_all_invalid_depth_gives_no_points():
    depth = np.array([[0.0, np.nan], [np.inf, -2.0]], np.float32)
    points = _core.backproject(depth, intrinsics(), np.eye(4))
    assert points.shape == (0, 3) and points.dtype == np.float32


def test_uint16_depth_with_scale_equals_float_depth():
    rng = np.random.default_rng(5)
    raw = rng.integers(0, 9000, size=(45, 67)).astype(np.uint16)
    raw[rng.random(raw.shape) < 0.2] = 0
    scale = 1000.0
    metres = (raw / scale).astype(np.float32)
    K, T_wc = intrinsics(fx=50, fy=52, cx=33, cy=22), random_pose(rng)

    np.testing.assert_allclose(
        _core.backproject(raw, K, T_wc, depth_scale=scale),
        _core.backproject(metres, K, T_wc),
        rtol=1e-6,
        atol=1e-5,
    )
    np.testing.assert_allclose(
        _core.pool_patches(raw, K, T_wc, grid=5, depth_scale=scale),
        _core.pool_patches(metres, K, T_wc, grid=5),
        rtol=1e-5,
        atol=1e-5,
    )


def test_depth_scale_divides_raw_values():
    raw = np.full((4, 4), 5000, np.uint16)
    points = _core.backproject(raw, intrinsics(cx=0, cy=0), np.eye(4), depth_scale=5000.0)
    np.testing.assert_allclose(points[:, 2], 1.0)


def test_backproject_instances_splits_the_points_by_id():
    rng = np.random.default_rng(8)
    depth = depth_with_holes(rng, 30, 40)
    mask = rng.integers(0, 4, size=depth.shape).astype(np.uint16)
    mask[:, :5] = 900
    K, T_wc = intrinsics(fx=30, fy=30, cx=20, cy=15), random_pose(rng)

    per_instance = _core.backproject_instances(depth, mask, K, T_wc, stride=2)

    expected, valid = reference_world_points(depth, K, T_wc)
    sub_valid, sub_mask, sub_points = valid[::2, ::2], mask[::2, ::2], expected[::2, ::2]
    assert sorted(per_instance) == [1, 2, 3, 900]
    for instance_id, points in per_instance.items():
        assert points.dtype == np.float32
        np.testing.assert_allclose(
            points, sub_points[sub_valid & (sub_mask == instance_id)], rtol=1e-6, atol=1e-5
        )


def test_instances_without_valid_depth_are_absent():
    depth = np.array([[1.0, np.nan], [2.0, 0.0]], np.float32)
    mask = np.array([[0, 5], [0, 6]], np.uint16)
    assert _core.backproject_instances(depth, mask, intrinsics(), np.eye(4)) == {}


# --- patch pooling --------------------------------------------------------------------------------


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    grid=st.integers(1, 9),
    extra_h=st.integers(0, 30),
    extra_w=st.integers(0, 30),
)
def test_pool_patches_matches_numpy_reference(seed, grid, extra_h, extra_w):
    rng = np.random.default_rng(seed)
    height, width = grid + extra_h, grid + extra_w
    depth = depth_with_holes(rng, height, width)
    K = intrinsics(fx=rng.uniform(20, 90), fy=rng.uniform(20, 90), cx=width / 2, cy=height / 2)
    T_wc = random_pose(rng)

    features = _core.pool_patches(depth, K, T_wc, grid=grid)

    assert features.shape == (grid, grid, _core.PATCH_FEATURES) and features.dtype == np.float32
    np.testing.assert_allclose(features, reference_pool(depth, K, T_wc, grid), rtol=1e-5, atol=2e-5)


def test_pool_patches_of_a_flat_wall():
    # A fronto-parallel wall 2 m away, camera at the origin looking down +z of the world.
    depth = np.full((6, 9), 2.0, np.float32)
    depth[:3, :3] = np.nan  # patch (0, 0) fully invalid
    depth[3, 3] = 0.0  # one hole in patch (1, 1)
    K = intrinsics(fx=2.0, fy=2.0, cx=4.0, cy=2.5)

    features = _core.pool_patches(depth, K, np.eye(4), grid=3)

    np.testing.assert_array_equal(features[0, 0], np.zeros(7))
    patch = features[1, 1]  # rows 2..3, columns 3..5 minus the hole at (3, 3)
    xs = (np.array([3, 4, 5, 4, 5]) - 4.0) / 2.0 * 2.0
    ys = (np.array([2, 2, 2, 3, 3]) - 2.5) / 2.0 * 2.0
    np.testing.assert_allclose(patch[:3], [xs.mean(), ys.mean(), 2.0], atol=1e-6)
    np.testing.assert_allclose(patch[3], 5 / 6)
    np.testing.assert_allclose(patch[4:], [np.ptp(xs), np.ptp(ys), 0.0], atol=1e-6)


def test_pool_grid_must_fit_the_image():
    for grid in (0, -1, 49):
        with pytest.raises(_core.InvalidInputError, match="grid"):
            _core.pool_patches(FRAME["depth"], FRAME["K"], FRAME["T_wc"], grid=grid)


# --- keyframes ------------------------------------------------------------------------------------


WALL_K = intrinsics(fx=60.0, fy=60.0, cx=31.5, cy=23.5)


def wall_frame(T_wc):
    """Depth of the wall y = 4 (world) seen by a camera at T_wc, 48×64."""
    return render_plane(WALL_K, T_wc, 48, 64, normal=np.array([0.0, 1.0, 0.0]), offset=4.0)


def facing_wall(x=0.0, yaw_deg=0.0):
    T = look_at([x, 0.0, 1.0], [x, 4.0, 1.0])
    T[:3, :3] = rot_z(yaw_deg) @ T[:3, :3]
    return T


def test_static_camera_keeps_its_first_keyframe():
    selector = _core.KeyframeSelector()
    T = facing_wall()
    decisions = [selector.consider(wall_frame(T), WALL_K, T) for _ in range(5)]
    assert decisions == [True, False, False, False, False]
    assert selector.last_overlap == pytest.approx(1.0)
    assert selector.frames_seen == 5 and selector.keyframes_taken == 1
    np.testing.assert_allclose(selector.last_keyframe_pose, T)


def test_translation_triggers_keyframes():
    selector = _core.KeyframeSelector(min_translation=0.3, min_overlap=0.0)
    poses = [facing_wall(x=0.12 * i) for i in range(7)]
    decisions = [selector.consider(wall_frame(T), WALL_K, T) for T in poses]
    # moved 0.12, 0.24, 0.36 (> 0.3: new keyframe at 3), then again at 6
    assert decisions == [True, False, False, True, False, False, True]
    np.testing.assert_allclose(selector.last_keyframe_pose, poses[6])


def test_rotation_triggers_keyframes():
    selector = _core.KeyframeSelector(min_rotation_deg=15.0, min_overlap=0.0)
    poses = [facing_wall(yaw_deg=6.0 * i) for i in range(5)]
    decisions = [selector.consider(wall_frame(T), WALL_K, T) for T in poses]
    assert decisions == [True, False, False, True, False]


def test_overlap_drop_triggers_a_keyframe_and_is_reported():
    selector = _core.KeyframeSelector(
        min_translation=100.0, min_rotation_deg=180.0, min_overlap=0.7
    )
    first = facing_wall()
    assert selector.consider(wall_frame(first), WALL_K, first)
    # Sliding sideways by s in front of a wall 4 m away shifts the view by s * fx / 4 pixels: the
    # sample columns u = 0, 8, .., 56 that stay inside are those with u + shift < 63.5.
    for shift_m, keyframe in [(1.0, False), (2.5, True)]:
        T = facing_wall(x=shift_m)
        assert selector.consider(wall_frame(T), WALL_K, T) == keyframe
        shift_px = shift_m * WALL_K[0, 0] / 4.0
        columns = np.arange(0, 64, 8)
        expected = np.count_nonzero(columns + shift_px < 63.5) / len(columns)
        assert selector.last_overlap == pytest.approx(expected, abs=1e-9)


def test_frame_without_depth_is_judged_on_pose_only():
    selector = _core.KeyframeSelector()
    T = facing_wall()
    selector.consider(wall_frame(T), WALL_K, T)
    empty = np.full((48, 64), np.nan, np.float32)
    assert not selector.consider(empty, WALL_K, T)
    assert math.isnan(selector.last_overlap)
    moved = facing_wall(x=0.5)
    assert selector.consider(empty, WALL_K, moved)


def test_reset_forgets_the_keyframe():
    selector = _core.KeyframeSelector()
    assert selector.last_keyframe_pose is None and math.isnan(selector.last_overlap)
    T = facing_wall()
    selector.consider(wall_frame(T), WALL_K, T)
    selector.reset()
    assert not selector.has_keyframe and selector.last_keyframe_pose is None
    assert selector.frames_seen == 0
    assert selector.consider(wall_frame(T), WALL_K, T)


def test_keyframe_selector_params():
    selector = _core.KeyframeSelector(min_translation=0.5, min_rotation_deg=10, min_overlap=0.6,
                                      sample_step=4)
    assert (selector.min_translation, selector.min_rotation_deg, selector.min_overlap,
            selector.sample_step) == (0.5, 10.0, 0.6, 4)
    for kwargs, field in [
        (dict(min_translation=-1.0), "min_translation"),
        (dict(min_translation=math.nan), "min_translation"),
        (dict(min_rotation_deg=200.0), "min_rotation_deg"),
        (dict(min_overlap=1.5), "min_overlap"),
        (dict(sample_step=0), "sample_step"),
    ]:
        with pytest.raises(_core.InvalidInputError, match=field):
            _core.KeyframeSelector(**kwargs)


def test_keyframe_selector_validates_frames():
    selector = _core.KeyframeSelector()
    with pytest.raises(_core.InvalidInputError, match="T_wc"):
        selector.consider(FRAME["depth"], FRAME["K"], np.diag([1.0, 1.0, 2.0, 1.0]))
    assert selector.frames_seen == 0


# --- validation -----------------------------------------------------------------------------------


def test_valid_frame_passes():
    assert _core.validate_frame(**FRAME) is None
    raw = np.full((48, 64), 1500, np.uint16)
    assert _core.validate_frame(FRAME["rgb"], raw, FRAME["K"], FRAME["T_wc"], 1000.0) is None
    # K and T_wc may come as nested lists of ints.
    assert _core.validate_frame(FRAME["rgb"], FRAME["depth"], [[60, 0, 31], [0, 60, 23], [0, 0, 1]],
                                np.eye(4, dtype=int).tolist()) is None


def with_frame(**changes):
    frame = dict(FRAME)
    frame.update(changes)
    return frame


def K_with(**entries):
    K = FRAME["K"].copy()
    for (i, j), value in ((tuple(map(int, key[1:])), v) for key, v in entries.items()):
        K[i, j] = value
    return K


def T_with(entry, value):
    T = np.eye(4)
    T[entry] = value
    return T


BAD_FRAMES = {
    "rgb int64": (with_frame(rgb=np.zeros((48, 64, 3), np.int64)), "rgb", "int64"),
    "rgb float32": (with_frame(rgb=np.zeros((48, 64, 3), np.float32)), "rgb", "float32"),
    "rgb gray": (with_frame(rgb=np.zeros((48, 64), np.uint8)), "rgb", r"\(48, 64\)"),
    "rgb rgba": (with_frame(rgb=np.zeros((48, 64, 4), np.uint8)), "rgb", r"\(48, 64, 4\)"),
    "rgb empty": (with_frame(rgb=np.zeros((0, 64, 3), np.uint8)), "rgb", r"\(0, 64, 3\)"),
    "rgb size": (with_frame(rgb=np.zeros((48, 65, 3), np.uint8)), "depth", r"\(48, 65, 3\)"),
    "depth float64": (with_frame(depth=np.ones((48, 64))), "depth", "float64"),
    "depth int32": (with_frame(depth=np.ones((48, 64), np.int32)), "depth", "int32"),
    "depth 3d": (with_frame(depth=np.ones((48, 64, 1), np.float32)), "depth", r"\(48, 64, 1\)"),
    "depth empty": (with_frame(depth=np.ones((48, 0), np.float32)), "depth", r"\(48, 0\)"),
    "depth size": (with_frame(depth=np.ones((47, 64), np.float32)), "depth", "47×64"),
    "K shape": (with_frame(K=np.eye(3)[:, :2]), "K", r"\(3, 2\)"),
    "K dtype": (with_frame(K=np.array([["a"] * 3] * 3)), "K", "<U1"),
    "K nan": (with_frame(K=K_with(k02=np.nan)), "K", "NaN"),
    "K fx zero": (with_frame(K=K_with(k00=0.0)), "K", "fx=0"),
    "K fy negative": (with_frame(K=K_with(k11=-60.0)), "K", "fy=-60"),
    "K skew": (with_frame(K=K_with(k01=0.5)), "K", r"K\[0,1\]=0.5"),
    "K bottom": (with_frame(K=K_with(k22=2.0)), "K", r"K\[2,:\]=\(0, 0, 2\)"),
    "K row 2": (with_frame(K=K_with(k20=1.0)), "K", r"K\[2,:\]=\(1, 0, 1\)"),
    "K row 1": (with_frame(K=K_with(k10=1.0)), "K", r"K\[1,0\]=1"),
    "T shape": (with_frame(T_wc=np.eye(4)[:3]), "T_wc", r"\(3, 4\)"),
    "T nan": (with_frame(T_wc=T_with((0, 3), np.nan)), "T_wc", "NaN"),
    "T inf": (with_frame(T_wc=T_with((1, 1), np.inf)), "T_wc", "infinite"),
    "T scaled": (with_frame(T_wc=np.diag([2.0, 2.0, 2.0, 1.0])), "T_wc", "non-rigid"),
    "T sheared": (with_frame(T_wc=T_with((0, 1), 0.01)), "T_wc", "non-rigid"),
    "T reflection": (with_frame(T_wc=np.diag([1.0, -1.0, 1.0, 1.0])), "T_wc", "non-rigid"),
    "T last row": (with_frame(T_wc=T_with((3, 0), 0.5)), "T_wc", "last row"),
    "T projective": (with_frame(T_wc=T_with((3, 3), 2.0)), "T_wc", "last row"),
    "depth None": (with_frame(depth=None), "depth", "object array of shape \\(\\)"),
    "K ragged": (with_frame(K=[[1.0], [1.0, 2.0]]), "K", "expected a numpy array, got list"),
    "uint16 scale": (with_frame(depth=np.ones((48, 64), np.uint16), depth_scale=0.0),
                     "depth_scale", "0"),
    "uint16 scale nan": (with_frame(depth=np.ones((48, 64), np.uint16), depth_scale=math.nan),
                         "depth_scale", "nan"),
}


@pytest.mark.parametrize("frame,field,got", BAD_FRAMES.values(), ids=BAD_FRAMES.keys())
def test_bad_frames_raise_naming_the_field(frame, field, got):
    with pytest.raises(_core.InvalidInputError, match=rf"^{field}: .*{got}") as info:
        _core.validate_frame(**frame)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "frame,field,got",
    [case for case in BAD_FRAMES.values() if case[1] in ("K", "T_wc")]
    + [BAD_FRAMES["depth float64"], BAD_FRAMES["depth empty"], BAD_FRAMES["uint16 scale"]],
)
@pytest.mark.parametrize("call", ["backproject", "pool_patches", "instances", "keyframe"])
def test_every_entry_point_validates(frame, field, got, call):
    depth, K, T_wc = frame["depth"], frame["K"], frame["T_wc"]
    scale = frame.get("depth_scale", 1000.0)
    with pytest.raises(_core.InvalidInputError, match=rf"^{field}: .*{got}"):
        if call == "backproject":
            _core.backproject(depth, K, T_wc, depth_scale=scale)
        elif call == "pool_patches":
            _core.pool_patches(depth, K, T_wc, grid=4, depth_scale=scale)
        elif call == "instances":
            mask = np.ones(depth.shape, np.uint16)
            _core.backproject_instances(depth, mask, K, T_wc, depth_scale=scale)
        else:
            _core.KeyframeSelector().consider(depth, K, T_wc, depth_scale=scale)


def test_stride_must_be_positive():
    depth, K, T_wc = FRAME["depth"], FRAME["K"], FRAME["T_wc"]
    with pytest.raises(_core.InvalidInputError, match="^stride: .*0"):
        _core.backproject(depth, K, T_wc, stride=0)
    with pytest.raises(_core.InvalidInputError, match="^stride: .*-2"):
        _core.backproject_instances(depth, np.ones(depth.shape, np.uint16), K, T_wc, stride=-2)


@pytest.mark.parametrize(
    "mask,got",
    [
        (np.ones((48, 64), np.int32), "int32"),
        (np.ones((48, 64), np.uint8), "uint8"),
        (np.ones((48, 63), np.uint16), r"\(48, 63\)"),
        (np.ones((48, 64, 1), np.uint16), r"\(48, 64, 1\)"),
    ],
)
def test_bad_instance_masks(mask, got):
    with pytest.raises(_core.InvalidInputError, match=rf"^instance_mask: .*{got}"):
        _core.backproject_instances(FRAME["depth"], mask, FRAME["K"], FRAME["T_wc"])


def test_rotation_tolerance_accepts_float32_poses():
    T = random_pose(np.random.default_rng(1)).astype(np.float32)
    assert _core.validate_frame(FRAME["rgb"], FRAME["depth"], FRAME["K"], T) is None


def test_concurrent_calls_from_threads_agree():
    # The bindings release the GIL around the pixel loops; concurrent calls must stay independent.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(12)
    frames = [(depth_with_holes(rng, 120, 160), random_pose(rng)) for _ in range(8)]
    K = intrinsics(fx=100, fy=100, cx=80, cy=60)

    def run(frame):
        depth, T_wc = frame
        return _core.backproject(depth, K, T_wc), _core.pool_patches(depth, K, T_wc, grid=8)

    expected = [run(frame) for frame in frames]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(run, frames * 4))
    for i, (points, features) in enumerate(got):
        np.testing.assert_array_equal(points, expected[i % 8][0])
        np.testing.assert_array_equal(features, expected[i % 8][1])
