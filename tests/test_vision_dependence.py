"""benchmarks/vision_dependence.py's pieces without a dataset: --scenes parsing, how labels and
coordinate digits are found (only after their marks; "n/a" where the tokenizer cannot mark them),
windows without a donor, and the patch head's accuracy on object patches."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import vision_dependence as vd  # noqa: E402
from ssr_runtime.model.train import Example  # noqa: E402

BOX, CLOSE, LABEL, X, EQ, VOCAB = 5, 6, 7, 3, 4, 10
MARKS = vd.Marks(label=((BOX, CLOSE),), coordinate=((X, EQ),))


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


def test_labels_and_digits_are_the_tokens_after_their_marks_and_without_marks_accuracy_is_none():
    # target: "<box" ">" LABEL (a hit), X "=" 8 (a digit, missed), X "=" LABEL (a hit), "<box" 9 8 (no mark)
    examples = [Example([1, 2, BOX, CLOSE, LABEL, X, EQ, 8, X, EQ, LABEL, BOX, 9, 8], [False] * 2 + [True] * 12, "a", [0])]
    result = vd.score(ConstantModel(), NoFrames(), examples, examples, MARKS)
    assert result.label_accuracy == 1.0 and result.coordinate_accuracy == 0.5 and result.loss > 0
    unmarked = vd.score(ConstantModel(), NoFrames(), examples, examples, None)
    assert unmarked.label_accuracy is None and unmarked.coordinate_accuracy is None
    assert vd.accuracy(None) == "n/a" and vd.accuracy(0.5) == "0.50"


def test_label_list_labels_are_the_tokens_after_a_newline():
    # prompt ends "\n"; target: LABEL 8 (a hit, then a coordinate token), "\n" 9 (a miss), "\n" LABEL, 0 (end)
    NEWLINE = 2
    examples = [Example([1, NEWLINE, LABEL, 8, NEWLINE, 9, NEWLINE, LABEL, 0], [False] * 2 + [True] * 7, "a", [0])]
    marks = vd.find_marks(SimpleNamespace(get_vocab=lambda: {"\u010a": NEWLINE}), vd.KIND_LABELS)
    assert marks == vd.Marks(label=((NEWLINE,),), coordinate=())
    result = vd.score(ConstantModel(), NoFrames(), examples, examples, marks)
    assert result.label_accuracy == pytest.approx(2 / 3) and result.coordinate_accuracy is None
    assert vd.find_marks(SimpleNamespace(get_vocab=lambda: {}), vd.KIND_LABELS) is None


def test_marks_need_single_tokens():
    vocab = {"<box": 1, ">": 2, "\u0120x": 3, "\u0120y": 4, "=": 5, "=-": 6}
    marks = vd.find_marks(SimpleNamespace(get_vocab=lambda: vocab))
    assert marks.label == ((1, 2),) and set(marks.coordinate) == {(3, 5), (3, 6), (4, 5), (4, 6)}
    split = {k: v for k, v in vocab.items() if k != "<box"} | {"<": 7, "box": 8}
    assert vd.find_marks(SimpleNamespace(get_vocab=lambda: split)) is None


def test_a_window_without_another_scene_of_its_frame_count_is_its_own_donor():
    a, b, c = Example([1], [True], "s1", [0]), Example([1], [True], "s2", [0]), Example([1], [True], "s3", [0, 1])
    assert vd.donors([a, b, c]) == [b, a, c]


def test_patch_accuracy_counts_only_the_patches_that_show_an_object():
    labels = torch.tensor([[0, 2, 2], [1, 0, 3]])
    logits = torch.nn.functional.one_hot(torch.tensor([[1, 2, 0], [1, 1, 3]]), 4).float()
    assert vd.object_patch_accuracy(logits, labels) == pytest.approx(3 / 4)  # patch (0, 2) predicts "none"
    assert vd.object_patch_accuracy(logits, torch.zeros_like(labels)) is None
