"""Question generation on hand-made scenes: every answer is recomputed here by other means
(brute-force sampling for distances, rotation into the viewer's frame for directions, point sampling
along route legs for obstacles), and the uniqueness, margin and balance rules are checked."""

import itertools
import math
from collections import Counter

import numpy as np
import pytest

import ssr_runtime
from ssr_runtime.data.scene import BoxRecord, Camera, FrameRecord, Room, Scene, SceneObject
from ssr_runtime.eval import questions as Q
from ssr_runtime.eval.questions import generate_questions

LABELS = ["bed", "sofa", "table", "chair", "lamp", "tv", "desk", "stool", "plant", "door", "shelf", "coffee_table"]
IDENTITY = tuple(tuple(row) for row in np.eye(4).tolist())


def make_scene(scene_id, objects, polygon=((0, 0), (6, 0), (6, 5), (0, 5)), frame_dt=0.1, n_frames=100):
    """objects: (label, centre, size, yaw, first_seen_t)."""
    counts = Counter()
    records = []
    for i, (label, centre, size, yaw, seen) in enumerate(objects, 1):
        counts[label] += 1
        records.append(SceneObject(f"{label}#{counts[label]}", label, BoxRecord(tuple(centre), tuple(size), yaw), i, seen))
    frames = tuple(FrameRecord(k, k * frame_dt, f"color/{k}.png", f"depth/{k}.png", None, IDENTITY)
                   for k in range(n_frames))
    return Scene(scene_id, 0, Room(tuple(polygon), 2.6), Camera(64, 48, 50.0, 50.0, 32.0, 24.0), tuple(records), frames)


def random_scene(seed, n_objects=12):
    rng = np.random.default_rng(seed)
    width, depth = rng.uniform(4, 9), rng.uniform(4, 8)
    objects = []
    for _ in range(n_objects):
        size = rng.uniform(0.2, 1.4, 3)
        centre = (rng.uniform(0.5, width - 0.5), rng.uniform(0.5, depth - 0.5), size[2] / 2 + rng.choice([0, 0, 0.7]))
        objects.append((LABELS[rng.integers(len(LABELS))], centre, size, rng.uniform(-math.pi, math.pi),
                        None if rng.random() < 0.1 else round(rng.uniform(0, 9.9), 1)))
    return make_scene(f"room{seed:03d}", objects, ((0, 0), (width, 0), (width, depth), (0, depth)))


@pytest.fixture(scope="module")
def scenes():
    return [random_scene(seed) for seed in range(12)]


@pytest.fixture(scope="module")
def generated(scenes):
    return generate_questions(scenes, seed=7)


def by_label(scene):
    groups = {}
    for obj in scene.objects:
        groups.setdefault(obj.label, []).append(obj)
    return groups


def sampled_distance(a, b, n=9):
    """Minimum distance between solid point grids of two boxes (an upper bound on the true one)."""
    def points(box):
        g = np.linspace(-0.5, 0.5, n)
        local = np.stack([m.ravel() for m in np.meshgrid(g, g, g)], axis=1) * np.array(box.size)
        c, s = math.cos(box.yaw), math.sin(box.yaw)
        return local @ np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]]) + np.array(box.center)
    pa, pb = points(a), points(b)
    return math.sqrt(((pa[:, None] - pb[None]) ** 2).sum(axis=2).min())


def cell_slack(*boxes, n=9):
    return sum(math.hypot(*box.size) / (n - 1) for box in boxes)


def core_distance(a, b):
    return ssr_runtime.box_distance(ssr_runtime.Box3D(a.center, a.size, a.yaw), ssr_runtime.Box3D(b.center, b.size, b.yaw))


def viewer_angle(p, o, q):
    """Angle of q for a viewer at p facing o, measured by rotating the world so the facing is +y."""
    facing = np.subtract(o, p)[:2]
    heading = math.atan2(facing[1], facing[0])
    turn = math.pi / 2 - heading
    rot = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
    x, y = rot @ np.subtract(q, p)[:2]
    return math.degrees(math.atan2(-x, y))  # 0 straight ahead, +90 on the left (-x side)


