"""VSI-Bench-style questions from a scene's ground truth.

The rules, margins and templates are documented in docs/BENCHMARK.md; the constants below are the
single place they are set. Generation runs in two passes: each scene yields *drafts* (question text,
the answer, the wrong options, the query) with a random generator seeded by (seed, scene_id), so a
scene's questions do not change when other scenes are added; then the drafts of all scenes are
limited per raw key and their options are laid out so that the correct letter is balanced exactly
(counts differ by at most one) within each (raw key, number of options) group.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ssr_runtime.data.scene import Scene, SceneObject
from ssr_runtime.eval import geometry
from ssr_runtime.eval.records import LETTERS, NUMERIC_KEYS, RAW_KEYS, Question

# At most this many questions of each raw key from one scene (sampled with the seeded generator).
MAX_PER_SCENE = {
    "object_counting": 3, "object_abs_distance": 4, "object_size_estimation": 3, "room_size_estimation": 1,
    "object_rel_distance": 3, "object_rel_direction_easy": 2, "object_rel_direction_medium": 2,
    "object_rel_direction_hard": 2, "route_planning": 2, "obj_appearance_order": 2,
}

# Absolute distance: closer pairs are skipped (MRA on a few centimetres measures rounding, not space).
MIN_ABS_DISTANCE_M = 0.20
# Relative distance: VSI's rule, two option distances closer than the margin drop the question.
LARGE_ROOM_M2 = 40.0
REL_DISTANCE_MARGIN_LARGE_M = 0.30
REL_DISTANCE_MARGIN_SMALL_M = 0.15
REL_DISTANCE_TRIES = 8
# Relative direction: every answer stays this far from every decision boundary of its level.
DIRECTION_MARGIN_DEG = 15.0
BACK_TURN_DEG = 135.0  # VSI's definition of "back" (medium level)
# Standing "by" an object leaves the exact standing point open; with the orienting and querying
# objects at least this far away, a 0.25 m shift of the standing point turns a direction by < 15 deg.
MIN_DIRECTION_DISTANCE_M = 1.0
# Route planning: a turn is "left"/"right" when |angle| is within [45, 120] deg, "back" when
# |angle| >= 150 deg; anything else (nearly straight on, or near the 135 deg left/back boundary)
# makes the route unusable. Legs join object centres.
TURN_MIN_DEG = 45.0
SIDE_TURN_MAX_DEG = 120.0
BACK_TURN_MIN_DEG = 150.0
MIN_LEG_M = 1.0
MIN_ROUTE_LEGS, MAX_ROUTE_LEGS = 2, 5
ROUTE_ATTEMPTS = 60
# An object blocks a leg when its footprint meets the leg and it stands on the floor (bottom below
# this height; wall-mounted and tabletop objects do not block). Objects under or holding an
# endpoint (their footprint contains the endpoint's centre) are exempt.
OBSTACLE_MAX_BOTTOM_M = 0.30
# Appearance order: first appearances of the four categories at least this far apart, in seconds,
# and at least this many frame intervals apart (median spacing of the scene's frames).
MIN_APPEARANCE_GAP_S = 0.5
MIN_APPEARANCE_GAP_FRAMES = 2
APPEARANCE_ATTEMPTS = 40

EASY_DIRECTIONS = ("left", "right")
MEDIUM_DIRECTIONS = ("left", "right", "back")
HARD_DIRECTIONS = ("front-left", "front-right", "back-left", "back-right")
TURNS = ("Left", "Right", "Back")
MAX_OPTIONS = 4

COUNTING = "How many {category}(s) are in this room?"
ABS_DISTANCE = ("Measuring from the closest point of each object, what is the direct distance between the "
                "{object1} and the {object2} (in meters)?")
SIZE = ("What is the length of the longest dimension (length, width, or height) of the {category}, "
        "measured in centimeters?")
ROOM_SIZE = ("What is the size of this room (in square meters)? If multiple rooms are shown, estimate the "
             "size of the combined space.")
REL_DISTANCE = ("Measuring from the closest point of each object, which of these objects ({choices}) is the "
                "closest to the {category}? If there are multiple instances of an object category, measure "
                "to the closest.")
_STANDING = "If I am standing by the {positioning} and facing the {orienting}, "
DIRECTION = {
    "object_rel_direction_easy": _STANDING + "is the {querying} to the left or the right of the {orienting}?",
    "object_rel_direction_medium": _STANDING + ("is the {querying} to my left, right, or back? An object is to "
                                                "my back if I would have to turn at least 135 degrees in order "
                                                "to face it."),
    "object_rel_direction_hard": _STANDING + ("is the {querying} to my front-left, front-right, back-left, or "
                                              "back-right? The directions refer to the quadrants of a Cartesian "
                                              "plane (if I am standing at the origin and facing along the "
                                              "positive y-axis)."),
}
ROUTE = ("You are a robot beginning at the {start} facing the {facing}. You want to navigate to the {end}. "
         "You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' "
         "'turn left,' or 'turn right.'): {actions} You have reached the final destination.")
APPEARANCE = ("What will be the first-time appearance order of the following categories in the video: "
              "{categories}?")
CHOICES_SLOT = "{choices}"  # filled once the option order is known


def display_name(label: str) -> str:
    return label.replace("_", " ")


def mentioned_labels(text: str, labels: Iterable[str]) -> list[str]:
    """The `labels` whose display names `text` uses as words (plurals and "(s)" included), in the order
    of their first mention. A longer name takes its words first: "coffee table" is no mention of a table."""
    spans = []
    for label in sorted(labels, key=lambda x: -len(display_name(x))):
        pattern = re.compile(rf"\b{re.escape(display_name(label))}(?:s|es|\(s\))?\b", re.IGNORECASE)
        for match in pattern.finditer(text):
            if not any(start < match.end() and match.start() < end for start, end, _ in spans):
                spans.append((match.start(), match.end(), label))
    return list(dict.fromkeys(label for _, _, label in sorted(spans)))


@dataclass(frozen=True)
class Draft:
    """A question before its options are laid out: `answer` is the number, or the correct option's text."""

    scene_id: str
    question_type: str
    text: str
    answer: float | str
    distractors: tuple[str, ...]
    args: tuple[str, ...]


