"""The ground truth of a scene folder: `scene.json` (schema in docs/DATA.md).

One dataclass per record; each knows how to read itself from JSON and names the offending field
when the file is malformed. Frames' images are read by `ssr_runtime.data.readers`.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ssr_runtime.files import write_json_atomic

SCENE_FORMAT = "ssr-scene"
SCENE_VERSION = 1


class SceneFormatError(ValueError):
    """A scene file is malformed; the message names the file and the field."""


def _number(record: dict, key: str, where: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SceneFormatError(f"{where}.{key}: expected a finite number, got {value!r}")
    return float(value)


def _vector(record: dict, key: str, n: int, where: str) -> tuple[float, ...]:
    value = record.get(key)
    if not isinstance(value, list) or len(value) != n:
        raise SceneFormatError(f"{where}.{key}: expected a list of {n} numbers, got {value!r}")
    return tuple(_number({"v": v}, "v", f"{where}.{key}") for v in value)


@dataclass(frozen=True)
class BoxRecord:
    """7-DoF box: centre (m), size (l along the heading, w, h; m), yaw (rad about +z)."""

    center: tuple[float, float, float]
    size: tuple[float, float, float]
    yaw: float

    @classmethod
    def from_json(cls, record: dict, where: str) -> BoxRecord:
        if not isinstance(record, dict):
            raise SceneFormatError(f"{where}: expected an object")
        box = cls(_vector(record, "center", 3, where), _vector(record, "size", 3, where), _number(record, "yaw", where))
        if min(box.size) <= 0:
            raise SceneFormatError(f"{where}.size: every side must be > 0, got {list(box.size)}")
        return box


@dataclass(frozen=True)
class SceneObject:
    """A ground-truth object. `instance_id` is its value in the instance masks (>= 1);
    `first_seen_t` is when it first passes the visibility threshold in the scan (None: never)."""

    id: str
    label: str
    box: BoxRecord
    instance_id: int
    first_seen_t: float | None = None

    @classmethod
    def from_json(cls, record: dict, where: str) -> SceneObject:
        if not isinstance(record, dict):
            raise SceneFormatError(f"{where}: expected an object")
        oid, label = record.get("id"), record.get("label")
        if not isinstance(oid, str) or not isinstance(label, str) or not oid.startswith(label + "#"):
            raise SceneFormatError(f"{where}.id: expected 'label#n' matching label {label!r}, got {oid!r}")
        instance = record.get("instance_id")
        if isinstance(instance, bool) or not isinstance(instance, int) or instance < 1:
            raise SceneFormatError(f"{where}.instance_id: expected an integer >= 1, got {instance!r}")
        seen = record.get("first_seen_t")
        return cls(oid, label, BoxRecord.from_json(record.get("box"), f"{where}.box"), instance,
                   None if seen is None else _number(record, "first_seen_t", where))


@dataclass(frozen=True)
class Room:
    """Floor outline (counter-clockwise, world xy, metres) and ceiling height."""

    polygon: tuple[tuple[float, float], ...]
    height: float

    @property
    def area_m2(self) -> float:
        pts = self.polygon
        return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]))) / 2

    @classmethod
    def from_json(cls, record: dict, where: str) -> Room:
        if not isinstance(record, dict) or not isinstance(record.get("polygon"), list) or len(record["polygon"]) < 3:
            raise SceneFormatError(f"{where}.polygon: expected a list of at least 3 [x, y] points")
        polygon = tuple(_vector({"p": p}, "p", 2, f"{where}.polygon[{i}]") for i, p in enumerate(record["polygon"]))
        return cls(polygon, _number(record, "height", where))


@dataclass(frozen=True)
class Camera:
    """Pinhole intrinsics (pixels) of every frame; depth PNG value / depth_scale = metres."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    depth_scale: float = 1000.0

    @classmethod
    def from_json(cls, record: dict, where: str) -> Camera:
        if not isinstance(record, dict):
            raise SceneFormatError(f"{where}: expected an object")
        size = [record.get("width"), record.get("height")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size):
            raise SceneFormatError(f"{where}.width/height: expected positive integers, got {size}")
        values = {k: _number(record, k, where) for k in ("fx", "fy", "cx", "cy", "depth_scale")}
        if values["fx"] <= 0 or values["fy"] <= 0 or values["depth_scale"] <= 0:
            raise SceneFormatError(f"{where}: fx, fy and depth_scale must be > 0")
        return cls(size[0], size[1], **values)


