import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers import Qwen2ForCausalLM  # noqa: E402

from ssr_runtime.model import (  # noqa: E402
    FUSION_MODES, FusionEncoder, SSRConfig, SSRModel, load_checkpoint, save_checkpoint, train_tokenizer,
)

torch.set_num_threads(2)

TEXTS = ["<|graph|>\n<box> chair#2 x=1.20 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>\n<|new|>\n"
         "<tri> lamp#1 left_of chair#2 dx=-0.80 dy=0.10 dz=0.00 </tri><|endoftext|>"] * 10


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS, vocab_size=320)


def tiny_config(tokenizer, fusion="add+interleave"):
    return SSRConfig.preset("small", tokenizer, fusion=fusion, vision_dim=32, vision_layers=1, vision_heads=2,
                            hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                            intermediate_size=128, max_position_embeddings=256)


def tiny_model(tokenizer, fusion="add+interleave", seed=0):
    torch.manual_seed(seed)
    return SSRModel(tiny_config(tokenizer, fusion)).eval()


def frames(count, seed=1):
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.rand(count, 3, 64, 64, generator=generator)
    geometry = torch.randn(count, 8, 8, 7, generator=generator) * 2
    pose = torch.randn(count, 12, generator=generator)
    return pixels, geometry, pose


@pytest.mark.parametrize("fusion", FUSION_MODES)
def test_encoder_shapes(tokenizer, fusion):
    config = tiny_config(tokenizer, fusion)
    out = FusionEncoder(config)(*frames(3))
    assert out.shape == (3, config.tokens_per_frame, config.hidden_size)
    assert torch.isfinite(out).all()


def with_running_statistics(encoder: FusionEncoder) -> FusionEncoder:
    """The encoder after one training-mode pass, so its token BatchNorm holds non-trivial running
    statistics (a fresh one is the identity at inference)."""
    encoder.train()
    encoder(*frames(8, seed=3))
    assert float(encoder.token_norm.running_mean.abs().max()) > 0
    return encoder.eval()


def test_encoder_frames_are_independent(tokenizer):
    encoder = with_running_statistics(FusionEncoder(tiny_config(tokenizer)))
    pixels, geometry, pose = frames(3)
    together = encoder(pixels, geometry, pose)
    alone = encoder(pixels[1:2], geometry[1:2], pose[1:2])
    torch.testing.assert_close(together[1:2], alone, rtol=1e-5, atol=1e-5)


def test_2d_mode_ignores_geometry_and_pose(tokenizer):
    encoder = FusionEncoder(tiny_config(tokenizer, "2d")).eval()
    pixels, geometry, pose = frames(2)
    torch.testing.assert_close(encoder(pixels, geometry, pose), encoder(pixels, geometry + 1.0, pose * 3))


def test_add_mode_uses_geometry(tokenizer):
    encoder = FusionEncoder(tiny_config(tokenizer, "add")).eval()
    pixels, geometry, pose = frames(2)
    assert not torch.allclose(encoder(pixels, geometry, pose), encoder(pixels, geometry + 1.0, pose))


def test_position_targets_are_each_cells_valid_mean_xyz_as_metres_and_phases(tokenizer):
    from ssr_runtime.model.encoder import POSITION_PERIODS_M, POSITION_TARGETS, WORLD_SCALE_M

    encoder = FusionEncoder(tiny_config(tokenizer))  # pool 2: cell 0 holds patches (0,0) (0,1) (1,0) (1,1)
    geometry = torch.zeros(1, 8, 8, 7)
    geometry[0, 0, 0, :4] = torch.tensor([1.0, 2.0, 0.5, 1.0])
    geometry[0, 1, 1, :4] = torch.tensor([2.0, 4.0, 1.5, 0.5])  # half the valid weight
    geometry[0, 0, 1, :4] = torch.tensor([float("nan"), 0.0, 0.0, 0.0])  # invalid: must not leak in
    targets, valid = encoder.position_targets(geometry)
    assert targets.shape == (1, 16, POSITION_TARGETS) and valid.shape == (1, 16)
    assert valid[0].tolist() == [1.0] + [0.0] * 15
    xyz = (torch.tensor([1.0, 2.0, 0.5]) + 0.5 * torch.tensor([2.0, 4.0, 1.5])) / 1.5
    torch.testing.assert_close(targets[0, 0, :3], xyz / WORLD_SCALE_M)
    periods = torch.tensor(POSITION_PERIODS_M)
    waves = targets[0, 0, 3:].reshape(3, 2, len(periods))  # axis, (cos, sin), period
    torch.testing.assert_close(waves[:, 0], torch.cos(2 * torch.pi * xyz[:, None] / periods))
    torch.testing.assert_close(waves[:, 1], torch.sin(2 * torch.pi * xyz[:, None] / periods))
    assert torch.isfinite(targets).all()


