"""Geometric reconstruction of a structured scene from posed RGB-D frames with instance masks.

The perception-free reference of the benchmark (`ssr eval --method geometric`): masks tell which
pixels belong to which object, and everything else is geometry done by the C++ core —
back-projection per instance, fusion across frames (voxel-downsampled point sets), gravity-aligned
box fitting, the incremental triplet chain — plus the room's floor outline, carved out of the
top-down grid by the camera's rays (a ray crosses free space up to the surface it hits, and rays
through doors and windows hit nothing, so nothing outside the room is ever carved).
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Iterable, Mapping

import numpy as np

from ssr_runtime import _core
from ssr_runtime.data.readers import RGBDFrame

FUSION_VOXEL_M = 0.02  # point sets are kept at this resolution: memory bounded by surface area
BOX_TRIM = 0.01  # fraction of points dropped as depth-edge outliers before fitting a box
MIN_OBJECT_POINTS = 30  # fewer fused points than this: too little seen to fit a box
CARVE_STRIDE = 8  # pixel stride of the rays that carve the room's free space
OUTLINE_CELL_M = 0.05


class InstanceFusion:
    """Accumulates each instance's world points over frames; first-seen times by pixel count."""

    def __init__(self, min_pixels: int):
        self.min_pixels = min_pixels
        self.points: dict[int, np.ndarray] = {}
        self.first_seen: dict[int, float] = {}
        self.last_seen: dict[int, float] = {}
        self.rays: list[tuple[np.ndarray, np.ndarray]] = []  # (camera xy, hit points xy) per frame

    def add(self, frame: RGBDFrame) -> None:
        if frame.instance is None:
            raise ValueError(f"{frame.name}: frame has no instance mask")
        per_instance = _core.backproject_instances(frame.depth, frame.instance, frame.K, frame.T_wc)
        for instance, pts in per_instance.items():
            fused = pts if instance not in self.points else np.concatenate([self.points[instance], pts])
            self.points[instance] = _core.voxel_downsample(fused, FUSION_VOXEL_M)
            self.last_seen[instance] = frame.t
        pixels = np.bincount(frame.instance.ravel())
        for instance in np.flatnonzero(pixels >= self.min_pixels):
            if instance != 0:
                self.first_seen.setdefault(int(instance), frame.t)
        self.rays.append(frame_rays(frame))

    def boxes(self) -> dict[int, _core.Box3D]:
        return {instance: _core.fit_box(pts, BOX_TRIM) for instance, pts in self.points.items()
                if len(pts) >= MIN_OBJECT_POINTS}


def reconstruct_scene(frames: Iterable[RGBDFrame], labels: Mapping[int, str], min_pixels: int) -> _core.SceneGraph:
    """Scene graph of the instances in `labels` (instance id -> category) seen in `frames`."""
    fusion = InstanceFusion(min_pixels)
    end_t = 0.0
    for frame in frames:
        fusion.add(frame)
        end_t = frame.t
    graph = _core.SceneGraph()
    boxes = fusion.boxes()
    seen = {i: fusion.first_seen.get(i, end_t + 1.0) for i in boxes if i in labels}
    for instance in sorted(seen, key=lambda i: (seen[i], i)):
        graph.add_object(_core.Object(labels[instance], boxes[instance], first_seen=seen[instance],
                                      last_seen=max(seen[instance], fusion.last_seen[instance])))
    graph.rebuild_chain()
    if fusion.rays:
        graph.room_polygon = room_outline(fusion.rays)
    return graph


# --- room outline -----------------------------------------------------------------------------

def frame_rays(frame: RGBDFrame) -> tuple[np.ndarray, np.ndarray]:
    """(camera xy, xy of the surfaces hit by every CARVE_STRIDE-th pixel) of one frame."""
    hits = _core.backproject(frame.depth, frame.K, frame.T_wc, stride=CARVE_STRIDE)
    return frame.T_wc[:2, 3].copy(), hits[:, :2].astype(np.float64)