def answer_text(question):
    return question.option_texts[question.letters.index(question.ground_truth)]


def scene_of(scenes, question):
    return next(s for s in scenes if s.scene_id == question.scene_id)


def test_every_task_is_generated(generated):
    assert {q.question_type for q in generated} == set(Q.RAW_KEYS)


def test_numeric_answers_are_positive_and_choices_are_well_formed(generated):
    for q in generated:
        assert q.query["task"] == q.question_type
        if q.is_numeric:
            assert q.ground_truth > 0 and q.options is None
        else:
            texts = q.option_texts
            assert len(set(texts)) == len(texts) >= 2
            assert q.ground_truth in q.letters


def test_referents_are_unique_instances(generated, scenes):
    single = {"object_abs_distance": slice(None), "object_size_estimation": slice(None),
              "object_rel_distance": slice(0, 1), "object_rel_direction_easy": slice(None),
              "object_rel_direction_medium": slice(None), "object_rel_direction_hard": slice(None),
              "route_planning": slice(None)}
    for q in generated:
        if q.question_type in single:
            groups = by_label(scene_of(scenes, q))
            labels = q.query["args"][single[q.question_type]]
            assert all(len(groups[label]) == 1 for label in labels), q.id
            assert len(set(q.query["args"])) == len(q.query["args"])


def test_counting_answers(generated, scenes):
    counted = [q for q in generated if q.question_type == "object_counting"]
    assert counted
    for q in counted:
        (label,) = q.query["args"]
        n = sum(obj.label == label for obj in scene_of(scenes, q).objects)
        assert n >= 2 and q.ground_truth == n
        assert f"How many {label.replace('_', ' ')}(s)" in q.question


def test_absolute_distances_against_brute_force(generated, scenes):
    asked = [q for q in generated if q.question_type == "object_abs_distance"]
    assert asked
    for q in asked:
        groups = by_label(scene_of(scenes, q))
        a, b = (groups[label][0].box for label in q.query["args"])
        sampled = sampled_distance(a, b)
        assert q.ground_truth >= Q.MIN_ABS_DISTANCE_M
        assert q.ground_truth <= sampled + 0.005  # rounded to the centimetre
        assert sampled - q.ground_truth <= cell_slack(a, b) + 0.005


def test_sizes_and_room_areas(generated, scenes):
    for q in generated:
        scene = scene_of(scenes, q)
        if q.question_type == "object_size_estimation":
            (box,) = [o.box for o in scene.objects if o.label == q.query["args"][0]]
            assert q.ground_truth == round(100 * max(box.size))
        elif q.question_type == "room_size_estimation":
            x, y = np.array(scene.room.polygon).T
            area = 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))
            assert q.ground_truth == pytest.approx(area, abs=0.005)


def test_relative_distance_answers_and_margins(generated, scenes):
    asked = [q for q in generated if q.question_type == "object_rel_distance"]
    assert asked
    for q in asked:
        scene = scene_of(scenes, q)
        groups = by_label(scene)
        target = groups[q.query["args"][0]][0].box
        distance = {label.replace("_", " "): min(core_distance(target, o.box) for o in groups[label])
                    for label in q.query["args"][1:]}
        assert sorted(distance) == sorted(q.option_texts)
        assert answer_text(q) == min(distance, key=distance.get)
        margin = 0.30 if scene.room.area_m2 > 40 else 0.15
        assert all(abs(a - b) >= margin - 1e-9 for a, b in itertools.combinations(distance.values(), 2))
        assert f"({', '.join(q.option_texts)})" in q.question


