"""`ssr eval`: score a method on a benchmark folder (docs/BENCHMARK.md)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    from ssr_runtime.eval.harness import available_methods

    parser = subparsers.add_parser(
        "eval", help="score a method on a VSI-Bench-style benchmark",
        description="Answer every question of DATA/questions.jsonl with a method (the file is generated from "
                    "the scene folders with --seed when missing), then write predictions.jsonl, results.json, "
                    "results.md and results.png to --out and print the table.")
    parser.add_argument("--data", type=Path, required=True, help="folder of scene folders (each with a scene.json)")
    parser.add_argument("--method", required=True, choices=available_methods(), help="how questions are answered")
    parser.add_argument("--checkpoint", type=Path, help="model checkpoint, for methods that load one")
    parser.add_argument("--variant", help="a method's variant, comma-joined parts (model: an answer mode of scaffold, "
                                          "own, engine, direct, greedy and/or grounded or plain; runtime: the same "
                                          "and/or a language-model file)")
    parser.add_argument("--train-data", type=Path,
                        help="benchmark folder or questions.jsonl whose answer statistics the blind method uses "
                             "(default: the evaluated benchmark, as VSI-Bench does)")
    parser.add_argument("--out", type=Path, help="output folder (default: DATA/results/METHOD)")
    parser.add_argument("--limit", type=_positive_int, help="at most N questions of each raw key (first in file order)")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="question generation and method seed")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)

    compare = subparsers.add_parser(
        "compare", help="two runs' scores on the same questions, with a paired bootstrap",
        description="Compare run B with run A (`ssr eval --out` folders or their predictions.jsonl) on the same "
                    "questions: per task and overall, the difference B - A and its standard error from a paired "
                    "bootstrap (questions resampled within each raw key), and the share of draws at or below 0.")
    compare.add_argument("a", type=Path, help="the reference run (such as blind)")
    compare.add_argument("b", type=Path, help="the run compared with it")
    compare.add_argument("--mode", choices=("strict", "lenient"), default="strict", help="which score (default strict)")
    compare.add_argument("--draws", type=_positive_int, default=4000, help="bootstrap draws (default 4000)")
    compare.add_argument("--seed", type=_non_negative_int, default=0, help="bootstrap seed")
    compare.add_argument("--plot", type=Path, help="write the draws of the overall difference as a PNG histogram")
    compare.set_defaults(func=run_compare)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    from ssr_runtime.eval import benchmark, harness, report

    path = args.data / benchmark.QUESTIONS_FILE
    if not path.is_file():
        path = benchmark.build_benchmark(args.data, args.seed)
        print(f"wrote {path}")
    questions = harness.limit_per_key(benchmark.load_questions(path), args.limit)
    options = harness.MethodOptions(args.data, questions, args.seed, args.checkpoint, args.train_data,
                                    args.variant)
    method = harness.create_method(args.method, options)
    out = args.out or args.data / "results" / "-".join(filter(None, (args.method, args.variant)))
    results = harness.evaluate(method, questions, args.data, out, progress=not args.no_progress)
    print(report.markdown(results))
    print(f"wrote {out}/predictions.jsonl, results.json, results.md, results.png")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from ssr_runtime.eval import compare

    name_a, name_b = compare.distinct_names(args.a, args.b)
    comparison = compare.paired_bootstrap(compare.load_predictions(args.a, args.mode, name_a),
                                          compare.load_predictions(args.b, args.mode, name_b), args.draws, args.seed)
    print(compare.markdown(comparison))
    if args.plot:
        compare.histogram(comparison, args.plot)
        print(f"wrote {args.plot}")
    return 0
