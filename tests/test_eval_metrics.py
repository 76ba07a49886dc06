"""VSI-Bench scoring: MRA edge cases, strict vs lenient parsing, aggregation."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssr_runtime.eval import metrics
from ssr_runtime.eval.metrics import Score, aggregate, mean_relative_accuracy, score
from ssr_runtime.eval.records import Question


def numeric(gt, key="object_abs_distance"):
    return Question("q", "s", key, "How far?", None, gt, {"task": key, "args": ["a", "b"]})


def choice(texts, gt, key="object_rel_direction_medium"):
    options = tuple(f"{'ABCD'[i]}. {t}" for i, t in enumerate(texts))
    return Question("q", "s", key, "Which?", options, gt, {"task": key, "args": ["a", "b", "c"]})


def test_thresholds_are_the_ten_published_values():
    assert metrics.THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


@pytest.mark.parametrize("gt", [0.7, 2.3, 3.0, 100.0, 221.0])
@pytest.mark.parametrize("k", range(11))
def test_an_error_exactly_at_a_threshold_counts_as_a_hit(gt, k):
    # Relative error 0.05 k hits every threshold θ with 1 − θ >= 0.05 k: 11 − k of them (10 for k = 0).
    expected = min(10, 11 - k) / 10
    assert mean_relative_accuracy(gt * (1 + 0.05 * k), gt) == pytest.approx(expected)
    assert mean_relative_accuracy(gt * (1 - 0.05 * k), gt) == pytest.approx(expected)


def test_just_past_a_threshold_loses_that_step():
    assert mean_relative_accuracy(105.01, 100) == pytest.approx(0.9)
    assert mean_relative_accuracy(150.01, 100) == 0.0
    assert mean_relative_accuracy(104.99, 100) == 1.0


@pytest.mark.parametrize("prediction", [0.0, -3.0, -100.0, math.nan, math.inf, -math.inf, None, 1e308])
def test_predictions_that_cannot_score(prediction):
    assert mean_relative_accuracy(prediction, 3.0) == 0.0


@pytest.mark.parametrize("gt", [0, 0.0, -1.0, math.nan, math.inf, -math.inf, True, "3"])
def test_ground_truth_must_be_a_positive_finite_number(gt):
    with pytest.raises(ValueError, match="ground_truth"):
        mean_relative_accuracy(3.0, gt)


@given(st.floats(0.01, 1e4), st.floats(0, 3))
def test_mra_is_a_step_of_a_tenth_and_shrinks_with_the_error(gt, error):
    s = mean_relative_accuracy(gt * (1 + error), gt)
    assert round(s * 10) == pytest.approx(s * 10)
    assert s >= mean_relative_accuracy(gt * (1 + error + 0.06), gt)


@pytest.mark.parametrize("answer, strict, lenient", [
    ("3.5", 3.5, 3.5),
    ("3.5.", 3.5, 3.5),
    ("  3.5 meters", 3.5, 3.5),
    ("3.5m", None, 3.5),
    ("About 3", None, 3.0),
    ("<ans> 3.50 m </ans>", None, 3.5),
    ("1,200 cm", None, 1200.0),
    ("-2", -2.0, -2.0),
    (".5", 0.5, 0.5),
    ("no idea", None, None),
    ("", None, None),
])
def test_number_parsing(answer, strict, lenient):
    assert metrics.strict_number(answer) == strict
    assert metrics.lenient_number(answer) == lenient


def test_strict_number_accepts_what_python_float_accepts():
    # VSI's parser is float(); "nan" parses and then scores 0 rather than crashing.
    assert math.isnan(metrics.strict_number("nan"))
    assert score(numeric(3.0), "nan") == Score(0.0, 0.0)
    assert metrics.strict_number("1e1") == 10.0


@pytest.mark.parametrize("answer, strict, lenient", [
    ("B", 1.0, 1.0),
    ("b", 1.0, 1.0),
    ("B.", 1.0, 1.0),
    ("B. right", 1.0, 1.0),
    ("(B)", 0.0, 1.0),
    ("<ans> B </ans>", 0.0, 1.0),
    ("The answer is B", 0.0, 1.0),
    ("I think B.", 0.0, 1.0),
    ("right", 0.0, 1.0),
    ("Right.", 0.0, 1.0),
    ("A", 0.0, 0.0),
    ("(E)", 0.0, 0.0),
    ("left or right", 0.0, 0.0),
    ("", 0.0, 0.0),
])
def test_choice_scoring_strict_and_lenient(answer, strict, lenient):
    assert score(choice(["left", "right", "back"], "B"), answer) == Score(strict, lenient)


def test_numeric_scores_use_each_parser():
    assert score(numeric(2.0), "2.0") == Score(1.0, 1.0)
    assert score(numeric(2.0), "2.05m") == Score(0.0, 1.0)
    assert score(numeric(2.0), "roughly 3 m") == Score(0.0, 0.1)


def test_aggregate_averages_keys_then_direction_levels_then_tasks():
    rows = [
        ("object_counting", Score(1.0, 1.0)), ("object_counting", Score(0.5, 0.5)),
        ("object_rel_direction_easy", Score(1.0, 1.0)),
        ("object_rel_direction_medium", Score(0.0, 1.0)), ("object_rel_direction_medium", Score(0.0, 0.0)),
        ("object_rel_direction_hard", Score(1.0, 1.0)), ("object_rel_direction_hard", Score(0.0, 0.0)),
        ("route_planning", Score(0.0, 0.0)),
    ]
    result = aggregate(rows)
    assert result["raw_keys"]["object_counting"] == {"n": 2, "strict": 75.0, "lenient": 75.0}
    # Direction: unweighted mean of easy 100, medium 0, hard 50 (not of the 5 questions).
    assert result["tasks"]["rel_direction"] == {"n": 5, "strict": pytest.approx(50.0),
                                                "lenient": pytest.approx((100 + 50 + 50) / 3)}
    assert set(result["tasks"]) == {"object_count", "rel_direction", "route_plan"}
    assert result["overall"]["strict"] == pytest.approx((75 + 50 + 0) / 3)
    assert result["overall"]["n"] == len(rows)


def test_aggregate_rejects_unknown_keys_and_nothing():
    with pytest.raises(ValueError, match="object_rel_direction"):
        aggregate([("object_rel_direction", Score(1, 1))])
    with pytest.raises(ValueError, match="nothing"):
        aggregate([])
