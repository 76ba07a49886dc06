"""Which answer should `Session.ask` give? Answer policies side by side, from one pass of each question
through the runtime (an exported model on ONNX Runtime and llama.cpp).

Per question the script asks three times (scaffold, greedy numbers, direct) and scores:
- `own`: the model's own `<ans>`, written after the runtime fed it the engine's `<res>`;
- `engine`: the `<res>` alone (the C++ engine's result of the model's `<q>` program on its graph);
- `labels present`: the engine's result where the graph has every label the program names (a
  grounded session's graph with the objects it recalls), counts included, else `own` (the policy
  before counts stopped being conclusive);
- `shipped`: what `ask` answers (`ProgramResult.conclusive`: the engine's result, else `own`);
- `greedy numbers`: the same with numbers decoded greedily (`ask(greedy_numbers=True)`), not by
  expected score (runtime.numbers);
- `direct`: the answer without a scaffold;
and the share of questions where the shipped policy took the engine's result. Scores are VSI-Bench's
(strict parser), per task (the three relative-direction keys as one task) and their mean.

    python benchmarks/answer_policy.py --data VALIDATION_SCANS [--model EXPORT] [--lm-file lm-f16.gguf] [--limit N]

Use scans the model was not trained on and that are not the benchmark it is reported on
(docs/MODEL.md picks its policy on scans 250-299 of the training folder). Questions are the data
folder's questions.jsonl, generated with --seed and written there when it has none (as `ssr eval`).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from tqdm import tqdm

from ssr_runtime import _core
from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.eval import benchmark
from ssr_runtime.eval.harness import limit_per_key
from ssr_runtime.eval.metrics import score
from ssr_runtime.runtime.bundle import load_bundle
from ssr_runtime.runtime.merge import parse_lines
from ssr_runtime.runtime.session import DEFAULT_MODEL, Session

POLICIES = ("own", "engine", "labels present", "shipped", "greedy numbers", "direct", "engine taken %")


def load_questions(data: Path, seed: int, limit: int | None):
    """As `ssr eval` reads them: the folder's questions.jsonl, written first when it has none."""
    path = data / benchmark.QUESTIONS_FILE
    if not path.is_file():
        path = benchmark.build_benchmark(data, seed)
    return limit_per_key(benchmark.load_questions(path), limit)


def policy_answers(session: Session, question) -> dict[str, str | float]:
    scaffold = session.ask(question.question, question.options)
    greedy = session.ask(question.question, question.options, greedy_numbers=True)
    direct = session.ask(question.question, question.options, scaffold=False)
    program = next((e for e in parse_lines(scaffold.raw)[0] if isinstance(e, _core.Query)), None)
    # a count's labels in the graph; any other program's are where the engine's result was taken (a
    # grounded session's program runs over its graph and the objects it recalls)
    labels_present = scaffold.source == "engine" or (bool(scaffold.engine) and program is not None and (
        program.task == "object_counting" and all(session.graph.objects_with_label(label) for label in program.args)))
    return {"own": scaffold.own, "engine": scaffold.engine,
            "labels present": scaffold.engine if labels_present else scaffold.own,
            "shipped": scaffold.text, "greedy numbers": greedy.text, "direct": direct.text,
            "engine taken %": float(scaffold.source == "engine")}


def task_of(question) -> str:
    key = question.question_type
    return "object_rel_direction" if key.startswith("object_rel_direction") else key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of scans (`ssr data gen`)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="exported model folder (default: shipped)")
    parser.add_argument("--lm-file", help="the export's language-model file to use (default: the manifest's)")
    parser.add_argument("--limit", type=int, help="questions per task key")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    questions = load_questions(args.data, args.seed, args.limit)
    folders = benchmark.scene_folders(args.data)
    by_scene = defaultdict(list)
    for question in questions:
        by_scene[question.scene_id].append(question)
    bundle = load_bundle(args.model, lm_file=args.lm_file)
    scores = defaultdict(lambda: defaultdict(list))  # policy -> task -> per-question scores
    with tqdm(total=len(questions), desc="ask", unit="q") as bar:
        for scene_id, scene_questions in by_scene.items():
            session = Session(bundle)
            session.push_frames(iter_scene_frames(folders[scene_id], with_instance=False))
            for question in scene_questions:
                for policy, answer in policy_answers(session, question).items():
                    value = answer if isinstance(answer, float) else score(question, answer).strict
                    scores[policy][task_of(question)].append(value)
                bar.update()
    print_table(scores, len(questions))
    return 0


def print_table(scores, n_questions: int) -> None:
    tasks = sorted(scores["own"])
    print(f"\n{n_questions} questions; scores x100 (strict), overall = mean over tasks\n")
    print("| policy | " + " | ".join(tasks) + " | overall |")
    print("|---|" + "---:|" * (len(tasks) + 1))
    for policy in POLICIES:
        means = [100 * sum(scores[policy][t]) / len(scores[policy][t]) for t in tasks]
        print(f"| {policy} | " + " | ".join(f"{m:.1f}" for m in means) + f" | {sum(means) / len(means):.1f} |")


if __name__ == "__main__":
    raise SystemExit(main())
