"""SSRConfig: every size of the SSR model (fusion encoder + Qwen2 language model) in one dataclass.

The language model's part maps one to one onto ``transformers.Qwen2Config`` (``to_qwen2_config``), so
the folder written by ``SSRModel.save_pretrained`` is a plain Qwen2 checkpoint for the GGUF exporter.
Token ids of ``<|vis|>`` and ``<|endoftext|>`` live here too, so a model never needs its tokenizer to
place visual tokens.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from typing import Any

from ssr_runtime.data.categories import LABELS

FUSION_MODES = ("2d", "add", "add+interleave")
TOKEN_NORMS = ("none", "batch")
PATCH_CLASSES = len(LABELS) + 1  # class 0: no object
CONFIG_FORMAT = "ssr-model-config"
CONFIG_VERSION = 1


@dataclass(frozen=True)
class SSRConfig:
    # Fusion encoder (see docs/MODEL.md): image_size = grid * patch; pooling pool×pool patches.
    image_size: int = 64
    grid: int = 8
    patch: int = 8
    vision_dim: int = 128
    vision_layers: int = 2
    vision_heads: int = 4
    geometry_features: int = 7
    pose_features: int = 12
    pool: int = 2
    fusion: str = "add+interleave"
    # "batch": the projected visual tokens pass a BatchNorm without affine (running statistics at
    # inference, so it exports as a fixed affine map). Without it the projector learned one large
    # shared vector (mean cosine 0.993 between tokens) that left the LM nothing to read (docs/MODEL.md).
    token_norm: str = "none"
    # Training-only auxiliary head: each patch's label class (0 = none, i = LABELS[i-1]) from the
    # instance masks, a dense signal that teaches the encoder what it sees (docs/MODEL.md). 0 = no head.
    patch_classes: int = 0
    patch_loss_weight: float = 0.2
    # Training-only auxiliary head: each visual token's cell position (mean world xyz of its patches)
    # read linearly from the token, as the metres and as phases that map onto the digits the LM writes.
    # Without it the tokens held x, y only coarsely (linear R² 0.73, docs/MODEL.md run 5). 0 = no head.
    position_loss_weight: float = 0.0
    # Language model: a Qwen2ForCausalLM. vocab_size and the two token ids come from the tokenizer.
    vocab_size: int = 1024
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    intermediate_size: int = 768
    max_position_embeddings: int = 2048
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = False
    vis_token_id: int = 1
    eos_token_id: int = 0

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def pooled_grid(self) -> int:
        return self.grid // self.pool

    @property
    def visual_tokens_per_frame(self) -> int:
        return self.pooled_grid * self.pooled_grid

    @property
    def tokens_per_frame(self) -> int:
        """Slots one frame fills: the pooled visual tokens, plus one pose token when interleaving."""
        return self.visual_tokens_per_frame + (1 if self.fusion == "add+interleave" else 0)

    @classmethod
    def preset(cls, name: str, tokenizer: Any = None, **overrides: Any) -> SSRConfig:
        """A named preset ('small': CPU, about 4M parameters; 'base': one GPU, about 100M).

        With a tokenizer (a PreTrainedTokenizerFast from ``train_tokenizer``), vocab_size and the
        special token ids are taken from it; ``overrides`` replace any field last.
        """
        if name not in PRESETS:
            raise ValueError(f"SSRConfig.preset: unknown preset {name!r}, expected one of {sorted(PRESETS)}")
        values = dict(PRESETS[name])
        if tokenizer is not None:
            values.update(tokenizer_fields(tokenizer))
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> SSRConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, record: Any) -> SSRConfig:
        """Inverse of to_dict. Unknown keys are refused (a typo must not silently fall back to a default);
        missing keys take the defaults."""
        if not isinstance(record, dict):
            raise ValueError(f"SSRConfig: expected a JSON object, got {type(record).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(record) - set(known))
        if unknown:
            raise ValueError(f"SSRConfig.{unknown[0]}: unknown field (known: {', '.join(known)})")
        for key, value in record.items():
            _check_type(key, value, known[key].type)
        return cls(**record)

    def to_json(self) -> str:
        return json.dumps({"format": CONFIG_FORMAT, "version": CONFIG_VERSION, "config": self.to_dict()}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> SSRConfig:
        try:
            record = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"SSRConfig: line {e.lineno}, column {e.colno}: {e.msg}") from None
        if not isinstance(record, dict) or record.get("format") != CONFIG_FORMAT:
            raise ValueError(f"SSRConfig.format: expected {CONFIG_FORMAT!r}")
        if record.get("version") != CONFIG_VERSION:
            raise ValueError(f"SSRConfig.version: this reader knows version {CONFIG_VERSION}, got {record.get('version')!r}")
        return cls.from_dict(record.get("config"))

    def to_qwen2_config(self) -> Any:
        from transformers import Qwen2Config

        return Qwen2Config(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            num_key_value_heads=self.num_key_value_heads,
            max_position_embeddings=self.max_position_embeddings,
            rope_theta=self.rope_theta,
            rms_norm_eps=self.rms_norm_eps,
            tie_word_embeddings=self.tie_word_embeddings,
            use_sliding_window=False,
            bos_token_id=self.eos_token_id,
            eos_token_id=self.eos_token_id,
            pad_token_id=self.eos_token_id,
        )


PRESETS: dict[str, dict[str, Any]] = {
    "small": dict(patch_classes=PATCH_CLASSES, token_norm="batch", position_loss_weight=1.0),
    "base": dict(patch_classes=PATCH_CLASSES, token_norm="batch", position_loss_weight=1.0, vision_dim=384, vision_layers=6, vision_heads=6, hidden_size=768, num_hidden_layers=12,
                 num_attention_heads=12, num_key_value_heads=4, intermediate_size=2048,
                 max_position_embeddings=4096),
}


def tokenizer_fields(tokenizer: Any) -> dict[str, int]:
    """vocab_size and special token ids as a tokenizer from ``train_tokenizer`` has them."""
    from ssr_runtime.model.tokenizer import EOS_TOKEN, VIS_TOKEN

    return {"vocab_size": len(tokenizer), "vis_token_id": tokenizer.convert_tokens_to_ids(VIS_TOKEN),
            "eos_token_id": tokenizer.convert_tokens_to_ids(EOS_TOKEN)}


def _check_type(name: str, value: Any, annotation: str) -> None:
    expected = {"int": int, "float": (int, float), "bool": bool, "str": str}[annotation]
    # bool is an int in Python; a JSON true must not pass as a layer count.
    if isinstance(value, bool) and annotation != "bool" or not isinstance(value, expected):
        raise ValueError(f"SSRConfig.{name}: expected {annotation}, got {value!r}")


def _validate(c: SSRConfig) -> None:
    if c.patch_classes < 0 or c.patch_loss_weight < 0:
        raise ValueError("SSRConfig.patch_classes and patch_loss_weight: must be >= 0")
    if c.position_loss_weight < 0:
        raise ValueError(f"SSRConfig.position_loss_weight: must be >= 0, got {c.position_loss_weight}")
    for f in fields(c):
        _check_type(f.name, getattr(c, f.name), f.type)
    positive = ["image_size", "grid", "patch", "vision_dim", "vision_layers", "vision_heads", "geometry_features",
                "pose_features", "pool", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                "num_key_value_heads", "intermediate_size", "max_position_embeddings", "rope_theta", "rms_norm_eps"]
    for name in positive:
        if not getattr(c, name) > 0:
            raise ValueError(f"SSRConfig.{name}: must be > 0, got {getattr(c, name)!r}")
    # The encoder's input scaling is written for these layouts (docs/MODEL.md); the fields record them.
    if c.geometry_features != 7:
        raise ValueError(f"SSRConfig.geometry_features: the pool_patches layout has 7, got {c.geometry_features}")
    if c.pose_features != 12:
        raise ValueError(f"SSRConfig.pose_features: the top three rows of T_wc have 12, got {c.pose_features}")
    if c.fusion not in FUSION_MODES:
        raise ValueError(f"SSRConfig.fusion: expected one of {FUSION_MODES}, got {c.fusion!r}")
    if c.token_norm not in TOKEN_NORMS:
        raise ValueError(f"SSRConfig.token_norm: expected one of {TOKEN_NORMS}, got {c.token_norm!r}")
    if c.image_size != c.grid * c.patch:
        raise ValueError(f"SSRConfig.image_size: must equal grid * patch = {c.grid * c.patch}, got {c.image_size}")
    if c.grid % c.pool:
        raise ValueError(f"SSRConfig.pool: must divide grid = {c.grid}, got {c.pool}")
    if c.vision_dim % c.vision_heads:
        raise ValueError(f"SSRConfig.vision_heads: must divide vision_dim = {c.vision_dim}, got {c.vision_heads}")
    if c.hidden_size % c.num_attention_heads:
        raise ValueError(f"SSRConfig.num_attention_heads: must divide hidden_size = {c.hidden_size}, "
                         f"got {c.num_attention_heads}")
    if c.num_attention_heads % c.num_key_value_heads:
        raise ValueError(f"SSRConfig.num_key_value_heads: must divide num_attention_heads = "
                         f"{c.num_attention_heads}, got {c.num_key_value_heads}")
    for name in ("vis_token_id", "eos_token_id"):
        if not 0 <= getattr(c, name) < c.vocab_size:
            raise ValueError(f"SSRConfig.{name}: must be in [0, vocab_size = {c.vocab_size}), got {getattr(c, name)}")
    if c.vis_token_id == c.eos_token_id:
        raise ValueError(f"SSRConfig.vis_token_id: must differ from eos_token_id = {c.eos_token_id}")
