"""How well the scene graphs a model reads match the scans they were read from.

Each GRAPHS folder holds one `<scene_id>.json` per scan (`ssr read --data DATA --out GRAPHS --model
EXPORT`). The truth is each scan's annotated objects that a frame shows (`first_seen_t` set): what a
reader can find. Per folder, over all its scans:

- found by label: true objects whose label the graph lists, counted per label up to the number of
  true ones (precision over the graph's objects, recall over the true ones); where objects are is
  not looked at;
- found in place: one-to-one matches of a graph object to a true object of the same label whose
  centre lies within `--radius` metres (closest pairs first); this is where a reader needs to know
  where things are, the part the 3D branch gives;
- the median centre distance (m) of the matches in place, and of the closest same-label pairs with
  no radius (label-matched objects anywhere);
- what the query engine needs: the objects the benchmark's questions name (DATA/questions.jsonl,
  generated as `ssr eval` generates it when missing), held by the graph exactly once, not at all, or
  more than once; the questions whose true program the engine answers on the graph (a conclusive
  result, `structured.run_program`: the runtime's answer is then the engine's), and their mean
  score, also with a label's duplicates resolved to its most observed object as grounded sessions
  do (`structured.most_observed_referents`). The rest the language model answers alone.

Beside each folder, a reference row `NAME shuffled`: the same graphs with their objects' centres
permuted within each graph (seeded). Labels and the room's spread of positions stay; what the reader
knows of where each object is goes. In place above it is what the positions add.

    python benchmarks/graph_quality.py --data BENCH add=RUN_A/graphs-bench 2d=RUN_B/graphs-bench
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssr_runtime import _core
from ssr_runtime.data.scene import Scene
from ssr_runtime.eval.benchmark import QUESTIONS_FILE, build_benchmark, load_questions, scene_folders
from ssr_runtime.eval.metrics import score as question_score
from ssr_runtime.eval.records import Question
from ssr_runtime.eval.structured import engine_args, most_observed_referents, run_program
from ssr_runtime.files import write_text_atomic


@dataclass
class GraphScore:
    """Sums over scans; the ratios are computed at the end."""

    scans: int = 0
    read: int = 0  # objects in the graphs
    true: int = 0  # objects a frame shows
    by_label: int = 0  # matched by label count
    in_place: int = 0  # matched by label within the radius
    in_place_distances: list[float] = field(default_factory=list)
    nearest_distances: list[float] = field(default_factory=list)  # closest same-label pairs, any distance
    named: Counter = field(default_factory=Counter)  # questions' named labels by how often the graph holds them: 0, 1, 2+
    questions: int = 0  # questions that name objects
    engine_scores: list[float] = field(default_factory=list)  # of those the engine answers conclusively
    resolved_scores: list[float] = field(default_factory=list)  # ... duplicates resolved (grounded sessions)

    def row(self) -> dict[str, float]:
        def ratio(a: int, b: int) -> float:
            return a / b if b else float("nan")

        def median(values: list[float]) -> float:
            return float(np.median(values)) if values else float("nan")

        return {"objects per scan": ratio(self.read, self.scans), "true per scan": ratio(self.true, self.scans),
                "label precision": ratio(self.by_label, self.read), "label recall": ratio(self.by_label, self.true),
                "in-place precision": ratio(self.in_place, self.read), "in-place recall": ratio(self.in_place, self.true),
                "median distance, in place (m)": median(self.in_place_distances),
                "median distance, nearest same label (m)": median(self.nearest_distances),
                "named objects held once": ratio(self.named[1], sum(self.named.values())),
                "named objects missing": ratio(self.named[0], sum(self.named.values())),
                "named objects held more than once": ratio(self.named[2], sum(self.named.values())),
                "questions the engine answers": ratio(len(self.engine_scores), self.questions),
                "their mean score": _mean(self.engine_scores),
                "... a label's duplicates resolved": ratio(len(self.resolved_scores), self.questions),
                "their mean score, resolved": _mean(self.resolved_scores)}


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def closest_pairs(read: np.ndarray, true: np.ndarray, radius: float) -> list[tuple[int, int, float]]:
    """One-to-one (read index, true index, distance) pairs, closest first, each within `radius`."""
    if not len(read) or not len(true):
        return []
    distances = np.linalg.norm(read[:, None, :] - true[None, :, :], axis=2)
    pairs, used_read, used_true = [], set(), set()
    for flat in np.argsort(distances, axis=None, kind="stable"):
        i, j = np.unravel_index(flat, distances.shape)
        if distances[i, j] > radius:
            break
        if i not in used_read and j not in used_true:
            pairs.append((int(i), int(j), float(distances[i, j])))
            used_read.add(i)
            used_true.add(j)
    return pairs


def score_scan(graph: _core.SceneGraph, scene: Scene, radius: float, into: GraphScore) -> None:
    """Adds the scan's counts to `into`."""
    shown = [o for o in scene.objects if o.first_seen_t is not None]
    labels = [o.label for o in graph.objects]
    centers = np.array([o.box.center for o in graph.objects], dtype=float).reshape(-1, 3)
    into.scans += 1
    into.read += len(labels)
    into.true += len(shown)
    read_counts = Counter(labels)
    true_counts = Counter(o.label for o in shown)
    into.by_label += sum(min(n, true_counts[label]) for label, n in read_counts.items())
    for label in read_counts.keys() & true_counts.keys():
        read = centers[[i for i, name in enumerate(labels) if name == label]]
        true = np.array([o.box.center for o in shown if o.label == label], dtype=float)
        in_place = closest_pairs(read, true, radius)
        into.in_place += len(in_place)
        into.in_place_distances += [d for _, _, d in in_place]
        into.nearest_distances += [d for _, _, d in closest_pairs(read, true, np.inf)]


