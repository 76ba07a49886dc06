"""The training texts of one scan (docs/MODEL.md, "Texts"): stage 1 (windows of keyframes → the new
objects' boxes and triplets, and cog maps) and stage 2 (the scene's graph and a benchmark question →
scaffold or answer).

Everything here works on a `Scene` and per-keyframe visibility (`KeyframeView`); reading images is
`ssr_runtime.training.dataset`'s job, so these functions are cheap to test on made-up views.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ssr_runtime import _core
from ssr_runtime.data.generate import first_seen_min_pixels
from ssr_runtime.data.scene import Scene, SceneObject
from ssr_runtime.eval.questions import display_name
from ssr_runtime.eval.records import Question
from ssr_runtime.eval.structured import ProgramResult, engine_args, result_line, run_program

WINDOW = 4  # keyframes per stage-1 window
MAX_NEW_TOKENS_WINDOW = 384  # generation budgets of the readers (torch reference and runtime alike)
MAX_NEW_TOKENS_ANSWER = 160
LOCAL_COGMAP_RES_M = 0.5
LOCAL_MARGIN_M = 0.3  # a known object is in a window's context when a patch point is this close to its box
EMPTY_WINDOWS_PER_NONEMPTY = 0.5  # at most 1 empty-target window sample per 2 others: ≤ 1 in 3
GLOBAL_COGMAP_SHARE = 0.5  # of the stage-1 cog-map samples, the share whose map is the global one
# Stage 2: the share of questions asked over a thinned graph, and the chance that thinning drops an
# object. The model answers over its own graphs, which miss objects; on true graphs only it learned
# to read the question from the objects listed (a counting question over no listed object became a
# room-size program: docs/MODEL.md, "Stage 2 over thinned graphs").
THINNED_GRAPH_SHARE = 0.5
THINNED_DROP_CHANCE = 0.5
# With a model's own graphs of the training scans (`ssr read`), the share of stage-2 questions asked
# over them: the graphs the model answers over at inference, where most programs cannot run.
OWN_GRAPH_SHARE = 0.5
COPY_TOLERANCE = 0.05  # relative: a true numeric answer this close to the engine's result becomes the result
_FED_LINE = re.compile(r"\n<res> [^\n]* </res>\n")

END = "<|endoftext|>"
VIS = "<|vis|>"
GRAPH_MARK = "<|graph|>"
WINDOW_MARK = "<|window|>"
NEW_MARK = "<|new|>"
COGMAP_MARK = "<|cogmap|>"
QUESTION_MARK = "<|question|>"
SCAFFOLD_MARK = "<|scaffold|>"
DIRECT_MARK = "<|direct|>"
LABELS_MARK = "<|labels|>"
SPECIAL_TOKENS = (END, VIS, GRAPH_MARK, WINDOW_MARK, NEW_MARK, COGMAP_MARK, QUESTION_MARK, SCAFFOLD_MARK, DIRECT_MARK,
                  LABELS_MARK)

KIND_NEW, KIND_COGMAP, KIND_LABELS, KIND_SCAFFOLD, KIND_DIRECT = "new", "cogmap", "labels", "scaffold", "direct"
STAGE1_KINDS = (KIND_NEW, KIND_COGMAP, KIND_LABELS)
STAGE2_KINDS = (KIND_SCAFFOLD, KIND_DIRECT)

# The unit each numeric raw key answers in (docs/BENCHMARK.md).
ANSWER_UNITS = {"object_counting": "", "object_abs_distance": "m", "object_size_estimation": "cm",
                "room_size_estimation": "m2"}


@dataclass(frozen=True)
class Sample:
    """One training text: `prompt` (no loss) then `target` (loss; always ends with END).
    `frames` are positions in the scan's keyframe batch (the window's frames; empty for stage 2)."""

    scene_id: str
    frames: tuple[int, ...]
    prompt: str
    target: str
    kind: str

    @property
    def text(self) -> str:
        return self.prompt + self.target

    @property
    def target_document(self) -> str:
        """The target without END: a document in the text formats of docs/FORMATS.md."""
        return self.target[: -len(END)]

    def to_json(self) -> dict:
        return {"scene_id": self.scene_id, "frames": list(self.frames), "prompt": self.prompt,
                "target": self.target, "kind": self.kind}

    @classmethod
    def from_json(cls, record: object, where: str) -> Sample:
        if not isinstance(record, dict) or set(record) != {"scene_id", "frames", "prompt", "target", "kind"}:
            raise ValueError(f"{where}: expected an object with scene_id, frames, prompt, target, kind")
        frames = record["frames"]
        if not isinstance(frames, list) or not all(isinstance(i, int) and i >= 0 for i in frames):
            raise ValueError(f"{where}.frames: expected a list of integers >= 0, got {frames!r}")
        if record["kind"] not in STAGE1_KINDS + STAGE2_KINDS:
            raise ValueError(f"{where}.kind: expected one of {STAGE1_KINDS + STAGE2_KINDS}, got {record['kind']!r}")
        if not isinstance(record["target"], str) or not record["target"].endswith(END):
            raise ValueError(f"{where}.target: expected a string ending with {END}")
        return cls(str(record["scene_id"]), tuple(frames), str(record["prompt"]), record["target"], record["kind"])


# --- keyframes, windows, visibility -------------------------------------------------------------

def keyframes(frames: Iterable) -> list[int]:
    """Indices of the keyframes among `frames` (objects with depth, K, T_wc, e.g. RGBDFrame), as
    `_core.KeyframeSelector` with its defaults picks them."""
    selector = _core.KeyframeSelector()
    return [i for i, frame in enumerate(frames) if selector.consider(frame.depth, frame.K, frame.T_wc)]


def windows(keyframe_indices: Sequence[int], size: int = WINDOW) -> list[list[int]]:
    """Consecutive groups of `size` keyframes, in order; the last group may be shorter."""
    if size < 1:
        raise ValueError(f"size: expected >= 1, got {size}")
    items = list(keyframe_indices)
    return [items[i:i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class KeyframeView:
    """What one keyframe shows: its frame index and time, and the instances that cover at least the
    visibility threshold, each with the mean column (u) of its visible pixels."""

    index: int
    t: float
    visible: dict[int, float]


def visible_instances(instance_mask: np.ndarray, min_pixels: int) -> dict[int, float]:
    """{instance_id: mean pixel column} of the instances (≠ 0) covering ≥ min_pixels of the mask."""
    labels = instance_mask.ravel().astype(np.int64)
    columns = np.broadcast_to(np.arange(instance_mask.shape[1], dtype=np.float64), instance_mask.shape).ravel()
    counts = np.bincount(labels)
    column_sums = np.bincount(labels, weights=columns)
    return {int(i): float(column_sums[i] / counts[i]) for i in np.flatnonzero(counts >= min_pixels) if i != 0}


def visibility_threshold(scene: Scene) -> int:
    """The scene's first-seen threshold in pixels (docs/DATA.md)."""
    threshold = scene.extras.get("first_seen_min_pixels")
    return int(threshold) if threshold else first_seen_min_pixels(scene.camera.width, scene.camera.height)


