"""How a question's answer is made from the model's scaffold (shared by the `model` and `runtime`
methods and the runtime's Session.ask): the engine runs the model's <q> program on the model's graph,
its result is fed back as a <res> line, and the model's own <ans> is the answer."""

from pathlib import Path

import pytest

from ssr_runtime import _core
from ssr_runtime.eval.harness import MethodOptions, create_method
from ssr_runtime.eval.methods.runtime import split_variant
from ssr_runtime.eval.structured import result_line, run_program
from ssr_runtime.runtime.session import _answer, model_answer


def graph():
    g = _core.SceneGraph()
    g.add_object(_core.Object("bed", _core.Box3D((1, 1, 0.3), (2, 1.6, 0.6)), first_seen=1.0))
    g.add_object(_core.Object("lamp", _core.Box3D((3.5, 1, 0.5), (0.3, 0.3, 1.0)), first_seen=2.0))
    g.add_object(_core.Object("tv", _core.Box3D((1, 4, 1.0), (1.0, 0.2, 0.6)), first_seen=3.0))
    return g


def test_model_answer_reads_the_first_answer():
    assert model_answer(_core.parse_document("<ans> 2.50 m </ans>\n<ans> B </ans>"))[:3] == ("2.5", 2.5, "m")
    assert model_answer(_core.parse_document("<ans> C </ans>"))[0] == "C"
    assert model_answer(_core.parse_document("<res> 2.00 </res>")) is None  # the engine's is not the model's
    assert model_answer([]) is None


def test_engine_runs_the_models_program_on_the_models_graph():
    result = run_program(graph(), _core.parse_query("<q> object_abs_distance bed lamp </q>"))
    assert result.value == pytest.approx(1.35) and result.unit == "m"
    assert result_line(result) == "<res> 1.35 m </res>"
    program = _core.parse_query("<q> object_rel_distance bed lamp tv </q>")
    result = run_program(graph(), program, ("A. lamp", "B. tv"))
    assert (result.text, result.choice) == ("A", "lamp") and "lamp#1" in result.evidence
    assert result_line(result) == "<res> A </res>"
    choice = run_program(graph(), program)
    assert choice.text == "lamp" and result_line(choice) == "<res> none </res>"  # no options: no letter to feed


def test_engine_declines_a_missing_object_a_number_for_options_or_a_choice_that_is_no_option():
    assert run_program(graph(), _core.parse_query("<q> object_size_estimation sofa </q>")) is None
    assert run_program(graph(), _core.parse_query("<q> object_counting bed </q>"), ("A. 1", "B. 2")) is None
    assert run_program(graph(), _core.parse_query("<q> object_rel_distance bed lamp tv </q>"), ("A. tv", "B. sofa")) is None
    assert result_line(None) == "<res> none </res>"


def test_the_result_answers_only_when_no_missing_object_can_change_it():
    own = _core.parse_document("<ans> 3.00 </ans>")
    sized = run_program(graph(), _core.parse_query("<q> object_size_estimation bed </q>"))
    assert sized.conclusive
    answer = _answer(own, sized, "raw", 0.0, {})
    assert (answer.text, answer.source, answer.engine, answer.objects) == (sized.text, "engine", sized.text, ("bed#1",))
    absent = run_program(graph(), _core.parse_query("<q> object_counting sofa </q>"))
    assert not absent.conclusive and absent.text == "0.00" and result_line(absent) == "<res> 0.00 </res>"
    answer = _answer(own, absent, "raw", 0.0, {})
    assert (answer.text, answer.source, answer.engine) == ("3", "model", "0.00")  # a room the question says has a sofa
    counted = run_program(graph(), _core.parse_query("<q> object_counting bed </q>"))
    assert not counted.conclusive and counted.text == "1.00"  # a lower bound: the graph may miss beds
    answer = _answer(own, counted, "raw", 0.0, {})
    assert (answer.text, answer.source, answer.engine, answer.objects) == ("3", "model", "1.00", ("bed#1",))
    assert answer.own == "3"


def test_letters_go_back_to_the_callers_options():
    program = _core.parse_query("<q> object_rel_distance bed lamp tv </q>")
    shown = ("A. lamp", "B. tv")  # the caller's options were "A. tv", "B. lamp"
    result = run_program(graph(), program, shown)
    answer = _answer(_core.parse_document("<ans> B </ans>"), result, "raw", 0.0, {"A": "B", "B": "A"})
    assert (answer.source, answer.text, answer.engine, answer.own) == ("engine", "B", "B", "A")
    answer = _answer(_core.parse_document("<ans> B </ans>"), None, "raw", 0.0, {"A": "B", "B": "A"})
    assert (answer.source, answer.text, answer.choice, answer.engine, answer.own) == ("model", "A", "A", "", "A")
    assert _answer([], None, "raw", 0.0, {}).source == "none"


def test_create_checks_its_options(tmp_path):
    with pytest.raises(ValueError, match="--checkpoint"):
        create_method("model", MethodOptions(tmp_path, [], 0))
    with pytest.raises(ValueError, match="--variant"):
        create_method("model", MethodOptions(tmp_path, [], 0, checkpoint=Path(tmp_path), variant="loud"))


def test_runtime_variant_is_an_answer_mode_and_or_a_model_file_and_or_grounding():
    assert split_variant(None) == ("scaffold", None, None)  # grounding as Session decides: where the heads are
    assert split_variant("direct") == ("direct", None, None)
    assert split_variant("lm-f16.gguf") == ("scaffold", "lm-f16.gguf", None)
    assert split_variant("engine, lm.onnx") == ("engine", "lm.onnx", None)
    assert split_variant("own") == ("own", None, None)
    assert split_variant("greedy,lm-f16.gguf") == ("greedy", "lm-f16.gguf", None)
    assert split_variant("grounded") == ("scaffold", None, True)
    assert split_variant("direct,grounded,lm-f16.gguf") == ("direct", "lm-f16.gguf", True)
    assert split_variant("plain,own") == ("own", None, False)
    with pytest.raises(ValueError, match="at most one answer mode"):
        split_variant("direct,engine")
    with pytest.raises(ValueError, match="one of grounded, plain"):
        split_variant("plain,grounded")