class SceneFacts:
    """Lookups over one scene's ground truth, with box distances cached."""

    def __init__(self, scene: Scene):
        self.scene = scene
        by_label: dict[str, list[SceneObject]] = defaultdict(list)
        for obj in scene.objects:
            by_label[obj.label].append(obj)
        self.by_label = dict(sorted(by_label.items()))
        self.unique = [label for label, objs in self.by_label.items() if len(objs) == 1]
        self.room_polygon = np.array(scene.room.polygon, dtype=float)
        self._centres = {label: np.array(self.the(label).box.center[:2]) for label in self.unique}
        self._distances: dict[tuple[str, str], float] = {}

    def the(self, label: str) -> SceneObject:
        return self.by_label[label][0]

    def centre_xy(self, label: str) -> np.ndarray:
        """Footprint centre of a unique object (a shared array: do not modify)."""
        return self._centres[label]

    def label_distance(self, target: str, candidate: str) -> float:
        """Distance from the target's instance to the candidate category's nearest instance."""
        key = (target, candidate)
        if key not in self._distances:
            self._distances[key] = min(geometry.box_distance(self.the(target).box, other.box)
                                       for other in self.by_label[candidate])
        return self._distances[key]


def _sample(rng: np.random.Generator, items: Sequence, k: int) -> list:
    return [items[i] for i in rng.permutation(len(items))[:k]]


def _draft(facts: SceneFacts, key: str, text: str, answer, args, distractors=()) -> Draft:
    return Draft(facts.scene.scene_id, key, text, answer, tuple(distractors), tuple(args))


def _counting(facts: SceneFacts, rng: np.random.Generator) -> list[Draft]:
    labels = [label for label, objs in facts.by_label.items() if len(objs) >= 2]
    return [_draft(facts, "object_counting", COUNTING.format(category=display_name(label)),
                   len(facts.by_label[label]), [label])
            for label in _sample(rng, labels, MAX_PER_SCENE["object_counting"])]