# --- object ids ---------------------------------------------------------------------------------

def first_views(views: Sequence[KeyframeView]) -> dict[int, tuple[int, float]]:
    """{instance_id: (position of the first keyframe showing it, its mean column there)}."""
    first: dict[int, tuple[int, float]] = {}
    for position, view in enumerate(views):
        for instance, column in view.visible.items():
            first.setdefault(instance, (position, column))
    return first


def appearance_order(scene: Scene, views: Sequence[KeyframeView]) -> list[SceneObject]:
    """The scene's objects in order of first appearance in the keyframes; within one keyframe left to
    right (what the model sees), then the objects no keyframe shows, by first_seen_t (never seen last)."""
    first = first_views(views)
    shown = sorted((o for o in scene.objects if o.instance_id in first),
                   key=lambda o: (*first[o.instance_id], o.instance_id))
    hidden = sorted((o for o in scene.objects if o.instance_id not in first),
                    key=lambda o: (o.first_seen_t is None, o.first_seen_t or 0.0, o.instance_id))
    return shown + hidden


def assign_ids(scene: Scene, views: Sequence[KeyframeView]) -> dict[int, str]:
    """{instance_id: label#n} with n counted per label in `appearance_order`, so an object first seen
    in a window always gets the next free n of its label."""
    counters: dict[str, int] = {}
    ids = {}
    for obj in appearance_order(scene, views):
        counters[obj.label] = counters.get(obj.label, 0) + 1
        ids[obj.instance_id] = f"{obj.label}#{counters[obj.label]}"
    return ids


