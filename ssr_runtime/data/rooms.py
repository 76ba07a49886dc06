"""Procedural furnished rooms (geometry only; `render.py` draws them).

A room is a rectangular or L-shaped floor polygon with walls, one or two doors and some windows. It
is furnished from a plan per room type (bedroom, living room, office, kitchen, bathroom, studio):
large furniture against the walls facing into the room, groups (chairs around a table, a chair at
each desk, nightstands beside the bed, a coffee table in front of the sofa), free-standing pieces,
and small objects on the top faces of supports. A candidate placement is kept only if it lies
inside the room, keeps the doors' swing area clear, does not block windows, leaves room for the
camera's walk (tall objects only), and does not touch any other object except the one it stands on;
these are exact yawed-box tests (`ssr_runtime._core`). All randomness comes from one numpy Generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ssr_runtime._core import Box3D, box_distance, box_iou_3d
from ssr_runtime.data.categories import KINDS, Category

WALL_THICKNESS = 0.1
TALL_Z = 1.1  # objects reaching above this must keep clear of the camera's walk
WALK_CLEARANCE = 0.3  # m between the walk and a tall object's footprint
FLOOR_GAP = 0.03  # m between any two floor objects
TOP_GAP = 0.01  # m between small objects on a support
ATTEMPTS = 40  # candidate placements tried per object before it is dropped


@dataclass
class PlacedObject:
    kind: str
    label: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float
    color: tuple[float, float, float]
    support: int | None = None  # index of the object this one stands on

    def box(self) -> Box3D:
        return Box3D(self.center, self.size, self.yaw)

    @property
    def top(self) -> float:
        return self.center[2] + self.size[2] / 2


@dataclass
class WallOpening:
    """A door or window: a thin box standing in the wall's inner face, front facing into the room."""

    label: str
    wall: int  # index of the polygon edge (vertex i to i+1)
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float

    def box(self) -> Box3D:
        return Box3D(self.center, self.size, self.yaw)


@dataclass
class Layout:
    room_type: str
    polygon: list[tuple[float, float]]  # counter-clockwise
    height: float
    doors: list[WallOpening]
    windows: list[WallOpening]
    objects: list[PlacedObject]
    walk: np.ndarray  # (M, 2) closed loop the camera walks, counter-clockwise, points ~5 cm apart
    wall_color: tuple[float, float, float]
    floor_color: tuple[float, float, float]
    floor_texture: str
    light_azimuth: float


