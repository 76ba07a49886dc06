"""`ssr compare`: the paired bootstrap of two runs' predictions, its agreement with VSI-Bench's
aggregation, and clear errors for runs that are not over the same questions."""

import json

import numpy as np
import pytest

from ssr_runtime.cli import main
from ssr_runtime.eval import compare, metrics
from ssr_runtime.eval.harness import PREDICTIONS_FILE

KEYS = ["object_counting", "object_rel_direction_easy", "object_rel_direction_hard", "route_planning"]


def write_run(folder, scores, keys=None, truths=None):
    folder.mkdir(parents=True, exist_ok=True)
    keys = keys or [KEYS[k % len(KEYS)] for k in range(len(scores))]
    lines = [json.dumps({"id": f"q{k}", "question_type": keys[k], "prediction": "A",
                         "ground_truth": (truths or {}).get(k, "A"), "strict": s, "lenient": s})
             for k, s in enumerate(scores)]
    (folder / PREDICTIONS_FILE).write_text("\n".join(lines) + "\n")
    return folder


def vsi_overall(folder):
    records = [json.loads(line) for line in (folder / PREDICTIONS_FILE).read_text().splitlines()]
    return metrics.aggregate((r["question_type"], metrics.Score(r["strict"], r["lenient"])) for r in records)


def test_the_difference_is_vsi_benchmarks_and_its_spread_shrinks_with_more_questions(tmp_path):
    rng = np.random.default_rng(0)
    spreads = []
    for n in (80, 800):
        a = write_run(tmp_path / f"a{n}", list(rng.random(n).round(3)))
        b = write_run(tmp_path / f"b{n}", list(np.clip(rng.random(n) + 0.1, 0, 1).round(3)))
        result = compare.paired_bootstrap(compare.load_predictions(a), compare.load_predictions(b), draws=500)
        expected = vsi_overall(b)["overall"]["strict"] - vsi_overall(a)["overall"]["strict"]
        assert result.overall[2] == pytest.approx(expected)
        assert result.tasks["rel_direction"][0] == pytest.approx(vsi_overall(a)["tasks"]["rel_direction"]["strict"])
        assert result.overall_draws.shape == (500,) and 0 <= result.not_positive <= 1
        spreads.append(result.overall[3])
    assert spreads[1] < spreads[0] / 2  # about 1/sqrt(10) of it


def test_a_run_against_itself_differs_by_nothing(tmp_path):
    run = compare.load_predictions(write_run(tmp_path / "a", [0.0, 1.0, 0.5, 1.0, 0.2, 0.9]))
    result = compare.paired_bootstrap(run, run, draws=200)
    assert result.overall[2] == 0 and result.overall[3] == 0 and result.not_positive == 1.0


def test_runs_over_other_questions_are_refused_by_name(tmp_path):
    a = compare.load_predictions(write_run(tmp_path / "a", [1.0, 0.0, 1.0]))
    fewer = compare.load_predictions(write_run(tmp_path / "fewer", [1.0, 0.0]))
    with pytest.raises(ValueError, match=r"1 only in a \(q2\), 0 only in fewer"):
        compare.paired_bootstrap(a, fewer)
    other = compare.load_predictions(write_run(tmp_path / "other", [1.0, 0.0, 1.0], truths={1: "B"}))
    with pytest.raises(ValueError, match="first: q1"):
        compare.paired_bootstrap(a, other)


def test_bad_prediction_files_name_the_line_and_field(tmp_path):
    run = write_run(tmp_path / "a", [1.0, 0.0])
    file = run / PREDICTIONS_FILE
    file.write_text(file.read_text() + '{"id": "q9", "question_type": "route_planning", "strict": 2}\n')
    with pytest.raises(ValueError, match=r"predictions.jsonl:3.strict: expected a score in \[0, 1\]"):
        compare.load_predictions(run)
    file.write_text('{"id": "q1", "strict": 1}\n')
    with pytest.raises(ValueError, match=r":1: missing field 'question_type'"):
        compare.load_predictions(file)
    with pytest.raises(FileNotFoundError, match="predictions.jsonl"):
        compare.load_predictions(tmp_path / "nothing")


def test_the_command_prints_the_table_and_writes_the_plot(tmp_path, capsys):
    a = write_run(tmp_path / "blind", [0.0, 1.0, 0.0, 1.0] * 5)
    b = write_run(tmp_path / "model", [1.0, 1.0, 0.0, 1.0] * 5)
    plot = tmp_path / "draws.png"
    assert main(["compare", str(a), str(b), "--draws", "300", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "| Obj. Count | 0.0 | 100.0 | +100.0 | 0.0 |" in out and "of draws at or below 0" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["compare", str(a), str(tmp_path / "missing")]) == 1
    assert "ssr compare:" in capsys.readouterr().err


def test_runs_in_folders_of_one_name_are_told_apart_by_their_parents(tmp_path, capsys):
    a = write_run(tmp_path / "2d" / "eval", [0.0, 1.0, 0.0, 1.0])
    b = write_run(tmp_path / "add" / "eval", [1.0, 1.0, 0.0, 1.0])
    assert compare.distinct_names(a, b / PREDICTIONS_FILE) == ("2d/eval", "add/eval")
    assert compare.distinct_names(write_run(tmp_path / "blind", [1.0]), b) == ("blind", "eval")
    assert main(["compare", str(a), str(b), "--draws", "100"]) == 0
    assert "| task | 2d/eval | add/eval | difference | SE |" in capsys.readouterr().out
