"""benchmarks/slot_reading.py: the probe's target orders, where its label accuracy is scored, and a short
run of a tiny LM on the shipped tokenizer that lowers the loss."""

import random
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import slot_reading as sr  # noqa: E402
from ssr_runtime.data.categories import LABELS  # noqa: E402
from ssr_runtime.model import SSRConfig, load_checkpoint  # noqa: E402


def test_targets_list_each_placed_object_once_in_the_asked_order():
    for seed in range(50):
        by_label = sr.make_sample(random.Random(seed), "label")
        by_slot = sr.make_sample(random.Random(seed), "slot")
        assert by_label.slots == by_slot.slots  # the same scene, two orders
        assert by_label.labels == sorted(by_label.labels)
        assert sorted(by_slot.labels) == by_label.labels
        shown = [LABELS[by_slot.slots[s]] for s in sorted(by_slot.slots)]
        assert set(by_slot.labels) == set(shown)
        assert by_slot.labels[0] == shown[0]  # the object of the lowest slot comes first
        assert all(0 <= s < sr.SLOTS for s in by_slot.slots)
    with pytest.raises(ValueError, match="order"):
        sr.make_sample(random.Random(0), "time")


def test_label_accuracy_scores_the_first_target_token_and_the_tokens_after_newlines():
    NL, A, B, P = 3, 5, 6, 7
    # prompt P NL, then the target A NL B 0
    ids = torch.tensor([[P, NL, A, NL, B, 0]])
    labels = torch.tensor([[sr.IGNORE, sr.IGNORE, A, NL, B, 0]])
    logits = torch.zeros(1, 6, 8)
    logits[0, 1, A] = 1  # first target token right
    logits[0, 3, A] = 1  # the label after the newline wrong (B expected)
    assert sr.label_accuracy(ids, logits, labels, NL) == 0.5


def test_a_short_run_trains_the_probe():
    _, tokenizer = load_checkpoint(sr.DEFAULT_CHECKPOINT)
    config = SSRConfig.preset("small", tokenizer=tokenizer, fusion="add", hidden_size=32, num_hidden_layers=1,
                              num_attention_heads=2, num_key_value_heads=1, intermediate_size=64)
    torch.manual_seed(0)
    probe = sr.SlotProbe(tokenizer, config, word_scale=1.0)
    ids, labels, mask, embeds = probe.batch([sr.make_sample(random.Random(1), "label") for _ in range(4)])
    assert embeds.shape[:2] == ids.shape == labels.shape == mask.shape
    assert int((ids == probe.vis).sum(1).min()) == sr.SLOTS
    before, _ = sr.held_out_score(probe, "label", n=32)
    sr.train_probe(probe, "label", steps=60, batch_size=8)
    after, accuracy = sr.held_out_score(probe, "label", n=32)
    assert after < before - 0.3 and 0.0 <= accuracy <= 1.0
