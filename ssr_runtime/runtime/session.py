"""`ssr_runtime.Session`: streaming scene-graph inference over posed RGB-D frames, and spatial queries.

A session holds one scene. Frames go in one by one (`push_frame`); the C++ keyframe selector keeps
the informative ones, and every WINDOW keyframes the model reads the window — the known objects the
window looks at (text, window-local ids), the fused visual tokens of its frames — and writes the new
objects' boxes and triplets, which the C++ core parses and merges (`runtime.merge`). Memory follows
the scene, not the stream: the graph, the floor grid the keyframes' rays carve (`FloorCarver`), the
keyframes of one window and a bounded latency log. A grounded session (the default where the export has
grounding heads) also runs them on each window and moves and adds boxes where they see labels, and keeps the
cells most like each label, to recall an object a question names that the graph lacks
(runtime.grounding).

Questions (`ask`) go to the model over the graph text; it writes its scaffold under a grammar, the
scaffold's `<q>` program runs on the C++ query engine over the session graph, the runtime feeds the
result back (`<res>`), and the model writes its own `<ans>` (always an option's letter or a number;
a number is the one of highest expected score under the model's distribution: runtime.numbers).
The engine's result answers when it is conclusive (the graph holds every object the program names,
and the program is no count: a graph that misses objects undercounts); the model's `<ans>` otherwise.

Backends: the encoder as the export's TensorRT engine or on ONNX Runtime (`encoder="auto"`: the
engine where it loads here, else ONNX Runtime), the language model on llama.cpp (or, exported with
`--onnx-lm`, on ONNX Runtime), all from an exported folder (`ssr export`); one lock serialises the
model and the graph, so `ask` from another thread while frames stream in is safe.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from ssr_runtime import _core
from ssr_runtime.data.readers import RGBDFrame
from ssr_runtime.data.categories import LABELS
from ssr_runtime.eval.questions import display_name, mentioned_labels
from ssr_runtime.eval.records import canonical_options, vsi_prompt
from ssr_runtime.eval.structured import (OPTION_PATTERN, ProgramResult, most_observed_referents, result_line,
                                         run_program)
from ssr_runtime.files import array_from_text, array_to_text, write_json_atomic
from ssr_runtime.preprocess import GRID, IMAGE_SIZE, FrameBatch, FrameInputs, frame_inputs
from ssr_runtime.reconstruct import FloorCarver, frame_rays
from ssr_runtime.runtime.bundle import Bundle, load_bundle
from ssr_runtime.runtime.grammars import (ANSWER_HEAD, SCAFFOLD_MAX_CHARS, answer_grammar, answer_tail_grammar,
                                         scaffold_grammar, window_grammar)
from ssr_runtime.runtime.grounding import CellMemory, GroundingParams, ground_elements, recall_missing, sightings
from ssr_runtime.runtime.merge import ReadStats, merge_window, parse_lines
from ssr_runtime.runtime.numbers import NumberTokens, decode_number
from ssr_runtime.training.samples import (DIRECT_MARK, MAX_NEW_TOKENS_ANSWER, MAX_NEW_TOKENS_WINDOW, NEW_MARK,
                                          SCAFFOLD_MARK, SPECIAL_TOKENS, WINDOW, known_text, local_object_ids,
                                          renamed, stage1_prompt, stage2_prompt, window_names)

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "default"
DEFAULT_CHECKPOINT = DEFAULT_MODEL.parent / "default-checkpoint"  # the training checkpoint DEFAULT_MODEL is exported from
SESSION_FORMAT = "ssr-session"
SESSION_VERSION = 2  # 2: a grounded session's cell memory ("cells"); version 1 files load without one
LATENCY_SAMPLES = 4096  # per stage: the log stays bounded on an endless stream
# number: runtime.numbers; grounding: runtime.grounding (grounded sessions only)
STAGES = ("preprocess", "encoder", "grounding", "prefill", "decode", "number", "parse_merge", "query")
WHOLE_NUMBER_TASKS = frozenset({"object_counting"})  # programs whose answer is a whole number


@dataclass(frozen=True)
class SessionAnswer:
    """An answer: `text` as a VSI-Bench scorer reads it (a number, or an option letter when the question
    has options, else the engine's choice text), its `value`/`unit` or `choice`, and its `source`:
    'engine' (the C++ engine's result of the model's `<q>` program, taken when it is conclusive:
    `ProgramResult.conclusive`), 'model' (the model's own `<ans>`, written after it read that result) or
    'none'. `engine` is the engine's result either way ('' when there was no program or it could not
    run), `own` the model's `<ans>` either way ('' without one), `objects` the ids the result rests
    on; then the model's raw output (the runtime's `<res>` line included; its letters are those of the
    options as the model read them: `canonical_options`) and the latency in seconds."""

    text: str
    value: float | None
    unit: str
    choice: str | None
    source: str
    engine: str
    own: str
    objects: tuple[str, ...]
    raw: str
    latency_s: float


class LatencyLog:
    """Seconds per pipeline stage (the last LATENCY_SAMPLES of each); p50/p95 on demand."""

    def __init__(self) -> None:
        self.samples = {stage: deque(maxlen=LATENCY_SAMPLES) for stage in STAGES}
        self.decode_tokens = deque(maxlen=LATENCY_SAMPLES)  # (tokens, seconds) per generation
        self._lock = threading.Lock()  # summary() may run in another thread than the stream

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.samples[stage].append(seconds)

    def add_decode(self, tokens: int, seconds: float) -> None:
        with self._lock:
            self.decode_tokens.append((tokens, seconds))

    def summary(self) -> dict[str, dict[str, float]]:
        """{stage: {count, p50_ms, p95_ms}} for the stages that ran, plus decode tokens/s."""
        with self._lock:
            samples = {stage: list(values) for stage, values in self.samples.items()}
            decode_tokens = list(self.decode_tokens)
        table = {}
        for stage, values in samples.items():
            if values:
                ms = np.array(values) * 1e3
                table[stage] = {"count": len(ms), "p50_ms": float(np.percentile(ms, 50)),
                                "p95_ms": float(np.percentile(ms, 95))}
        tokens = sum(n for n, _ in decode_tokens)
        seconds = sum(s for _, s in decode_tokens)
        if seconds > 0:
            table["decode"]["tokens_per_s"] = tokens / seconds
        return table


class _Timer:
    def __init__(self, log: LatencyLog, stage: str):
        self.log, self.stage = log, stage

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.log.add(self.stage, self.seconds)


class Session:
    """One scene's streaming inference (module docstring). `model`: an exported folder (`ssr export`),
    a loaded `Bundle` (its backends are shared, not reopened; then encoder, lm and lm_file must be
    left out: a ValueError otherwise), or None = the shipped default.
    `encoder`: a backend name ("auto", the default: the export's TensorRT engine where it can run, else
    ONNX Runtime; "tensorrt", "onnx", "onnx-cpu", "onnx-cuda", "onnx-tensorrt"; see
    `bundle.open_encoder`) or an encoder object; `lm`: a language-model object to use instead of the
    folder's (e.g. the torch references); `lm_file`: which language-model file of the folder (default:
    the Q8_0 GGUF if present, on llama.cpp; `lm.onnx`, from `ssr export --onnx-lm`: ONNX Runtime).
    `grounding`: move the boxes the model writes to where the encoder's heads see their labels, and add
    the objects they see that it did not write (runtime.grounding). None (the default): when the model
    has the heads (an export with grounding.onnx); True: a ValueError without them; False: the graph
    as the language model writes it. A grounded session's merge then joins boxes of one label up to
    `GroundingParams.merge_distance_m` apart unless `merge` says otherwise, and `ask` runs the model's
    program with a label several objects carry resolved to the most observed of them
    (`structured.most_observed_referents`) and a label it names that the graph lacks recalled from the
    cells most like it (`grounding.recall_missing`).
    `threads`: per backend. One is the default: for this small model llama.cpp decodes faster on one
    thread than on two (3,300 vs 2,900 tokens/s on an idle 2-core machine), and its spinning threads
    slow down many times over when other work shares the cores (benchmarks/bench_stream.py)."""

    def __init__(self, model: str | Path | Bundle | None = None, *, encoder=None, lm=None, lm_file: str | None = None,
                 threads: int = 1, merge: _core.MergeParams | None = None, grounding: bool | None = None):
        if isinstance(model, Bundle):  # already loaded and checked (one per evaluation run, say)
            if encoder is not None or lm is not None or lm_file is not None:
                raise ValueError("Session(bundle): encoder, lm and lm_file choose the backends of a folder; a "
                                 "loaded Bundle has its own (pass them to load_bundle, or give the folder)")
            bundle = model
        else:
            bundle = load_bundle(Path(model) if model is not None else DEFAULT_MODEL, lm_file=lm_file,
                                 threads=threads, encoder=encoder, lm=lm)
        self.model_folder, self.config, self.tokenizer = bundle.folder, bundle.config, bundle.tokenizer
        self.encoder, self.lm = bundle.encoder, bundle.lm
        self._number_tokens = NumberTokens.of(self.tokenizer)
        if grounding is None:
            grounding = bundle.has_grounding_heads
        self.grounding = bundle.grounding_heads() if grounding else None
        self.grounding_params = GroundingParams()
        self._cells = None if self.grounding is None else CellMemory(len(self.grounding.labels) + 1)
        self.merge_params = merge or (_core.MergeParams(max_center_dist=self.grounding_params.merge_distance_m)
                                      if grounding else _core.MergeParams())
        self.latency = LatencyLog()
        self.stats = ReadStats()
        self._lock = threading.RLock()
        self._graph = _core.SceneGraph()
        self._selector = _core.KeyframeSelector()
        self._pending: list[tuple[float, object]] = []  # (t, FrameInputs) of keyframes not yet read
        self._floor = FloorCarver()
        self._room_dirty = False
        self._cached: list[int | None] = []  # the LM's KV content: token ids, None for visual tokens
        self._window_grammar = window_grammar()  # window output always parses
        self.frames_seen = 0
        self.keyframes = 0
        self.last_t: float | None = None

    # --- streaming ---------------------------------------------------------------------------------

    def push_frame(self, rgb: np.ndarray, depth: np.ndarray, K: np.ndarray, T_wc: np.ndarray, t: float) -> bool:
        """Add one posed RGB-D frame (rgb H×W×3 uint8, depth H×W float32 m or uint16 mm, K 3×3, T_wc 4×4
        camera-to-world, t seconds, increasing). Returns whether it became a keyframe. A bad frame
        raises (InvalidInputError naming the field, or ValueError for t) and changes nothing."""
        if not isinstance(t, (int, float)) or not math.isfinite(t):
            raise ValueError(f"t: expected a finite number of seconds, got {t!r}")
        with self._lock:
            if self.last_t is not None and t <= self.last_t:
                raise ValueError(f"t: frames must come in time order; got {t} after {self.last_t}")
            with _Timer(self.latency, "preprocess"):
                _core.validate_frame(rgb, depth, K, T_wc)
                rays = frame_rays(RGBDFrame(rgb, depth, K, T_wc, float(t)))
                self._floor.check(*rays)  # before any state changes: a refused frame changes nothing
                is_key = self._selector.consider(depth, K, T_wc)
                if is_key:
                    inputs = frame_inputs(rgb, depth, K, T_wc)
            self.frames_seen += 1
            self.last_t = float(t)
            if not is_key:
                return False
            self.keyframes += 1
            self._floor.add(*rays)
            self._room_dirty = True
            self._pending.append((float(t), inputs))
            if len(self._pending) == WINDOW:
                self._read_window()
            return True

    def push_frames(self, frames: Iterable[RGBDFrame], progress: bool = False) -> int:
        """push_frame for each frame (objects with rgb, depth, K, T_wc, t), then flush; returns the
        number of keyframes."""
        from tqdm import tqdm

        count = 0
        for frame in tqdm(frames, desc="frames", unit="frame", disable=not progress):
            count += self.push_frame(frame.rgb, frame.depth, frame.K, frame.T_wc, frame.t)
        self.flush()
        return count

    def flush(self) -> None:
        """Read the keyframes waiting for a full window (call at the end of a stream)."""
        with self._lock:
            if self._pending:
                self._read_window()

    def _read_window(self) -> None:
        times, inputs = zip(*self._pending)
        self._pending = []
        batch = FrameBatch.stack(list(inputs))
        context = local_object_ids(self._graph, batch.geometry)
        names = window_names(self._graph, context)
        prompt = stage1_prompt(known_text(renamed(self._graph, names), names.values()), len(batch),
                               self.config.tokens_per_frame, NEW_MARK)
        with _Timer(self.latency, "encoder"):
            tokens = self.encoder.encode(batch.pixels, batch.geometry, batch.pose)
        text = self._generate(self._encode(prompt), tokens.reshape(-1, tokens.shape[-1]), MAX_NEW_TOKENS_WINDOW,
                              self._window_grammar)[0]
        ground = None
        if self.grounding is not None:
            with _Timer(self.latency, "grounding"):
                probabilities, xyz = self.grounding.cells(batch.pixels, batch.geometry, batch.pose)
                self._cells.add(probabilities, xyz, times[0])
                found = sightings(probabilities, xyz, self.grounding.labels, self.grounding_params)
            ground = partial(ground_elements, known_ids=set(names.values()), found=found, sizes=self.grounding.sizes)
        with _Timer(self.latency, "parse_merge"):
            self.stats.outputs.append(text)
            if len(self.stats.outputs) > WINDOW:  # keep the last few outputs for inspection only
                self.stats.outputs.pop(0)
            merge_window(self._graph, text, times[0], names, self.merge_params, self.stats, ground)

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    @contextmanager
    def _clearing_on_failure(self):
        """The LM's cache cleared when the block fails, so one bad request never breaks the next."""
        try:
            yield
        except Exception:
            self.lm.reset()
            self._cached = []
            raise

    def _answer_line(self, ids: list[int], letters: list[str] | None, greedy_numbers: bool,
                     integer: bool = False) -> str:
        """The model's `<ans>` line after `ids`: with `letters`, the likeliest of them (greedy, under
        `answer_grammar`); without, the number of highest expected score (runtime.numbers; with
        `integer`, a whole one), then its unit, greedily; with `greedy_numbers`, the greedy number."""
        if letters is not None or greedy_numbers:
            return self._generate(ids, None, MAX_NEW_TOKENS_ANSWER, answer_grammar(letters))[0]
        prompt = ids + self._encode(ANSWER_HEAD)
        self._generate(prompt, None, 0)
        with self._clearing_on_failure(), _Timer(self.latency, "number"):
            number, number_ids = decode_number(self.lm, self._number_tokens, integer)
        tail = self._generate(prompt + number_ids, None, MAX_NEW_TOKENS_ANSWER, answer_tail_grammar())[0]
        return ANSWER_HEAD + number + tail

    def _generate(self, ids: list[int], visual: np.ndarray | None, max_new_tokens: int,
                  grammar: str | None = None) -> tuple[str, list[int]]:
        """(text, token ids) of the greedy continuation of `ids`, its <|vis|> slots filled with `visual`
        rows in order. Pieces of a prompt are tokenized apart, as in training (the runtime's `<res>`
        line after the model's own tokens). The LM's cache keeps the longest prefix shared with the
        previous prompt; after a failure it is cleared, so one bad request never breaks the next."""
        vis = self.config.vis_token_id
        rows = 0 if visual is None else len(visual)
        if ids.count(vis) != rows:
            raise ValueError(f"prompt: {ids.count(vis)} <|vis|> slots for {rows} visual tokens")
        sequence = [None if i == vis else i for i in ids]
        shared = 0
        # One new position at least yields the next logits; the cache may hold another session's tokens
        # (a shared Bundle), which this session's record does not cover.
        limit = min(len(sequence) - 1, self.lm.position, len(self._cached))
        while shared < limit and sequence[shared] is not None and sequence[shared] == self._cached[shared]:
            shared += 1
        with self._clearing_on_failure():
            with _Timer(self.latency, "prefill"):
                self.lm.truncate(shared)
                self._cached = sequence[:shared]
                self.lm.prefill(_segments(ids[shared:], visual, vis))
            with _Timer(self.latency, "decode") as timer:
                new_ids = self.lm.generate(max_new_tokens, grammar=grammar)
        self.latency.add_decode(len(new_ids), timer.seconds)
        self._cached = sequence + list(new_ids)
        return self.tokenizer.decode(new_ids, skip_special_tokens=False), list(new_ids)

    # --- reading the scene ---------------------------------------------------------------------------

    @property
    def graph(self) -> _core.SceneGraph:
        """A copy of the scene graph so far (room outline included)."""
        with self._lock:
            return _core.SceneGraph.from_json(self._current_graph().to_json())

    def _current_graph(self) -> _core.SceneGraph:
        if self._room_dirty:
            self._graph.room_polygon = self._floor.outline()
            self._room_dirty = False
        return self._graph

    def cogmap(self, anchor: str, res: float = 0.5) -> _core.CogMap:
        """The LocalCogMap around object `anchor` ('room': the global map over the room's extent)."""
        with self._lock:
            graph = self._current_graph()
            if anchor == "room":
                return _core.build_global_cogmap(graph)
            return _core.build_cogmap(graph, anchor, res)

    def ground(self, phrase: str) -> _core.Box3D:
        """The box of the object `phrase` names: an id ('chair#2') or a label ('chair', 'coffee table')
        that exactly one object has. Ambiguity or no match raises QueryError, listing the candidates."""
        with self._lock:
            graph = self._current_graph()
            wanted = phrase.strip()
            if graph.has_object(wanted):
                return graph.object(wanted).box
            matches = [o for o in graph.objects
                       if wanted.lower() in (o.label.lower(), display_name(o.label).lower())]
            if len(matches) != 1:
                found = ", ".join(o.id for o in matches) or "none"
                raise _core.QueryError(f"ground: {phrase!r} matches {len(matches)} objects ({found}); "
                                       "name one by its id")
            return matches[0].box

    def ask(self, question: str, options: Sequence[str] | None = None, scaffold: bool = True,
            greedy_numbers: bool = False) -> SessionAnswer:
        """Answer a spatial question (VSI-Bench style; `options` like "A. left") over the graph so far
        (keyframes waiting for a full window are not read early, so asking does not change how the
        stream is read). The model writes its scaffold under `scaffold_grammar` — a LocalCogMap and a
        `<q>` program naming only labels the question or its options mention (`mentioned_labels`; any
        label when they mention none); the C++ engine runs the program on the graph and the runtime writes its result
        back as a `<res>` line; then the model writes its `<ans>` under `answer_grammar` (one of the
        options' letters, or a number: the one of highest expected score, runtime.numbers). The
        engine's result is the answer when it is conclusive (`ProgramResult.conclusive`), the model's
        `<ans>` otherwise (SessionAnswer.source).
        The model reads the options sorted by text (`canonical_options`, as it was trained); the
        answer's letters are the caller's.
        A count (the model's program is `object_counting`) is a whole number.
        `scaffold=False`: the direct answer alone; `greedy_numbers=True`: numbers decoded greedily
        (the ablations). A bad option or a control token in the text is refused (ValueError)."""
        check_options(options)
        shown, original = canonical_options(options) if options else (None, {})
        letters = list(original) or None
        for field, text in [("question", question), *(("options", o) for o in options or ())]:
            control = next((token for token in SPECIAL_TOKENS if token in text), None)
            if control is not None:
                raise ValueError(f"{field}: contains the model's control token {control!r}")
        started = time.perf_counter()
        prompt = vsi_prompt(question, shown)
        with self._lock:
            graph = self._current_graph()
            if not scaffold:
                raw = self._answer_line(self._encode(stage2_prompt(graph, prompt, DIRECT_MARK)), letters,
                                        greedy_numbers)
                return _answer(parse_lines(raw)[0], None, raw, started, original)
            ids = self._encode(stage2_prompt(graph, prompt, SCAFFOLD_MARK))
            named = mentioned_labels(" ".join([question, *(options or ())]), LABELS) or None
            written, new_ids = self._generate(ids, None, SCAFFOLD_MAX_CHARS + 1,  # + the end
                                              scaffold_grammar(letters, named))
            query = next((e for e in parse_lines(written)[0] if isinstance(e, _core.Query)), None)
            with _Timer(self.latency, "query"):
                result = None
                if query is not None:
                    result = run_program(self._referents(graph, query), query, list(shown or ()))
            fed = f"\n{result_line(result)}\n"
            whole = query is not None and query.task in WHOLE_NUMBER_TASKS
            own = self._answer_line(ids + new_ids + self._encode(fed), letters, greedy_numbers, whole)
            return _answer(parse_lines(own)[0], result, written + fed + own, started, original)

    def _referents(self, graph: _core.SceneGraph, query: _core.Query) -> _core.SceneGraph:
        """The graph the program runs on: the session's, or for a grounded session a copy with a label the
        program needs unique resolved to its most observed object and each label it names that the graph
        lacks recalled (the question says the room holds it: runtime.grounding)."""
        if self.grounding is None:
            return graph
        referents = most_observed_referents(graph, query)
        recall_missing(referents, list(query.args), self._cells, self.grounding.labels, self.grounding.sizes,
                       self.grounding_params)
        return referents

    # --- persistence ---------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the session — graph, floor grid, keyframes waiting for their window, stream position —
        to `path` atomically: a crash mid-save leaves the previous file intact. Saving does not change
        how the stream is read; a loaded session continues it (its keyframe selector starts afresh)."""
        with self._lock:
            pending = [{"t": t, **{name: array_to_text(getattr(inputs, name))
                                   for name in ("pixels", "geometry", "pose")}} for t, inputs in self._pending]
            record = {"format": SESSION_FORMAT, "version": SESSION_VERSION, "graph": self._graph.to_json(),
                      "floor": self._floor.to_json(), "pending": pending, "frames_seen": self.frames_seen,
                      "keyframes": self.keyframes, "last_t": self.last_t,
                      "cells": None if self._cells is None else self._cells.to_json()}
            write_json_atomic(Path(path), record)

    @classmethod
    def load(cls, path: str | Path, model: str | Path | None = None, **kwargs) -> Session:
        """A session continuing from a saved file (with `model`, or the shipped default). A damaged or
        foreign file raises ValueError naming the file and the field."""
        import json

        path = Path(path)
        try:
            record = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: not a readable session file ({e})") from None
        if not isinstance(record, dict) or record.get("format") != SESSION_FORMAT:
            raise ValueError(f"{path}: format: expected {SESSION_FORMAT!r}")
        if record.get("version") not in (1, SESSION_VERSION):
            raise ValueError(f"{path}: version: expected 1 or {SESSION_VERSION}, got {record.get('version')!r}")
        session = cls(model, **kwargs)
        field = "graph"
        try:
            session._graph = _core.SceneGraph.from_json(record[field])
            field = "floor"
            session._floor = FloorCarver.from_json(record[field])
            field = "pending"
            session._pending = [(float(p["t"]), _frame_inputs_from_json(p)) for p in record[field]]
            for field in ("frames_seen", "keyframes", "last_t"):
                setattr(session, field, record[field])
            field = "cells"
            if record.get(field) is not None:  # kept as saved even by a session that does not ground
                session._cells = _cells_from_json(record[field], session.grounding)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: {field}: {e}") from None
        session._room_dirty = True
        return session

    def close(self) -> None:
        """Free the backends' native resources (llama.cpp's context, a TensorRT engine's device memory);
        the session is unusable after."""
        for backend in (self.lm, self.encoder):
            if hasattr(backend, "close"):
                backend.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _frame_inputs_from_json(record: dict) -> FrameInputs:
    return FrameInputs(array_from_text(record["pixels"], np.uint8, (3, IMAGE_SIZE, IMAGE_SIZE)),
                       array_from_text(record["geometry"], np.float32, (GRID, GRID, 7)),
                       array_from_text(record["pose"], np.float32, (12,)))


def _cells_from_json(record: dict, heads) -> CellMemory:
    """A saved CellMemory; a ValueError when it does not fit the grounding heads `heads` (None: any)."""
    cells = CellMemory.from_json(record)
    if heads is not None and cells.probability.shape[0] != len(heads.labels) + 1:
        raise ValueError(f"{cells.probability.shape[0]} label classes, the model's grounding heads have "
                         f"{len(heads.labels) + 1}")
    return cells


def _segments(ids: list[int], visual: np.ndarray | None, vis: int) -> list:
    """`ids` cut into runs: token-id lists, and for each run of <|vis|> slots the next rows of `visual`."""
    segments, row, k = [], 0, 0
    while k < len(ids):
        end, is_vis = k, ids[k] == vis
        while end < len(ids) and (ids[end] == vis) == is_vis:
            end += 1
        if is_vis:
            segments.append(np.ascontiguousarray(visual[row:row + end - k], dtype=np.float32))
            row += end - k
        else:
            segments.append(list(ids[k:end]))
        k = end
    return segments


def check_options(options: Sequence[str] | None) -> None:
    """VSI-style options ("A. left"): one of another form, or a letter given twice, raises ValueError
    naming it."""
    letters = set()
    for k, option in enumerate(options or ()):
        match = OPTION_PATTERN.match(option)
        if match is None:
            raise ValueError(f"options[{k}]: expected 'LETTER. text' (like 'A. left'), got {option!r}")
        if match.group(1) in letters:
            raise ValueError(f"options[{k}]: letter {match.group(1)} is given twice")
        letters.add(match.group(1))


def model_answer(elements: list):
    """(text, value, unit, choice) of the model's own first <ans> among `elements`; None without one."""
    own = next((e for e in elements if isinstance(e, _core.Answer)), None)
    if own is None:
        return None
    if own.value is not None:
        return f"{own.value:.4g}", own.value, own.unit, None
    return own.choice, None, "", own.choice


def _answer(elements: list, result: ProgramResult | None, raw: str, started: float,
            original: dict[str, str]) -> SessionAnswer:
    """The SessionAnswer, its letters mapped back from the model's (`canonical_options`) to the
    caller's through `original` (letter → letter; empty without options)."""
    engine, evidence = ("", ()) if result is None else (original.get(result.text, result.text), result.evidence)
    own = model_answer(elements)
    own_text = "" if own is None else original.get(own[0], own[0])
    if result is not None and result.conclusive:
        chosen, source = (engine, result.value, result.unit, result.choice), "engine"
    elif own is not None:
        chosen, source = (own_text, own[1], own[2], own_text if own[3] else None), "model"
    else:
        chosen, source = ("", None, "", None), "none"
    return SessionAnswer(*chosen, source, engine, own_text, evidence, raw, time.perf_counter() - started)
