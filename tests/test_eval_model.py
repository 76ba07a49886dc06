"""The `model` method's answer mapping: the model's own <ans>, or its <q> program run by the engine."""

from pathlib import Path

import pytest

from ssr_runtime import _core
from ssr_runtime.eval.harness import MethodOptions, create_method
from ssr_runtime.eval.methods.model import answer_text, engine_text
from ssr_runtime.eval.records import Question


def graph():
    g = _core.SceneGraph()
    g.add_object(_core.Object("bed", _core.Box3D((1, 1, 0.3), (2, 1.6, 0.6)), first_seen=1.0))
    g.add_object(_core.Object("lamp", _core.Box3D((3.5, 1, 0.5), (0.3, 0.3, 1.0)), first_seen=2.0))
    g.add_object(_core.Object("tv", _core.Box3D((1, 4, 1.0), (1.0, 0.2, 0.6)), first_seen=3.0))
    return g


def question(key, options=None, truth=1.0):
    return Question("q", "s", key, "?", options, truth, {"task": key, "args": []})


def test_answer_text_reads_the_first_answer():
    assert answer_text(_core.parse_document("<ans> 2.50 m </ans>\n<ans> B </ans>"), question("object_abs_distance")) == "2.5"
    assert answer_text(_core.parse_document("<ans> C </ans>"), question("object_rel_distance")) == "C"
    assert answer_text([], question("object_counting")) == ""


def test_engine_runs_the_models_program_on_the_models_graph():
    elements = _core.parse_document("<q> object_abs_distance bed lamp </q>\n<ans> 9.00 m </ans>")
    assert float(engine_text(graph(), elements, question("object_abs_distance"))) == pytest.approx(1.35)
    q = question("object_rel_distance", ("A. lamp", "B. tv"), "A")
    assert engine_text(graph(), _core.parse_document("<q> object_rel_distance bed lamp tv </q>"), q) == "A"


def test_engine_declines_a_program_for_another_task_or_a_missing_object():
    assert engine_text(graph(), _core.parse_document("<q> object_counting bed </q>"), question("object_size_estimation")) is None
    assert engine_text(graph(), _core.parse_document("<q> object_size_estimation sofa </q>"),
                       question("object_size_estimation")) is None


def test_create_checks_its_options(tmp_path):
    with pytest.raises(ValueError, match="--checkpoint"):
        create_method("model", MethodOptions(tmp_path, [], 0))
    with pytest.raises(ValueError, match="--variant"):
        create_method("model", MethodOptions(tmp_path, [], 0, checkpoint=Path(tmp_path), variant="loud"))