# A plan step: (kind, rule, anchors, count range or None = one per anchor, probability the step happens).
# Rules: wall = against a wall facing in; corner = near a wall, any yaw; free = anywhere inside;
# beside = next to an anchor along its wall; front = in front of an anchor, same heading;
# facing = in front of an anchor, turned to face it; around = around an anchor (chairs at a table);
# on = on the top face of an anchor.
PLANS: dict[str, tuple] = {
    "bedroom": (
        ("bed", "wall", (), (1, 1), 1.0), ("nightstand", "beside", ("bed",), (1, 2), 0.85),
        ("wardrobe", "wall", (), (1, 1), 0.8), ("dresser", "wall", (), (1, 1), 0.5),
        ("desk", "wall", (), (1, 1), 0.5), ("chair", "facing", ("desk",), None, 1.0),
        ("shelf", "wall", (), (1, 1), 0.4), ("armchair", "corner", (), (1, 1), 0.2),
        ("plant", "corner", (), (1, 2), 0.5), ("trash_can", "corner", (), (1, 1), 0.4),
        ("floor_lamp", "corner", (), (1, 1), 0.3), ("pillow", "on", ("bed",), (2, 3), 1.0),
        ("table_lamp", "on", ("nightstand",), (1, 1), 0.7), ("tv", "on", ("dresser",), (1, 1), 0.5),
        ("laptop", "on", ("desk",), (1, 1), 0.5), ("monitor", "on", ("desk",), (1, 1), 0.3),
        ("book", "on", ("nightstand", "desk", "shelf", "dresser"), (1, 3), 0.7),
        ("cup", "on", ("nightstand", "desk"), (1, 1), 0.3),
    ),
    "living_room": (
        ("sofa", "wall", (), (1, 1), 1.0), ("coffee_table", "front", ("sofa",), (1, 1), 0.9),
        ("cabinet", "wall", (), (1, 2), 0.9), ("shelf", "wall", (), (1, 2), 0.7),
        ("table", "free", (), (1, 1), 0.5), ("chair", "around", ("table",), (2, 4), 1.0),
        ("armchair", "free", (), (1, 2), 0.6), ("floor_lamp", "corner", (), (1, 2), 0.7),
        ("plant", "corner", (), (1, 3), 0.8), ("trash_can", "corner", (), (1, 1), 0.3),
        ("tv", "on", ("cabinet",), (1, 1), 0.8), ("book", "on", ("shelf", "coffee_table", "cabinet"), (1, 3), 0.7),
        ("cup", "on", ("coffee_table", "table"), (1, 3), 0.6), ("bottle", "on", ("table",), (1, 2), 0.3),
    ),
    "office": (
        ("desk", "wall", (), (1, 3), 1.0), ("chair", "facing", ("desk",), None, 1.0),
        ("shelf", "wall", (), (1, 2), 0.8), ("cabinet", "wall", (), (1, 2), 0.6),
        ("table", "free", (), (1, 1), 0.4), ("chair", "around", ("table",), (2, 4), 1.0),
        ("sofa", "wall", (), (1, 1), 0.2), ("plant", "corner", (), (1, 2), 0.7),
        ("trash_can", "corner", (), (1, 2), 0.8), ("floor_lamp", "corner", (), (1, 1), 0.3),
        ("monitor", "on", ("desk",), (1, 3), 0.8), ("laptop", "on", ("desk", "table"), (1, 1), 0.4),
        ("book", "on", ("shelf", "desk", "cabinet"), (1, 3), 0.7), ("cup", "on", ("desk", "table"), (1, 2), 0.5),
        ("bottle", "on", ("desk", "table"), (1, 1), 0.2),
    ),
    "kitchen": (
        ("fridge", "wall", (), (1, 1), 1.0), ("sink", "wall", (), (1, 1), 1.0),
        ("cabinet", "wall", (), (2, 4), 1.0), ("table", "free", (), (1, 1), 0.8),
        ("chair", "around", ("table",), (2, 4), 1.0), ("stool", "free", (), (1, 3), 0.4),
        ("trash_can", "corner", (), (1, 1), 0.8), ("plant", "corner", (), (1, 1), 0.4),
        ("microwave", "on", ("cabinet",), (1, 1), 0.6), ("cup", "on", ("table", "cabinet"), (1, 3), 0.7),
        ("bottle", "on", ("cabinet", "table", "sink"), (1, 3), 0.7),
    ),
    "bathroom": (
        ("toilet", "wall", (), (1, 1), 1.0), ("sink", "wall", (), (1, 1), 1.0),
        ("bathtub", "wall", (), (1, 1), 0.7), ("cabinet", "wall", (), (1, 1), 0.5),
        ("shelf", "wall", (), (1, 1), 0.5), ("trash_can", "corner", (), (1, 1), 0.7),
        ("plant", "corner", (), (1, 1), 0.3), ("bottle", "on", ("sink", "cabinet", "shelf"), (2, 4), 1.0),
        ("cup", "on", ("sink",), (1, 1), 0.4),
    ),
    "studio": (
        ("bed", "wall", (), (1, 1), 1.0), ("nightstand", "beside", ("bed",), (1, 1), 0.7),
        ("sofa", "wall", (), (1, 1), 0.9), ("coffee_table", "front", ("sofa",), (1, 1), 0.7),
        ("fridge", "wall", (), (1, 1), 0.8), ("sink", "wall", (), (1, 1), 0.7),
        ("cabinet", "wall", (), (1, 3), 1.0), ("wardrobe", "wall", (), (1, 1), 0.5),
        ("desk", "wall", (), (1, 1), 0.5), ("chair", "facing", ("desk",), None, 1.0),
        ("table", "free", (), (1, 1), 0.7), ("chair", "around", ("table",), (2, 4), 1.0),
        ("shelf", "wall", (), (1, 1), 0.5), ("plant", "corner", (), (1, 3), 0.8),
        ("floor_lamp", "corner", (), (1, 1), 0.5), ("trash_can", "corner", (), (1, 2), 0.7),
        ("pillow", "on", ("bed",), (2, 2), 1.0), ("tv", "on", ("cabinet",), (1, 1), 0.7),
        ("monitor", "on", ("desk",), (1, 1), 0.5), ("laptop", "on", ("desk", "table"), (1, 1), 0.4),
        ("book", "on", ("shelf", "nightstand", "desk", "coffee_table"), (1, 4), 0.8),
        ("cup", "on", ("table", "coffee_table", "desk"), (1, 3), 0.6), ("bottle", "on", ("table", "cabinet"), (1, 2), 0.4),
        ("microwave", "on", ("cabinet",), (1, 1), 0.4),
    ),
}

