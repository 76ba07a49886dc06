"""benchmarks/bench_train.py's pieces: its batch fills the window's visual slots as training does, and
one batch's loss under bfloat16 autocast stays near float32's (what `ssr train --precision bf16` runs)."""

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench_train  # noqa: E402
from ssr_runtime.model import SSRConfig, SSRModel  # noqa: E402


def test_batch_and_both_precisions_on_the_small_preset():
    torch.manual_seed(0)
    config = SSRConfig.preset("small", fusion="add")
    model = SSRModel(config).train()
    batch = bench_train.make_batch(config, samples=2, tokens=120)
    slots = (batch["input_ids"] == config.vis_token_id).sum(dim=1)
    assert slots.tolist() == [bench_train.FRAMES_PER_SAMPLE * config.tokens_per_frame] * 2
    assert batch["pixels"].shape[0] == 2 * bench_train.FRAMES_PER_SAMPLE
    with torch.no_grad():
        fp32, bf16 = (float(bench_train.total_loss(model, batch, b)) for b in (False, True))
    assert bf16 == pytest.approx(fp32, rel=0.02)
    seconds = bench_train.time_steps(model, torch.optim.AdamW(model.parameters()), batch, True, steps=1)
    assert len(seconds) == 1 and seconds[0] > 0
    with pytest.raises(SystemExit, match="--tokens"):
        bench_train.make_batch(config, samples=1, tokens=50)
