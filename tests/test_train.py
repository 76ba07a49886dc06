"""Training end to end on two tiny generated scans: the loss falls, a run resumes where it stopped,
and the checkpoint reads a scan into a parseable graph."""

import json

import pytest
import torch

from ssr_runtime import _core
from ssr_runtime.data.readers import iter_scene_frames
from ssr_runtime.eval.benchmark import scene_folders
from ssr_runtime.model import load_checkpoint
from ssr_runtime.model.train import TrainSettings, learning_rate, make_batches, train
from ssr_runtime.runtime.merge import parse_lines
from ssr_runtime.runtime.session import Session
from ssr_runtime.runtime.torch_backends import checkpoint_bundle
from ssr_runtime.training.samples import MAX_NEW_TOKENS_WINDOW


@pytest.fixture(scope="module")
def scans(generated_scans):
    return generated_scans(scenes=2, seed=3, frames=24, width=96, height=72)


def settings(scans, out, **changes):
    values = dict(stage=1, data=scans, out=out, steps=30, batch_tokens=2048, lr=3e-3, warmup_steps=5,
                  log_every=5, save_every=10, vocab_size=400, threads=2)
    values.update(changes)
    return TrainSettings(**values)


def log(out):
    return [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]


def test_stage1_loss_falls_and_stage2_continues(scans, tmp_path):
    train(settings(scans, tmp_path / "s1", encoder_epochs=8), progress=False)
    epochs = [r for r in log(tmp_path / "s1") if "encoder_epoch" in r]
    assert len(epochs) == 8
    for name in ("patch_loss", "position_loss"):  # the small preset has both heads
        assert epochs[-1][name] < 0.7 * epochs[0][name], name
    assert all("position_loss" in r for r in log(tmp_path / "s1") if "step" in r)
    losses = [r["loss"] for r in log(tmp_path / "s1") if "step" in r]
    assert losses[-1] < 0.8 * losses[0]
    assert (tmp_path / "s1" / "loss.png").stat().st_size > 0
    train(settings(scans, tmp_path / "s2", stage=2, init=tmp_path / "s1", steps=10), progress=False)
    model, _ = load_checkpoint(tmp_path / "s2" / "checkpoint")
    assert model.config.fusion == "add+interleave"
    assert log(tmp_path / "s2")[-1]["step"] == 10


def test_resume_continues_from_the_saved_step(scans, tmp_path):
    out = tmp_path / "run"
    train(settings(scans, out, steps=10, save_every=5), progress=False)
    train(settings(scans, out, steps=20, save_every=5), progress=False)
    steps = [r["step"] for r in log(out) if "step" in r]
    assert steps == [5, 10, 15, 20]
    assert sum("encoder_epoch" in r for r in log(out)) == 12  # pre-trained once, not again on resume


def test_align_steps_train_on_label_lists_first(scans, tmp_path):
    out = tmp_path / "aligned"
    train(settings(scans, out, steps=20, align_steps=10, encoder_epochs=0), progress=False)
    kinds = [set(r["kinds"]) for r in log(out) if "step" in r]
    assert kinds[:2] == [{"labels"}, {"labels"}]  # steps 1-10
    assert all("new" in k for k in kinds[2:])  # steps 11-20: every kind again
    with pytest.raises(ValueError, match="--align-steps: stage 1 only"):
        train(settings(scans, tmp_path / "s2", stage=2, init=out, align_steps=5), progress=False)


def test_bf16_training_lowers_the_loss_and_saves_float32_weights(scans, tmp_path):
    out = tmp_path / "bf16"
    train(settings(scans, out, encoder_epochs=2, precision="bf16"), progress=False)
    losses = [r["loss"] for r in log(out) if "step" in r]
    assert losses[-1] < 0.8 * losses[0]
    model, _ = load_checkpoint(out / "checkpoint")
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    with pytest.raises(ValueError, match="--precision: expected one of fp32, bf16"):
        train(settings(scans, tmp_path / "fp16", precision="fp16"), progress=False)


def test_stage2_needs_a_stage1_checkpoint(scans, tmp_path):
    with pytest.raises(ValueError, match="--init"):
        train(settings(scans, tmp_path / "s2", stage=2), progress=False)


def test_learning_rate_warms_up_then_decays():
    s = TrainSettings(stage=1, data=".", out=".", steps=100, lr=1.0, warmup_steps=10)
    assert learning_rate(0, s.lr, s.steps, s.warmup_steps) == pytest.approx(0.1)
    assert learning_rate(9, s.lr, s.steps, s.warmup_steps) == pytest.approx(1.0)
    assert learning_rate(99, s.lr, s.steps, s.warmup_steps) == pytest.approx(0.1, abs=0.01)


def test_batches_respect_the_token_budget():
    import random

    from ssr_runtime.model.train import Example

    examples = [Example(list(range(n)), [False] + [True] * (n - 1), "s", []) for n in (10, 50, 30, 200, 90, 60)]
    batches = make_batches(examples, 200, random.Random(0))
    assert sorted(len(e.ids) for b in batches for e in b) == sorted(len(e.ids) for e in examples)
    assert all(max(len(e.ids) for e in b) * len(b) <= 200 for b in batches)