# Room type: (probability, side range in metres, probability of an L shape when the room is large enough).
ROOM_TYPES = {
    "bedroom": (0.2, (3.2, 6.0), 0.15), "living_room": (0.22, (4.0, 9.0), 0.35), "office": (0.18, (3.5, 8.0), 0.25),
    "kitchen": (0.15, (3.5, 7.0), 0.3), "bathroom": (0.07, (3.0, 4.5), 0.0), "studio": (0.18, (5.0, 9.0), 0.5),
}
_WALL_COLORS = ((0.86, 0.84, 0.8), (0.8, 0.82, 0.84), (0.88, 0.82, 0.72), (0.74, 0.8, 0.74), (0.9, 0.9, 0.9))
_FLOORS = (((0.55, 0.4, 0.27), "wood"), ((0.7, 0.57, 0.42), "wood"), ((0.72, 0.72, 0.7), "tile"),
           ((0.45, 0.45, 0.5), "fabric"), ((0.82, 0.8, 0.76), "tile"))


def generate_layout(rng: np.random.Generator, room_type: str | None = None) -> Layout:
    """A furnished room drawn from `rng`; `room_type` None draws one of ROOM_TYPES by its weight."""
    if room_type is None:
        names = list(ROOM_TYPES)
        weights = np.array([ROOM_TYPES[n][0] for n in names])
        room_type = names[rng.choice(len(names), p=weights / weights.sum())]
    _, sides, l_prob = ROOM_TYPES[room_type]
    polygon, narrowest = room_polygon(rng, sides, l_prob)
    height = round(float(rng.uniform(2.5, 3.0)), 3)
    walk = walk_loop(polygon, min(1.2, 0.4 * narrowest))
    placer = _Placer(rng, polygon, height, walk)
    doors = placer.add_openings("door", int(rng.integers(1, 3)) if _perimeter(polygon) > 16 else 1)
    windows = placer.add_openings("window", int(rng.integers(0, 2 if room_type == "bathroom" else 4)))
    for step in PLANS[room_type]:
        placer.run_step(*step)
    floor_color, floor_texture = _FLOORS[rng.integers(len(_FLOORS))]
    return Layout(room_type, polygon, height, doors, windows, placer.objects, walk,
                  _WALL_COLORS[rng.integers(len(_WALL_COLORS))], floor_color, floor_texture,
                  round(float(rng.uniform(-math.pi, math.pi)), 4))