# --- texts ----------------------------------------------------------------------------------------

def known_text(graph: _core.SceneGraph, ids: Iterable[str]) -> str:
    """The <box> lines of the objects `ids` (graph order): the known objects a prompt carries."""
    wanted = set(ids)
    return _core.format_document([_core.BoxText(o.id, o.box) for o in graph.objects if o.id in wanted])


def window_points(geometry: np.ndarray) -> np.ndarray:
    """The mean world points [M,3] of a window's valid patches (geometry [N,G,G,7]: xyz, valid, extent)."""
    geometry = np.asarray(geometry, dtype=np.float64)
    return geometry[..., :3][geometry[..., 3] > 0].reshape(-1, 3)


def local_object_ids(graph: _core.SceneGraph, geometry: np.ndarray) -> list[str]:
    """The known objects a window looks at: those within LOCAL_MARGIN_M of a patch point (graph order).
    Stage-1 prompts carry only these, so a prompt's length follows what the camera sees, not the
    scene's size (run 1 stalled on whole-graph prompts, docs/MODEL.md); the test reads the encoder's
    own inputs, so training and inference pick the same objects."""
    points = window_points(geometry)
    local = []
    for obj in graph.objects:
        box = obj.box
        d = points - np.asarray(box.center)
        c, s = math.cos(box.yaw), math.sin(box.yaw)
        in_box_frame = np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]], axis=1)
        half = np.asarray(box.size) / 2
        outside = in_box_frame - np.clip(in_box_frame, -half, half)
        if len(points) and np.min(np.linalg.norm(outside, axis=1)) <= LOCAL_MARGIN_M:
            local.append(obj.id)
    return local


def question_object_ids(graph: _core.SceneGraph, question_text: str) -> list[str]:
    """The objects whose label the question names (a label matches at a word start, in any case, so
    plurals and capitals count):
    the part of the graph a stage-2 prompt carries."""
    named = {label for label in {o.label for o in graph.objects}
             if re.search(rf"\b{re.escape(display_name(label))}", question_text, re.IGNORECASE)}
    return [o.id for o in graph.objects if o.label in named]


def subgraph(graph: _core.SceneGraph, ids: Iterable[str]) -> _core.SceneGraph:
    """A graph of the objects `ids` (no triplets) with `graph`'s room outline."""
    wanted, part = set(ids), _core.SceneGraph()
    part.room_polygon = graph.room_polygon
    for obj in graph.objects:
        if obj.id in wanted:
            part.add_object(obj)
    return part


def target_text(lines: Sequence[str]) -> str:
    return "\n".join(lines) + END


def stage1_prompt(known: str, frames: int, tokens_per_frame: int, mark: str) -> str:
    """`mark` is NEW_MARK, or COGMAP_MARK followed by a space and the anchor."""
    return f"{GRAPH_MARK}\n{known}\n{WINDOW_MARK}{VIS * (tokens_per_frame * frames)}\n{mark}\n"


def stage2_prompt(graph: _core.SceneGraph, question_prompt: str, mark: str) -> str:
    """The question (VSI-style prompt text) after the <box> lines of the objects it names."""
    context = known_text(graph, question_object_ids(graph, question_prompt))
    return f"{GRAPH_MARK}\n{context}\n{QUESTION_MARK}\n{question_prompt}\n{mark}\n"


def _box(obj: SceneObject) -> _core.Box3D:
    return _core.Box3D(obj.box.center, obj.box.size, obj.box.yaw)


def _new_graph(scene: Scene) -> _core.SceneGraph:
    graph = _core.SceneGraph()
    graph.room_polygon = [tuple(p) for p in scene.room.polygon]
    return graph


# --- stage 1 ------------------------------------------------------------------------------------

@dataclass
class Stage1:
    """A scan's stage-1 samples (window order) and the graph of every object its keyframes show."""

    samples: list[Sample]
    graph: _core.SceneGraph


