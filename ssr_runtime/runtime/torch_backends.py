"""The PyTorch reference backends: the same interfaces as the runtime's, run on an ``SSRModel``.

Used to check the exported backends against the model they came from, and to run a checkpoint
without exporting it (``checkpoint_bundle``: a Session on the torch model reads and answers exactly as
on the exported one, grammars included). Needs the ``train`` extra (torch, transformers).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers.cache_utils import DynamicCache

from ssr_runtime.runtime.bundle import TOKENIZER_FILE, Bundle, ModelInfo
from ssr_runtime.runtime.encoders import Encoder, EncoderShapes, unit_pixels
from ssr_runtime.runtime.llama_lm import GrammarVocabulary
from ssr_runtime.runtime.lm import LanguageModel, TokenConstraint


class TorchEncoder(Encoder):
    """An SSRModel's (or a bare FusionEncoder's) encoder, in eval mode, on the model's device."""

    def __init__(self, model) -> None:
        self.encoder = getattr(model, "encoder", model)
        c = self.encoder.config
        self.shapes = EncoderShapes(c.image_size, c.grid, c.geometry_features, c.pose_features,
                                    c.tokens_per_frame, c.hidden_size)

    @torch.no_grad()
    def _run(self, pixels: np.ndarray, geometry: np.ndarray, pose: np.ndarray) -> np.ndarray:
        device = next(self.encoder.parameters()).device
        inputs = (torch.from_numpy(a).to(device) for a in (pixels, geometry, pose))
        return self.encoder.eval()(*inputs).float().cpu().numpy()


class TorchGrounding:
    """An SSRModel's grounding heads (`FusionEncoder.grounding`) with the interface of
    runtime.grounding.OnnxGrounding: labels and typical sizes as an export's manifest gives them."""

    def __init__(self, model) -> None:
        from ssr_runtime.export.bundle import grounding_entry

        self.encoder = model.encoder
        entry = grounding_entry(model.config)
        self.labels, self.sizes = entry["labels"], {k: tuple(v) for k, v in entry["sizes"].items()}

    @torch.no_grad()
    def cells(self, pixels: np.ndarray, geometry: np.ndarray, pose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        device = next(self.encoder.parameters()).device
        inputs = (torch.from_numpy(a).to(device) for a in (unit_pixels(pixels), geometry, pose))
        probabilities, xyz = self.encoder.eval().grounding(*inputs)
        return (probabilities.float().cpu().numpy().reshape(-1, probabilities.shape[-1]),
                xyz.float().cpu().numpy().reshape(-1, 3))


class TorchLM(LanguageModel):
    """An SSRModel's language model (``model.lm``) with a DynamicCache; truncate crops the cache.

    capacity = the model's max_position_embeddings. Constrained decoding needs a vocabulary for
    llama.cpp's grammar engine: ``grammar_vocab``, a GGUF exported from this model (only its
    vocabulary is read).
    """

    def __init__(self, model, grammar_vocab: str | os.PathLike | None = None) -> None:
        self.lm = model.lm.eval()
        config = model.config
        self.n_vocab, self.hidden_size = config.vocab_size, config.hidden_size
        self.capacity, self.eos_token_id = config.max_position_embeddings, config.eos_token_id
        self.device = next(self.lm.parameters()).device
        self._grammar_vocab = GrammarVocabulary(grammar_vocab, "TorchLM")
        self._vocab_folder: tempfile.TemporaryDirectory | None = None
        self._cache = DynamicCache()
        super().__init__()

    @classmethod
    def with_own_vocabulary(cls, model, tokenizer) -> TorchLM:
        """A TorchLM for a checkpoint that was never exported: its grammars use a GGUF written from
        ``model`` and ``tokenizer`` into a temporary folder this object owns (removed by ``close``)."""
        from ssr_runtime.export.gguf_writer import write_gguf

        folder = tempfile.TemporaryDirectory(prefix="ssr-vocab-")
        lm = cls(model, grammar_vocab=write_gguf(model.lm, model.config, tokenizer, Path(folder.name) / "lm-f16.gguf"))
        lm._vocab_folder = folder
        return lm

    def close(self) -> None:
        """Free the grammar vocabulary (llama.cpp) and remove a vocabulary file this object wrote."""
        self._grammar_vocab.close()
        if self._vocab_folder is not None:
            self._vocab_folder.cleanup()
            self._vocab_folder = None

    @torch.no_grad()
    def _forward(self, **inputs) -> np.ndarray:
        out = self.lm(**inputs, past_key_values=self._cache, use_cache=True, logits_to_keep=1)
        return out.logits[0, -1].float().cpu().numpy()

    def _feed_tokens(self, ids: list[int], start: int) -> np.ndarray:
        return self._forward(input_ids=torch.tensor([ids], device=self.device))

    def _feed_embeddings(self, block: np.ndarray, start: int) -> np.ndarray:
        dtype = self.lm.get_input_embeddings().weight.dtype
        return self._forward(inputs_embeds=torch.from_numpy(block).to(self.device, dtype).unsqueeze(0))

    def _drop_from(self, position: int) -> None:
        self._cache.crop(position)

    def _clear(self) -> None:
        self._cache = DynamicCache()

    def _constraint(self, grammar: str) -> TokenConstraint:
        return self._grammar_vocab.constraint(grammar)


def checkpoint_bundle(checkpoint: str | os.PathLike, device: str = "cpu") -> Bundle:
    """A checkpoint (``ssr train``) as a Bundle of the torch backends, for ``Session(bundle)``: the
    reference that an export is compared with (``ssr eval --method model``). No manifest: a checkpoint
    is checked by ``load_checkpoint`` (its tokenizer against its config). A model with both grounding
    heads grounds on torch (`TorchGrounding`), as its export would on ONNX Runtime."""
    from tokenizers import Tokenizer

    from ssr_runtime.model import load_checkpoint

    folder = Path(checkpoint)
    model, tokenizer = load_checkpoint(folder, device)
    c = model.config
    info = ModelInfo(c.tokens_per_frame, c.hidden_size, c.vis_token_id, c.eos_token_id, c.max_position_embeddings)
    grounding = TorchGrounding(model) if model.encoder.has_grounding_heads else None
    return Bundle(folder, {}, info, Tokenizer.from_file(str(folder / TOKENIZER_FILE)), TorchEncoder(model),
                  TorchLM.with_own_vocabulary(model, tokenizer), grounding)