def room_polygon(rng: np.random.Generator, sides: tuple[float, float], l_prob: float) -> tuple[list, float]:
    """A counter-clockwise rectangle or L shape with its bounding sides in `sides` (m), its corner at
    the origin; also the width of its narrowest part."""
    width, depth = (round(float(rng.uniform(*sides)), 2) for _ in range(2))
    if min(width, depth) < 5.0 or rng.random() >= l_prob:
        return [(0.0, 0.0), (width, 0.0), (width, depth), (0.0, depth)], min(width, depth)
    cut_w = round(float(rng.uniform(0.3, 0.5)) * width, 2)
    cut_d = round(float(rng.uniform(0.3, 0.5)) * depth, 2)
    points = [(0.0, 0.0), (width, 0.0), (width, depth - cut_d), (width - cut_w, depth - cut_d),
              (width - cut_w, depth), (0.0, depth)]
    for _ in range(int(rng.integers(4))):  # quarter turns keep it counter-clockwise
        points = [(-y, x) for x, y in points]
    min_x, min_y = min(p[0] for p in points), min(p[1] for p in points)
    points = [(round(x - min_x, 2) + 0.0, round(y - min_y, 2) + 0.0) for x, y in points]
    return points, min(width - cut_w, depth - cut_d)


def _perimeter(polygon) -> float:
    return sum(math.dist(a, b) for a, b in zip(polygon, polygon[1:] + polygon[:1]))


def _edges(polygon):
    """Per edge: start point, unit direction, inward unit normal, length."""
    for a, b in zip(polygon, polygon[1:] + polygon[:1]):
        a, b = np.asarray(a, float), np.asarray(b, float)
        length = float(np.linalg.norm(b - a))
        direction = (b - a) / length
        yield a, direction, np.array([-direction[1], direction[0]]), length


def points_in_polygon(points: np.ndarray, polygon) -> np.ndarray:
    """Even-odd test for (N, 2) points; points exactly on an edge may go either way."""
    poly = np.asarray(polygon, float)
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0 = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return (crosses & (x < x_at)).sum(axis=1) % 2 == 1


def wall_boxes(polygon, height: float) -> list[Box3D]:
    """One box per wall, outside the floor polygon, floor to ceiling. Walls run past convex corners
    to close them; at a reflex corner they stop, or they would poke into the room."""
    n = len(polygon)
    boxes = []
    for i, (start, direction, inward, length) in enumerate(_edges(polygon)):
        extend = [WALL_THICKNESS if _is_convex(polygon, j) else 0.0 for j in (i, (i + 1) % n)]
        mid = start + direction * (length + extend[1] - extend[0]) / 2 - inward * WALL_THICKNESS / 2
        boxes.append(Box3D((float(mid[0]), float(mid[1]), height / 2),
                           (length + sum(extend), WALL_THICKNESS, height), math.atan2(direction[1], direction[0])))
    return boxes


def _is_convex(polygon, i: int) -> bool:
    (ax, ay), (bx, by), (cx, cy) = polygon[i - 1], polygon[i], polygon[(i + 1) % len(polygon)]
    return (bx - ax) * (cy - by) - (by - ay) * (cx - bx) > 0


def walk_loop(polygon, inset: float, spacing: float = 0.05) -> np.ndarray:
    """The closed path the camera walks: the polygon moved `inset` metres inward, corners rounded
    (Chaikin), resampled every `spacing` metres; counter-clockwise."""
    lines = [(start + inward * inset, direction) for start, direction, inward, _ in _edges(polygon)]
    corners = [_intersect(lines[i - 1], lines[i]) for i in range(len(lines))]
    loop = np.array(corners)
    for _ in range(4):
        nxt = np.roll(loop, -1, axis=0)
        loop = np.stack([0.75 * loop + 0.25 * nxt, 0.25 * loop + 0.75 * nxt], axis=1).reshape(-1, 2)
    return resample_closed(loop, spacing)


def _intersect(line_a, line_b) -> np.ndarray:
    (pa, da), (pb, db) = line_a, line_b
    offset = pb - pa
    t = (offset[0] * db[1] - offset[1] * db[0]) / (da[0] * db[1] - da[1] * db[0])
    return pa + t * da