def _new_objects(scene: Scene, views: Sequence[KeyframeView], window: Sequence[int], known: set[int],
                 ids: dict[int, str]) -> list[tuple[SceneObject, float]]:
    """(object, time of the keyframe that first shows it) for the objects the window shows first, in
    the chain's order: that time, then label, then n (SceneGraph.extend_chain's first_seen order)."""
    by_instance = {o.instance_id: o for o in scene.objects}
    first_t: dict[int, float] = {}
    for position in window:
        for instance in views[position].visible:
            if instance in by_instance and instance not in known:
                first_t.setdefault(instance, views[position].t)

    def chain_key(instance: int):
        label, n = ids[instance].split("#")
        return first_t[instance], label, int(n)

    return [(by_instance[i], first_t[i]) for i in sorted(first_t, key=chain_key)]


def window_names(graph: _core.SceneGraph, context: Sequence[str], new: Sequence[str] = ()) -> dict[str, str]:
    """{graph id: window-local id}: label#k counted per label over the context objects, then the new
    ones. A window's texts use these, so an id is predictable from what the prompt shows (the scene-wide
    n of an object the prompt does not list is not)."""
    counters: dict[str, int] = {}
    names = {}
    for oid in [*context, *new]:
        label = graph.object(oid).label
        counters[label] = counters.get(label, 0) + 1
        names[oid] = f"{label}#{counters[label]}"
    return names


def renamed(graph: _core.SceneGraph, names: dict[str, str]) -> _core.SceneGraph:
    """The objects `names` lists, under their new ids, in that order (no triplets)."""
    part = _core.SceneGraph()
    part.room_polygon = graph.room_polygon
    for oid, name in names.items():
        obj = graph.object(oid)
        part.add_object(_core.Object(obj.label, obj.box, id=name, first_seen=obj.first_seen, last_seen=obj.last_seen))
    return part


def _attach_lines(graph: _core.SceneGraph, new: Sequence[str], context: Sequence[str],
                  names: dict[str, str]) -> list[str]:
    """Attach the window's new objects to the chain (`SceneGraph.attach` to the context); returns
    their box and triplet lines under the window's names."""
    triplets = {t.subject: t for t in graph.attach(list(new), list(context))}
    lines = []
    for oid in new:
        lines.append(_core.format_box(names[oid], graph.object(oid).box))
        if oid in triplets:  # the first object of a window with no context starts a new piece: no triplet
            t = triplets[oid]
            lines.append(_core.format_triplet(_core.Triplet(names[t.subject], t.predicate, names[t.object], t.offset)))
    return lines


def cogmap_line(graph: _core.SceneGraph, anchor: str) -> str:
    """The <cog> line for `anchor`: 'room' (the global map) or an object id (local map, res 0.5 m)."""
    if anchor == "room":
        return _core.format_cogmap(_core.build_global_cogmap(graph))
    return _core.format_cogmap(_core.build_cogmap(graph, anchor, LOCAL_COGMAP_RES_M))


def _cogmap_anchor(graph: _core.SceneGraph, rng: np.random.Generator) -> str:
    """'room' (the global map) or one of the graph's objects (a local map), half and half: the model
    learns both, so the LocalCogMap experiment can compare them (benchmarks/cogmap_localization.py)."""
    if rng.random() < GLOBAL_COGMAP_SHARE:
        return "room"
    objects = graph.objects
    return objects[int(rng.integers(len(objects)))].id


def labels_target(scene: Scene, views: Sequence[KeyframeView], window: Sequence[int]) -> str:
    """One line per object a keyframe of the window shows: its label and the x, y of its box centre
    (0.1 m), sorted ("chair 1.2 0.4" before "chair 2.0 3.1" before "desk ..."). Its prompt has no
    context, so the frames are the only source: a training-only sample that makes the LM read what
    (run 4) and where (run 5) things are from its visual tokens (docs/MODEL.md); the runtime never
    asks for it."""
    by_instance = {o.instance_id: o for o in scene.objects}
    shown = {instance for position in window for instance in views[position].visible if instance in by_instance}
    # + 0.0 turns a rounded -0.0 into 0.0, so no "-0.0" is written
    entries = sorted((o.label, round(o.box.center[0], 1) + 0.0, round(o.box.center[1], 1) + 0.0)
                     for o in (by_instance[i] for i in shown))
    return "\n".join(f"{label} {x:.1f} {y:.1f}" for label, x, y in entries) + END