def test_position_loss_leaves_out_cells_without_depth_and_falls_with_training(tokenizer):
    torch.manual_seed(0)
    encoder = FusionEncoder(tiny_config(tokenizer))
    pixels, geometry, pose = frames(4)
    geometry[..., 3] = (geometry[..., 3] > 0).float()  # valid fractions in [0, 1], some patches invalid
    before = float(encoder.position_loss(encoder(pixels, geometry, pose), geometry))
    optimizer = torch.optim.Adam(encoder.parameters(), lr=3e-3)
    for _ in range(60):
        loss = encoder.position_loss(encoder(pixels, geometry, pose), geometry)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss) < 0.5 * before
    geometry[..., 3] = 0.0  # no valid cell: nothing to score
    assert float(encoder.position_loss(encoder(pixels, geometry, pose), geometry)) == 0.0
    without_head = FusionEncoder(SSRConfig.preset("small", tokenizer, position_loss_weight=0.0))
    with pytest.raises(ValueError, match="no position head"):
        without_head.position_loss(without_head(pixels, geometry, pose), geometry)


def test_interleave_puts_the_pose_token_first(tokenizer):
    encoder = FusionEncoder(tiny_config(tokenizer, "add+interleave")).eval()
    pixels, geometry, pose = frames(2)
    base = encoder(pixels, geometry, pose)
    moved = encoder(pixels, geometry, pose + 0.5)
    torch.testing.assert_close(base[:, 1:], moved[:, 1:])
    assert not torch.allclose(base[:, 0], moved[:, 0])
    regeometry = encoder(pixels, geometry + 1.0, pose)
    torch.testing.assert_close(base[:, 0], regeometry[:, 0])


def test_embed_replaces_exactly_the_vis_slots(tokenizer):
    model = tiny_model(tokenizer)
    per_frame = model.config.tokens_per_frame
    vis = model.config.vis_token_id
    text = tokenizer.encode("<box> chair#2 </box>")
    # Sample 0: one frame; sample 1: two frames, split around text. Padded with eos to one length.
    sample0 = text + [vis] * per_frame + text
    sample1 = [vis] * per_frame + text + [vis] * per_frame
    length = max(len(sample0), len(sample1))
    pad = model.config.eos_token_id
    input_ids = torch.tensor([sample0 + [pad] * (length - len(sample0)), sample1 + [pad] * (length - len(sample1))])
    pixels, geometry, pose = frames(3)
    with torch.no_grad():
        embeds = model.embed(input_ids, pixels, geometry, pose)
        tokens = model.encoder(pixels, geometry, pose).reshape(-1, model.config.hidden_size)
        table = model.lm.get_input_embeddings()(input_ids)
    slots = input_ids == vis
    torch.testing.assert_close(embeds[~slots], table[~slots])
    torch.testing.assert_close(embeds[0, len(text):len(text) + per_frame], tokens[:per_frame])
    torch.testing.assert_close(embeds[1, :per_frame], tokens[per_frame:2 * per_frame])
    start = per_frame + len(text)
    torch.testing.assert_close(embeds[1, start:start + per_frame], tokens[2 * per_frame:])


def test_slot_count_mismatch_raises(tokenizer):
    model = tiny_model(tokenizer)
    vis = model.config.vis_token_id
    input_ids = torch.tensor([[vis] * model.config.tokens_per_frame + [5]])
    with pytest.raises(ValueError, match=r"17 <\|vis\|> slots, but 2 frames × 17 tokens per frame = 34"):
        model.embed(input_ids, *frames(2))
    with pytest.raises(ValueError, match="no frames were given"):
        model.embed(input_ids)
    split = torch.tensor([[vis] * 10 + [5] * 7, [vis] * 7 + [5] * 10])
    with pytest.raises(ValueError, match=r"whole frames of 17 tokens, got \[10, 7\]"):
        model.embed(split, *frames(1))


def test_bad_frames_are_named(tokenizer):
    model = tiny_model(tokenizer)
    input_ids = torch.tensor([[model.config.vis_token_id] * model.config.tokens_per_frame])
    pixels, geometry, pose = frames(1)
    with pytest.raises(ValueError, match=r"geometry: expected shape \[1, 8, 8, 7\], got \[1, 8, 8, 6\]"):
        model.embed(input_ids, pixels, geometry[..., :6], pose)
    with pytest.raises(ValueError, match="pixels: holds NaN or inf"):
        model.embed(input_ids, pixels.clone().fill_(float("nan")), geometry, pose)
    with pytest.raises(ValueError, match="pose: expected a floating-point tensor"):
        model.embed(input_ids, pixels, geometry, pose.long())
    with pytest.raises(ValueError, match="must be given together"):
        model.embed(input_ids, pixels, None, pose)
    with pytest.raises(ValueError, match=r"input_ids: expected shape \[B, T\]"):
        model.embed(input_ids[0], pixels, geometry, pose)


def training_batch(tokenizer, model):
    prompt = tokenizer.encode("<|window|>") + [model.config.vis_token_id] * model.config.tokens_per_frame
    target = tokenizer.encode("<box> lamp#1 x=3.05 </box><|endoftext|>")
    input_ids = torch.tensor([prompt + target])
    labels = torch.tensor([[-100] * len(prompt) + target])
    return torch.tensor(prompt), input_ids, labels