def resample_closed(loop: np.ndarray, spacing: float) -> np.ndarray:
    closed = np.vstack([loop, loop[:1]])
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))])
    count = max(8, int(round(s[-1] / spacing)))
    targets = np.linspace(0.0, s[-1], count, endpoint=False)
    return np.stack([np.interp(targets, s, closed[:, 0]), np.interp(targets, s, closed[:, 1])], axis=1)


def footprint_distance(points: np.ndarray, center, size, yaw: float) -> np.ndarray:
    """Horizontal distance from (N, 2) points to a yawed box's footprint (0 inside)."""
    c, s = math.cos(yaw), math.sin(yaw)
    d = points - np.asarray(center[:2])
    local = np.stack([d[:, 0] * c + d[:, 1] * s, -d[:, 0] * s + d[:, 1] * c], axis=1)
    outside = np.maximum(np.abs(local) - np.asarray(size[:2]) / 2, 0.0)
    return np.linalg.norm(outside, axis=1)


def footprint_corners(center, size, yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    half = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]) * np.asarray(size[:2]) / 2
    return np.asarray(center[:2]) + half @ np.array([[c, s], [-s, c]])


class _Placer:
    """Places objects one by one, keeping each only if it fits with everything placed before."""

    def __init__(self, rng: np.random.Generator, polygon, height: float, walk: np.ndarray):
        self.rng, self.polygon, self.height, self.walk = rng, polygon, height, walk
        self.walls = wall_boxes(polygon, height)
        self.edges = list(_edges(polygon))
        self.keepouts: list[Box3D] = []
        self.openings: list[WallOpening] = []
        self.objects: list[PlacedObject] = []
        self.boxes: list[Box3D] = []

    # --- doors and windows -------------------------------------------------------------------
    def add_openings(self, label: str, count: int) -> list[WallOpening]:
        added = []
        for _ in range(count):
            for _ in range(ATTEMPTS):
                opening = self._opening_candidate(label)
                if opening is not None:
                    added.append(opening)
                    break
        return added

    def _opening_candidate(self, label: str) -> WallOpening | None:
        rng = self.rng
        if label == "door":
            width, bottom, top = rng.uniform(0.8, 1.0), 0.0, rng.uniform(2.0, min(2.15, self.height - 0.15))
        else:
            width, bottom = rng.uniform(0.6, 1.6), rng.uniform(0.8, 1.0)
            top = min(bottom + rng.uniform(0.8, 1.4), self.height - 0.2)
        wall = int(rng.integers(len(self.edges)))
        start, direction, inward, length = self.edges[wall]
        if length < width + 0.4:
            return None
        along = rng.uniform(0.2 + width / 2, length - 0.2 - width / 2)
        if any(o.wall == wall and abs(o_along - along) < (o.size[1] + width) / 2 + 0.2
               for o, o_along in ((o, self._along(o)) for o in self.openings)):
            return None
        base = start + direction * along
        yaw = math.atan2(inward[1], inward[0])
        opening = WallOpening(f"{label}#{sum(o.label.startswith(label) for o in self.openings) + 1}", wall,
                              _round3((*base, (bottom + top) / 2)), _round3((0.04, width, top - bottom)), round(yaw, 6))
        # Keep-out: the door's swing and walking area, or the air in front of a window.
        depth = 1.0 if label == "door" else 0.35
        front = base + inward * depth / 2
        self.keepouts.append(Box3D((float(front[0]), float(front[1]), (bottom + top) / 2),
                                   (depth, width + (0.3 if label == "door" else 0.0), top - bottom), yaw))
        self.openings.append(opening)
        return opening

    def _along(self, opening: WallOpening) -> float:
        start, direction, _, _ = self.edges[opening.wall]
        return float(np.dot(np.asarray(opening.center[:2]) - start, direction))

    # --- furniture ---------------------------------------------------------------------------
    def run_step(self, kind: str, rule: str, anchor_kinds: tuple, counts, probability: float) -> None:
        if self.rng.random() >= probability:
            return
        anchors = [i for i, o in enumerate(self.objects) if o.kind in anchor_kinds]
        if anchor_kinds and not anchors:
            return
        if counts is None:
            jobs = anchors
        else:
            n = int(self.rng.integers(counts[0], counts[1] + 1))
            jobs = [anchors[int(self.rng.integers(len(anchors)))] if anchors else None for _ in range(n)]
        for anchor in jobs:
            self._place(kind, rule, anchor)

    def _place(self, kind: str, rule: str, anchor: int | None) -> None:
        category = KINDS[kind]
        size = self._draw_size(category)
        color = self._draw_color(category)
        for _ in range(ATTEMPTS):
            pose = getattr(self, f"_pose_{rule}")(size, anchor, kind)
            if pose is None:
                continue
            center, yaw = pose
            obj = PlacedObject(kind, category.label, _round3(center), size, round(float(_wrap(yaw)), 6), color,
                               anchor if rule == "on" else None)
            if self._fits(obj):
                self.objects.append(obj)
                self.boxes.append(obj.box())
                return

    def _draw_size(self, category: Category) -> tuple[float, float, float]:
        l = self.rng.uniform(*category.l)
        w = l if category.square else self.rng.uniform(*category.w)
        # Even millimetres: half-sizes, and so centres and top faces, stay whole millimetres.
        return tuple(round(round(v / 0.002) * 0.002, 3) for v in (l, w, self.rng.uniform(*category.h)))

    def _draw_color(self, category: Category) -> tuple[float, float, float]:
        base = np.asarray(category.palette[self.rng.integers(len(category.palette))])
        return tuple(round(float(v), 3) for v in np.clip(base * self.rng.uniform(0.9, 1.1, 3), 0, 1))

    def _fits(self, obj: PlacedObject) -> bool:
        box = obj.box()
        corners = footprint_corners(obj.center, obj.size, obj.yaw)
        if not points_in_polygon(corners, self.polygon).all() or obj.top > self.height - 0.05:
            return False
        if any(box_distance(box, wall) < 0.01 for wall in self.walls):
            return False
        if any(box_iou_3d(box, keepout) > 1e-9 for keepout in self.keepouts):
            return False
        if obj.top > TALL_Z and footprint_distance(self.walk, obj.center, obj.size, obj.yaw).min() < WALK_CLEARANCE:
            return False
        gap = TOP_GAP if obj.support is not None else FLOOR_GAP
        for i, other in enumerate(self.boxes):
            if i == obj.support:
                if box_iou_3d(box, other) > 1e-9:
                    return False
            elif box_distance(box, other) < gap:
                return False
        return True

    # Candidate poses per rule: (center, yaw) or None when this draw cannot work.
    def _wall_point(self, clearance_along: float):
        usable = [i for i, e in enumerate(self.edges) if e[3] > clearance_along + 0.1]
        if not usable:
            return None
        weights = np.array([self.edges[i][3] for i in usable])
        start, direction, inward, length = self.edges[usable[self.rng.choice(len(usable), p=weights / weights.sum())]]
        along = self.rng.uniform(0.05 + clearance_along / 2, length - 0.05 - clearance_along / 2)
        return start + direction * along, inward

    def _pose_wall(self, size, anchor, kind):
        point = self._wall_point(size[1])
        if point is None:
            return None
        base, inward = point
        center = base + inward * (self.rng.uniform(0.02, 0.06) + size[0] / 2)
        return (center[0], center[1], size[2] / 2), math.atan2(inward[1], inward[0])

    def _pose_corner(self, size, anchor, kind):
        radius = math.hypot(size[0], size[1]) / 2
        point = self._wall_point(2 * radius)
        if point is None:
            return None
        base, inward = point
        center = base + inward * (self.rng.uniform(0.03, 0.3) + radius)
        return (center[0], center[1], size[2] / 2), self.rng.uniform(-math.pi, math.pi)

    def _pose_free(self, size, anchor, kind):
        poly = np.asarray(self.polygon)
        xy = self.rng.uniform(poly.min(axis=0), poly.max(axis=0))
        yaw = self.rng.integers(4) * math.pi / 2 + self.rng.normal(0, 0.12)
        if kind in ("armchair", "stool"):
            yaw = self.rng.uniform(-math.pi, math.pi)
        return (xy[0], xy[1], size[2] / 2), yaw

    def _local(self, anchor: int, x: float, y: float):
        """World xy of the point (x, y) in the anchor object's frame."""
        a = self.objects[anchor]
        c, s = math.cos(a.yaw), math.sin(a.yaw)
        return a.center[0] + c * x - s * y, a.center[1] + s * x + c * y

    def _pose_beside(self, size, anchor, kind):
        a = self.objects[anchor]
        side = self.rng.choice([-1, 1])
        x = -a.size[0] / 2 + size[0] / 2
        y = side * (a.size[1] / 2 + self.rng.uniform(0.04, 0.15) + size[1] / 2)
        return (*self._local(anchor, x, y), size[2] / 2), a.yaw

    def _pose_front(self, size, anchor, kind):
        a = self.objects[anchor]
        x = a.size[0] / 2 + self.rng.uniform(0.35, 0.55) + size[0] / 2
        return (*self._local(anchor, x, self.rng.normal(0, 0.05)), size[2] / 2), a.yaw

    def _pose_facing(self, size, anchor, kind):
        a = self.objects[anchor]
        x = a.size[0] / 2 + self.rng.uniform(0.04, 0.25) + size[0] / 2
        y = self.rng.uniform(-0.25, 0.25) * a.size[1]
        return (*self._local(anchor, x, y), size[2] / 2), a.yaw + math.pi + self.rng.normal(0, 0.15)

    def _pose_around(self, size, anchor, kind):
        a = self.objects[anchor]
        side = int(self.rng.integers(4))
        along_axis, across = (1, 0) if side < 2 else (0, 1)
        sign = 1 if side % 2 == 0 else -1
        local = [0.0, 0.0]
        local[across] = sign * (a.size[across] / 2 + self.rng.uniform(0.03, 0.2) + size[0] / 2)
        local[along_axis] = self.rng.uniform(-0.35, 0.35) * a.size[along_axis]
        x, y = self._local(anchor, *local)
        yaw = math.atan2(a.center[1] - y, a.center[0] - x) + self.rng.normal(0, 0.12)
        return (x, y, size[2] / 2), yaw

    def _pose_on(self, size, anchor, kind):
        a = self.objects[anchor]
        faces_front = kind in ("tv", "monitor", "laptop", "microwave", "pillow", "table_lamp")
        rel = self.rng.normal(0, 0.08) if faces_front else self.rng.uniform(-math.pi, math.pi)
        c, s = abs(math.cos(rel)), abs(math.sin(rel))
        ext_x, ext_y = c * size[0] + s * size[1], s * size[0] + c * size[1]
        room_x, room_y = (a.size[0] - ext_x) / 2 - 0.02, (a.size[1] - ext_y) / 2 - 0.02
        if room_x < 0 or room_y < 0:
            return None
        # Screens and pillows go to the back (a bed's back is its head end, against the wall).
        x = -room_x + self.rng.uniform(0, min(0.1, 2 * room_x)) if faces_front else self.rng.uniform(-room_x, room_x)
        return (*self._local(anchor, x, self.rng.uniform(-room_y, room_y)), a.top + size[2] / 2), a.yaw + rel


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2 * math.pi) - math.pi


def _round3(values) -> tuple[float, ...]:
    """Millimetre precision: what scene.json stores is exactly what is rendered."""
    return tuple(round(float(v), 3) for v in values)