def _abs_distance(facts: SceneFacts, rng: np.random.Generator) -> list[Draft]:
    pairs = list(itertools.combinations(facts.unique, 2))
    drafts = []
    for a, b in _sample(rng, pairs, len(pairs)):  # distances computed lazily: pairs grow as n²
        if len(drafts) == MAX_PER_SCENE["object_abs_distance"]:
            break
        if facts.label_distance(a, b) < MIN_ABS_DISTANCE_M:
            continue
        if rng.random() < 0.5:
            a, b = b, a
        text = ABS_DISTANCE.format(object1=display_name(a), object2=display_name(b))
        drafts.append(_draft(facts, "object_abs_distance", text, round(facts.label_distance(a, b), 2), [a, b]))
    return drafts


def _size(facts: SceneFacts, rng: np.random.Generator) -> list[Draft]:
    drafts = []
    for label in _sample(rng, facts.unique, MAX_PER_SCENE["object_size_estimation"]):
        size_cm = round(max(facts.the(label).box.size) * 100)
        if size_cm > 0:
            drafts.append(_draft(facts, "object_size_estimation", SIZE.format(category=display_name(label)),
                                 size_cm, [label]))
    return drafts


def _room_size(facts: SceneFacts, rng: np.random.Generator) -> list[Draft]:
    del rng  # one question per scene, nothing to choose
    area = round(facts.scene.room.area_m2, 2)
    return [_draft(facts, "room_size_estimation", ROOM_SIZE, area, [])] if area > 0 else []


def rel_distance_margin_m(area_m2: float) -> float:
    return REL_DISTANCE_MARGIN_LARGE_M if area_m2 > LARGE_ROOM_M2 else REL_DISTANCE_MARGIN_SMALL_M


def _rel_distance(facts: SceneFacts, rng: np.random.Generator) -> list[Draft]:
    margin = rel_distance_margin_m(facts.scene.room.area_m2)
    drafts = []
    for target in _sample(rng, facts.unique, len(facts.unique)):
        if len(drafts) == MAX_PER_SCENE["object_rel_distance"]:
            break
        others = [label for label in facts.by_label if label != target]
        for _ in range(REL_DISTANCE_TRIES if len(others) >= MAX_OPTIONS else 0):
            candidates = _sample(rng, others, MAX_OPTIONS)
            distances = sorted((facts.label_distance(target, c), c) for c in candidates)
            if all(b[0] - a[0] >= margin for a, b in zip(distances, distances[1:])):
                names = [display_name(c) for _, c in distances]
                text = REL_DISTANCE.format(choices=CHOICES_SLOT, category=display_name(target))
                drafts.append(_draft(facts, "object_rel_distance", text, names[0], [target, *candidates], names[1:]))
                break
    return drafts


def easy_direction(angle_deg: float) -> str | None:
    """Left/right of the line of sight; None within the margin of straight ahead or behind."""
    if DIRECTION_MARGIN_DEG <= abs(angle_deg) <= 180 - DIRECTION_MARGIN_DEG:
        return "left" if angle_deg > 0 else "right"
    return None


def medium_direction(angle_deg: float) -> str | None:
    """Left/right, or back past VSI's 135 degree turn; None near 0 or 135 degrees."""
    turn = abs(angle_deg)
    if turn >= BACK_TURN_DEG + DIRECTION_MARGIN_DEG:
        return "back"
    if DIRECTION_MARGIN_DEG <= turn <= BACK_TURN_DEG - DIRECTION_MARGIN_DEG:
        return "left" if angle_deg > 0 else "right"
    return None


def hard_direction(angle_deg: float) -> str | None:
    """Quadrant with the facing direction as +y; None near the axes (0, 90, 180 degrees)."""
    turn = abs(angle_deg)
    if DIRECTION_MARGIN_DEG <= turn <= 90 - DIRECTION_MARGIN_DEG:
        side = "front"
    elif 90 + DIRECTION_MARGIN_DEG <= turn <= 180 - DIRECTION_MARGIN_DEG:
        side = "back"
    else:
        return None
    return f"{side}-{'left' if angle_deg > 0 else 'right'}"


