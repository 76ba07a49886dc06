"""Synthetic scan generation: a furnished room, a walk-around camera, rendered frames, ground truth.

One scene folder = one seed (a dataset's scene i uses seed S + i). The same seed and settings give
byte-identical files. scene.json is written last and atomically, so a folder with a scene.json is
complete; an interrupted folder has none and is regenerated on the next run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ssr_runtime.data.rooms import Layout, generate_layout
from ssr_runtime.data.scene import BoxRecord, Camera, FrameRecord, Room, Scene, SceneFormatError, SceneObject
from ssr_runtime.data.trajectory import walk_poses
from ssr_runtime.files import write_json_atomic
from ssr_runtime.parallel import map_tasks

GENERATOR_VERSION = 1
HFOV_DEG = 60.0  # horizontal field of view, close to ScanNet's depth camera (58°)
FIRST_SEEN_FRACTION = 0.001  # an object is "seen" in a frame when it covers this share of the image ...
FIRST_SEEN_MIN_PIXELS = 20  # ... and at least this many pixels
JPEG_QUALITY = 92
INDEX_FORMAT = "ssr-scene-index"


@dataclass(frozen=True)
class GenerationSettings:
    frames: int = 60
    width: int = 320
    height: int = 240
    noise: bool = False

    def __post_init__(self):
        if self.frames < 1 or self.width < 8 or self.height < 8:
            raise ValueError(f"frames must be >= 1 and the image at least 8×8, got {self}")

    def as_json(self) -> dict:
        return {"version": GENERATOR_VERSION, "frames": self.frames, "width": self.width, "height": self.height,
                "noise": self.noise}


def pinhole_camera(width: int, height: int) -> Camera:
    """Square pixels, HFOV_DEG horizontal field of view, principal point at the image centre."""
    focal = round(width / 2 / math.tan(math.radians(HFOV_DEG) / 2), 4)
    return Camera(width, height, focal, focal, (width - 1) / 2, (height - 1) / 2, 1000.0)


def first_seen_min_pixels(width: int, height: int) -> int:
    return max(FIRST_SEEN_MIN_PIXELS, math.ceil(FIRST_SEEN_FRACTION * width * height))


def scene_id_for_seed(seed: int) -> str:
    return f"scene_{seed:06d}"


def generate_scene(folder: str | os.PathLike, seed: int, settings: GenerationSettings = GenerationSettings(),
                   nthreads: int = 0) -> Scene:
    """Generate one scene into `folder` (created; old frames there are replaced) and return its record.
    `nthreads` is open3d's ray-casting thread count (0 = all cores)."""
    from ssr_runtime.data.render import Renderer, add_sensor_noise

    folder = Path(folder)
    (folder / "scene.json").unlink(missing_ok=True)  # from here on the folder is incomplete
    for sub in ("color", "depth", "instance"):
        shutil.rmtree(folder / sub, ignore_errors=True)
        (folder / sub).mkdir(parents=True)

    rng = np.random.default_rng(seed)
    layout = generate_layout(rng)
    poses, times = walk_poses(layout.walk, settings.frames, rng)
    camera = pinhole_camera(settings.width, settings.height)
    renderer = Renderer(layout, camera, nthreads=nthreads)
    noise_rng = np.random.default_rng([seed, 1])  # its own stream: --noise does not change the layout

    visible = np.zeros((settings.frames, len(layout.objects) + 1), dtype=np.int64)
    frames = []
    for i, (pose, t) in enumerate(zip(poses, times)):
        rgb, depth, instance = renderer.render(pose)
        visible[i] = np.bincount(instance.ravel(), minlength=visible.shape[1])
        if settings.noise:
            rgb, depth = add_sensor_noise(rgb, depth, noise_rng)
        frames.append(_write_frame(folder, i, float(t), pose, rgb, depth, instance, camera.depth_scale))

    scene = _scene_record(seed, layout, camera, frames, visible, times, settings)
    scene.save(folder)
    return scene


def _write_frame(folder: Path, index: int, t: float, pose: np.ndarray, rgb: np.ndarray, depth: np.ndarray,
                 instance: np.ndarray, depth_scale: float) -> FrameRecord:
    names = {"color": f"color/{index:06d}.jpg", "depth": f"depth/{index:06d}.png", "instance": f"instance/{index:06d}.png"}
    Image.fromarray(rgb).save(folder / names["color"], quality=JPEG_QUALITY)
    depth_units = np.round(depth.astype(np.float64) * depth_scale)
    depth_units = np.where((depth_units > 0) & (depth_units <= 65535), depth_units, 0).astype(np.uint16)
    Image.fromarray(depth_units).save(folder / names["depth"])
    Image.fromarray(instance.astype(np.uint16)).save(folder / names["instance"])
    return FrameRecord(index, t, names["color"], names["depth"], names["instance"],
                       tuple(tuple(float(v) for v in row) for row in pose))