def test_relative_direction_answers_and_margins(generated, scenes):
    levels = {"object_rel_direction_easy": 2, "object_rel_direction_medium": 3, "object_rel_direction_hard": 4}
    for key, n_options in levels.items():
        asked = [q for q in generated if q.question_type == key]
        assert asked, key
        for q in asked:
            groups = by_label(scene_of(scenes, q))
            p, o, t = (np.array(groups[label][0].box.center) for label in q.query["args"])
            assert np.linalg.norm((o - p)[:2]) >= Q.MIN_DIRECTION_DISTANCE_M
            assert np.linalg.norm((t - p)[:2]) >= Q.MIN_DIRECTION_DISTANCE_M
            angle = viewer_angle(p, o, t)
            side = "left" if angle > 0 else "right"
            boundaries = {2: [0, 180], 3: [0, 135], 4: [0, 90, 180]}[n_options]
            assert min(abs(abs(angle) - b) for b in boundaries) >= Q.DIRECTION_MARGIN_DEG - 1e-9
            if n_options == 2:
                expected = side
            elif n_options == 3:
                expected = "back" if abs(angle) >= 135 else side
            else:
                expected = f"{'front' if abs(angle) < 90 else 'back'}-{side}"
            assert len(q.options) == n_options and answer_text(q) == expected


def inside_footprint(point, box):
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    dx, dy = point[0] - box.center[0], point[1] - box.center[1]
    return abs(c * dx + s * dy) <= box.size[0] / 2 and abs(-s * dx + c * dy) <= box.size[1] / 2


def test_routes_turns_and_clear_legs(generated, scenes):
    asked = [q for q in generated if q.question_type == "route_planning"]
    assert asked
    for q in asked:
        scene = scene_of(scenes, q)
        groups = by_label(scene)
        stops = [np.array(groups[label][0].box.center[:2]) for label in q.query["args"]]
        assert Q.MIN_ROUTE_LEGS <= len(stops) - 1 <= Q.MAX_ROUTE_LEGS
        turns = []
        for a, b, c in zip(stops, stops[1:], stops[2:]):
            angle = viewer_angle(np.append(b, 0), np.append(2 * b - a, 0), np.append(c, 0))
            assert abs(angle) >= 150 or 45 <= abs(angle) <= 120, angle
            turns.append("Back" if abs(angle) >= 150 else "Left" if angle > 0 else "Right")
        assert answer_text(q) == ", ".join(f"Turn {t}" for t in turns)
        assert len(q.options) == min(4, 3 ** len(turns))
        for a, b, labels in zip(stops, stops[1:], zip(q.query["args"], q.query["args"][1:])):
            assert np.linalg.norm(b - a) >= Q.MIN_LEG_M
            for obj in scene.objects:
                if obj.label in labels or obj.box.center[2] - obj.box.size[2] / 2 >= Q.OBSTACLE_MAX_BOTTOM_M:
                    continue
                if inside_footprint(a, obj.box) or inside_footprint(b, obj.box):
                    continue
                assert not any(inside_footprint(a + t * (b - a), obj.box) for t in np.linspace(0, 1, 400)), obj.id
        names = [label.replace("_", " ") for label in q.query["args"]]
        assert q.question.startswith(f"You are a robot beginning at the {names[0]} facing the {names[1]}.")
        assert q.question.count("[please fill in]") == len(turns) + 1  # one is in the instructions


def test_appearance_order_answers_and_gaps(generated, scenes):
    asked = [q for q in generated if q.question_type == "obj_appearance_order"]
    assert asked
    for q in asked:
        scene = scene_of(scenes, q)
        first = {label: min(o.first_seen_t for o in objs if o.first_seen_t is not None)
                 for label, objs in by_label(scene).items() if any(o.first_seen_t is not None for o in objs)}
        labels = q.query["args"]
        ordered = sorted(labels, key=first.get)
        assert answer_text(q) == ", ".join(label.replace("_", " ") for label in ordered)
        times = sorted(first[label] for label in labels)
        assert min(b - a for a, b in zip(times, times[1:])) >= max(0.5, 2 * 0.1) - 1e-9
        assert all(sorted(t.split(", ")) == sorted(n.replace("_", " ") for n in labels) for t in q.option_texts)


def test_same_seed_same_questions_other_seed_other_questions(scenes):
    first = [q.to_json() for q in generate_questions(scenes, seed=3)]
    assert first == [q.to_json() for q in generate_questions(list(reversed(scenes)), seed=3)]
    assert first != [q.to_json() for q in generate_questions(scenes, seed=4)]