_DIRECTION_RULES = {
    "object_rel_direction_easy": (easy_direction, EASY_DIRECTIONS),
    "object_rel_direction_medium": (medium_direction, MEDIUM_DIRECTIONS),
    "object_rel_direction_hard": (hard_direction, HARD_DIRECTIONS),
}


def direction_angle_deg(facts: SceneFacts, positioning: str, orienting: str, querying: str) -> float:
    """Angle of the querying object seen from the positioning one, 0 = facing the orienting one, + = left."""
    origin = facts.centre_xy(positioning)
    return geometry.signed_angle_deg(facts.centre_xy(orienting) - origin, facts.centre_xy(querying) - origin)


def _direction_triples(facts: SceneFacts) -> list[tuple[str, str, str]]:
    far = {(a, b) for a, b in itertools.permutations(facts.unique, 2)
           if np.linalg.norm(facts.centre_xy(a) - facts.centre_xy(b)) >= MIN_DIRECTION_DISTANCE_M}
    return [(p, o, q) for p, o, q in itertools.permutations(facts.unique, 3) if (p, o) in far and (p, q) in far]


def _stratified(rng: np.random.Generator, by_answer: dict[str, list], k: int) -> list[tuple[str, object]]:
    """Up to k (answer, item) picks: an answer uniformly among those with items left, then one of its
    items. Balances the answers (back is rarer than left or right), so a blind prior gains little."""
    pools = {answer: _sample(rng, items, len(items)) for answer, items in sorted(by_answer.items())}
    picks = []
    while len(picks) < k and any(pools.values()):
        answers = [a for a, items in pools.items() if items]
        answer = answers[int(rng.integers(len(answers)))]
        picks.append((answer, pools[answer].pop()))
    return picks


def _directions(facts: SceneFacts, rng: np.random.Generator) -> list[Draft]:
    triples = _direction_triples(facts)
    angles = [direction_angle_deg(facts, *t) for t in triples]
    drafts = []
    for key, (rule, names) in _DIRECTION_RULES.items():
        by_answer: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for triple, angle in zip(triples, angles):
            if (answer := rule(angle)) is not None:
                by_answer[answer].append(triple)
        for answer, (p, o, q) in _stratified(rng, by_answer, MAX_PER_SCENE[key]):
            text = DIRECTION[key].format(positioning=display_name(p), orienting=display_name(o),
                                         querying=display_name(q))
            drafts.append(_draft(facts, key, text, answer, [p, o, q], [n for n in names if n != answer]))
    return drafts


def turn_name(angle_deg: float) -> str | None:
    """'Left', 'Right' or 'Back' for a clear turn; None for nearly straight or near a class boundary."""
    turn = abs(angle_deg)
    if turn >= BACK_TURN_MIN_DEG:
        return "Back"
    if TURN_MIN_DEG <= turn <= SIDE_TURN_MAX_DEG:
        return "Left" if angle_deg > 0 else "Right"
    return None


