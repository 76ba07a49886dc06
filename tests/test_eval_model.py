"""The answer mapping the `model` method shares with the runtime's Session.ask: the model's <q>
program run by the engine, else the model's own <ans>."""

from pathlib import Path

import pytest

from ssr_runtime import _core
from ssr_runtime.eval.harness import MethodOptions, create_method
from ssr_runtime.eval.records import Question
from ssr_runtime.runtime.session import engine_answer, model_answer


def graph():
    g = _core.SceneGraph()
    g.add_object(_core.Object("bed", _core.Box3D((1, 1, 0.3), (2, 1.6, 0.6)), first_seen=1.0))
    g.add_object(_core.Object("lamp", _core.Box3D((3.5, 1, 0.5), (0.3, 0.3, 1.0)), first_seen=2.0))
    g.add_object(_core.Object("tv", _core.Box3D((1, 4, 1.0), (1.0, 0.2, 0.6)), first_seen=3.0))
    return g


def question(key, options=None, truth=1.0):
    return Question("q", "s", key, "?", options, truth, {"task": key, "args": []})


def test_model_answer_reads_the_first_answer():
    assert model_answer(_core.parse_document("<ans> 2.50 m </ans>\n<ans> B </ans>"))[:3] == ("2.5", 2.5, "m")
    assert model_answer(_core.parse_document("<ans> C </ans>"))[0] == "C"
    assert model_answer([]) is None


def test_engine_runs_the_models_program_on_the_models_graph():
    elements = _core.parse_document("<q> object_abs_distance bed lamp </q>\n<ans> 9.00 m </ans>")
    assert float(engine_answer(graph(), elements, ())[0]) == pytest.approx(1.35)
    program = _core.parse_document("<q> object_rel_distance bed lamp tv </q>")
    text, _, _, choice, evidence = engine_answer(graph(), program, ("A. lamp", "B. tv"))
    assert (text, choice) == ("A", "lamp") and "lamp#1" in evidence
    assert engine_answer(graph(), program, ())[0] == "lamp"  # no options: the choice itself


def test_engine_declines_a_missing_object_or_a_choice_that_is_no_option():
    assert engine_answer(graph(), _core.parse_document("<q> object_size_estimation sofa </q>"), ()) is None
    program = _core.parse_document("<q> object_rel_distance bed lamp tv </q>")
    assert engine_answer(graph(), program, ("A. tv", "B. sofa")) is None
    assert engine_answer(graph(), _core.parse_document("<ans> 3 </ans>"), ()) is None


def test_create_checks_its_options(tmp_path):
    with pytest.raises(ValueError, match="--checkpoint"):
        create_method("model", MethodOptions(tmp_path, [], 0))
    with pytest.raises(ValueError, match="--variant"):
        create_method("model", MethodOptions(tmp_path, [], 0, checkpoint=Path(tmp_path), variant="loud"))
