"""benchmarks/vision_dependence.py's pieces without a dataset: --scenes parsing, how labels are found
(only after "<box" ">"; "n/a" where the tokenizer cannot mark them) and windows without a donor."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import vision_dependence as vd  # noqa: E402
from ssr_runtime.model.train import Example  # noqa: E402

BOX, CLOSE, LABEL, VOCAB = 5, 6, 7, 10


def test_scenes_need_a_slice_with_a_colon(capsys):
    assert vd.scene_slice("-50:") == slice(-50, None)
    assert vd.scene_slice("200:250") == slice(200, 250)
    for bad in ("50", "a:b"):
        with pytest.raises(ValueError, match="expected"):
            vd.scene_slice(bad)
    with pytest.raises(SystemExit):
        vd.main(["--data", "absent", "--scenes", "50", "checkpoint"])
    assert "--scenes: expected a python slice with a colon" in capsys.readouterr().err


class ConstantModel:
    """Predicts LABEL everywhere."""

    config = SimpleNamespace(eos_token_id=0)

    def __call__(self, ids, **kwargs):
        logits = torch.zeros(*ids.shape, VOCAB)
        logits[..., LABEL] = 1.0
        return SimpleNamespace(logits=logits)


class NoFrames:
    def batch(self, sources, device):
        return None, None, None, None


def test_labels_are_the_tokens_after_box_and_close_and_without_marks_accuracy_is_none():
    # target: "<box" ">" LABEL, then "<box" 9 8: only the first is a label (8 would be a miss)
    examples = [Example([1, 2, BOX, CLOSE, LABEL, 3, BOX, 9, 8], 2, "a", [0])]
    loss, accuracy = vd.score(ConstantModel(), NoFrames(), examples, examples, (BOX, CLOSE))
    assert accuracy == 1.0 and loss > 0
    assert vd.score(ConstantModel(), NoFrames(), examples, examples, None)[1] is None
    assert vd.accuracy(None) == "n/a" and vd.accuracy(0.5) == "0.50"


def test_label_marks_need_single_tokens():
    assert vd.label_marks(SimpleNamespace(get_vocab=lambda: {"<box": BOX, ">": CLOSE})) == (BOX, CLOSE)
    assert vd.label_marks(SimpleNamespace(get_vocab=lambda: {"<": 1, "box": 2, ">": CLOSE})) is None


def test_a_window_without_another_scene_of_its_frame_count_is_its_own_donor():
    a, b, c = Example([1], 0, "s1", [0]), Example([1], 0, "s2", [0]), Example([1], 0, "s3", [0, 1])
    assert vd.donors([a, b, c]) == [b, a, c]
