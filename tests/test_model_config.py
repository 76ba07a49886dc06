import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from ssr_runtime.model import FUSION_MODES, SSRConfig, SSRModel  # noqa: E402


@pytest.mark.parametrize("fusion, expected", [("2d", 16), ("add", 16), ("add+interleave", 17)])
def test_tokens_per_frame(fusion, expected):
    assert SSRConfig(fusion=fusion).tokens_per_frame == expected


def test_tokens_per_frame_follows_grid_and_pool():
    config = SSRConfig(image_size=64, grid=16, patch=4, pool=2, fusion="add")
    assert config.tokens_per_frame == 64


def test_json_round_trip_keeps_every_field():
    config = SSRConfig.preset("base", fusion="2d", vocab_size=2000, vis_token_id=5)
    assert SSRConfig.from_json(config.to_json()) == config
    assert json.loads(config.to_json())["format"] == "ssr-model-config"


def test_small_preset_has_about_four_million_parameters():
    counts = SSRModel(SSRConfig.preset("small")).parameter_counts()
    assert counts["total"] == counts["encoder"] + counts["lm"]
    assert 3_000_000 < counts["total"] < 5_000_000


def test_qwen2_config_mirrors_the_fields():
    config = SSRConfig.preset("small", vocab_size=777)
    qwen = config.to_qwen2_config()
    assert (qwen.vocab_size, qwen.hidden_size, qwen.num_hidden_layers) == (777, 256, 4)
    assert (qwen.num_attention_heads, qwen.num_key_value_heads, qwen.intermediate_size) == (4, 2, 768)
    assert qwen.tie_word_embeddings is False and qwen.rope_theta == 10000.0 and qwen.rms_norm_eps == 1e-6


@pytest.mark.parametrize("field, value", [
    ("fusion", "3d"), ("vision_dim", 0), ("hidden_size", -4), ("image_size", 63), ("pool", 3),
    ("vision_heads", 5), ("num_key_value_heads", 3), ("vis_token_id", 5000), ("num_hidden_layers", True),
    ("rope_theta", "big"), ("geometry_features", 6), ("pose_features", 16), ("token_norm", "layer"),
    ("position_loss_weight", -1.0),
])
def test_bad_field_is_named(field, value):
    with pytest.raises(ValueError, match=f"SSRConfig.{field}"):
        SSRConfig(**{field: value})


def test_from_dict_refuses_unknown_and_wrong_types():
    with pytest.raises(ValueError, match="SSRConfig.hiden_size: unknown field"):
        SSRConfig.from_dict({"hiden_size": 128})
    with pytest.raises(ValueError, match="SSRConfig.vision_layers: expected int"):
        SSRConfig.from_dict({"vision_layers": 2.5})
    with pytest.raises(ValueError, match="expected a JSON object"):
        SSRConfig.from_dict([1, 2])


def test_from_json_checks_header_and_syntax():
    text = SSRConfig().to_json()
    with pytest.raises(ValueError, match="SSRConfig.version"):
        SSRConfig.from_json(text.replace('"version": 1', '"version": 99'))
    with pytest.raises(ValueError, match="SSRConfig.format"):
        SSRConfig.from_json(json.dumps({"config": {}}))
    with pytest.raises(ValueError, match="line 1, column"):
        SSRConfig.from_json("{oops")


def test_unknown_preset_is_named():
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        SSRConfig.preset("huge")
    assert set(FUSION_MODES) == {"2d", "add", "add+interleave"}


def test_a_config_from_before_a_field_existed_loads_with_its_old_behaviour():
    # token_norm (run 4) and position_loss_weight (run 5) were added later; earlier checkpoints lack them
    old = {k: v for k, v in SSRConfig().to_dict().items() if k not in ("token_norm", "position_loss_weight")}
    config = SSRConfig.from_dict(old)
    assert (config.token_norm, config.position_loss_weight) == ("none", 0.0)