def _drop_extra_empty(samples: list[Sample], rng: np.random.Generator) -> list[Sample]:
    """Keep a random subset of the empty-target window samples: at most 1 per 2 non-empty ones."""
    empty = [i for i, s in enumerate(samples) if s.kind == KIND_NEW and s.target == END]
    nonempty = sum(1 for s in samples if s.kind == KIND_NEW and s.target != END)
    allowed = math.floor(nonempty * EMPTY_WINDOWS_PER_NONEMPTY)
    dropped = set(rng.permutation(empty)[allowed:].tolist()) if len(empty) > allowed else set()
    return [s for i, s in enumerate(samples) if i not in dropped]


def stage1_samples(scene: Scene, views: Sequence[KeyframeView], geometry: np.ndarray, ids: dict[int, str],
                   tokens_per_frame: int, rng: np.random.Generator) -> Stage1:
    """Per window of WINDOW keyframes (`geometry` [N,G,G,7]: the keyframes' encoder inputs): a NEW
    sample (given the known objects the window looks at, the objects it shows first: box and
    triplet lines); when the window has objects (context or new), a COGMAP sample: the local map,
    around one of its objects, of the known objects it looks at and the new ones; and when it shows
    objects, a LABELS sample (`labels_target`), whose target only the frames can give."""
    if tokens_per_frame < 1:
        raise ValueError(f"tokens_per_frame: expected >= 1, got {tokens_per_frame}")
    if len(geometry) != len(views):
        raise ValueError(f"geometry: expected one entry per keyframe ({len(views)}), got {len(geometry)}")
    graph, known, samples = _new_graph(scene), set(), []
    for window in windows(range(len(views))):
        local = local_object_ids(graph, geometry[window])
        new = _new_objects(scene, views, window, known, ids)
        known.update(obj.instance_id for obj, _ in new)
        for obj, t in new:
            graph.add_object(_core.Object(obj.label, _box(obj), id=ids[obj.instance_id], first_seen=t, last_seen=t))
        new_ids = [ids[obj.instance_id] for obj, _ in new]
        names = window_names(graph, local, new_ids)
        lines = _attach_lines(graph, new_ids, local, names)
        view = renamed(graph, names)
        context = known_text(view, [names[oid] for oid in local])
        prompt = stage1_prompt(context, len(window), tokens_per_frame, NEW_MARK)
        samples.append(Sample(scene.scene_id, tuple(window), prompt, target_text(lines), KIND_NEW))
        if len(view):
            anchor = _cogmap_anchor(view, rng)
            prompt = stage1_prompt(context, len(window), tokens_per_frame, f"{COGMAP_MARK} {anchor}")
            samples.append(Sample(scene.scene_id, tuple(window), prompt, target_text([cogmap_line(view, anchor)]),
                                  KIND_COGMAP))
        labels = labels_target(scene, views, window)
        if labels != END:
            samples.append(Sample(scene.scene_id, tuple(window), stage1_prompt("", len(window), tokens_per_frame,
                                                                               LABELS_MARK), labels, KIND_LABELS))
    return Stage1(_drop_extra_empty(samples, rng), graph)


# --- stage 2 ------------------------------------------------------------------------------------

def full_graph(scene: Scene, stage1_graph: _core.SceneGraph, views: Sequence[KeyframeView],
               ids: dict[int, str]) -> _core.SceneGraph:
    """Stage 1's final graph plus the objects no keyframe shows (counted by the benchmark all the
    same), added after the scan in `appearance_order` and chained on."""
    graph = _core.SceneGraph.from_json(stage1_graph.to_json())
    after_scan_t = max((v.t for v in views), default=0.0) + 1.0
    for rank, obj in enumerate(o for o in appearance_order(scene, views) if not graph.has_object(ids[o.instance_id])):
        t = after_scan_t + rank
        graph.add_object(_core.Object(obj.label, _box(obj), id=ids[obj.instance_id], first_seen=t, last_seen=t))
    graph.extend_chain()
    return graph