class _RoutePlanner:
    """Random routes through unique objects whose legs are long, inside the room and unobstructed."""

    def __init__(self, facts: SceneFacts):
        self.facts = facts
        self.nodes = [label for label in facts.unique
                      if geometry.point_in_polygon(facts.centre_xy(label), facts.room_polygon)]
        self.obstacles = [(obj.label, geometry.footprint(obj.box)) for obj in facts.scene.objects
                          if geometry.z_interval(obj.box)[0] < OBSTACLE_MAX_BOTTOM_M]
        self._leg_ok: dict[tuple[str, str], bool] = {}

    def leg_ok(self, a: str, b: str) -> bool:
        if (a, b) not in self._leg_ok:
            self._leg_ok[(a, b)] = self._leg_ok[(b, a)] = self._check_leg(a, b)
        return self._leg_ok[(a, b)]

    def _check_leg(self, a: str, b: str) -> bool:
        pa, pb = self.facts.centre_xy(a), self.facts.centre_xy(b)
        if np.linalg.norm(pb - pa) < MIN_LEG_M or not geometry.segment_inside_polygon(pa, pb, self.facts.room_polygon):
            return False
        for label, polygon in self.obstacles:
            exempt = label in (a, b) or geometry.point_in_polygon(pa, polygon) or geometry.point_in_polygon(pb, polygon)
            if not exempt and geometry.segment_meets_convex(pa, pb, polygon):
                return False
        return True

    def turn(self, a: str, b: str, c: str) -> str | None:
        centre = self.facts.centre_xy
        return turn_name(geometry.signed_angle_deg(centre(b) - centre(a), centre(c) - centre(b)))

    def random_route(self, rng: np.random.Generator, legs: int) -> tuple[list[str], list[str]] | None:
        """Stops [start, facing, ..., end] with `legs` legs, and the turn at each inner stop."""
        if len(self.nodes) < legs + 1:
            return None
        start = self.nodes[int(rng.integers(len(self.nodes)))]
        firsts = [n for n in self.nodes if n != start and self.leg_ok(start, n)]
        if not firsts:
            return None
        stops, turns = [start, firsts[int(rng.integers(len(firsts)))]], []
        while len(stops) <= legs:
            nexts = [(n, self.turn(stops[-2], stops[-1], n)) for n in self.nodes
                     if n not in stops and self.leg_ok(stops[-1], n)]
            nexts = [(n, t) for n, t in nexts if t is not None]
            if not nexts:
                return None
            stop, turn = nexts[int(rng.integers(len(nexts)))]
            stops.append(stop)
            turns.append(turn)
        return stops, turns


def turn_option(turns: Sequence[str]) -> str:
    return ", ".join(f"Turn {t}" for t in turns)


def route_actions(stops: Sequence[str]) -> str:
    """VSI's numbered action list: 'go forward' to each stop after the start, a blank between legs."""
    steps = []
    for stop in stops[1:]:
        if steps:
            steps.append("[please fill in]")
        steps.append(f"Go forward until the {display_name(stop)}")
    return " ".join(f"{i}. {step}" for i, step in enumerate(steps, 1)) + "."


def _routes(facts: SceneFacts, rng: np.random.Generator) -> list[Draft]:
    planner, seen, drafts = _RoutePlanner(facts), set(), []
    for _ in range(ROUTE_ATTEMPTS):
        if len(drafts) == MAX_PER_SCENE["route_planning"]:
            break
        route = planner.random_route(rng, int(rng.integers(MIN_ROUTE_LEGS, MAX_ROUTE_LEGS + 1)))
        if route is None:
            continue
        stops, turns = route
        if tuple(stops) in seen:
            continue
        seen.add(tuple(stops))
        wrong = [turn_option(seq) for seq in itertools.product(TURNS, repeat=len(turns)) if list(seq) != turns]
        text = ROUTE.format(start=display_name(stops[0]), facing=display_name(stops[1]),
                            end=display_name(stops[-1]), actions=route_actions(stops))
        drafts.append(_draft(facts, "route_planning", text, turn_option(turns), stops,
                             _sample(rng, wrong, MAX_OPTIONS - 1)))
    return drafts


def first_appearances(scene: Scene) -> dict[str, float]:
    """Per category, the earliest first_seen_t of its instances (categories never seen are left out)."""
    first: dict[str, float] = {}
    for obj in scene.objects:
        if obj.first_seen_t is not None:
            first[obj.label] = min(first.get(obj.label, math.inf), obj.first_seen_t)
    return first


def appearance_gap_s(scene: Scene) -> float:
    times = sorted(frame.t for frame in scene.frames)
    spacing = float(np.median(np.diff(times))) if len(times) >= 2 else 0.0
    return max(MIN_APPEARANCE_GAP_S, MIN_APPEARANCE_GAP_FRAMES * spacing)


