"""A prepared training set: `prepare` turns a data folder of scans into the files the trainer reads,
and `iter_samples` reads them back.

```
OUT/frames/<scene_id>.npz   the scan's keyframes: pixels uint8 [N,3,64,64], geometry float32 [N,8,8,7],
                            pose float32 [N,12] (ssr_runtime.preprocess), patch_labels uint8 [N,8,8]
                            (patch_label_grid), frame_index int64 [N] (the frames' positions in
                            scene.json), t float64 [N] (seconds)
OUT/stage1.jsonl            one Sample per line: {"scene_id", "frames", "prompt", "target", "kind"};
                            frames index the scene's npz
OUT/stage2.jsonl            the same, frames empty
OUT/corpus.txt              every sample's prompt + target, one after the other, for tokenizer
                            training (each text ends with <|endoftext|>, then a newline)
OUT/prepare.json            settings, special tokens and counts
```
Every file is written atomically; samples are listed in scene_id order, each scene's in its order.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssr_runtime import _core
from ssr_runtime.data.readers import read_color, read_depth, read_uint16_png
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.benchmark import scene_folders
from ssr_runtime.eval.questions import generate_questions
from ssr_runtime.eval.records import Question
from ssr_runtime.files import atomic_open, read_jsonl, write_json_atomic, write_text_atomic
from ssr_runtime.parallel import map_tasks
from ssr_runtime.data.categories import LABELS
from ssr_runtime.preprocess import GRID, FrameBatch, frame_inputs
from ssr_runtime.training import samples as texts
from ssr_runtime.training.samples import KeyframeView, Sample

PREPARE_FORMAT = "ssr-training-set"
PREPARE_VERSION = 9  # 2: window-local contexts and ids, question-named stage-2 contexts; 3: patch_labels;
# 4: label-list samples (kind "labels"); 5: label lists with each object's x, y; half the cog maps global;
# 6: half the stage-2 questions over a thinned graph (stage-1 samples as in 5); 7: scaffolds carry the
# engine's <res> line; stage 2 over a model's own graphs when given (`graphs`); 8: a numeric answer within
# COPY_TOLERANCE of <res> is <res>; 9: stage-2 options in `canonical_options` order
STAGE_FILES = {1: "stage1.jsonl", 2: "stage2.jsonl"}


@dataclass(frozen=True)
class DepthFrame:
    depth: np.ndarray
    K: np.ndarray
    T_wc: np.ndarray


@dataclass
class Scan:
    """A scene folder's keyframes: encoder inputs, what each one shows, and each patch's label class."""

    scene: Scene
    frames: FrameBatch
    views: list[KeyframeView]
    patch_labels: np.ndarray  # uint8 [N, GRID, GRID]


def patch_label_grid(instance_mask: np.ndarray, label_class: dict[int, int]) -> np.ndarray:
    """uint8 [GRID, GRID]: per patch (the pool_patches split: rows r·H//GRID to (r+1)·H//GRID, same for
    columns) the class of the instance covering most of its pixels; 0 where that is no object."""
    h, w = instance_mask.shape
    grid = np.zeros((GRID, GRID), np.uint8)
    for r in range(GRID):
        for c in range(GRID):
            patch = instance_mask[r * h // GRID:(r + 1) * h // GRID, c * w // GRID:(c + 1) * w // GRID]
            ids, counts = np.unique(patch, return_counts=True)
            grid[r, c] = label_class.get(int(ids[np.argmax(counts)]), 0)
    return grid


def read_scan(folder: str | os.PathLike) -> Scan:
    """Pick the keyframes of a scene folder (depth and pose of every frame) and read only their colour
    images and instance masks."""
    folder = Path(folder)
    scene = Scene.load(folder)
    cam = scene.camera
    K = np.array([[cam.fx, 0, cam.cx], [0, cam.fy, cam.cy], [0, 0, 1]], dtype=np.float64)
    depth_frames = [DepthFrame(read_depth(folder / r.depth, cam.depth_scale), K, np.array(r.T_wc, dtype=np.float64))
                    for r in scene.frames]
    threshold = texts.visibility_threshold(scene)
    unknown = [o for o in scene.objects if o.label not in LABELS]
    if unknown:
        raise ValueError(f"{folder / 'scene.json'}: object {unknown[0].instance_id}: label {unknown[0].label!r} is not "
                         f"one of the model's {len(LABELS)} categories (ssr_runtime.data.categories)")
    label_class = {o.instance_id: LABELS.index(o.label) + 1 for o in scene.objects}
    inputs, views, patch_labels = [], [], []
    for i in texts.keyframes(depth_frames):
        record, frame = scene.frames[i], depth_frames[i]
        if record.instance is None:
            raise ValueError(f"{folder / 'scene.json'}: frames[{i}] has no instance mask (needed for training)")
        inputs.append(frame_inputs(read_color(folder / record.color), frame.depth, K, frame.T_wc))
        mask = read_uint16_png(folder / record.instance, "instance mask")
        views.append(KeyframeView(i, record.t, texts.visible_instances(mask, threshold)))
        patch_labels.append(patch_label_grid(mask, label_class))
    return Scan(scene, FrameBatch.stack(inputs), views,
                np.stack(patch_labels) if patch_labels else np.zeros((0, GRID, GRID), np.uint8))


def scene_samples(scan: Scan, questions: list[Question], seed: int, tokens_per_frame: int,
                  own_graph: _core.SceneGraph | None = None) -> tuple[list[Sample], list[Sample]]:
    """Stage-1 and stage-2 samples of one scan (stage 2 partly over `own_graph`, a model's reading of
    it, when given); the random choices depend on (seed, scene_id) only."""
    scene = scan.scene
    rng = np.random.default_rng([seed, zlib.crc32(scene.scene_id.encode())])
    ids = texts.assign_ids(scene, scan.views)
    stage1 = texts.stage1_samples(scene, scan.views, scan.frames.geometry, ids, tokens_per_frame, rng)
    graph = texts.full_graph(scene, stage1.graph, scan.views, ids)
    return stage1.samples, texts.stage2_samples(scene.scene_id, graph, questions, rng, own_graph)


def save_npz_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)


def load_own_graph(graphs: str | os.PathLike, scene_id: str) -> _core.SceneGraph:
    """The graph a model read of scene `scene_id` (`ssr read` writes GRAPHS/<scene_id>.json)."""
    path = Path(graphs) / f"{scene_id}.json"
    if not path.is_file():
        raise FileNotFoundError(f"graphs: no graph of {scene_id} ({path} not found; `ssr read` writes them)")
    try:
        return _core.SceneGraph.from_json(path.read_text())
    except ValueError as e:  # the core's ParseError and InvalidInputError are ValueErrors
        raise ValueError(f"{path}: not a scene graph: {e}") from e


def graphs_digest(graphs: str | os.PathLike) -> str:
    """A short digest of a graphs folder's *.json files (names and bytes): part of the cache's name."""
    h = hashlib.sha256()
    for path in sorted(Path(graphs).glob("*.json")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def _prepare_scene(task: tuple) -> tuple[str, list[dict], list[dict]]:
    folder, out_dir, seed, tokens_per_frame, questions, graphs = task
    scan = read_scan(folder)
    own = None if graphs is None else load_own_graph(graphs, scan.scene.scene_id)
    stage1, stage2 = scene_samples(scan, questions, seed, tokens_per_frame, own)
    save_npz_atomic(Path(out_dir) / "frames" / f"{scan.scene.scene_id}.npz",
                    {"pixels": scan.frames.pixels, "geometry": scan.frames.geometry, "pose": scan.frames.pose,
                     "patch_labels": scan.patch_labels,
                     "frame_index": np.array([v.index for v in scan.views], dtype=np.int64),
                     "t": np.array([v.t for v in scan.views], dtype=np.float64)})
    return scan.scene.scene_id, [s.to_json() for s in stage1], [s.to_json() for s in stage2]


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def prepare(data_dir: str | os.PathLike, out_dir: str | os.PathLike, seed: int = 0, tokens_per_frame: int = 16,
            workers: int = 1, progress: bool = True, graphs: str | os.PathLike | None = None) -> dict:
    """Write the training set of every scene folder in `data_dir` to `out_dir` (layout above).

    Stage-2 questions are the benchmark's (`generate_questions` over these scenes with `seed`).
    `tokens_per_frame` is the encoder's visual tokens per frame (16, or 17 with interleaved pose
    tokens). `workers` > 1 prepares scenes in that many spawned processes. `graphs`: a folder of a
    model's own graphs of these scans (`ssr read`), which part of the stage-2 questions are asked over
    (`samples.OWN_GRAPH_SHARE`). Returns the manifest written to prepare.json.
    """
    if tokens_per_frame < 1 or workers < 1:
        raise ValueError(f"need tokens_per_frame >= 1 and workers >= 1, got {tokens_per_frame}, {workers}")
    folders = scene_folders(data_dir)
    questions: dict[str, list[Question]] = defaultdict(list)
    for question in generate_questions([Scene.load(f) for f in folders.values()], seed):
        questions[question.scene_id].append(question)
    if graphs is not None:
        for scene_id in folders:  # fail before the long part
            load_own_graph(graphs, scene_id)
    tasks = [(str(folder), str(out_dir), seed, tokens_per_frame, questions[scene_id], graphs and str(graphs))
             for scene_id, folder in folders.items()]
    results = map_tasks(_prepare_scene, tasks, workers, desc="prepare", progress=progress)
    extra = {} if graphs is None else {"graphs": str(graphs), "graphs_digest": graphs_digest(graphs)}
    return _write_outputs(Path(out_dir), results, seed, tokens_per_frame, extra)


def _write_outputs(out: Path, results: list[tuple[str, list[dict], list[dict]]], seed: int,
                   tokens_per_frame: int, extra: dict) -> dict:
    stage1 = [r for _, records, _ in results for r in records]
    stage2 = [r for _, _, records in results for r in records]
    write_text_atomic(out / STAGE_FILES[1], _jsonl(stage1))
    write_text_atomic(out / STAGE_FILES[2], _jsonl(stage2))
    write_text_atomic(out / "corpus.txt", "".join(r["prompt"] + r["target"] + "\n" for r in stage1 + stage2))
    kinds: dict[str, int] = defaultdict(int)
    for record in stage1 + stage2:
        kinds[record["kind"]] += 1
    manifest = {"format": PREPARE_FORMAT, "version": PREPARE_VERSION, "seed": seed, "tokens_per_frame": tokens_per_frame,
                "window": texts.WINDOW, "special_tokens": list(texts.SPECIAL_TOKENS),
                "scenes": [scene_id for scene_id, _, _ in results],
                "samples": {"stage1": len(stage1), "stage2": len(stage2), **dict(sorted(kinds.items()))}, **extra}
    write_json_atomic(out / "prepare.json", manifest)
    return manifest


# --- reading it back -----------------------------------------------------------------------------

def load_samples(out_dir: str | os.PathLike, stage: int) -> list[Sample]:
    """The samples of stage 1 or 2; errors name the file and line."""
    if stage not in STAGE_FILES:
        raise ValueError(f"stage: expected 1 or 2, got {stage!r}")
    path = Path(out_dir) / STAGE_FILES[stage]
    return [Sample.from_json(record, where) for where, record in read_jsonl(path)]


def load_frames(out_dir: str | os.PathLike, scene_id: str) -> FrameBatch:
    """The scan's keyframe batch."""
    return FrameBatch.load(Path(out_dir) / "frames" / f"{scene_id}.npz")


def load_patch_labels(out_dir: str | os.PathLike, scene_id: str) -> np.ndarray:
    """The scan's keyframe patch label classes, uint8 [N, GRID, GRID]."""
    with np.load(Path(out_dir) / "frames" / f"{scene_id}.npz") as data:
        return data["patch_labels"]


def iter_samples(out_dir: str | os.PathLike, stage: int) -> Iterator[tuple[Sample, FrameBatch]]:
    """Each sample with its frames (a batch of 0 frames for stage 2). A scene's npz is read once per
    run of consecutive samples of that scene (the files list scenes one after the other)."""
    scene_id, batch = None, None
    for sample in load_samples(out_dir, stage):
        if not sample.frames:
            yield sample, FrameBatch.stack([])
            continue
        if sample.scene_id != scene_id:
            scene_id, batch = sample.scene_id, load_frames(out_dir, sample.scene_id)
        if max(sample.frames) >= len(batch):
            raise ValueError(f"{sample.scene_id}: frame {max(sample.frames)} beyond the {len(batch)} keyframes")
        yield sample, batch.select(sample.frames)