def test_correct_letters_are_balanced_over_many_scenes():
    questions = generate_questions([random_scene(seed) for seed in range(100, 140)], seed=1)
    groups = Counter((q.question_type, len(q.options)) for q in questions if not q.is_numeric)
    for (key, n_options), n in groups.items():
        letters = Counter(q.ground_truth for q in questions
                          if q.question_type == key and not q.is_numeric and len(q.options) == n_options)
        counts = [letters["ABCD"[i]] for i in range(n_options)]
        assert max(counts) - min(counts) <= 1, (key, counts)
        assert n >= n_options, (key, n)


def test_direction_answers_are_stratified():
    def spread_scene(seed):
        rng = np.random.default_rng(seed)
        return make_scene(f"spread{seed}", [(label, (*rng.uniform(0.5, 7.5, 2), 0.3), SMALL, 0.0, None)
                                            for label in LABELS[:9]], ((0, 0), (8, 0), (8, 8), (0, 8)))
    scenes = [spread_scene(seed) for seed in range(30)]
    questions = generate_questions(scenes, seed=1)
    medium = Counter(answer_text(q) for q in questions if q.question_type == "object_rel_direction_medium")
    # Among all valid medium triples "back" is rare (a 60 degree band against 2 x 105 for the sides);
    # drawing the answer first makes it about a third of the questions.
    pool = Counter()
    for scene in scenes:
        centres = {o.label: np.array(o.box.center) for o in scene.objects}
        for p, o, t in itertools.permutations(centres, 3):
            far = min(np.linalg.norm((centres[x] - centres[p])[:2]) for x in (o, t)) >= Q.MIN_DIRECTION_DISTANCE_M
            angle = abs(viewer_angle(centres[p], centres[o], centres[t]))
            if far and (angle >= 150 or 15 <= angle <= 120):
                pool["back" if angle >= 150 else "side"] += 1
    assert pool["back"] / sum(pool.values()) < 0.15
    assert medium["back"] / sum(medium.values()) > 0.25, medium


def test_per_task_limit(scenes, generated):
    limited = generate_questions(scenes, seed=7, per_task_limit=2)
    assert Counter(q.question_type for q in limited) == {key: 2 for key in Q.RAW_KEYS}
    assert {q.id for q in limited} <= {q.id for q in generated}


def test_bad_arguments():
    with pytest.raises(ValueError, match="seed"):
        generate_questions([], seed=-1)
    with pytest.raises(ValueError, match="per_task_limit"):
        generate_questions([], seed=0, per_task_limit=0)
    scene = random_scene(1)
    with pytest.raises(ValueError, match="duplicate scene_id"):
        generate_questions([scene, scene], seed=0)


SMALL = (0.3, 0.3, 0.6)


def test_single_instance_categories_are_not_counted():
    scene = make_scene("s", [("chair", (1, 1, 0.3), SMALL, 0, 1.0), ("chair", (2, 1, 0.3), SMALL, 0, 2.0),
                             ("lamp", (4, 4, 0.3), SMALL, 0, 3.0)])
    counted = [q for q in generate_questions([scene], 0) if q.question_type == "object_counting"]
    assert [(q.query["args"], q.ground_truth) for q in counted] == [(["chair"], 2)]


def rel_distance_scene(lamp_x):
    """A tv and four two-instance categories. Nearest instances: chair 1.0 m (its first-listed
    instance is the farthest object of all), lamp lamp_x - 0.8 m, desk 1.9 m, plant 2.1 m."""
    return make_scene("s", [
        ("tv", (0.5, 2.5, 0.3), SMALL, 0, 0.0),
        ("chair", (5.5, 0.5, 0.3), SMALL, 0, 1.0), ("chair", (1.8, 2.5, 0.3), SMALL, 0, 1.0),
        ("lamp", (lamp_x, 2.5, 0.3), SMALL, 0, 2.0), ("lamp", (5.5, 4.5, 0.3), SMALL, 0, 2.0),
        ("plant", (0.5, 4.9, 0.3), SMALL, 0, 3.0), ("plant", (5.5, 2.5, 0.3), SMALL, 0, 3.0),
        ("desk", (0.5, 0.3, 0.3), SMALL, 0, 4.0), ("desk", (4.0, 4.5, 0.3), SMALL, 0, 4.0),
    ])