def _appearance(facts: SceneFacts, rng: np.random.Generator) -> list[Draft]:
    first = first_appearances(facts.scene)
    labels, gap = sorted(first), appearance_gap_s(facts.scene)
    seen, drafts = set(), []
    for _ in range(APPEARANCE_ATTEMPTS if len(labels) >= MAX_OPTIONS else 0):
        if len(drafts) == MAX_PER_SCENE["obj_appearance_order"]:
            break
        chosen = _sample(rng, labels, MAX_OPTIONS)
        times = sorted(first[label] for label in chosen)
        if frozenset(chosen) in seen or any(b - a < gap for a, b in zip(times, times[1:])):
            continue
        seen.add(frozenset(chosen))
        names = [display_name(label) for label in chosen]
        order = ", ".join(display_name(label) for label in sorted(chosen, key=first.__getitem__))
        wrong = [", ".join(p) for p in itertools.permutations(names) if ", ".join(p) != order]
        drafts.append(_draft(facts, "obj_appearance_order", APPEARANCE.format(categories=", ".join(names)),
                             order, chosen, _sample(rng, wrong, MAX_OPTIONS - 1)))
    return drafts


_GENERATORS = (_counting, _abs_distance, _size, _room_size, _rel_distance, _directions, _routes, _appearance)


def scene_rng(seed: int, scene_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(scene_id.encode())])


def draft_questions(scene: Scene, seed: int) -> list[Draft]:
    """Every draft one scene yields under `seed`, in raw-key order."""
    facts, rng = SceneFacts(scene), scene_rng(seed, scene.scene_id)
    drafts = [d for generate in _GENERATORS for d in generate(facts, rng)]
    return sorted(drafts, key=lambda d: RAW_KEYS.index(d.question_type))


def _limit(drafts: list[Draft], per_task_limit: int, rng: np.random.Generator) -> list[Draft]:
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(drafts):
        by_key[d.question_type].append(i)
    keep = set()
    for key in sorted(by_key):
        keep.update(_sample(rng, by_key[key], per_task_limit))
    return [d for i, d in enumerate(drafts) if i in keep]


def _correct_positions(drafts: list[Draft], rng: np.random.Generator) -> list[int]:
    """Where each choice draft's answer goes: balanced within each (raw key, option count) group."""
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, d in enumerate(drafts):
        if d.question_type not in NUMERIC_KEYS:
            groups[(d.question_type, len(d.distractors) + 1)].append(i)
    positions = [0] * len(drafts)
    for (_, n_options), members in sorted(groups.items()):
        for i, pos in zip(members, rng.permutation(np.arange(len(members)) % n_options)):
            positions[i] = int(pos)
    return positions


def _finish(draft: Draft, position: int, qid: str, rng: np.random.Generator) -> Question:
    query = {"task": draft.question_type, "args": list(draft.args)}
    if draft.question_type in NUMERIC_KEYS:
        return Question(qid, draft.scene_id, draft.question_type, draft.text, None, draft.answer, query)
    texts = _sample(rng, draft.distractors, len(draft.distractors))
    texts.insert(position, draft.answer)
    options = tuple(f"{LETTERS[i]}. {t}" for i, t in enumerate(texts))
    question = draft.text.replace(CHOICES_SLOT, ", ".join(texts))
    return Question(qid, draft.scene_id, draft.question_type, question, options, LETTERS[position], query)


def generate_questions(scenes: Sequence[Scene], seed: int, per_task_limit: int | None = None) -> list[Question]:
    """The benchmark's questions over `scenes`, deterministic for a given seed and scene set.

    Scenes are taken in scene_id order; `per_task_limit` keeps at most that many questions of each raw
    key (a seeded sample). Ids are `{scene_id}/{raw key}/{n}`.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    if per_task_limit is not None and per_task_limit < 1:
        raise ValueError(f"per_task_limit: expected an integer >= 1 or None, got {per_task_limit!r}")
    ordered = sorted(scenes, key=lambda s: s.scene_id)
    ids = [s.scene_id for s in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError(f"scenes: duplicate scene_id in {ids}")
    drafts = [d for scene in ordered for d in draft_questions(scene, seed)]
    rng = np.random.default_rng(seed)
    if per_task_limit is not None:
        drafts = _limit(drafts, per_task_limit, rng)
    counters: dict[tuple[str, str], int] = defaultdict(int)
    questions = []
    for draft, position in zip(drafts, _correct_positions(drafts, rng)):
        n = counters[(draft.scene_id, draft.question_type)]
        counters[(draft.scene_id, draft.question_type)] += 1
        questions.append(_finish(draft, position, f"{draft.scene_id}/{draft.question_type}/{n}", rng))
    return questions