def answer_line(question: Question, result: ProgramResult | None = None) -> str:
    """The question's true `<ans>`; a numeric one within COPY_TOLERANCE of the engine's `result` is
    that result, so that copying `<res>` is what the model learns where `<res>` is right."""
    if question.is_numeric:
        value = float(question.ground_truth)
        if result is not None and result.value is not None and abs(result.value - value) <= COPY_TOLERANCE * abs(value):
            value = result.value
        answer = _core.Answer(value=value, unit=ANSWER_UNITS[question.question_type])
    else:
        answer = _core.Answer(choice=str(question.ground_truth))
    return _core.format_answer(answer)


def question_anchor(graph: _core.SceneGraph, question: Question) -> str | None:
    """The scaffold's cog-map anchor: 'room' for room size (the global map carries the room's extent),
    the object of the first label when that label is unique, else None (no map; nor for a room when
    the graph has neither an outline nor objects, as a model's own graph may)."""
    if question.question_type == "room_size_estimation":
        return "room" if graph.room_polygon or len(graph) else None
    args = engine_args(question)
    matches = graph.objects_with_label(args[0]) if args else []
    return matches[0].id if len(matches) == 1 else None


def scaffold_lines(graph: _core.SceneGraph, question: Question) -> list[str]:
    """Cog map (of the objects the question names, around its anchor), query program, the engine's
    result of that program on `graph` (the line the runtime feeds back), answer."""
    named = subgraph(graph, question_object_ids(graph, question.prompt))
    anchor = question_anchor(named, question)
    lines = [] if anchor is None else [cogmap_line(named, anchor)]
    query = _core.Query(question.question_type, engine_args(question))
    lines.append(_core.format_query(query))
    result = run_program(graph, query, question.options or ())
    lines.append(result_line(result))
    lines.append(answer_line(question, result))
    return lines


def target_pieces(target: str) -> list[tuple[str, bool]]:
    """`target` cut into (text, generated) pieces: the runtime's `<res>` lines, with the newlines
    around them, are fed to the model, not written by it, so they carry no loss and are tokenized
    apart from the model's text, as `Session.ask` feeds them."""
    pieces, start = [], 0
    for match in _FED_LINE.finditer(target):
        pieces += [(target[start:match.start()], True), (match.group(0), False)]
        start = match.end()
    pieces.append((target[start:], True))
    return [(text, generated) for text, generated in pieces if text]


def thinned(graph: _core.SceneGraph, rng: np.random.Generator) -> _core.SceneGraph:
    """`graph` without a random part of its objects (each dropped with THINNED_DROP_CHANCE; no
    triplets, the room outline kept)."""
    return subgraph(graph, [o.id for o in graph.objects if rng.random() >= THINNED_DROP_CHANCE])


def stage2_samples(scene_id: str, graph: _core.SceneGraph, questions: Sequence[Question],
                   rng: np.random.Generator, own_graph: _core.SceneGraph | None = None) -> list[Sample]:
    """Two samples per question: SCAFFOLD (cog map, query, the engine's result, answer) and DIRECT (the
    answer alone). With `own_graph` (what a model read of this scan), OWN_GRAPH_SHARE of the questions
    are asked over it; the rest over the whole graph or, for THINNED_GRAPH_SHARE of them, a `thinned`
    one. The query and answer are the true ones either way; the cog map is of the objects the prompt
    lists, the result the engine's on the graph shown. Options are in `canonical_options` order, as
    `Session.ask` shows them."""
    samples = []
    for question in (q.with_canonical_options() for q in questions):
        if own_graph is not None and rng.random() < OWN_GRAPH_SHARE:
            shown = own_graph
        else:
            shown = thinned(graph, rng) if rng.random() < THINNED_GRAPH_SHARE else graph
        samples.append(Sample(scene_id, (), stage2_prompt(shown, question.prompt, SCAFFOLD_MARK),
                              target_text(scaffold_lines(shown, question)), KIND_SCAFFOLD))
        samples.append(Sample(scene_id, (), stage2_prompt(shown, question.prompt, DIRECT_MARK),
                              target_text([answer_line(question)]), KIND_DIRECT))
    return samples
