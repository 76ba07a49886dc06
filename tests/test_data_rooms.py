"""Procedural room layouts: valid rooms, objects inside and apart, supports, determinism."""

import collections
import math
import re

import numpy as np
import pytest

from ssr_runtime import Box3D, box_distance, box_iou_3d
from ssr_runtime.data.categories import KINDS, LABELS
from ssr_runtime.data.rooms import (PLANS, ROOM_TYPES, TALL_Z, WALK_CLEARANCE, footprint_distance, generate_layout,
                                    points_in_polygon)
from ssr_runtime.data.shapes import SHAPE_NAMES, shape_parts
from ssr_runtime.data.trajectory import walk_poses

SEEDS = range(60)


@pytest.fixture(scope="module")
def layouts():
    return [generate_layout(np.random.default_rng(seed)) for seed in SEEDS]


def _footprint_grid(obj, n=6):
    """n × n points spread over the object's footprint, edges included."""
    c, s = math.cos(obj.yaw), math.sin(obj.yaw)
    a, b = np.meshgrid(np.linspace(-0.5, 0.5, n), np.linspace(-0.5, 0.5, n))
    x, y = a.ravel() * obj.size[0], b.ravel() * obj.size[1]
    return np.stack([obj.center[0] + c * x - s * y, obj.center[1] + s * x + c * y], axis=1)


def test_categories_are_many_with_valid_labels():
    assert len(LABELS) >= 20
    for label in LABELS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", label)
    for kind, category in KINDS.items():
        assert 0 < category.l[0] <= category.l[1] and 0 < category.h[0] <= category.h[1], kind
        assert category.square or 0 < category.w[0] <= category.w[1], kind


def test_every_plan_uses_known_kinds_and_rules():
    rules = {"wall", "corner", "free", "beside", "front", "facing", "around", "on"}
    assert set(PLANS) == set(ROOM_TYPES)
    for plan in PLANS.values():
        for kind, rule, anchors, counts, probability in plan:
            assert kind in KINDS and rule in rules and set(anchors) <= set(KINDS)
            assert (rule in ("wall", "corner", "free")) == (not anchors)
            assert 0 < probability <= 1


@pytest.mark.parametrize("shape", SHAPE_NAMES)
def test_shape_parts_fill_exactly_the_objects_box(shape):
    kind = next(k for k, c in KINDS.items() if c.shape == shape)
    category = KINDS[kind]
    l, h = category.l[1], category.h[1]
    size = (l, l if category.square else category.w[1], h)
    parts = shape_parts(shape, size)
    lo = np.min([np.subtract(p.center, np.divide(p.size, 2)) for p in parts], axis=0)
    hi = np.max([np.add(p.center, np.divide(p.size, 2)) for p in parts], axis=0)
    np.testing.assert_allclose(lo, np.divide(size, -2), atol=1e-9)
    np.testing.assert_allclose(hi, np.divide(size, 2), atol=1e-9)
    assert all(min(p.size) > 0 for p in parts)


def test_rooms_are_counter_clockwise_rectangles_or_l_shapes_of_realistic_size(layouts):
    shapes = collections.Counter()
    for layout in layouts:
        poly = np.asarray(layout.polygon)
        signed_area = 0.5 * np.sum(poly[:, 0] * np.roll(poly[:, 1], -1) - np.roll(poly[:, 0], -1) * poly[:, 1])
        assert signed_area > 0
        assert len(poly) in (4, 6)
        shapes[len(poly)] += 1
        sides = poly.max(axis=0) - poly.min(axis=0)
        assert 3.0 <= sides.min() and sides.max() <= 9.0
        assert 2.5 <= layout.height <= 3.0
        edges = np.roll(poly, -1, axis=0) - poly
        assert np.all((np.abs(edges[:, 0]) < 1e-9) | (np.abs(edges[:, 1]) < 1e-9))  # walls meet at right angles
        assert 1 <= len(layout.doors) <= 2
    assert shapes[4] > 0 and shapes[6] > 0


