"""benchmarks/slot_reading.py: the probe's target orders, where its label accuracy is scored, and a short
run of a tiny LM on the shipped tokenizer that lowers the loss."""

import math
import random
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import slot_reading as sr  # noqa: E402
from ssr_runtime.model import SSRConfig, load_checkpoint  # noqa: E402


def test_targets_list_each_placed_object_once_in_the_asked_order():
    for seed in range(50):
        by_label = sr.make_sample(random.Random(seed), "label", random.Random(-seed))
        by_slot = sr.make_sample(random.Random(seed), "slot", random.Random(-seed))
        shown = {s: by_slot.labels[line] for s, line in by_slot.slots.items()}
        assert shown == {s: by_label.labels[line] for s, line in by_label.slots.items()}  # one scene, two orders
        assert by_label.lines(True) == sorted(by_label.lines(True))  # as label lists: by label, then place
        assert sorted(by_slot.lines(True)) == by_label.lines(True)  # each object keeps its place
        assert set(by_slot.labels) == set(shown.values())
        assert by_slot.labels[0] == shown[min(shown)]  # the object of the lowest slot comes first
        assert all(0 <= s < sr.SLOTS for s in by_slot.slots)
    with pytest.raises(ValueError, match="order"):
        sr.make_sample(random.Random(0), "time", random.Random(0))


def test_places_do_not_change_the_scenes_and_are_written_to_a_tenth():
    a = sr.make_sample(random.Random(4), "label", random.Random(1))
    b = sr.make_sample(random.Random(4), "label", random.Random(2))
    assert a.labels == b.labels and a.places != b.places
    line = a.lines(True)[0]
    label, x, y = line.split(" ")
    assert label == a.labels[0] and len(x.split(".")[1]) == len(y.split(".")[1]) == 1


def test_label_accuracy_scores_the_first_target_token_and_the_tokens_after_newlines():
    NL, A, B, P = 3, 5, 6, 7
    # prompt P NL, then the target A NL B 0
    ids = torch.tensor([[P, NL, A, NL, B, 0]])
    labels = torch.tensor([[sr.IGNORE, sr.IGNORE, A, NL, B, 0]])
    logits = torch.zeros(1, 6, 8)
    logits[0, 1, A] = 1  # first target token right
    logits[0, 3, A] = 1  # the label after the newline wrong (B expected)
    assert sr.label_accuracy(ids, logits, labels, NL) == 0.5


def test_place_codes_have_rms_one_and_tell_digits_apart_by_role():
    _, tokenizer = load_checkpoint(sr.DEFAULT_CHECKPOINT)
    config = SSRConfig.preset("small", tokenizer=tokenizer, fusion="add", hidden_size=32, num_hidden_layers=1,
                              num_attention_heads=2, num_key_value_heads=1, intermediate_size=64)
    table = sr.SSRModel(config).lm.get_input_embeddings().weight.detach()
    for coords in ("phase", "digits"):
        probe = sr.SlotProbe(tokenizer, config, 1.0, coords)
        code = probe.place_code(1.2, 3.4, table)
        assert float(code.pow(2).mean()) == pytest.approx(1.0, rel=1e-4)
        assert not torch.allclose(code, probe.place_code(2.1, 3.4, table))  # x's units and tenths swapped
        assert not torch.allclose(code, probe.place_code(3.4, 1.2, table))  # x and y swapped
    with pytest.raises(ValueError, match="coords"):
        sr.SlotProbe(tokenizer, config, 1.0, "words")
    assert math.isnan(sr.digit_accuracy(torch.zeros(1, 3, 8), torch.tensor([[sr.IGNORE, 5, 6]]), [1, 2]))
    logits = torch.zeros(1, 3, 8)
    logits[0, 0, 1] = 1  # the digit 1 predicted where it is the target; the 6 after it is no digit
    assert sr.digit_accuracy(logits, torch.tensor([[sr.IGNORE, 1, 6]]), [1, 2]) == 1.0


def test_a_short_run_trains_the_probe():
    _, tokenizer = load_checkpoint(sr.DEFAULT_CHECKPOINT)
    config = SSRConfig.preset("small", tokenizer=tokenizer, fusion="add", hidden_size=32, num_hidden_layers=1,
                              num_attention_heads=2, num_key_value_heads=1, intermediate_size=64)
    torch.manual_seed(0)
    probe = sr.SlotProbe(tokenizer, config, word_scale=1.0, coords="digits")
    ids, labels, mask, embeds = probe.batch([sr.make_sample(random.Random(1), "label", random.Random(2))
                                             for _ in range(4)])
    assert embeds.shape[:2] == ids.shape == labels.shape == mask.shape
    assert int((ids == probe.vis).sum(1).min()) == sr.SLOTS
    before, _, _ = sr.held_out_score(probe, "label", n=32)
    sr.train_probe(probe, "label", steps=60, batch_size=8)
    after, labels_right, digits_right = sr.held_out_score(probe, "label", n=32)
    assert after < before - 0.3 and 0.0 <= labels_right <= 1.0 and 0.0 <= digits_right <= 1.0