class FloorCarver:
    """The floor cells the camera's rays have crossed or hit, carved frame by frame into a grid on a
    fixed lattice (multiples of `cell`) that grows with the area covered: memory follows the room,
    not the number of frames."""

    MARGIN = 2  # unseen cells kept around the seen ones, so the outside is reachable from the border
    GROWTH_M = 2.0  # extra metres allocated on each side when the grid grows (amortises re-allocation)
    MAX_EXTENT_M = 200.0  # a frame that would stretch the map beyond this is refused (a pose or depth glitch)

    def __init__(self, cell: float = OUTLINE_CELL_M):
        self.cell = cell
        self.lo = np.zeros(2, dtype=np.int64)  # lattice index of seen[0, 0]
        self.seen = np.zeros((0, 0), dtype=bool)

    def add(self, cam: np.ndarray, hits: np.ndarray) -> None:
        """One frame's rays: the camera's xy and the xy of the surfaces its pixels hit. A frame that would
        stretch the map beyond MAX_EXTENT_M raises ValueError and changes nothing (`check`)."""
        points = self.check(cam, hits)
        self._cover(np.floor(points.min(axis=0) / self.cell).astype(np.int64),
                    np.floor(points.max(axis=0) / self.cell).astype(np.int64))
        origin = self.lo * self.cell
        _carve(self.seen, (cam - origin) / self.cell, (points[:-1] - origin) / self.cell)

    def check(self, cam: np.ndarray, hits: np.ndarray) -> np.ndarray:
        """The frame's points [M+1, 2] (hits, then the camera), or ValueError when the map they and the
        cells seen so far span would be wider than MAX_EXTENT_M."""
        points = np.vstack([np.asarray(hits, dtype=np.float64).reshape(-1, 2), np.asarray(cam, np.float64)[None]])
        lo, hi = points.min(axis=0), points.max(axis=0)
        if np.any(self.seen):
            rows, cols = np.nonzero(self.seen)
            seen_lo = (self.lo + [rows.min(), cols.min()]) * self.cell
            seen_hi = (self.lo + [rows.max() + 1, cols.max() + 1]) * self.cell
            lo, hi = np.minimum(lo, seen_lo), np.maximum(hi, seen_hi)
        if np.any(hi - lo > self.MAX_EXTENT_M):
            raise ValueError(f"T_wc/depth: this frame would stretch the floor map to {float(np.max(hi - lo)):.0f} m "
                             f"(> {self.MAX_EXTENT_M:.0f} m): a pose or depth far from the rest of the stream")
        return points

    def _cover(self, lo: np.ndarray, hi: np.ndarray) -> None:
        lo, hi = lo - self.MARGIN, hi + self.MARGIN
        old_hi = self.lo + np.array(self.seen.shape) - 1
        if self.seen.size and np.all(lo >= self.lo) and np.all(hi <= old_hi):
            return
        pad = int(np.ceil(self.GROWTH_M / self.cell))
        new_lo = np.minimum(lo, self.lo) - pad if self.seen.size else lo - pad
        new_hi = np.maximum(hi, old_hi) + pad if self.seen.size else hi + pad
        grid = np.zeros(tuple(new_hi - new_lo + 1), dtype=bool)
        if self.seen.size:
            at = self.lo - new_lo
            grid[at[0]:at[0] + self.seen.shape[0], at[1]:at[1] + self.seen.shape[1]] = self.seen
        self.lo, self.seen = new_lo, grid

    def to_json(self) -> dict:
        """The grid as JSON values (bits packed, base64)."""
        return {"cell": self.cell, "lo": self.lo.tolist(), "shape": list(self.seen.shape),
                "seen": base64.b64encode(np.packbits(self.seen)).decode()}

    @classmethod
    def from_json(cls, record: dict) -> FloorCarver:
        carver = cls(float(record["cell"]))
        shape = tuple(int(n) for n in record["shape"])
        bits = np.unpackbits(np.frombuffer(base64.b64decode(record["seen"]), dtype=np.uint8))
        if len(shape) != 2 or bits.size < shape[0] * shape[1]:
            raise ValueError(f"floor: {shape} does not match {bits.size} stored cells")
        carver.lo = np.array(record["lo"], dtype=np.int64)
        carver.seen = bits[:shape[0] * shape[1]].reshape(shape).astype(bool)
        return carver

    def outline(self) -> list[tuple[float, float]]:
        """Counter-clockwise floor outline: cells crossed or hit are the room; enclosed cells that no ray
        reached (behind furniture) are filled in. Empty before any ray."""
        if np.count_nonzero(self.seen) < 3:
            return []
        rows, cols = np.nonzero(self.seen)
        r0, r1 = rows.min() - self.MARGIN, rows.max() + self.MARGIN + 1
        c0, c1 = cols.min() - self.MARGIN, cols.max() + self.MARGIN + 1
        seen = self.seen[r0:r1, c0:c1]
        room = ~_reachable_from_border(~seen)
        origin = (self.lo + np.array([r0, c0])) * self.cell
        return [(origin[0] + i * self.cell, origin[1] + j * self.cell) for i, j in _outer_loop(room)]


