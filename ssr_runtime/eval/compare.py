"""Two methods' predictions on the same questions, compared with a paired bootstrap.

A benchmark of a few hundred questions moves by several points when a handful of answers change, so a
difference between two overall scores means little without its spread. The bootstrap resamples the
questions (with replacement, within each raw key, the same draw for both methods), aggregates each
draw as VSI-Bench does (`metrics.aggregate`: raw key → task → overall) and reports the spread of the
difference and the share of draws where it is not positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssr_runtime.eval.harness import PREDICTIONS_FILE
from ssr_runtime.eval.metrics import TASK_TITLES, TASKS
from ssr_runtime.files import read_jsonl


@dataclass(frozen=True)
class Predictions:
    """One run's per-question scores (`mode`, in [0, 1]) and ground truths, by question id."""

    name: str
    raw_key: dict[str, str]
    score: dict[str, float]
    truth: dict[str, object]


@dataclass(frozen=True)
class Comparison:
    """Scores in percent: per task (a, b, b - a, the standard error of b - a) and overall, with the
    share of bootstrap draws where b - a <= 0 and the draws of the overall difference themselves."""

    a: str
    b: str
    n: int
    tasks: dict[str, tuple[float, float, float, float]]
    overall: tuple[float, float, float, float]
    not_positive: float
    overall_draws: np.ndarray


def load_predictions(path: Path, mode: str = "strict", name: str | None = None) -> Predictions:
    """A run's predictions: `path` is an `ssr eval` output folder or its predictions.jsonl; `name`
    defaults to the folder's name. A bad line raises ValueError naming the file, the line and the field."""
    path = Path(path)
    file = path / PREDICTIONS_FILE if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file (an `ssr eval --out` folder holds {PREDICTIONS_FILE})")
    raw_key, score, truth = {}, {}, {}
    for where, record in read_jsonl(file):
        qid, key, value = _field(record, "id", where), _field(record, "question_type", where), \
            _field(record, mode, where)
        if not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"{where}.{mode}: expected a score in [0, 1], got {value!r}")
        if qid in score:
            raise ValueError(f"{where}.id: {qid!r} is given twice")
        raw_key[qid], score[qid], truth[qid] = key, float(value), record.get("ground_truth")
    if not score:
        raise ValueError(f"{file}: no predictions")
    return Predictions(name or _run_folder(path).name, raw_key, score, truth)


def distinct_names(a: Path, b: Path) -> tuple[str, str]:
    """The shortest tails of two runs' folder paths that tell them apart: `2d/eval` and `add/eval`
    where both folders are called `eval`."""
    parts_a, parts_b = (_run_folder(Path(p)).resolve().parts for p in (a, b))
    for k in range(1, max(len(parts_a), len(parts_b)) + 1):
        tail_a, tail_b = "/".join(parts_a[-k:]), "/".join(parts_b[-k:])
        if tail_a != tail_b:
            break
    return tail_a, tail_b