def test_objects_lie_inside_the_room(layouts):
    for layout in layouts:
        for obj in layout.objects:
            assert points_in_polygon(_footprint_grid(obj), layout.polygon).all(), (layout.room_type, obj)
            assert obj.center[2] - obj.size[2] / 2 >= -1e-9 and obj.top <= layout.height


def test_no_two_objects_interpenetrate_and_supports_touch(layouts):
    for layout in layouts:
        boxes = [o.box() for o in layout.objects]
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                assert box_iou_3d(boxes[i], boxes[j]) < 1e-6, (layout.objects[i], layout.objects[j])
                supported = layout.objects[j].support == i or layout.objects[i].support == j
                distance = box_distance(boxes[i], boxes[j])
                assert distance < 1e-6 if supported else distance >= 0.01 - 1e-9
        for obj in layout.objects:
            if obj.support is not None:
                below = layout.objects[obj.support]
                assert KINDS[below.kind].is_support
                assert obj.center[2] - obj.size[2] / 2 == pytest.approx(below.top, abs=1e-6)
            else:
                assert obj.center[2] - obj.size[2] / 2 == pytest.approx(0.0, abs=1e-6)


def test_doors_are_kept_clear(layouts):
    for layout in layouts:
        for door in layout.doors:
            inward = np.array([math.cos(door.yaw), math.sin(door.yaw)])
            front = np.asarray(door.center[:2]) + inward * 0.45
            swing = Box3D((front[0], front[1], door.size[2] / 2), (0.8, door.size[1], door.size[2]), door.yaw)
            for obj in layout.objects:
                assert box_iou_3d(obj.box(), swing) == 0.0, (door, obj)


def test_tall_objects_leave_the_camera_walk_free(layouts):
    for layout in layouts:
        assert points_in_polygon(layout.walk, layout.polygon).all()
        for obj in layout.objects:
            if obj.top > TALL_Z:
                assert footprint_distance(layout.walk, obj.center, obj.size, obj.yaw).min() >= WALK_CLEARANCE - 1e-9


def test_objects_have_sizes_of_their_category(layouts):
    for layout in layouts:
        for obj in layout.objects:
            category = KINDS[obj.kind]
            assert obj.label == category.label
            assert category.l[0] - 0.002 <= obj.size[0] <= category.l[1] + 0.002
            assert category.h[0] - 0.002 <= obj.size[2] <= category.h[1] + 0.002


def test_scenes_have_unique_and_repeated_categories(layouts):
    # Counting questions need categories with 2-4 instances, most other questions unique ones.
    good = 0
    for layout in layouts:
        counts = collections.Counter(o.label for o in layout.objects)
        good += sum(v == 1 for v in counts.values()) >= 2 and any(2 <= v <= 4 for v in counts.values())
    assert good >= 0.9 * len(layouts)
    assert {layout.room_type for layout in layouts} == set(ROOM_TYPES)


def test_same_seed_same_layout_other_seed_other_layout():
    first, again = (generate_layout(np.random.default_rng(123)) for _ in range(2))
    other = generate_layout(np.random.default_rng(124))
    assert first.objects == again.objects and first.polygon == again.polygon and first.doors == again.doors
    np.testing.assert_array_equal(first.walk, again.walk)
    assert first.objects != other.objects


def test_camera_walk_is_smooth_at_head_height_and_never_inside_furniture(layouts):
    for seed, layout in enumerate(layouts[:20]):
        poses, times = walk_poses(layout.walk, 60, np.random.default_rng(seed))
        eyes = poses[:, :3, 3]
        assert points_in_polygon(eyes[:, :2], layout.polygon).all()
        assert np.all((eyes[:, 2] >= 1.4) & (eyes[:, 2] <= 1.7))
        forward = poses[:, :3, 2]
        turn = np.degrees(np.arccos(np.clip(np.sum(forward[1:] * forward[:-1], axis=1), -1, 1)))
        assert turn.max() < 45, (layout.room_type, turn.max())
        assert np.all(np.diff(times) > 0) and np.allclose(np.diff(times), times[1])
        for obj in layout.objects:
            eye_boxes = [Box3D(tuple(eye), (0.02, 0.02, 0.02), 0.0) for eye in eyes]
            assert min(box_distance(obj.box(), e) for e in eye_boxes) > 0.2, obj