def test_relative_distance_uses_the_nearest_instance_and_drops_close_calls():
    clear = [q for q in generate_questions([rel_distance_scene(2.5)], 0) if q.question_type == "object_rel_distance"]
    assert len(clear) == 1 and answer_text(clear[0]) == "chair"
    # The lamp 1.1 m away is within the 0.15 m margin of the chair (room of 30 m²): no question.
    close = [q for q in generate_questions([rel_distance_scene(1.9)], 0) if q.question_type == "object_rel_distance"]
    assert close == []


def test_directions_near_a_boundary_are_not_asked():
    # Standing by the bed facing the tv (+y), the lamp is 10 degrees left of straight ahead.
    lamp = (1 - 2 * math.sin(math.radians(10)), 1 + 2 * math.cos(math.radians(10)), 0.3)
    scene = make_scene("s", [("bed", (1, 1, 0.3), SMALL, 0, 0.0), ("tv", (1, 4, 0.3), SMALL, 0, 1.0),
                             ("lamp", lamp, SMALL, 0, 2.0)])
    asked = {(q.question_type, tuple(q.query["args"])) for q in generate_questions([scene], 0)}
    for key in ("object_rel_direction_easy", "object_rel_direction_medium", "object_rel_direction_hard"):
        assert (key, ("bed", "tv", "lamp")) not in asked


def test_appearances_closer_than_the_gap_are_not_asked():
    def scene(times):
        return make_scene("s", [(label, (1 + i, 1, 0.3), SMALL, 0, t)
                                for i, (label, t) in enumerate(zip(["bed", "tv", "lamp", "desk"], times))])
    assert not [q for q in generate_questions([scene([0, 1, 1.2, 3])], 0) if q.question_type == "obj_appearance_order"]
    (asked,) = [q for q in generate_questions([scene([3, 0, 2, 1])], 0) if q.question_type == "obj_appearance_order"]
    assert answer_text(asked) == "tv, desk, lamp, bed"


def test_a_floor_obstacle_blocks_route_legs():
    # bed → tv runs through the sofa; the picture hangs on the wall above the floor and blocks nothing.
    objects = [("bed", (1, 1, 0.3), SMALL, 0, 0.0), ("tv", (5, 1, 0.3), SMALL, 0, 1.0),
               ("sofa", (3, 1, 0.4), (0.8, 1.5, 0.8), 0, 2.0), ("picture", (3, 4, 1.5), (0.8, 1.5, 0.5), 0, 2.0),
               ("lamp", (1, 4, 0.3), SMALL, 0, 3.0), ("desk", (5, 4, 0.3), SMALL, 0, 4.0)]
    planner = Q._RoutePlanner(Q.SceneFacts(make_scene("s", objects)))
    assert not planner.leg_ok("bed", "tv")
    assert planner.leg_ok("lamp", "desk")
    assert planner.leg_ok("bed", "lamp")
    assert planner.turn("bed", "lamp", "desk") == "Right"
    assert planner.turn("lamp", "bed", "lamp") == "Back"


def test_mentioned_labels_are_the_questions_labels_in_the_order_of_first_mention():
    from ssr_runtime.data.categories import LABELS
    from ssr_runtime.eval.questions import mentioned_labels

    assert mentioned_labels("How many chair(s) are in this room?", LABELS) == ["chair"]
    text = ("which of these objects (lamp, trash can, coffee table) is the closest to the Table? "
            "If there are multiple instances, measure to the closest lamps.")
    assert mentioned_labels(text, LABELS) == ["lamp", "trash_can", "coffee_table", "table"]
    assert mentioned_labels("Is the coffee table left of the sofas?", LABELS) == ["coffee_table", "sofa"]
    assert mentioned_labels("What is the size of this room (in square meters)?", LABELS) == []
    assert mentioned_labels("a tablet, a bedroom", LABELS) == []  # whole words only
