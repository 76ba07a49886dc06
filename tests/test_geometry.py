"""7-DoF box geometry: corners, IoU and closest-point distance against independent numpy checks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssr_runtime import _core

coord = st.floats(-5, 5, allow_nan=False)
side = st.floats(0.1, 3, allow_nan=False)
angle = st.floats(-math.pi, math.pi, allow_nan=False)
boxes = st.builds(lambda c, s, yaw: _core.Box3D(c, s, yaw), st.tuples(coord, coord, coord), st.tuples(side, side, side), angle)


def sample_box(box, n, rng):
    """Uniform points inside a box (numpy reference, independent of the core)."""
    local = (rng.random((n, 3)) - 0.5) * np.array(box.size)
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    return local @ rot.T + np.array(box.center)


def test_corners_of_axis_aligned_box():
    corners = _core.Box3D((1, 2, 3), (2, 4, 6)).corners()
    assert corners.shape == (8, 3)
    np.testing.assert_allclose(corners.min(axis=0), [0, 0, 0])
    np.testing.assert_allclose(corners.max(axis=0), [2, 4, 6])


def test_yaw_turns_length_axis():
    corners = _core.Box3D((0, 0, 0), (2, 1, 1), math.pi / 2).corners()
    np.testing.assert_allclose(np.ptp(corners, axis=0), [1, 2, 1], atol=1e-12)


def test_iou_known_overlap():
    a = _core.Box3D((0, 0, 0), (2, 2, 2))
    b = _core.Box3D((1, 0, 0), (2, 2, 2))
    assert _core.box_iou_3d(a, b) == pytest.approx(4 / 12)
    assert _core.box_iou_3d(a, _core.Box3D((0, 0, 5), (2, 2, 2))) == 0


def test_iou_rotated_square_inside_larger():
    outer = _core.Box3D((0, 0, 0), (4, 4, 1))
    inner = _core.Box3D((0, 0, 0), (1, 1, 1), 0.7)
    assert _core.box_iou_3d(outer, inner) == pytest.approx(1 / 16)


@given(boxes, boxes)
@settings(max_examples=60, deadline=None)
def test_iou_matches_monte_carlo(a, b):
    rng = np.random.default_rng(0)
    pts = sample_box(a, 20000, rng)
    # fraction of a's volume inside b, estimated by sampling
    c, s = math.cos(-b.yaw), math.sin(-b.yaw)
    local = (pts - np.array(b.center)) @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]).T
    inside = np.all(np.abs(local) <= np.array(b.size) / 2, axis=1).mean()
    inter = inside * a.volume
    expected = inter / (a.volume + b.volume - inter)
    assert _core.box_iou_3d(a, b) == pytest.approx(expected, abs=0.02)
    assert _core.box_iou_3d(a, b) == pytest.approx(_core.box_iou_3d(b, a), abs=1e-9)


@given(boxes, boxes)
@settings(max_examples=60, deadline=None)
def test_distance_bounded_by_sampled_pairs(a, b):
    rng = np.random.default_rng(1)
    pa, pb = sample_box(a, 1500, rng), sample_box(b, 1500, rng)
    sampled = np.sqrt(((pa[:, None, :] - pb[None, :, :]) ** 2).sum(-1)).min()
    exact = _core.box_distance(a, b)
    assert exact == pytest.approx(_core.box_distance(b, a), abs=1e-9)
    assert exact <= sampled + 1e-9
    if exact > 0:
        # sampled pairs approach the true closest pair from above
        assert sampled - exact < 0.35 * max(max(a.size), max(b.size))


def test_distance_vertical_gap_and_touching():
    floor_box = _core.Box3D((0, 0, 0.5), (1, 1, 1))
    above = _core.Box3D((0, 0, 2.5), (1, 1, 1))
    assert _core.box_distance(floor_box, above) == pytest.approx(1.0)
    touching = _core.Box3D((1, 0, 0.5), (1, 1, 1))
    assert _core.box_distance(floor_box, touching) == pytest.approx(0.0, abs=1e-12)
    diagonal = _core.Box3D((2, 2, 2.5), (1, 1, 1))
    assert _core.box_distance(floor_box, diagonal) == pytest.approx(math.sqrt(3))


def test_polygon_area_l_shape():
    l_shape = [(0, 0), (4, 0), (4, 2), (2, 2), (2, 5), (0, 5)]
    assert _core.polygon_area(l_shape) == pytest.approx(8 + 6)


@pytest.mark.parametrize(
    "center,size,yaw",
    [
        ((0, 0, 0), (0, 1, 1), 0.0),
        ((0, 0, 0), (1, -1, 1), 0.0),
        ((math.nan, 0, 0), (1, 1, 1), 0.0),
        ((0, 0, 0), (1, 1, 1), math.inf),
    ],
)
def test_bad_boxes_are_rejected(center, size, yaw):
    with pytest.raises(_core.InvalidInputError, match="^box: "):
        _core.Box3D(center, size, yaw)


def test_bad_size_assignment_keeps_box():
    box = _core.Box3D((0, 0, 0), (1, 2, 3))
    with pytest.raises(_core.InvalidInputError, match="box.size"):
        box.size = (1, 0, 3)
    assert box.size == [1, 2, 3]


def test_errors_are_value_errors():
    assert issubclass(_core.SsrError, ValueError)
    for cls in (_core.InvalidInputError, _core.ParseError, _core.QueryError):
        assert issubclass(cls, _core.SsrError)