def _run_folder(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def _field(record: object, name: str, where: str):
    if not isinstance(record, dict) or name not in record:
        raise ValueError(f"{where}: missing field {name!r}")
    return record[name]


def paired_bootstrap(a: Predictions, b: Predictions, draws: int = 4000, seed: int = 0) -> Comparison:
    """`b` against `a` on the questions both answered; a question one of them lacks, or one whose
    ground truth or raw key differs between them, raises ValueError (they are not the same benchmark)."""
    ids = _common_questions(a, b)
    rng = np.random.default_rng(seed)
    by_key: dict[str, list[str]] = {}
    for qid in ids:
        by_key.setdefault(a.raw_key[qid], []).append(qid)
    unknown = sorted(set(by_key) - {k for keys in TASKS.values() for k in keys})
    if unknown:
        raise ValueError(f"question_type: unknown raw keys {unknown}")
    point_a, point_b, drawn_a, drawn_b = {}, {}, {}, {}
    for key, key_ids in by_key.items():
        scores = np.array([[a.score[q], b.score[q]] for q in key_ids])
        point_a[key], point_b[key] = scores.mean(axis=0)
        picks = rng.integers(0, len(key_ids), size=(draws, len(key_ids)))
        drawn_a[key], drawn_b[key] = scores[picks, 0].mean(axis=1), scores[picks, 1].mean(axis=1)
    tasks, task_draws = {}, []
    for task, keys in TASKS.items():
        present = [k for k in keys if k in by_key]
        if not present:
            continue
        ta, tb = (100 * np.mean([p[k] for k in present]) for p in (point_a, point_b))
        diff = 100 * np.mean([drawn_b[k] - drawn_a[k] for k in present], axis=0)
        tasks[task] = (ta, tb, tb - ta, float(diff.std()))
        task_draws.append(diff)
    overall_draws = np.mean(task_draws, axis=0)
    oa, ob = (float(np.mean([row[i] for row in tasks.values()])) for i in (0, 1))
    return Comparison(a.name, b.name, len(ids), tasks, (oa, ob, ob - oa, float(overall_draws.std())),
                      float(np.mean(overall_draws <= 0)), overall_draws)


def _common_questions(a: Predictions, b: Predictions) -> list[str]:
    only_a, only_b = sorted(set(a.score) - set(b.score)), sorted(set(b.score) - set(a.score))
    if only_a or only_b:
        raise ValueError(f"the runs answered different questions: {len(only_a)} only in {a.name} "
                         f"({', '.join(only_a[:3])}), {len(only_b)} only in {b.name} ({', '.join(only_b[:3])}); "
                         "compare runs over the same questions (the same --data and --limit)")
    ids = sorted(a.score)
    differ = [q for q in ids if a.truth[q] != b.truth[q] or a.raw_key[q] != b.raw_key[q]]
    if differ:
        raise ValueError(f"{len(differ)} questions differ in ground truth or question_type between {a.name} and "
                         f"{b.name} (first: {differ[0]}): not the same benchmark")
    return ids


def markdown(comparison: Comparison) -> str:
    """The comparison as a table: per task and overall, a, b, b - a and its standard error."""
    c = comparison
    lines = [f"### {c.b} against {c.a} ({c.n} questions, paired bootstrap of {len(c.overall_draws)} draws)", "",
             f"| task | {c.a} | {c.b} | difference | SE |", "|---|---:|---:|---:|---:|"]
    for task, (ta, tb, diff, se) in c.tasks.items():
        lines.append(f"| {TASK_TITLES[task]} | {ta:.1f} | {tb:.1f} | {diff:+.1f} | {se:.1f} |")
    oa, ob, diff, se = c.overall
    lines.append(f"| **Overall** | **{oa:.1f}** | **{ob:.1f}** | **{diff:+.1f}** | **{se:.1f}** |")
    low, high = np.percentile(c.overall_draws, [2.5, 97.5])
    lines += ["", f"Overall difference {diff:+.1f} points, standard error {se:.1f}, 95 % of draws in "
                  f"[{low:+.1f}, {high:+.1f}]; {100 * c.not_positive:.1f} % of draws at or below 0."]
    return "\n".join(lines) + "\n"


def histogram(comparison: Comparison, path: Path) -> None:
    """The bootstrap draws of the overall difference, with 0 and the observed difference marked (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    try:
        ax.hist(comparison.overall_draws, bins=60, color="tab:blue", alpha=0.8)
        ax.axvline(0, color="black", lw=1)
        ax.axvline(comparison.overall[2], color="tab:red", lw=1.5, label=f"observed {comparison.overall[2]:+.1f}")
        ax.set_xlabel(f"overall score, {comparison.b} − {comparison.a} (points)")
        ax.set_ylabel("bootstrap draws")
        ax.set_title(f"paired bootstrap, {comparison.n} questions")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