@dataclass(frozen=True)
class FrameRecord:
    """One posed RGB-D frame: files relative to the scene folder, camera-to-world pose (row-major 4×4)."""

    index: int
    t: float
    color: str
    depth: str
    instance: str | None
    T_wc: tuple[tuple[float, ...], ...]

    @classmethod
    def from_json(cls, record: dict, where: str) -> FrameRecord:
        if not isinstance(record, dict):
            raise SceneFormatError(f"{where}: expected an object")
        rows = record.get("T_wc")
        if not isinstance(rows, list) or len(rows) != 4:
            raise SceneFormatError(f"{where}.T_wc: expected 4 rows of 4 numbers")
        pose = tuple(_vector({"r": r}, "r", 4, f"{where}.T_wc[{i}]") for i, r in enumerate(rows))
        for key in ("color", "depth"):
            if not isinstance(record.get(key), str):
                raise SceneFormatError(f"{where}.{key}: expected a relative file path")
        return cls(int(_number(record, "index", where)), _number(record, "t", where), record["color"],
                   record["depth"], record.get("instance"), pose)


@dataclass(frozen=True)
class Scene:
    scene_id: str
    seed: int | None
    room: Room
    camera: Camera
    objects: tuple[SceneObject, ...]
    frames: tuple[FrameRecord, ...]
    extras: dict = field(default_factory=dict)  # generator-specific (doors, windows, ...)

    def objects_with_label(self, label: str) -> list[SceneObject]:
        return [o for o in self.objects if o.label == label]

    @classmethod
    def from_json(cls, record: dict, where: str = "scene.json") -> Scene:
        if not isinstance(record, dict) or record.get("format") != SCENE_FORMAT:
            raise SceneFormatError(f"{where}.format: expected {SCENE_FORMAT!r}")
        if record.get("version") != SCENE_VERSION:
            raise SceneFormatError(f"{where}.version: this reader knows version {SCENE_VERSION}, got {record.get('version')!r}")
        objects = tuple(SceneObject.from_json(o, f"{where}.objects[{i}]") for i, o in enumerate(record.get("objects") or []))
        ids = [o.id for o in objects]
        if len(set(ids)) != len(ids):
            raise SceneFormatError(f"{where}.objects: duplicate ids")
        frames = tuple(FrameRecord.from_json(f, f"{where}.frames[{i}]") for i, f in enumerate(record.get("frames") or []))
        return cls(str(record.get("scene_id", "")), record.get("seed"), Room.from_json(record.get("room"), f"{where}.room"),
                   Camera.from_json(record.get("camera"), f"{where}.camera"), objects, frames, record.get("extras") or {})

    def to_json(self) -> dict:
        out = {"format": SCENE_FORMAT, "version": SCENE_VERSION, **asdict(self)}
        return json.loads(json.dumps(out))  # tuples -> lists

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Scene:
        path = Path(folder) / "scene.json"
        try:
            record = json.loads(path.read_text())
        except FileNotFoundError:
            raise SceneFormatError(f"{path}: no scene.json in this folder") from None
        except json.JSONDecodeError as e:
            raise SceneFormatError(f"{path}: line {e.lineno}, column {e.colno}: {e.msg}") from None
        return cls.from_json(record, str(path))

    def save(self, folder: str | os.PathLike) -> None:
        write_json_atomic(Path(folder) / "scene.json", self.to_json())
