"""Grounding the language model's boxes in what the encoder sees (torch-free; a Session grounds by
default where its export has the heads).

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

A grounded session also remembers, per label, the scan's cells most like it (`CellMemory`). A question
names objects its room holds, so when the program of a question names a label the graph lacks, the
session recalls it (`recall_missing`): the cells at least `recall_share` as likely as the label's
likeliest one, linked as above, the group of most probability mass giving the object's place and its
earliest window the time it was first seen. Only the program's copy of the graph gains it.

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
from ssr_runtime.files import array_from_text, array_to_text
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
    recall_share: float = 0.5  # recall_missing: cells at least this share of the label's likeliest one

    def __post_init__(self) -> None:
        for name in ("threshold", "recall_share"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"GroundingParams.{name}: expected a value in (0, 1], got {getattr(self, name)}")
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


class CellMemory:
    """Per label class, the `capacity` cells of the scan so far most like it: probability, world xyz and
    the time of their window (`add` once per window). Bounded: an endless stream keeps classes ×
    capacity cells. `to_json`/`from_json` keep it in a saved session."""

    def __init__(self, classes: int, capacity: int = 128):
        self.capacity = capacity
        self.probability = np.zeros((classes, 0), np.float32)  # [classes, kept]
        self.xyz = np.zeros((classes, 0, 3), np.float32)
        self.t = np.zeros((classes, 0), np.float64)

    def add(self, probabilities: np.ndarray, xyz: np.ndarray, t: float) -> None:
        """One window's cells: probabilities [M, classes], xyz [M, 3], read at time `t`."""
        classes, m = self.probability.shape[0], len(probabilities)
        if probabilities.shape != (m, classes) or xyz.shape != (m, 3):
            raise ValueError(f"CellMemory.add: expected probabilities [M, {classes}] and xyz [M, 3], got "
                             f"{list(probabilities.shape)} and {list(xyz.shape)}")
        probability = np.concatenate([self.probability, probabilities.T.astype(np.float32)], axis=1)
        where = np.concatenate([self.xyz, np.broadcast_to(xyz.astype(np.float32), (classes, m, 3))], axis=1)
        when = np.concatenate([self.t, np.full((classes, m), t)], axis=1)
        if probability.shape[1] > self.capacity:
            keep = np.argsort(-probability, axis=1, kind="stable")[:, :self.capacity]
            probability, when = np.take_along_axis(probability, keep, 1), np.take_along_axis(when, keep, 1)
            where = np.take_along_axis(where, keep[..., None], 1)
        self.probability, self.xyz, self.t = probability, where, when

    def recall(self, k: int, params: GroundingParams) -> tuple[np.ndarray, float, float] | None:
        """(place, first time, probability of the likeliest cell) of class `k`'s object (module
        docstring); None when no cell gave it any probability."""
        probability = self.probability[k]
        if probability.size == 0 or probability.max() <= 0:
            return None
        chosen = np.flatnonzero(probability >= params.recall_share * probability.max())
        groups = _linked(self.xyz[k, chosen, :2], params.link_m)
        group = chosen[max(groups, key=lambda g: probability[chosen[g]].sum())]
        weights = probability[group]
        place = (self.xyz[k, group] * weights[:, None]).sum(0) / weights.sum()
        return place, float(self.t[k, group].min()), float(probability.max())

    def to_json(self) -> dict:
        return {"capacity": self.capacity, "shape": list(self.probability.shape),
                **{name: array_to_text(getattr(self, name)) for name in ("probability", "xyz", "t")}}

    @classmethod
    def from_json(cls, record: dict) -> CellMemory:
        classes, kept = record["shape"]
        memory = cls(classes, int(record["capacity"]))
        memory.probability = array_from_text(record["probability"], np.float32, (classes, kept))
        memory.xyz = array_from_text(record["xyz"], np.float32, (classes, kept, 3))
        memory.t = array_from_text(record["t"], np.float64, (classes, kept))
        return memory


def recall_missing(graph: _core.SceneGraph, labels: list[str], memory: CellMemory, heads_labels: list[str],
                   sizes: dict[str, tuple[float, float, float]], params: GroundingParams) -> list[str]:
    """Add to `graph` an object for each of `labels` it holds none of, recalled from `memory` (module
    docstring) at the label's typical size; returns the ids added. Labels the heads do not know, or
    that no cell showed, stay missing."""
    added = []
    for label in dict.fromkeys(labels):
        if graph.objects_with_label(label) or label not in sizes or label not in heads_labels:
            continue
        recalled = memory.recall(heads_labels.index(label) + 1, params)
        if recalled is None:
            continue
        place, first_t, probability = recalled
        length, width, height = sizes[label]
        box = _core.Box3D([float(place[0]), float(place[1]), float(max(place[2], height / 2))], [length, width, height])
        added.append(graph.merge(_core.Detection(label, box, probability, first_t), _core.MergeParams()))
    return added


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
