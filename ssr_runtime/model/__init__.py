"""The SSR model in PyTorch (training and export only; the runtime never imports this package).

Needs the ``train`` extra: torch, transformers, tokenizers, safetensors. See docs/MODEL.md.
"""

try:
    import safetensors  # noqa: F401
    import tokenizers  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401
except ImportError as e:
    raise ImportError(f"ssr_runtime.model needs the training extra ({e.name} is missing): "
                      "pip install 'ssr-runtime[train]'") from e

from ssr_runtime.model.config import FUSION_MODES, PRESETS, SSRConfig
from ssr_runtime.model.encoder import FusionEncoder
from ssr_runtime.model.modeling import SSRModel, load_checkpoint, save_checkpoint
from ssr_runtime.model.tokenizer import (
    COGMAP_TOKEN,
    DIRECT_TOKEN,
    EOS_TOKEN,
    GRAPH_TOKEN,
    NEW_TOKEN,
    QUESTION_TOKEN,
    SCAFFOLD_TOKEN,
    SPECIAL_TOKENS,
    VIS_TOKEN,
    WINDOW_TOKEN,
    load_tokenizer,
    train_tokenizer,
)

__all__ = [
    "COGMAP_TOKEN", "DIRECT_TOKEN", "EOS_TOKEN", "FUSION_MODES", "GRAPH_TOKEN", "NEW_TOKEN", "PRESETS",
    "QUESTION_TOKEN", "SCAFFOLD_TOKEN", "SPECIAL_TOKENS", "VIS_TOKEN", "WINDOW_TOKEN", "FusionEncoder",
    "SSRConfig", "SSRModel", "load_checkpoint", "load_tokenizer", "save_checkpoint", "train_tokenizer",
]