def test_training_reduces_loss_and_greedy_stops_at_eos(tokenizer):
    model = tiny_model(tokenizer).train()
    prompt, input_ids, labels = training_batch(tokenizer, model)
    pixels, geometry, pose = frames(1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = model(input_ids, torch.ones_like(input_ids), labels, pixels, geometry, pose).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 5
    text = model.generate_text(tokenizer, prompt, pixels, geometry, pose, max_new_tokens=100)
    assert text == "<box> lamp#1 x=3.05 </box>"
    assert model.training, "generate_text restores the training mode"


def test_generate_respects_max_new_tokens(tokenizer):
    model = tiny_model(tokenizer)
    prompt = torch.tensor(tokenizer.encode("<|graph|>\n<box>"))
    ids = model.generate_ids(prompt, max_new_tokens=4)
    assert len(ids) == 4 and model.config.eos_token_id not in ids
    assert model.generate_ids(prompt, max_new_tokens=0) == []
    with pytest.raises(ValueError, match="prompt_ids: expected a non-empty 1-D tensor"):
        model.generate_ids(prompt.unsqueeze(0))


def test_cached_greedy_matches_full_recompute(tokenizer):
    model = tiny_model(tokenizer, seed=3)
    prompt, _, _ = training_batch(tokenizer, model)
    window = frames(1)
    text = model.generate_text(tokenizer, prompt, *window, max_new_tokens=12)
    ids = prompt.tolist()
    with torch.no_grad():
        for _ in range(12):
            next_id = int(model(torch.tensor([ids]), None, None, *window).logits[0, -1].argmax())
            if next_id == model.config.eos_token_id:
                break
            ids.append(next_id)
    assert text == tokenizer.decode(ids[len(prompt):])


def test_save_load_round_trip(tokenizer, tmp_path):
    model = tiny_model(tokenizer, seed=5)
    with_running_statistics(model.encoder)
    prompt, input_ids, _ = training_batch(tokenizer, model)
    window = frames(1)
    folder = tmp_path / "ckpt"
    save_checkpoint(folder, model, tokenizer)
    save_checkpoint(folder, model, tokenizer)  # replacing an existing folder works too
    loaded, loaded_tokenizer = load_checkpoint(folder)
    assert loaded.config == model.config
    with torch.no_grad():
        torch.testing.assert_close(loaded(input_ids, None, None, *window).logits,
                                   model(input_ids, None, None, *window).logits, rtol=0, atol=0)
    assert (loaded.generate_text(loaded_tokenizer, prompt, *window, max_new_tokens=20)
            == model.generate_text(tokenizer, prompt, *window, max_new_tokens=20))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"], "no staging folders left behind"
    assert all(f.stat().st_mode & 0o777 == 0o644 for f in folder.iterdir()), "readable like any file"


def test_checkpoint_lm_loads_as_plain_qwen2(tokenizer, tmp_path):
    model = tiny_model(tokenizer, seed=6)
    model.save_pretrained(tmp_path / "m")
    plain = Qwen2ForCausalLM.from_pretrained(tmp_path / "m").eval()
    input_ids = torch.tensor([tokenizer.encode(TEXTS[0])])
    with torch.no_grad():
        torch.testing.assert_close(plain(input_ids).logits, model(input_ids).logits)


def test_load_refuses_broken_folders(tokenizer, tmp_path):
    with pytest.raises(FileNotFoundError, match="not an SSR model folder"):
        SSRModel.from_pretrained(tmp_path)
    model = tiny_model(tokenizer)
    other = train_tokenizer(["just some other words, and more words"] * 5, vocab_size=280)
    with pytest.raises(ValueError, match="tokenizer has vocab_size"):
        save_checkpoint(tmp_path / "x", model, other)
    model.save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "ssr_config.json").write_text(model.config.replace(hidden_size=128).to_json())
    with pytest.raises(RuntimeError, match="size mismatch"):
        SSRModel.from_pretrained(tmp_path / "m")


def test_import_without_torch_names_the_extra():
    root = Path(__file__).resolve().parents[1]
    code = "import sys; sys.modules['torch'] = None; import ssr_runtime.model"
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode != 0
    assert "pip install 'ssr-runtime[train]'" in result.stderr


@pytest.mark.parametrize("fusion", ["2d", "add+interleave"])
def test_encoder_exports_with_a_dynamic_frame_count(tokenizer, fusion):
    from torch.export import Dim, export

    encoder = with_running_statistics(FusionEncoder(tiny_config(tokenizer, fusion)))
    count = Dim("frames", min=1, max=64)
    program = export(encoder, frames(2), dynamic_shapes=({0: count}, {0: count}, {0: count}))
    five = frames(5, seed=7)
    torch.testing.assert_close(program.module()(*five), encoder(*five))
