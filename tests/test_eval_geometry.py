"""The benchmark's own box geometry, checked against brute-force sampling and the C++ core."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ssr_runtime
from ssr_runtime.data.scene import BoxRecord
from ssr_runtime.eval import geometry


def _unit_grid(n: int, volume: bool) -> np.ndarray:
    """Points of the unit cube centred at 0: an n×n grid on each face, or an n×n×n grid inside."""
    g = np.linspace(-0.5, 0.5, n)
    if volume:
        return np.stack([a.ravel() for a in np.meshgrid(g, g, g)], axis=1)
    u, v = (a.ravel() for a in np.meshgrid(g, g))
    faces = []
    for axis in range(3):
        for side in (-0.5, 0.5):
            face = np.empty((n * n, 3))
            face[:, axis] = side
            face[:, [i for i in range(3) if i != axis]] = np.stack([u, v], axis=1)
            faces.append(face)
    return np.concatenate(faces)


def box_points(box: BoxRecord, n: int, volume: bool) -> np.ndarray:
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    rotation = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    return (_unit_grid(n, volume) * np.array(box.size)) @ rotation.T + np.array(box.center)


def sampled_distance(a: BoxRecord, b: BoxRecord, n: int, volume: bool) -> tuple[float, float]:
    """(min distance between the two point grids, how far that can exceed the true minimum)."""
    pa, pb = box_points(a, n, volume), box_points(b, n, volume)
    d2 = ((pa[:, None, :] - pb[None, :, :]) ** 2).sum(axis=2)
    cell = lambda box: math.hypot(*box.size) / (n - 1)  # noqa: E731 - a grid cell's diagonal
    return math.sqrt(d2.min()), cell(a) + cell(b)


boxes = st.builds(
    lambda c, s, yaw: BoxRecord(tuple(c), tuple(s), yaw),
    st.lists(st.floats(-3, 3), min_size=3, max_size=3),
    st.lists(st.floats(0.1, 2), min_size=3, max_size=3),
    st.floats(-math.pi, math.pi),
)


@settings(max_examples=40, deadline=None)
@given(boxes, boxes)
def test_box_distance_matches_brute_force_sampling(a, b):
    exact = geometry.box_distance(a, b)
    if exact > 0:
        # Disjoint boxes: the closest points lie on the surfaces, which the face grids cover.
        sampled, slack = sampled_distance(a, b, 13, volume=False)
        assert exact <= sampled + 1e-9
        assert sampled - exact <= slack
    else:
        # Touching or overlapping: some points of the two solid grids come within a cell.
        sampled, slack = sampled_distance(a, b, 9, volume=True)
        assert sampled <= slack


@settings(max_examples=200, deadline=None)
@given(boxes, boxes)
def test_box_distance_agrees_with_the_cpp_core(a, b):
    core = ssr_runtime.box_distance(ssr_runtime.Box3D(a.center, a.size, a.yaw), ssr_runtime.Box3D(b.center, b.size, b.yaw))
    assert geometry.box_distance(a, b) == pytest.approx(core, abs=1e-9)


def test_box_distance_cases_worked_by_hand():
    unit = BoxRecord((0, 0, 0.5), (1, 1, 1), 0)
    assert geometry.box_distance(unit, BoxRecord((3, 0, 0.5), (1, 1, 1), 0)) == pytest.approx(2.0)
    # Rotated 45 degrees: its corner reaches sqrt(0.5) towards the unit box.
    diamond = BoxRecord((3, 0, 0.5), (1, 1, 1), math.pi / 4)
    assert geometry.box_distance(unit, diamond) == pytest.approx(2.5 - math.sqrt(0.5))
    # A lamp standing on a table touches it; a shelf above it is separated in z only.
    table = BoxRecord((0, 0, 0.375), (1.2, 0.8, 0.75), 0.3)
    assert geometry.box_distance(table, BoxRecord((0.1, 0, 0.95), (0.2, 0.2, 0.4), 0)) == 0.0
    assert geometry.box_distance(table, BoxRecord((0, 0, 1.95), (0.5, 0.5, 0.1), 1.0)) == pytest.approx(1.15)
    # Diagonal offset: footprint gap 3 in x and 4 in the z gap combine to 5.
    assert geometry.box_distance(unit, BoxRecord((4, 0, 5.5), (1, 1, 1), 0)) == pytest.approx(5.0)


def test_footprint_is_counter_clockwise_with_the_box_area():
    corners = geometry.footprint(BoxRecord((1, 2, 0), (2, 1, 1), 0.7))
    x, y = corners[:, 0], corners[:, 1]
    signed_area = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    assert signed_area == pytest.approx(2.0)


def test_signed_angle_is_positive_to_the_left():
    forward = np.array([0.0, 1.0])
    assert geometry.signed_angle_deg(forward, np.array([-1.0, 0.0])) == pytest.approx(90)
    assert geometry.signed_angle_deg(forward, np.array([1.0, 1.0])) == pytest.approx(-45)
    assert geometry.signed_angle_deg(forward, np.array([0.0, -1.0])) == pytest.approx(180)


def test_segment_inside_an_l_shaped_room():
    room = np.array([[0, 0], [4, 0], [4, 2], [2, 2], [2, 4], [0, 4]], dtype=float)
    assert geometry.segment_inside_polygon(np.array([0.5, 0.5]), np.array([3.5, 1.5]), room)
    assert not geometry.segment_inside_polygon(np.array([3.5, 1.5]), np.array([1.5, 3.5]), room)
    assert not geometry.segment_inside_polygon(np.array([0.5, 0.5]), np.array([3.0, 3.0]), room)


def test_segment_meets_convex():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    assert geometry.segment_meets_convex(np.array([-1.0, 0.5]), np.array([2.0, 0.5]), square)
    assert geometry.segment_meets_convex(np.array([0.2, 0.2]), np.array([0.4, 0.4]), square)
    assert not geometry.segment_meets_convex(np.array([-1.0, 1.5]), np.array([2.0, 1.2]), square)