def _scene_record(seed: int, layout: Layout, camera: Camera, frames: list[FrameRecord], visible: np.ndarray,
                  times: np.ndarray, settings: GenerationSettings) -> Scene:
    threshold = first_seen_min_pixels(camera.width, camera.height)
    ids, per_label = [], {}
    for obj in layout.objects:
        per_label[obj.label] = per_label.get(obj.label, 0) + 1
        ids.append(f"{obj.label}#{per_label[obj.label]}")
    objects = []
    for index, (oid, obj) in enumerate(zip(ids, layout.objects)):
        seen = np.flatnonzero(visible[:, index + 1] >= threshold)
        objects.append(SceneObject(oid, obj.label, BoxRecord(obj.center, obj.size, obj.yaw), index + 1,
                                   float(times[seen[0]]) if len(seen) else None))
    extras = {
        "generator": settings.as_json(),
        "room_type": layout.room_type,
        "first_seen_min_pixels": threshold,
        "max_visible_pixels": {oid: int(visible[:, i + 1].max()) for i, oid in enumerate(ids)},
        "supports": {oid: ids[obj.support] for oid, obj in zip(ids, layout.objects) if obj.support is not None},
        "doors": [_opening_json(o) for o in layout.doors],
        "windows": [_opening_json(o) for o in layout.windows],
    }
    return Scene(scene_id_for_seed(seed), seed, Room(tuple(layout.polygon), layout.height), camera, tuple(objects),
                 tuple(frames), extras)


def _opening_json(opening) -> dict:
    return {"id": opening.label, "label": opening.label.split("#")[0], "wall": opening.wall,
            "box": {"center": list(opening.center), "size": list(opening.size), "yaw": opening.yaw}}


def is_complete(folder: Path, seed: int, settings: GenerationSettings) -> bool:
    """Does `folder` already hold this seed's scene made with these settings?"""
    try:
        scene = Scene.load(folder)
    except SceneFormatError:
        return False
    return scene.seed == seed and scene.extras.get("generator") == settings.as_json()


def _generate_task(task: tuple) -> dict:
    out, seed, settings, nthreads = task
    folder = Path(out) / scene_id_for_seed(seed)
    scene = Scene.load(folder) if is_complete(folder, seed, settings) else generate_scene(folder, seed, settings, nthreads)
    return _index_entry(scene)


def _index_entry(scene: Scene) -> dict:
    return {"scene_id": scene.scene_id, "path": scene.scene_id, "seed": scene.seed,
            "room_type": scene.extras.get("room_type"), "frames": len(scene.frames), "objects": len(scene.objects),
            "area_m2": round(scene.room.area_m2, 3)}


def generate_dataset(out: str | os.PathLike, scenes: int, seed: int = 0, settings: GenerationSettings = GenerationSettings(),
                     workers: int = 1, progress: bool = True) -> list[dict]:
    """Generate scenes with seeds seed .. seed + scenes - 1 into `out`, `workers` processes in
    parallel; skip scenes already complete; then write out/index.json. A folder that already holds
    scans of other seeds (same settings) keeps them, so a training set can grow by another seed range:
    the index lists them all by seed. Returns the index's entries."""
    if scenes < 1 or workers < 1 or seed < 0:
        raise ValueError(f"need scenes >= 1, workers >= 1, seed >= 0; got scenes={scenes}, workers={workers}, seed={seed}")
    out = Path(out)
    kept = _entries_kept(out, settings, range(seed, seed + scenes))
    out.mkdir(parents=True, exist_ok=True)
    nthreads = 0 if workers == 1 else 1
    tasks = [(str(out), seed + i, settings, nthreads) for i in range(scenes)]
    entries = map_tasks(_generate_task, tasks, workers, desc="ssr data gen", progress=progress)
    index = {"format": INDEX_FORMAT, "version": 1, "generator": settings.as_json(),
             "scenes": sorted(kept + entries, key=lambda e: e["seed"])}
    write_json_atomic(out / "index.json", index)
    return index["scenes"]


def _entries_kept(out: Path, settings: GenerationSettings, seeds: range) -> list[dict]:
    """The index entries of `out` outside `seeds` whose scene folders are there. ValueError when the
    index names other generator settings (one folder, one camera and frame count) or is not an index."""
    path = out / "index.json"
    if not path.is_file():
        return []
    try:
        index = json.loads(path.read_text())
        generator = index["generator"]
        kept = [e for e in index["scenes"] if e["seed"] not in seeds and (out / e["path"] / "scene.json").is_file()]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a scene index ({type(e).__name__}: {e}); move it away to generate here") from None
    if index.get("format") != INDEX_FORMAT:
        raise ValueError(f"{path}: format is {index.get('format')!r}, expected {INDEX_FORMAT!r}")
    wanted = settings.as_json()
    differ = [f"{k}={generator.get(k)} (this run: {v})" for k, v in wanted.items() if generator.get(k) != v]
    if differ:
        raise ValueError(f"{path}: its scans were generated with {', '.join(differ)}; use another folder")
    return kept