def test_batches_group_lengths_within_windows_in_a_seeded_order():
    """Little padding, yet equal samples (one prompt, as every room-size question) do not arrive as
    one burst (docs/MODEL.md, "Run 3")."""
    import random

    from ssr_runtime.model.train import Example

    draw = random.Random(1)
    lengths = [draw.randint(20, 400) for _ in range(900)] + [60] * 100
    examples = [Example(list(range(n)), [False] + [True] * (n - 1), f"s{i}", []) for i, n in enumerate(lengths)]
    batches = make_batches(examples, 2048, random.Random(0))
    assert make_batches(examples, 2048, random.Random(0)) == batches
    assert sorted(e.scene_id for b in batches for e in b) == sorted(e.scene_id for e in examples)
    padded = sum(max(len(e.ids) for e in b) * len(b) for b in batches) / sum(lengths)
    assert padded < 1.25  # in one shuffled order: 1.7
    equal = [sum(e.scene_id in {f"s{i}" for i in range(900, 1000)} for e in b) for b in batches]
    assert max(equal) <= 25 and sum(n > 0 for n in equal) >= 5


def test_checkpoint_reads_a_scan_and_answers_through_a_session(scans, tmp_path):
    """A barely trained checkpoint on the torch backends: the window grammar keeps every whole line it
    writes parseable (a window may stop mid-line at its token budget: merge counts that line as bad),
    and the scaffold grammar makes every answer one of the options (or a number)."""
    train(settings(scans, tmp_path / "s1", steps=4), progress=False)
    folder = next(iter(scene_folders(scans).values()))
    bundle = checkpoint_bundle(tmp_path / "s1" / "checkpoint")
    session = Session(bundle)
    session.push_frames(iter_scene_frames(folder, with_instance=False))
    assert session.stats.windows >= 1 and session.stats.outputs
    for text in session.stats.outputs:  # the last windows' outputs: every whole line parses (raises if not)
        *whole, last = text.split("\n")
        _core.parse_document("\n".join(whole))
        if not parse_lines(last)[0] and last.strip():  # cut off mid-line only by the token budget
            assert len(bundle.tokenizer.encode(text).ids) >= 0.9 * MAX_NEW_TOKENS_WINDOW  # re-encoded: a few fewer
    graph = session.graph
    assert len(graph.room_polygon) >= 4  # carved from depth, whatever the model wrote
    assert all(obj.id.startswith(obj.label + "#") for obj in graph.objects)
    choice = session.ask("Which is closer to the bed?", ["A. lamp", "B. chair", "C. desk"])
    assert choice.text in ("A", "B", "C") and choice.engine in ("", "A", "B", "C")
    number = session.ask("How many chair(s) are in this room?")
    assert number.value is not None and "\n<res> " in number.raw
    direct = session.ask("Which is closer to the bed?", ["A. lamp", "B. chair"], scaffold=False)
    assert direct.text in ("A", "B") and direct.engine == ""
    bundle.lm.close()


def test_parse_lines_keeps_good_lines_and_counts_bad_ones():
    text = ("<box> chair#1 x=1.00 y=2.00 z=0.40 l=0.50 w=0.50 h=0.80 yaw=0.00 </box>\n"
            "<box> chair#2 x=oops </box>\n\n<ans> B </ans>")
    elements, bad = parse_lines(text)
    assert bad == 1
    assert [type(e) for e in elements] == [_core.BoxText, _core.Answer]


def test_train_cli_names_a_bad_setting_without_a_traceback(tmp_path, capsys):
    from ssr_runtime.cli import main

    assert main(["train", "--stage", "1", "--data", str(tmp_path), "--out", str(tmp_path / "run"),
                 "--graphs", str(tmp_path)]) == 1
    assert "--graphs: stage 2 only" in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_tokenize_feeds_the_result_line_without_loss():
    """The runtime's `<res>` line (and the newlines around it) is tokenized apart and carries no loss:
    the model learns its program and its answer, not the engine's result."""
    from ssr_runtime.model.train import tokenize
    from ssr_runtime.training.samples import KIND_SCAFFOLD, Sample

    def characters(text, add_special_tokens=False):  # one id per character, so the pieces show
        return {"input_ids": [ord(c) for c in text]}

    target = "<q> room_size_estimation </q>\n<res> 2.00 m2 </res>\n<ans> 2.10 m2 </ans><|endoftext|>"
    [example] = tokenize([Sample("s", (), "PROMPT", target, KIND_SCAFFOLD)], characters, 1000, progress=False)
    assert "".join(map(chr, example.ids)) == "PROMPT" + target
    written = "".join(chr(i) for i, generated in zip(example.ids, example.generated) if generated)
    assert written == "<q> room_size_estimation </q><ans> 2.10 m2 </ans><|endoftext|>"
    assert tokenize([Sample("s", (), "PROMPT", target, KIND_SCAFFOLD)], characters, 20, progress=False) == []
