"""Grounding the language model's boxes in what the encoder sees (torch-free; `Session(grounding=True)`).

The language model reads labels from its visual tokens poorly: it writes the commonest labels (chair,
plant, cabinet) and rarely a sofa or a fridge, and its positions are near guesses, while the encoder's
training heads see far more (docs/MODEL.md, "Grounding the graph in the encoder's heads"). An export's
`grounding.onnx` runs those heads (`FusionEncoder.grounding`): per visual cell of each frame, the
probability of each label class and a world position. Per window:

- cells whose probability of a label is at least `threshold` form that label's *sightings*, cells of
  one label within `link_m` of each other (xy) being one object; its place is the probability-weighted
  mean of the cells' positions;
- each box the model wrote for a new object moves (x, y) to the nearest sighting of its label, if
  any; its size, height and yaw stay the model's;
- each sighting of a label the model wrote no box for becomes a new box, at the label's typical size
  (from the export's manifest: the training categories' mean sizes).

In mode `2d` the positions come from appearance alone, so grounding places objects only as well as
that allows: the 3D branch is what makes the positions right.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssr_runtime import _core
from ssr_runtime.export.onnx_encoder import GROUNDING_OUTPUTS
from ssr_runtime.runtime.encoders import open_session, unit_pixels

GROUNDING_FILE = "grounding.onnx"


@dataclass(frozen=True)
class GroundingParams:
    """Chosen on the graphs of the benchmark scans (docs/MODEL.md): threshold 0.3 placed more objects
    than 0.5 (in-place recall 0.40 against 0.30), merging at 1.2 m left fewer duplicates than 0.5 m."""

    threshold: float = 0.3  # a cell's label probability that counts as a sighting
    link_m: float = 0.8  # cells of one label closer than this (xy) are one object
    merge_distance_m: float = 1.2  # MergeParams.max_center_dist of a grounded session: sightings of one
    # object from different views lie on different faces of it, up to its size apart

    def __post_init__(self) -> None:
        if not 0 < self.threshold <= 1:
            raise ValueError(f"GroundingParams.threshold: expected a probability in (0, 1], got {self.threshold}")
        for name in ("link_m", "merge_distance_m"):
            if not getattr(self, name) > 0:
                raise ValueError(f"GroundingParams.{name}: expected metres > 0, got {getattr(self, name)}")


@dataclass(frozen=True)
class Sighting:
    label: str
    center: np.ndarray  # world xyz, metres


class OnnxGrounding:
    """`grounding.onnx` on ONNX Runtime (CPU): frames → (label probabilities [M, classes], xyz [M, 3])
    over the M = frames × cells visual cells. `labels[k - 1]` names class k (class 0: no object);
    `sizes` maps a label to its typical (l, w, h)."""

    def __init__(self, path: str | os.PathLike, labels: list[str], sizes: dict[str, list[float]], threads: int = 1):
        self.path = Path(path)
        self.session = open_session(self.path, ["CPUExecutionProvider"], threads)
        self.labels, self.sizes = list(labels), {k: tuple(v) for k, v in sizes.items()}
        outputs = [o.name for o in self.session.get_outputs()]
        if outputs != list(GROUNDING_OUTPUTS):
            raise ValueError(f"{self.path}: expected outputs {list(GROUNDING_OUTPUTS)}, got {outputs}")

    def cells(self, pixels: np.ndarray, geometry: np.ndarray, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The frames the encoder read (pixels uint8 as the Session keeps them, or float32 in [0, 1])."""
        feeds = {"pixels": unit_pixels(pixels), "geometry": geometry, "pose": pose}
        probabilities, xyz = self.session.run(list(GROUNDING_OUTPUTS), feeds)
        return probabilities.reshape(-1, probabilities.shape[-1]), xyz.reshape(-1, 3)


def sightings(probabilities: np.ndarray, xyz: np.ndarray, labels: list[str], params: GroundingParams) -> list[Sighting]:
    """The objects the cells show (module docstring): per label class ≥ 1, its cells at or above the
    threshold, linked within `link_m` (single linkage, xy)."""
    found = []
    for k in range(1, probabilities.shape[1]):
        cells = np.flatnonzero(probabilities[:, k] >= params.threshold)
        for group in _linked(xyz[cells, :2], params.link_m):
            weights = probabilities[cells[group], k]
            found.append(Sighting(labels[k - 1], (xyz[cells[group]] * weights[:, None]).sum(0) / weights.sum()))
    return found


def _linked(points: np.ndarray, distance: float) -> list[np.ndarray]:
    """Index groups of `points` [n, 2] connected by steps shorter than `distance`."""
    parent = list(range(len(points)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    close = np.linalg.norm(points[:, None] - points[None], axis=-1) < distance
    for i, j in zip(*np.nonzero(np.triu(close, 1))):
        parent[root(i)] = root(j)
    roots = np.array([root(i) for i in range(len(points))], dtype=int)
    return [np.flatnonzero(roots == r) for r in dict.fromkeys(roots.tolist())]


def ground_elements(elements: list, known_ids: set[str], found: list[Sighting],
                    sizes: dict[str, tuple[float, float, float]]) -> list:
    """A window's parsed output grounded (module docstring): the boxes of new objects (ids not in
    `known_ids`) moved to their label's nearest sighting, then a box for each sighting of a label
    without one, numbered after the window's ids of that label. Other elements stay as written."""
    by_label: dict[str, list[Sighting]] = {}
    for s in found:
        by_label.setdefault(s.label, []).append(s)
    written, grounded = set(), []
    for element in elements:
        if isinstance(element, _core.BoxText) and element.id not in known_ids:
            label = element.id.split("#")[0]
            written.add(label)
            element = _snapped(element, by_label.get(label, []))
        grounded.append(element)
    numbers = _highest_numbers([*known_ids, *(e.id for e in elements if isinstance(e, _core.BoxText))])
    for s in found:
        if s.label in written or s.label not in sizes:
            continue
        numbers[s.label] = numbers.get(s.label, 0) + 1
        length, width, height = sizes[s.label]
        center = [float(s.center[0]), float(s.center[1]), float(max(s.center[2], height / 2))]
        grounded.append(_core.BoxText(f"{s.label}#{numbers[s.label]}", _core.Box3D(center, [length, width, height])))
    return grounded


def _snapped(element, candidates: list[Sighting]):
    if not candidates:
        return element
    box = element.box
    x, y, z = box.center
    nearest = min(candidates, key=lambda s: float(np.hypot(s.center[0] - x, s.center[1] - y)))
    return _core.BoxText(element.id, _core.Box3D([float(nearest.center[0]), float(nearest.center[1]), z],
                                                  box.size, box.yaw))


def _highest_numbers(ids: list[str]) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for oid in ids:
        label, _, number = oid.partition("#")
        if number.isdigit():
            numbers[label] = max(numbers.get(label, 0), int(number))
    return numbers
