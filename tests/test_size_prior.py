"""benchmarks/size_prior.py on the shipped checkpoint: it finds one direct size question per label in
a prepared stage-2 file (prompts built as training builds them) and names the candidate of highest
teacher-forced probability."""

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import size_prior  # noqa: E402
from ssr_runtime import _core  # noqa: E402
from ssr_runtime.eval.questions import COUNTING, SIZE  # noqa: E402
from ssr_runtime.eval.records import vsi_prompt  # noqa: E402
from ssr_runtime.runtime.session import DEFAULT_CHECKPOINT as CHECKPOINT  # noqa: E402
from ssr_runtime.training.samples import (DIRECT_MARK, KIND_DIRECT, KIND_SCAFFOLD, SCAFFOLD_MARK, Sample,  # noqa: E402
                                          stage2_prompt)


def sample(question: str, mark: str, kind: str, answer: str) -> Sample:
    return Sample("scene_0", (), stage2_prompt(_core.SceneGraph(), vsi_prompt(question), mark),
                  f"<ans> {answer} </ans><|endoftext|>", kind)


def test_one_direct_question_per_label_and_its_most_probable_size(tmp_path):
    samples = [sample(SIZE.format(category="book"), SCAFFOLD_MARK, KIND_SCAFFOLD, "30.00 cm"),
               sample(SIZE.format(category="book"), DIRECT_MARK, KIND_DIRECT, "24.00 cm"),
               sample(SIZE.format(category="book"), DIRECT_MARK, KIND_DIRECT, "27.00 cm"),
               sample(COUNTING.format(category="bed"), DIRECT_MARK, KIND_DIRECT, "1.00"),
               sample(SIZE.format(category="bed"), DIRECT_MARK, KIND_DIRECT, "200.00 cm")]
    (tmp_path / "stage2.jsonl").write_text("".join(json.dumps(s.to_json()) + "\n" for s in samples))
    questions = size_prior.first_question_per_label(tmp_path)
    assert list(questions) == ["bed", "book"] and questions["book"] is not None
    assert "24.00 cm" in questions["book"].target
    preferred = size_prior.preferred_sizes(CHECKPOINT, questions)
    assert preferred["book"][0] == 24.0 and preferred["bed"][0] == 200.0
    from ssr_runtime.model.modeling import load_checkpoint
    model, tokenizer = load_checkpoint(CHECKPOINT)
    model.eval()
    for label, (_, best) in preferred.items():
        scores = {c: size_prior.answer_log_prob(model, tokenizer, questions[label].prompt, f"<ans> {c}.00 cm </ans>")
                  for c in size_prior.CANDIDATES_CM}
        assert all(score < 0 for score in scores.values())
        assert best == max(scores, key=scores.get)
