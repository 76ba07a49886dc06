"""Query engine (VSI-Bench's eight task families) through the bindings, on hand-made rooms."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ssr_runtime import _core as c

DEG = math.pi / 180


def make_scene(*objects, polygon=()):
    """objects: (label, center, size[, yaw[, first_seen]]) tuples."""
    graph = c.SceneGraph()
    for label, center, size, *rest in objects:
        yaw = rest[0] if rest else 0.0
        seen = rest[1] if len(rest) > 1 else 0.0
        graph.add_object(c.Object(label, c.Box3D(center, size, yaw), first_seen=seen, last_seen=seen))
    graph.room_polygon = list(polygon)
    return graph


def cube(label, x, y, z=0.5, side=0.2, yaw=0.0, seen=0.0):
    return (label, (x, y, z), (side, side, side), yaw, seen)


# --- object counting ---------------------------------------------------------------------------

def test_count_counts_instances_and_allows_zero():
    graph = make_scene(cube("chair", 0, 0), cube("chair", 1, 0), cube("chair", 2, 0), cube("table", 0, 2))
    assert c.object_count(graph, "chair") == 3
    assert c.object_count(graph, "table") == 1
    assert c.object_count(graph, "sofa") == 0


def test_count_query_lists_every_instance_as_evidence():
    graph = make_scene(cube("chair", 0, 0), cube("chair", 1, 0), cube("table", 0, 2))
    result = c.run_query(graph, c.Query("object_counting", ["chair"]))
    assert (result.is_number, result.value, result.unit, result.choice) == (True, 2.0, "", "")
    assert result.evidence == ["chair#1", "chair#2"]


@given(st.dictionaries(st.sampled_from(["chair", "lamp", "cup", "book"]), st.integers(0, 5)))
@settings(max_examples=30, deadline=None)
def test_count_matches_the_number_added(counts):
    objects = [cube(label, i, j) for j, (label, n) in enumerate(counts.items()) for i in range(n)]
    graph = make_scene(*objects)
    for label in ["chair", "lamp", "cup", "book"]:
        assert c.object_count(graph, label) == counts.get(label, 0)


@pytest.mark.parametrize("label", ["", "Chair", "chair#1", "2chairs", "chair lamp"])
def test_count_rejects_non_labels(label):
    with pytest.raises(c.InvalidInputError, match="label"):
        c.object_count(make_scene(cube("chair", 0, 0)), label)


# --- absolute distance -------------------------------------------------------------------------

def test_abs_distance_between_closest_faces():
    graph = make_scene(("bed", (0, 0, 0.3), (2.0, 1.6, 0.6)), ("lamp", (3, 0, 0.3), (0.4, 0.4, 0.6)))
    assert c.abs_distance(graph, "bed", "lamp") == pytest.approx(1.8)
    result = c.run_query(graph, c.Query("object_abs_distance", ["lamp", "bed"]))
    assert (result.value, result.unit, result.evidence) == (pytest.approx(1.8), "m", ["lamp#1", "bed#1"])


def test_abs_distance_of_stacked_objects_is_the_vertical_gap():
    # Table top at z = 0.75, shelf bottom at z = 1.25, footprints overlapping.
    graph = make_scene(("table", (0, 0, 0.375), (1.2, 0.8, 0.75)), ("shelf", (0.2, 0, 1.5), (1.0, 0.3, 0.5)))
    assert c.abs_distance(graph, "table", "shelf") == pytest.approx(0.5)


def test_abs_distance_combines_planar_and_vertical_gaps():
    # Planar gap 3 m along x, vertical gap 4 m: closest points 5 m apart.
    graph = make_scene(cube("cup", 0, 0, z=0.5, side=1.0), cube("fan", 4, 0, z=5.5, side=1.0))
    assert c.abs_distance(graph, "cup", "fan") == pytest.approx(5.0)


def test_abs_distance_to_a_yawed_box_uses_its_rotated_end_face():
    # A 2 m long bar yawed 45°: its end face's midpoint sits at distance 1 along the diagonal. The
    # cube's nearest corner (1.9, 1.9) looks straight at that face.
    graph = make_scene(("bar", (0, 0, 0.5), (2.0, 0.2, 1.0), 45 * DEG), cube("box", 2, 2, side=0.2))
    assert c.abs_distance(graph, "bar", "box") == pytest.approx(1.9 * math.sqrt(2) - 1.0)


def test_abs_distance_is_zero_for_overlapping_objects():
    graph = make_scene(("sofa", (0, 0, 0.4), (2.0, 0.9, 0.8), 0.3), cube("pillow", 0.5, 0.1, z=0.7, side=0.4))
    assert c.abs_distance(graph, "sofa", "pillow") == 0.0


def test_abs_distance_needs_unique_distinct_referents():
    graph = make_scene(cube("chair", 0, 0), cube("chair", 2, 0), cube("table", 1, 1))
    with pytest.raises(c.QueryError, match=r"'chair'.*found 2 \(chair#1, chair#2\)"):
        c.abs_distance(graph, "chair", "table")
    with pytest.raises(c.QueryError, match="'sofa'.*found 0"):
        c.abs_distance(graph, "table", "sofa")
    with pytest.raises(c.InvalidInputError, match="b: 'table' repeats a"):
        c.abs_distance(graph, "table", "table")


finite = dict(allow_nan=False, allow_infinity=False)
boxes = st.builds(
    lambda x, y, z, l, w, h, yaw: c.Box3D((x, y, z), (l, w, h), yaw),
    *[st.floats(-3, 3, **finite)] * 2, st.floats(0, 2, **finite),
    *[st.floats(0.1, 2, **finite)] * 3, st.floats(-math.pi, math.pi, **finite))


def graph_of(a, b):
    graph = c.SceneGraph()
    graph.add_object(c.Object("a", a))
    graph.add_object(c.Object("b", b))
    return graph


@given(boxes, boxes)
@settings(max_examples=50, deadline=None)
def test_abs_distance_is_symmetric(a, b):
    graph = graph_of(a, b)
    assert c.abs_distance(graph, "a", "b") == pytest.approx(c.abs_distance(graph, "b", "a"), abs=1e-12)


@given(boxes, boxes, st.tuples(*[st.floats(-0.49, 0.49)] * 3))
@settings(max_examples=50, deadline=None)
def test_abs_distance_is_zero_when_a_centre_lies_inside_the_other_box(a, b, local):
    # Move b's centre to a point inside a (local coordinates along a's axes).
    cy, sy = math.cos(a.yaw), math.sin(a.yaw)
    u, v, w = (f * s for f, s in zip(local, a.size))
    b.center = (a.center[0] + cy * u - sy * v, a.center[1] + sy * u + cy * v, a.center[2] + w)
    assert c.abs_distance(graph_of(a, b), "a", "b") == 0.0


def grid_points(box, n):
    """n×n×n grid filling the box, faces included (world frame)."""
    t = np.linspace(-0.5, 0.5, n)
    local = np.stack(np.meshgrid(t, t, t, indexing="ij"), -1).reshape(-1, 3) * np.array(box.size)
    cy, sy = math.cos(box.yaw), math.sin(box.yaw)
    rotation = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return local @ rotation.T + np.array(box.center)


@given(boxes, boxes)
@settings(max_examples=25, deadline=None)
def test_abs_distance_matches_dense_sampling_of_both_boxes(a, b):
    n = 13
    pa, pb = grid_points(a, n), grid_points(b, n)
    sampled = min(np.sqrt(((chunk[:, None, :] - pb[None, :, :]) ** 2).sum(-1)).min()
                  for chunk in np.array_split(pa, 8))
    exact = c.abs_distance(graph_of(a, b), "a", "b")
    # Every point of a box lies within half a grid-cell diagonal of a sample.
    slack = sum(0.5 * np.linalg.norm(np.array(box.size) / (n - 1)) for box in (a, b))
    assert exact - 1e-9 <= sampled <= exact + slack


# --- object size -------------------------------------------------------------------------------

def test_object_size_is_the_longest_side_in_cm_whatever_the_yaw():
    graph = make_scene(("desk", (1, 1, 0.4), (0.5, 1.2, 0.8), 0.7), ("lamp", (0, 0, 0.8), (0.3, 0.3, 1.6)))
    assert c.object_size(graph, "desk") == pytest.approx(120.0)
    assert c.object_size(graph, "lamp") == pytest.approx(160.0)
    result = c.run_query(graph, c.Query("object_size_estimation", ["desk"]))
    assert (result.value, result.unit, result.evidence) == (pytest.approx(120.0), "cm", ["desk#1"])
    assert result.detail == pytest.approx([50.0, 120.0, 80.0])


def test_object_size_needs_a_unique_object():
    graph = make_scene(cube("chair", 0, 0), cube("chair", 2, 0))
    with pytest.raises(c.QueryError, match="'chair'.*found 2"):
        c.object_size(graph, "chair")
    with pytest.raises(c.QueryError, match="'table'.*found 0"):
        c.object_size(graph, "table")


# --- room size ---------------------------------------------------------------------------------

L_ROOM = [(0, 0), (4, 0), (4, 2), (2, 2), (2, 5), (0, 5)]  # 4×2 + 2×3 = 14 m²


def test_room_size_of_an_l_shaped_room():
    graph = make_scene(polygon=L_ROOM)
    assert c.room_size(graph) == pytest.approx(14.0)
    result = c.run_query(graph, c.Query("room_size_estimation", []))
    assert (result.is_number, result.value, result.unit) == (True, pytest.approx(14.0), "m2")


def test_room_size_ignores_winding_order():
    assert c.room_size(make_scene(polygon=L_ROOM[::-1])) == pytest.approx(14.0)


@pytest.mark.parametrize("polygon, message", [
    ([], "0 vertices"),
    ([(0, 0), (1, 0)], "2 vertices"),
    ([(0, 0), (1, 0), (2, 0)], "no area"),
])
def test_room_size_without_an_outline_is_a_query_error(polygon, message):
    with pytest.raises(c.QueryError, match=message):
        c.room_size(make_scene(polygon=polygon))


def test_room_size_rejects_non_finite_vertices():
    with pytest.raises(c.InvalidInputError, match="room_polygon"):
        c.room_size(make_scene(polygon=[(0, 0), (1, math.nan), (0, 1)]))


# --- relative distance -------------------------------------------------------------------------

def rel_distance_scene(with_near_chair=True):
    objects = [
        ("table", (0, 0, 0.4), (1.0, 1.0, 0.8)),
        cube("chair", 4.6, 0),        # 4.0 m from the table
        cube("lamp", 0, 1.6),         # 1.0 m
        ("sofa", (0, -3.5, 0.4), (2.0, 1.0, 0.8)),  # 2.5 m
    ]
    if with_near_chair:
        objects.append(cube("chair", 1.1, 0))  # 0.5 m: chair#2
    return make_scene(*objects)


def test_rel_distance_uses_each_candidates_nearest_instance():
    answer = c.rel_distance(rel_distance_scene(), "table", ["lamp", "chair", "sofa"])
    assert answer.closest == "chair"
    assert answer.target_id == "table#1"
    assert answer.nearest_ids == ["lamp#1", "chair#2", "sofa#1"]
    assert answer.distances_m == pytest.approx([1.0, 0.5, 2.5])


def test_rel_distance_without_the_near_instance_picks_the_lamp():
    answer = c.rel_distance(rel_distance_scene(with_near_chair=False), "table", ["chair", "sofa", "lamp"])
    assert answer.closest == "lamp"
    assert answer.distances_m == pytest.approx([4.0, 2.5, 1.0])


def test_rel_distance_uses_closest_points_not_centres():
    # The shelf's centre is nearer the bed's centre, but its bottom hangs 1.0 m above the bed top,
    # while the long rug lies 0.6 m off the bed's side.
    graph = make_scene(("bed", (0, 0, 0.3), (2.0, 1.6, 0.6)), ("shelf", (0, 0, 1.8), (0.8, 0.3, 0.4)),
                       ("rug", (0, 2.4, 0.01), (3.0, 1.6, 0.02)))
    answer = c.rel_distance(graph, "bed", ["shelf", "rug"])
    assert answer.closest == "rug"
    assert answer.distances_m == pytest.approx([1.0, 0.8])


def test_rel_distance_query_reports_evidence_and_distances():
    result = c.run_query(rel_distance_scene(), c.Query("object_rel_distance", ["table", "sofa", "chair", "lamp"]))
    assert (result.is_number, result.choice, result.unit) == (False, "chair", "")
    assert math.isnan(result.value)
    assert result.evidence == ["table#1", "sofa#1", "chair#2", "lamp#1"]
    assert result.detail == pytest.approx([2.5, 0.5, 1.0])


def test_rel_distance_tie_is_a_query_error():
    graph = make_scene(cube("table", 0, 0), cube("lamp", 2, 0), cube("vase", -2, 0))
    with pytest.raises(c.QueryError, match="equally close"):
        c.rel_distance(graph, "table", ["lamp", "vase"])


def test_rel_distance_errors():
    graph = rel_distance_scene()
    with pytest.raises(c.QueryError, match="'chair'.*found 2"):
        c.rel_distance(graph, "chair", ["lamp", "sofa"])
    with pytest.raises(c.QueryError, match="'tv'.*found 0"):
        c.rel_distance(graph, "table", ["lamp", "tv"])
    with pytest.raises(c.InvalidInputError, match="candidates"):
        c.rel_distance(graph, "table", ["lamp"])
    with pytest.raises(c.InvalidInputError, match=r"candidates\[1\]: 'table' repeats target"):
        c.rel_distance(graph, "table", ["lamp", "table"])
    with pytest.raises(c.InvalidInputError, match=r"candidates\[2\]: 'lamp' repeats candidates\[0\]"):
        c.rel_distance(graph, "table", ["lamp", "sofa", "lamp"])


# --- relative direction ------------------------------------------------------------------------

def direction_scene(qx, qy, yaws=(0.0, 0.0, 0.0)):
    """Standing at the bed (origin) facing the tv (+y); the lamp at (qx, qy)."""
    return make_scene(("bed", (0, 0, 0.3), (2.0, 1.6, 0.6), yaws[0]),
                      ("tv", (0, 5, 1.0), (1.2, 0.1, 0.7), yaws[1]),
                      ("lamp", (qx, qy, 0.8), (0.3, 0.3, 1.6), yaws[2]))


def direction(graph, granularity):
    return c.rel_direction(graph, "bed", "tv", "lamp", granularity)


@pytest.mark.parametrize("qx, qy, easy, medium, hard", [
    (-2, 1, "left", "left", "front-left"),
    (2, 1, "right", "right", "front-right"),
    (-3, -1, "left", "left", "back-left"),     # 108°: behind, but under 135°
    (3, -1, "right", "right", "back-right"),
    (-1, -3, "left", "back", "back-left"),     # 162°
    (1, -3, "right", "back", "back-right"),
    (-1, -1, "left", "back", "back-left"),     # exactly 135°: back
])
def test_rel_direction_answers(qx, qy, easy, medium, hard):
    graph = direction_scene(qx, qy)
    assert [direction(graph, g).answer for g in ("easy", "medium", "hard")] == [easy, medium, hard]


def test_rel_direction_angle_is_signed_left_positive():
    answer = direction(direction_scene(-1, 1), "hard")
    assert answer.angle_deg == pytest.approx(45.0)
    assert answer.ids == ["bed#1", "tv#1", "lamp#1"]
    assert direction(direction_scene(1, -1), "easy").angle_deg == pytest.approx(-135.0)


def test_rel_direction_uses_centres_so_box_yaw_does_not_matter():
    plain = direction(direction_scene(-2, 1), "hard")
    yawed = direction(direction_scene(-2, 1, yaws=(1.0, -0.5, 2.0)), "hard")
    assert (yawed.answer, yawed.angle_deg) == (plain.answer, pytest.approx(plain.angle_deg))


def test_rel_direction_facing_is_not_tied_to_world_axes():
    # Facing -x instead of +y: the lamp at -y is on the left (counter-clockwise from -x).
    graph = make_scene(cube("bed", 0, 0), cube("tv", -4, 0), cube("lamp", -1, -2))
    answer = c.rel_direction(graph, "bed", "tv", "lamp", "hard")
    assert answer.answer == "front-left"
    assert answer.angle_deg == pytest.approx(math.degrees(math.atan2(2, 1)))


@pytest.mark.parametrize("qx, qy, granularity", [
    (0, 2, "easy"), (0, -2, "easy"), (0, 2, "medium"), (0, 2, "hard"), (-2, 0, "hard"), (0, -2, "hard"),
])
def test_rel_direction_on_a_boundary_is_a_query_error(qx, qy, granularity):
    with pytest.raises(c.QueryError, match="boundary"):
        direction(direction_scene(qx, qy), granularity)


def test_rel_direction_medium_behind_is_back_not_ambiguous():
    assert direction(direction_scene(0, -2), "medium").answer == "back"
    assert direction(direction_scene(-2, 0), "medium").answer == "left"


def test_rel_direction_errors():
    stacked = make_scene(cube("bed", 0, 0, z=0.3), cube("tv", 0, 0, z=1.5), cube("lamp", 1, 1))
    with pytest.raises(c.QueryError, match="share a centre"):
        c.rel_direction(stacked, "bed", "tv", "lamp", "easy")
    graph = direction_scene(-2, 1)
    with pytest.raises(c.InvalidInputError, match="granularity"):
        direction(graph, "extreme")
    with pytest.raises(c.InvalidInputError, match="querying: 'bed' repeats positioning"):
        c.rel_direction(graph, "bed", "tv", "bed", "easy")
    graph.add_object(c.Object("lamp", c.Box3D((3, 3, 0.5), (0.2, 0.2, 0.2))))
    with pytest.raises(c.QueryError, match="'lamp'.*found 2"):
        direction(graph, "easy")


centres = st.tuples(st.floats(-5, 5, **finite), st.floats(-5, 5, **finite))


def three_cubes(points):
    return make_scene(*[cube(label, x, y) for label, (x, y) in zip(("bed", "tv", "lamp"), points)])


def reference_angle_deg(p, o, q):
    """Angle from p->o to p->q, counter-clockwise positive, computed independently in Python."""
    f = (o[0] - p[0], o[1] - p[1])
    d = (q[0] - p[0], q[1] - p[1])
    return math.degrees(math.atan2(f[0] * d[1] - f[1] * d[0], f[0] * d[0] + f[1] * d[1]))


def clear_of_boundaries(p, o, q):
    return math.dist(p, o) > 0.1 and math.dist(p, q) > 0.1 and 2 < abs(reference_angle_deg(p, o, q)) < 178


@given(centres, centres, centres)
@settings(max_examples=60, deadline=None)
def test_rel_direction_easy_flips_under_mirroring(p, o, q):
    assume(clear_of_boundaries(p, o, q))
    original = c.rel_direction(three_cubes([p, o, q]), "bed", "tv", "lamp", "easy")
    mirrored = c.rel_direction(three_cubes([(-x, y) for x, y in (p, o, q)]), "bed", "tv", "lamp", "easy")
    assert original.angle_deg == pytest.approx(reference_angle_deg(p, o, q), abs=1e-9)
    assert original.answer == ("left" if original.angle_deg > 0 else "right")
    assert {original.answer, mirrored.answer} == {"left", "right"}
    assert mirrored.angle_deg == pytest.approx(-original.angle_deg, abs=1e-9)


@given(centres, centres, centres, st.floats(-math.pi, math.pi, **finite))
@settings(max_examples=60, deadline=None)
def test_rel_direction_is_invariant_to_rotating_the_room(p, o, q, theta):
    assume(clear_of_boundaries(p, o, q))
    original = c.rel_direction(three_cubes([p, o, q]), "bed", "tv", "lamp", "easy")
    ct, st_ = math.cos(theta), math.sin(theta)
    rotated_points = [(ct * x - st_ * y, st_ * x + ct * y) for x, y in (p, o, q)]
    rotated = c.rel_direction(three_cubes(rotated_points), "bed", "tv", "lamp", "easy")
    assert rotated.answer == original.answer
    assert rotated.angle_deg == pytest.approx(original.angle_deg, abs=1e-6)


# --- route planning ----------------------------------------------------------------------------

def route_scene():
    """Start at the bed (origin) facing the tv (+y); table east, sofa north of it, door back south."""
    return make_scene(cube("bed", 0, 0), cube("tv", 0, 5), cube("table", 3, 0), cube("sofa", 3, 4),
                      cube("door", 3, 1), cube("plant", 5, 1.2))


def test_route_plan_turns_at_start_and_each_intermediate_waypoint():
    answer = c.route_plan(route_scene(), "bed", "tv", ["table", "sofa", "door"])
    assert answer.turns == ["Turn Right", "Turn Left", "Turn Back"]
    assert answer.angles_deg == pytest.approx([-90.0, 90.0, 180.0])
    assert answer.ids == ["bed#1", "tv#1", "table#1", "sofa#1", "door#1"]


def test_route_plan_to_the_facing_object_is_go_forward():
    answer = c.route_plan(route_scene(), "bed", "tv", ["tv", "sofa"])
    assert answer.turns == ["Go Forward", "Turn Right"]
    # At the tv, heading +y, the sofa at (3, 4) lies 90° + atan(1/3) to the right.
    assert answer.angles_deg == pytest.approx([0.0, -90.0 - math.degrees(math.atan2(1, 3))])


def test_route_plan_small_turns_go_forward():
    # Facing the table (+x), the door at (3, 1) is 18° to the left; at the door, the plant at
    # (5, 1.2) is 13° to the right of the leg bed->door just walked.
    answer = c.route_plan(route_scene(), "bed", "table", ["door", "plant"])
    assert answer.turns == ["Go Forward", "Go Forward"]
    assert answer.angles_deg[0] == pytest.approx(math.degrees(math.atan2(1, 3)))


@pytest.mark.parametrize("degrees, turn", [
    (44, "Go Forward"), (-44, "Go Forward"), (46, "Turn Left"), (-46, "Turn Right"),
    (134, "Turn Left"), (-134, "Turn Right"), (136, "Turn Back"), (-136, "Turn Back"),
])
def test_route_plan_thresholds(degrees, turn):
    a = degrees * DEG
    graph = make_scene(cube("bed", 0, 0), cube("tv", 0, 4), cube("lamp", -3 * math.sin(a), 3 * math.cos(a)))
    answer = c.route_plan(graph, "bed", "tv", ["lamp"])
    assert answer.turns == [turn]
    assert answer.angles_deg == pytest.approx([degrees])
    assert c.ROUTE_FORWARD_MAX_DEG == 45.0 and c.ROUTE_BACK_MIN_DEG == 135.0


def test_route_plan_query_joins_the_turns():
    result = c.run_query(route_scene(), c.Query("route_planning", ["bed", "tv", "table", "sofa", "door"]))
    assert (result.is_number, result.choice) == (False, "Turn Right, Turn Left, Turn Back")
    assert result.evidence == ["bed#1", "tv#1", "table#1", "sofa#1", "door#1"]
    assert result.detail == pytest.approx([-90.0, 90.0, 180.0])


def test_route_plan_errors():
    graph = route_scene()
    with pytest.raises(c.InvalidInputError, match="waypoints"):
        c.route_plan(graph, "bed", "tv", [])
    with pytest.raises(c.InvalidInputError, match=r"waypoints\[1\]: 'bed' repeats start"):
        c.route_plan(graph, "bed", "tv", ["table", "bed"])
    with pytest.raises(c.InvalidInputError, match="facing: 'bed' repeats start"):
        c.route_plan(graph, "bed", "bed", ["table"])
    with pytest.raises(c.QueryError, match="'fridge'.*found 0"):
        c.route_plan(graph, "bed", "tv", ["table", "fridge"])
    graph.add_object(c.Object("sofa", c.Box3D((-3, -3, 0.5), (1, 1, 1))))
    with pytest.raises(c.QueryError, match="'sofa'.*found 2"):
        c.route_plan(graph, "bed", "tv", ["table", "sofa"])


# --- appearance order --------------------------------------------------------------------------

def appearance_scene():
    return make_scene(cube("chair", 0, 0, seen=5.0), cube("chair", 1, 0, seen=1.5), cube("tv", 2, 0, seen=3.0),
                      cube("lamp", 3, 0, seen=0.5), cube("sofa", 4, 0, seen=8.0))


def test_appearance_order_uses_each_labels_earliest_instance():
    assert c.appearance_order(appearance_scene(), ["sofa", "tv", "chair", "lamp"]) == ["lamp", "chair", "tv", "sofa"]


def test_appearance_order_query_reports_first_instances_and_times():
    result = c.run_query(appearance_scene(), c.Query("obj_appearance_order", ["tv", "chair", "sofa"]))
    assert result.choice == "chair, tv, sofa"
    assert result.evidence == ["chair#2", "tv#1", "sofa#1"]
    assert result.detail == pytest.approx([1.5, 3.0, 8.0])


def test_appearance_order_errors():
    graph = appearance_scene()
    graph.add_object(c.Object("cup", c.Box3D((5, 0, 0.5), (0.1, 0.1, 0.1)), first_seen=3.0, last_seen=3.0))
    with pytest.raises(c.QueryError, match="'tv' and 'cup'|'cup' and 'tv'"):
        c.appearance_order(graph, ["lamp", "tv", "cup"])
    with pytest.raises(c.QueryError, match="'fridge'.*found 0"):
        c.appearance_order(graph, ["lamp", "fridge"])
    with pytest.raises(c.InvalidInputError, match="labels"):
        c.appearance_order(graph, ["lamp"])
    with pytest.raises(c.InvalidInputError, match=r"labels\[2\]: 'lamp' repeats labels\[0\]"):
        c.appearance_order(graph, ["lamp", "tv", "lamp"])


@given(st.lists(st.floats(0, 100, **finite), min_size=2, max_size=6, unique=True))
@settings(max_examples=40, deadline=None)
def test_appearance_order_sorts_by_first_seen(times):
    labels = [f"obj{i}" for i in range(len(times))]
    graph = make_scene(*[cube(label, i, 0, seen=t) for i, (label, t) in enumerate(zip(labels, times))])
    assume(min(abs(a - b) for i, a in enumerate(times) for b in times[i + 1:]) > 1e-6)
    assert c.appearance_order(graph, labels) == [label for _, label in sorted(zip(times, labels))]


# --- run_query ---------------------------------------------------------------------------------

def everything_scene():
    return make_scene(cube("bed", 0, 0, seen=0.0), cube("tv", 0, 5, seen=1.0), cube("lamp", -2, 1, seen=2.0),
                      cube("table", 3, 0, seen=3.0), cube("chair", 2, 2, seen=4.0), cube("chair", 4, 4, seen=5.0),
                      polygon=L_ROOM)


QUERIES = {
    "object_counting": (["chair"], True, 2.0, ""),
    "object_abs_distance": (["bed", "table"], True, 2.8, "m"),
    "object_size_estimation": (["lamp"], True, 20.0, "cm"),
    "room_size_estimation": ([], True, 14.0, "m2"),
    "object_rel_distance": (["bed", "tv", "lamp"], False, "lamp", None),
    "object_rel_direction_easy": (["bed", "tv", "lamp"], False, "left", None),
    "object_rel_direction_medium": (["bed", "tv", "table"], False, "right", None),
    "object_rel_direction_hard": (["bed", "tv", "lamp"], False, "front-left", None),
    "route_planning": (["bed", "tv", "table", "tv"], False, "Turn Right, Turn Left", None),
    "obj_appearance_order": (["table", "lamp", "bed"], False, "bed, lamp, table", None),
}


def test_every_task_key_has_a_query():
    assert sorted(QUERIES) == sorted(c.TASK_KEYS)


@pytest.mark.parametrize("task", list(QUERIES))
def test_run_query_answers_every_task(task):
    args, is_number, expected, unit = QUERIES[task]
    result = c.run_query(everything_scene(), c.Query(task, args))
    assert (result.task, result.is_number) == (task, is_number)
    if is_number:
        assert (result.value, result.unit, result.choice) == (pytest.approx(expected), unit, "")
    else:
        assert (result.choice, result.unit) == (expected, "")
        assert math.isnan(result.value)


@pytest.mark.parametrize("task, args", [
    ("object_counting", []), ("object_counting", ["bed", "tv"]), ("object_abs_distance", ["bed"]),
    ("object_size_estimation", []), ("room_size_estimation", ["bed"]), ("object_rel_distance", ["bed", "tv"]),
    ("object_rel_direction_easy", ["bed", "tv"]), ("object_rel_direction_hard", ["bed", "tv", "lamp", "table"]),
    ("route_planning", ["bed", "tv"]), ("obj_appearance_order", ["bed"]),
])
def test_run_query_checks_argument_counts(task, args):
    with pytest.raises(c.InvalidInputError, match=f"query.args: {task} takes .*got {len(args)}"):
        c.run_query(everything_scene(), c.Query(task, args))


def test_run_query_rejects_unknown_tasks():
    with pytest.raises(c.InvalidInputError, match="query.task: unknown task 'object_rel_direction'"):
        c.run_query(everything_scene(), c.Query("object_rel_direction", ["bed", "tv", "lamp"]))


def test_run_query_errors_are_query_errors_and_value_errors():
    with pytest.raises(c.QueryError, match="'chair'.*found 2") as info:
        c.run_query(everything_scene(), c.Query("object_size_estimation", ["chair"]))
    assert isinstance(info.value, ValueError)