def room_outline(rays: list[tuple[np.ndarray, np.ndarray]], cell: float = OUTLINE_CELL_M) -> list[tuple[float, float]]:
    """`FloorCarver.outline` of all the rays (per frame: camera xy, hit points xy)."""
    carver = FloorCarver(cell)
    for cam, hits in rays:
        carver.add(cam, hits)
    return carver.outline()


def _carve(grid: np.ndarray, cam: np.ndarray, hits: np.ndarray) -> None:
    """Marks the cells on the segments from `cam` to each hit (grid units), endpoints included."""
    if len(hits) == 0:
        return
    steps = int(np.ceil(np.linalg.norm(hits - cam, axis=1).max() * 2)) + 1
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    samples = np.floor(cam + t * (hits[:, None, :] - cam)).astype(int).reshape(-1, 2)
    grid[samples[:, 0], samples[:, 1]] = True


def _reachable_from_border(free: np.ndarray) -> np.ndarray:
    """Cells of `free` connected (4-neighbourhood) to the grid's border."""
    reached = np.zeros_like(free)
    h, w = free.shape
    queue = deque((i, j) for i in range(h) for j in (0, w - 1) if free[i, j])
    queue.extend((i, j) for j in range(w) for i in (0, h - 1) if free[i, j])
    for i, j in queue:
        reached[i, j] = True
    while queue:
        i, j = queue.popleft()
        for a, b in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if 0 <= a < h and 0 <= b < w and free[a, b] and not reached[a, b]:
                reached[a, b] = True
                queue.append((a, b))
    return reached


def _outer_loop(mask: np.ndarray) -> list[tuple[int, int]]:
    """Corner vertices (grid units, counter-clockwise) of the largest boundary loop of `mask`.

    Cell (i, j) spans [i, i+1] × [j, j+1]; each side between a cell inside and one outside is a
    directed edge with the inside on its left, so loops come out counter-clockwise."""
    padded = np.pad(mask, 1)
    inside = padded[1:-1, 1:-1]
    edges: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def add(side_outside: np.ndarray, start: tuple[int, int], end: tuple[int, int]) -> None:
        for i, j in zip(*np.nonzero(inside & side_outside)):
            edges.setdefault((i + start[0], j + start[1]), []).append((i + end[0], j + end[1]))

    add(~padded[1:-1, :-2], (0, 0), (1, 0))  # low-y side, walked towards +x
    add(~padded[2:, 1:-1], (1, 0), (1, 1))  # high-x side, towards +y
    add(~padded[1:-1, 2:], (1, 1), (0, 1))  # high-y side, towards -x
    add(~padded[:-2, 1:-1], (0, 1), (0, 0))  # low-x side, towards -y
    best: list[tuple[int, int]] = []
    best_area = 0.0
    while edges:
        loop = _trace(edges)
        area = _signed_area(loop)
        if area > best_area:
            best, best_area = loop, area
    return _drop_collinear(best)


def _trace(edges: dict[tuple[int, int], list[tuple[int, int]]]) -> list[tuple[int, int]]:
    start = next(iter(edges))
    loop, vertex = [], start
    while True:
        loop.append(vertex)
        ends = edges[vertex]
        nxt = ends.pop()
        if not ends:
            del edges[vertex]
        vertex = nxt
        if vertex == start:
            return loop


def _signed_area(loop: list[tuple[int, int]]) -> float:
    pts = np.asarray(loop, dtype=float)
    x, y = pts[:, 0], pts[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _drop_collinear(loop: list[tuple[int, int]]) -> list[tuple[int, int]]:
    n = len(loop)
    keep = []
    for k in range(n):
        (ax, ay), (bx, by), (cx, cy) = loop[k - 1], loop[k], loop[(k + 1) % n]
        if (bx - ax) * (cy - by) - (by - ay) * (cx - bx) != 0:
            keep.append(loop[k])
    return keep
