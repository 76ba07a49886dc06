"""benchmarks/answer_policy.py on the shipped model and the sample scene: its policies agree with what
`Session.ask` answers, and the table has a row per policy."""

import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime", reason="the runtime extra (onnxruntime) is not installed")
pytest.importorskip("llama_cpp", reason="the runtime extra (llama-cpp-python) is not installed")

from ssr_runtime.data import sample_scene_path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import answer_policy as ap  # noqa: E402


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    data = tmp_path_factory.mktemp("scans")
    shutil.copytree(sample_scene_path(), data / sample_scene_path().name)
    return data


def test_policies_are_what_ask_answers(scans):
    from ssr_runtime.data.readers import iter_scene_frames
    from ssr_runtime.runtime.session import Session

    session = Session()
    session.push_frames(iter_scene_frames(sample_scene_path(), with_instance=False))
    questions = ap.load_questions(scans, seed=0, limit=2)
    assert {q.question_type for q in questions} >= {"object_counting", "room_size_estimation"}
    for question in questions:
        answers = ap.policy_answers(session, question)
        taken = answers["engine taken %"] == 1.0
        assert answers["shipped"] == (answers["engine"] if taken else answers["own"]), question.id
        if question.question_type == "object_counting":
            assert not taken  # a count is never conclusive
        elif taken:
            assert answers["labels present"] == answers["shipped"]
        if question.question_type == "room_size_estimation":
            assert taken and answers["engine"]  # the carved outline always answers


def test_table_has_a_row_per_policy(scans, capsys):
    assert ap.main(["--data", str(scans), "--limit", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line.split(" | ")[0].lstrip("| ") for line in out.splitlines() if line.startswith("| ")]
    assert rows[1:] == list(ap.POLICIES)