def score_questions(graph: _core.SceneGraph, questions: list[Question], into: GraphScore) -> None:
    """Adds, for each question that names objects, how often the graph holds each named label, and
    the score of the engine's result of the question's true program where it is conclusive."""
    held = Counter(o.label for o in graph.objects)
    for question in questions:
        labels = engine_args(question)
        if not labels:
            continue
        into.named.update(min(held[label], 2) for label in set(labels))
        into.questions += 1
        query = _core.Query(question.question_type, labels)
        resolved = most_observed_referents(graph, query)
        for scores, referents in ((into.engine_scores, graph), (into.resolved_scores, resolved)):
            result = run_program(referents, query, question.options or ())
            if result is not None and result.conclusive:
                scores.append(question_score(question, result.text).strict)


def shuffled_centres(graph: _core.SceneGraph, rng: np.random.Generator) -> _core.SceneGraph:
    """`graph`'s objects with their centres permuted among them (labels, sizes, times stay)."""
    objects = graph.objects
    order = rng.permutation(len(objects))
    shuffled = _core.SceneGraph()
    for o, source in zip(objects, order):
        box = _core.Box3D(objects[source].box.center, o.box.size, o.box.yaw)
        shuffled.add_object(_core.Object(o.label, box, id=o.id, confidence=o.confidence, first_seen=o.first_seen,
                                         last_seen=o.last_seen, observations=o.observations))
    return shuffled


def load_graph(graphs: Path, scene_id: str) -> _core.SceneGraph:
    """The graph `ssr read` wrote for a scan; a missing one is a FileNotFoundError naming it."""
    path = graphs / f"{scene_id}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{graphs}: no graph {path.name} for scan {scene_id} (read with `ssr read`)")
    return _core.SceneGraph.load(path)


def score_folder(graphs: Path, scenes: dict[str, Path], radius: float, seed: int = 0,
                 questions: list[Question] = ()) -> tuple[GraphScore, GraphScore]:
    """(as read, centres shuffled): every scan of `scenes` scored against its graph in `graphs`, and
    against its `questions`; a missing graph is an error."""
    score, shuffled, rng = GraphScore(), GraphScore(), np.random.default_rng(seed)
    by_scene: dict[str, list[Question]] = {}
    for question in questions:
        by_scene.setdefault(question.scene_id, []).append(question)
    for scene_id, folder in scenes.items():
        graph, scene = load_graph(graphs, scene_id), Scene.load(folder)
        for into, scored in ((score, graph), (shuffled, shuffled_centres(graph, rng))):
            score_scan(scored, scene, radius, into)
            score_questions(scored, by_scene.get(scene_id, []), into)
    return score, shuffled


def benchmark_questions(data: Path) -> list[Question]:
    """DATA's questions.jsonl, generated first (seed 0, as `ssr eval` does) when missing."""
    path = data / QUESTIONS_FILE
    return load_questions(path if path.is_file() else build_benchmark(data, seed=0))


def table(rows: dict[str, dict[str, float]]) -> str:
    names = list(rows)
    metrics = list(next(iter(rows.values())))
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines += [f"| {m} | " + " | ".join(f"{rows[n][m]:.2f}" for n in names) + " |" for m in metrics]
    return "\n".join(lines)


def named_folder(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=GRAPHS_FOLDER")
    return name, Path(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("graphs", nargs="+", type=named_folder, help="NAME=GRAPHS: a folder from `ssr read`")
    p.add_argument("--data", type=Path, required=True, help="the scans the graphs were read from")
    p.add_argument("--radius", type=float, default=1.0, help="metres between centres for a match in place")
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    scenes = scene_folders(args.data)
    rows = {}
    try:
        questions = benchmark_questions(args.data)
        for name, folder in args.graphs:
            score, shuffled = score_folder(folder, scenes, args.radius, questions=questions)
            rows[name], rows[f"{name} shuffled"] = score.row(), shuffled.row()
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    print(f"{len(scenes)} scans of {args.data}, in place = same label within {args.radius} m\n")
    print(table(rows))
    if args.json:
        write_text_atomic(args.json, json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
