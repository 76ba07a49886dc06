"""Voxel downsampling and gravity-aligned box fitting (ssr_runtime._core)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssr_runtime import _core

SETTINGS = settings(max_examples=50, deadline=None)


def wrap_half_turn(angle):
    """Angle wrapped to (-pi/2, pi/2], the yaw convention of fit_box."""
    wrapped = math.remainder(angle, math.pi)
    return wrapped + math.pi if wrapped <= -math.pi / 2 else wrapped


def box_surface_points(rng, center, size, yaw, n):
    """n points uniformly on the surface of the box (size = extents along its own x, y, z)."""
    half = np.asarray(size) / 2
    areas = np.array([size[1] * size[2], size[0] * size[2], size[0] * size[1]]) * 2
    face_axis = rng.choice(3, size=n, p=areas / areas.sum())
    local = rng.uniform(-half, half, size=(n, 3))
    sign = rng.choice([-1.0, 1.0], size=n)
    local[np.arange(n), face_axis] = sign * half[face_axis]
    return to_world(local, center, yaw)


def box_corner_points(center, size, yaw):
    half = np.asarray(size) / 2
    corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * half
    return to_world(corners, center, yaw)


def to_world(local, center, yaw):
    c, s = math.cos(yaw), math.sin(yaw)
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    return (local @ R.T + center).astype(np.float32)


def expected_box(size, yaw):
    """(l, w, h, yaw) under the convention: l is the longer footprint side, yaw along it."""
    a, b, h = size
    if a >= b:
        return a, b, h, wrap_half_turn(yaw)
    return b, a, h, wrap_half_turn(yaw + math.pi / 2)


def assert_box_close(box, center, size, yaw, atol, yaw_tol):
    l, w, h, heading = expected_box(size, yaw)
    np.testing.assert_allclose(box.center, center, atol=atol)
    np.testing.assert_allclose(box.size, (l, w, h), atol=atol)
    assert -math.pi / 2 < box.yaw <= math.pi / 2
    assert abs(wrap_half_turn(box.yaw - heading)) < yaw_tol


boxes = st.fixed_dictionaries(
    {
        "center": st.tuples(st.floats(-20, 20), st.floats(-20, 20), st.floats(0, 3)),
        "long": st.floats(0.2, 3.0),
        "ratio": st.floats(0.1, 0.85),
        "swap": st.booleans(),
        "height": st.floats(0.1, 2.0),
        "yaw": st.floats(-math.pi, math.pi),
        "seed": st.integers(0, 2**32 - 1),
    }
)


def unpack(spec):
    a, b = spec["long"], spec["long"] * spec["ratio"]
    size = (b, a, spec["height"]) if spec["swap"] else (a, b, spec["height"])
    return np.array(spec["center"]), size, spec["yaw"], np.random.default_rng(spec["seed"])


# --- fit_box --------------------------------------------------------------------------------------


@SETTINGS
@given(spec=boxes)
def test_fit_box_is_exact_when_the_corners_are_sampled(spec):
    center, size, yaw, rng = unpack(spec)
    points = np.concatenate(
        [box_surface_points(rng, center, size, yaw, 300), box_corner_points(center, size, yaw)]
    )
    rng.shuffle(points)
    assert_box_close(_core.fit_box(points), center, size, yaw, atol=1e-4, yaw_tol=1e-4)


@SETTINGS
@given(spec=boxes)
def test_fit_box_recovers_a_box_from_surface_samples(spec):
    center, size, yaw, rng = unpack(spec)
    points = box_surface_points(rng, center, size, yaw, 5000)
    tol = 0.03 * spec["long"]
    assert_box_close(_core.fit_box(points), center, size, yaw, atol=tol, yaw_tol=0.05)


def brute_force_min_area(xy):
    """Smallest bounding-rectangle area over the directions of all point pairs (which include every
    hull edge, and one side of the optimum lies on a hull edge)."""
    d = xy[None, :, :] - xy[:, None, :]
    angles = np.arctan2(d[..., 1], d[..., 0])[np.triu_indices(len(xy), 1)]
    best = np.inf
    for a in angles:
        u = np.array([math.cos(a), math.sin(a)])
        v = np.array([-u[1], u[0]])
        best = min(best, np.ptp(xy @ u) * np.ptp(xy @ v))
    return best


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 40))
def test_footprint_is_the_minimum_area_rectangle_holding_every_point(seed, n):
    rng = np.random.default_rng(seed)
    points = (rng.normal(size=(n, 3)) * [2.0, 1.0, 1.0]).astype(np.float32)
    box = _core.fit_box(points)
    xy = points[:, :2].astype(np.float64)
    assert box.size[0] * box.size[1] == pytest.approx(brute_force_min_area(xy), rel=1e-6)
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    local = (xy - box.center[:2]) @ np.array([[c, -s], [s, c]])
    assert np.all(np.abs(local) <= np.array(box.size[:2]) / 2 + 1e-5)
    assert box.size[0] >= box.size[1]


def test_trim_drops_depth_edge_outliers():
    rng = np.random.default_rng(4)
    center, size, yaw = np.array([2.0, -1.0, 0.5]), (1.2, 0.6, 1.0), 0.4
    inliers = box_surface_points(rng, center, size, yaw, 4000)
    outliers = (center + rng.normal(0, 3.0, size=(120, 3))).astype(np.float32)
    points = np.concatenate([inliers, outliers])
    rng.shuffle(points)

    untrimmed = _core.fit_box(points)
    trimmed = _core.fit_box(points, trim=0.05)

    assert untrimmed.volume > 5 * np.prod(size)
    assert_box_close(trimmed, center, size, yaw, atol=0.06, yaw_tol=0.05)


def test_fit_box_is_independent_of_point_order():
    rng = np.random.default_rng(9)
    points = box_surface_points(rng, [0.0, 0.0, 0.0], (1.0, 0.5, 0.3), 1.0, 500)
    first = _core.fit_box(points, trim=0.1)
    for _ in range(3):
        rng.shuffle(points)
        again = _core.fit_box(points, trim=0.1)
        np.testing.assert_allclose(again.center, first.center, atol=1e-6)
        np.testing.assert_allclose(again.size, first.size, atol=1e-6)
        assert again.yaw == pytest.approx(first.yaw, abs=1e-9)


def test_fit_box_keeps_precision_far_from_the_origin():
    rng = np.random.default_rng(2)
    center, size, yaw = np.array([1000.0, -2000.0, 1.0]), (0.8, 0.4, 0.5), -0.7
    points = np.concatenate(
        [box_surface_points(rng, center, size, yaw, 400), box_corner_points(center, size, yaw)]
    )
    assert_box_close(_core.fit_box(points), center, size, yaw, atol=2e-3, yaw_tol=1e-2)


def test_axis_aligned_and_square_boxes_follow_the_yaw_convention():
    along_y = box_corner_points([0, 0, 0], (0.5, 2.0, 1.0), 0.0)  # long side along world y
    box = _core.fit_box(along_y)
    np.testing.assert_allclose(box.size, (2.0, 0.5, 1.0), atol=1e-6)
    assert box.yaw == pytest.approx(math.pi / 2)  # +pi/2 is in the range, -pi/2 is not

    square = _core.fit_box(box_corner_points([1, 1, 1], (1.0, 1.0, 1.0), 0.3))
    np.testing.assert_allclose(square.size, (1.0, 1.0, 1.0), atol=1e-6)
    assert abs(math.remainder(square.yaw - 0.3, math.pi / 2)) < 1e-6


def test_fit_box_of_a_minimal_triangle():
    points = np.array([[0, 0, 0], [2, 0, 0], [0, 1, 1]], np.float32)
    box = _core.fit_box(points)
    # The right triangle's minimum-area rectangle is 2 x 1 along its legs.
    np.testing.assert_allclose(box.size, (2.0, 1.0, 1.0), atol=1e-6)
    np.testing.assert_allclose(box.center, (1.0, 0.5, 0.5), atol=1e-6)
    assert box.yaw == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    "points,field,message",
    [
        (np.zeros((2, 3), np.float32), "points", "at least 3 points.* got 2"),
        (np.zeros((0, 3), np.float32), "points", "at least 3 points.* got 0"),
        (np.array([[0, 0, 0], [1, 2, 1], [2, 4, 0], [3, 6, 2]], np.float32), "points", "collinear"),
        (np.array([[1, 1, 0], [1, 1, 1], [1, 1, 2]], np.float32), "points", "collinear"),
        (np.array([[0, 0, 0.5], [1, 0, 0.5], [0, 1, 0.5]], np.float32), "points", "no height"),
        (np.array([[0, 0, 0], [1, 0, np.nan], [0, 1, 1]], np.float32), "points", "row 1"),
        (np.array([[0, 0, 0], [1, 0, 0], [0, np.inf, 1]], np.float32), "points", "row 2"),
        (np.zeros((4, 3)), "points", "float64"),
        (np.zeros((4, 3), np.int32), "points", "int32"),
        (np.zeros((4, 2), np.float32), "points", r"\(4, 2\)"),
        (np.zeros(12, np.float32), "points", r"\(12,\)"),
        (None, "points", "object"),
    ],
)
def test_fit_box_rejects_bad_points(points, field, message):
    with pytest.raises(_core.InvalidInputError, match=rf"^{field}: .*{message}"):
        _core.fit_box(points)


@pytest.mark.parametrize("trim", [-0.1, 0.5, 0.9, math.nan])
def test_fit_box_rejects_bad_trim(trim):
    points = box_corner_points([0, 0, 0], (1, 1, 1), 0)
    with pytest.raises(_core.InvalidInputError, match="^trim: "):
        _core.fit_box(points, trim=trim)


def test_trim_that_leaves_too_few_points_is_reported():
    points = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 1]], np.float32)
    assert _core.fit_box(points, trim=0.3).volume > 0  # floor(0.9) = 0 points dropped
    with pytest.raises(_core.InvalidInputError, match="got 2 after trimming"):
        _core.fit_box(points, trim=0.4)


# --- voxel_downsample -----------------------------------------------------------------------------


def reference_voxels(points, voxel_size):
    keys = np.floor(points.astype(np.float64) / voxel_size).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(first)  # voxels in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    slot = rank[inverse]
    counts = np.bincount(slot)
    sums = np.stack([np.bincount(slot, weights=points[:, k].astype(np.float64)) for k in range(3)])
    sums = sums.T
    return sums / counts[:, None], keys[first[order]]


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 400),
    voxel_size=st.floats(0.05, 2.0),
    spread=st.floats(0.1, 10.0),
)
def test_voxel_downsample_matches_numpy_reference(seed, n, voxel_size, spread):
    rng = np.random.default_rng(seed)
    points = rng.uniform(-spread, spread, size=(n, 3)).astype(np.float32)

    centroids = _core.voxel_downsample(points, voxel_size)

    expected, keys = reference_voxels(points, voxel_size)
    assert centroids.dtype == np.float32 and centroids.shape == (len(expected), 3)
    assert len(centroids) <= n
    np.testing.assert_allclose(centroids, expected, rtol=1e-6, atol=1e-6)
    # each centroid lies in its own voxel (a mean of points inside it)
    lo, hi = keys * voxel_size, (keys + 1) * voxel_size
    slack = 1e-5 * (1 + np.abs(centroids))
    assert np.all(centroids >= lo - slack) and np.all(centroids <= hi + slack)


def test_voxel_downsample_basic_cases():
    points = np.array([[0.1, 0.1, 0.1], [5.2, 0.0, 0.0], [0.3, 0.2, 0.1], [-0.1, 0.0, 0.0]],
                      np.float32)
    np.testing.assert_allclose(
        _core.voxel_downsample(points, 1.0),
        [[0.2, 0.15, 0.1], [5.2, 0.0, 0.0], [-0.1, 0.0, 0.0]],
        rtol=1e-6,
    )
    positive = points[:3]  # -0.1 would fall in the voxel below 0
    np.testing.assert_allclose(_core.voxel_downsample(positive, 100.0), [positive.mean(axis=0)],
                               rtol=1e-6)
    np.testing.assert_array_equal(_core.voxel_downsample(points, 0.01), points)
    empty = _core.voxel_downsample(np.zeros((0, 3), np.float32), 0.1)
    assert empty.shape == (0, 3) and empty.dtype == np.float32


def test_voxel_downsample_is_deterministic():
    points = np.random.default_rng(6).normal(size=(2000, 3)).astype(np.float32)
    np.testing.assert_array_equal(_core.voxel_downsample(points, 0.3),
                                  _core.voxel_downsample(points.copy(), 0.3))


@pytest.mark.parametrize("voxel_size", [0.0, -0.5, math.nan, math.inf, 1e-30])
def test_voxel_downsample_rejects_bad_voxel_size(voxel_size):
    with pytest.raises(_core.InvalidInputError, match="^voxel_size: "):
        _core.voxel_downsample(np.ones((3, 3), np.float32), voxel_size)


@pytest.mark.parametrize(
    "points,message",
    [
        (np.ones((3, 3)), "float64"),
        (np.ones((3, 4), np.float32), r"\(3, 4\)"),
        (np.array([[0, 0, np.nan]], np.float32), "row 0"),
    ],
)
def test_voxel_downsample_rejects_bad_points(points, message):
    with pytest.raises(_core.InvalidInputError, match=rf"^points: .*{message}"):
        _core.voxel_downsample(points, 0.1)
