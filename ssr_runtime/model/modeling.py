"""SSRModel: the fusion encoder and a transformers Qwen2ForCausalLM, joined at the ``<|vis|>`` slots.

Checkpoint folder (one layout, written by ``save_pretrained`` / ``save_checkpoint``)::

    config.json             the Qwen2 config    } a plain Hugging Face Qwen2 checkpoint: transformers
    generation_config.json                      } and llama.cpp's convert_hf_to_gguf.py read the folder
    model.safetensors       LM weights, HF names} as it is (the other files are ignored by them)
    encoder.safetensors     FusionEncoder state dict (its own names, no prefix)
    ssr_config.json         SSRConfig with a format header (SSRConfig.to_json); the source of truth
    tokenizer.json, tokenizer_config.json, special_tokens_map.json   (save_checkpoint only)

Loading builds the model from ssr_config.json and loads both weight files strictly, so a missing or
unexpected tensor is an error. A folder is written under a temporary name beside the target and
renamed into place; an existing folder is replaced only once the new one is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import PreTrainedTokenizerFast, Qwen2ForCausalLM
from transformers.cache_utils import DynamicCache
from transformers.modeling_outputs import CausalLMOutputWithPast

from ssr_runtime.model.config import SSRConfig, tokenizer_fields
from ssr_runtime.model.encoder import FusionEncoder
from ssr_runtime.model.tokenizer import load_tokenizer
from ssr_runtime.preprocess import FrameBatch

SSR_CONFIG_FILE = "ssr_config.json"
ENCODER_FILE = "encoder.safetensors"
LM_WEIGHTS_FILE = "model.safetensors"


def frame_tensors(frames: FrameBatch, device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A prepared frame batch as the encoder's inputs: pixels scaled from uint8 to [0, 1] floats."""
    def tensor(array):
        return torch.from_numpy(np.ascontiguousarray(array)).to(device)

    return tensor(frames.pixels.astype(np.float32) / 255.0), tensor(frames.geometry), tensor(frames.pose)


class SSRModel(nn.Module):
    def __init__(self, config: SSRConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = FusionEncoder(config)
        self.lm = Qwen2ForCausalLM(config.to_qwen2_config())

    def encode_frames(self, pixels: torch.Tensor, geometry: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        """Checked inputs → encoder tokens [F, tokens_per_frame, hidden_size]."""
        _check_frames(self.config, pixels, geometry, pose)
        return self.encoder(pixels, geometry, pose)

    def _patches(self, pixels: torch.Tensor | None, geometry: torch.Tensor | None,
                 pose: torch.Tensor | None) -> torch.Tensor | None:
        if pixels is None:
            return None
        _check_frames(self.config, pixels, geometry, pose)
        return self.encoder.patch_features(pixels, geometry)

    def embed(self, input_ids: torch.Tensor, pixels: torch.Tensor | None = None,
              geometry: torch.Tensor | None = None, pose: torch.Tensor | None = None) -> torch.Tensor:
        return self._embed(input_ids, None if pixels is None else self.encode_frames(pixels, geometry, pose))

    def _embed(self, input_ids: torch.Tensor, frame_tokens: torch.Tensor | None) -> torch.Tensor:
        """input_ids [B,T] → inputs_embeds [B,T,hidden_size].

        Token embeddings, with the ``<|vis|>`` positions replaced in reading order (row by row) by the
        frame tokens: frame f's tokens_per_frame tokens in order, frames in order, all of sample b's
        frames before sample b+1's. Frames are optional when there is no ``<|vis|>`` slot.
        """
        if input_ids.dim() != 2:
            raise ValueError(f"input_ids: expected shape [B, T], got {list(input_ids.shape)}")
        embeds = self.lm.get_input_embeddings()(input_ids)
        slots = input_ids == self.config.vis_token_id
        slot_count = int(slots.sum())
        if frame_tokens is None:
            if slot_count:
                raise ValueError(f"input_ids has {slot_count} <|vis|> slots but no frames were given")
            return embeds
        per_frame = self.config.tokens_per_frame
        frame_count = frame_tokens.shape[0]
        if slot_count != frame_count * per_frame:
            raise ValueError(f"input_ids has {slot_count} <|vis|> slots, but {frame_count} frames × "
                             f"{per_frame} tokens per frame = {frame_count * per_frame}")
        per_sample = slots.sum(dim=1)
        if bool((per_sample % per_frame).any()):
            raise ValueError(f"<|vis|> slots per sample must be whole frames of {per_frame} tokens, "
                             f"got {per_sample.tolist()}")
        return embeds.masked_scatter(slots.unsqueeze(-1), frame_tokens.reshape(-1, embeds.shape[-1]).to(embeds.dtype))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, pixels: torch.Tensor | None = None,
                geometry: torch.Tensor | None = None, pose: torch.Tensor | None = None,
                patch_labels: torch.Tensor | None = None) -> CausalLMOutputWithPast:
        """Logits [B,T,vocab]; with labels [B,T] (-100 = not trained) also the mean next-token `loss`;
        with patch_labels [F, grid, grid] also `patch_loss`, the patch head's cross-entropy; with labels,
        frames and a position head, `position_loss` (FusionEncoder.position_loss).

        Pad on the right (attention_mask 0, labels -100): positions count from each row's start.
        """
        patches = self._patches(pixels, geometry, pose)
        frame_tokens = None if patches is None else self.encoder.tokens(patches, pose)
        out = self.lm(inputs_embeds=self._embed(input_ids, frame_tokens), attention_mask=attention_mask,
                      labels=labels, use_cache=False)
        if patch_labels is not None and patches is not None:
            out["patch_loss"] = self.encoder.patch_loss(patches, patch_labels)
        if labels is not None and frame_tokens is not None and self.encoder.position_head is not None:
            out["position_loss"] = self.encoder.position_loss(frame_tokens, geometry)
        return out

    def generate_text(self, tokenizer: PreTrainedTokenizerFast, prompt_ids: torch.Tensor,
                      pixels: torch.Tensor | None = None, geometry: torch.Tensor | None = None,
                      pose: torch.Tensor | None = None, max_new_tokens: int = 256) -> str:
        """``generate_ids`` decoded; special tokens the model emits are kept in the text."""
        new_ids = self.generate_ids(prompt_ids, pixels, geometry, pose, max_new_tokens)
        return tokenizer.decode(new_ids, skip_special_tokens=False)

    @torch.no_grad()
    def generate_ids(self, prompt_ids: torch.Tensor, pixels: torch.Tensor | None = None,
                     geometry: torch.Tensor | None = None, pose: torch.Tensor | None = None,
                     max_new_tokens: int = 256) -> list[int]:
        """Greedy continuation of one prompt (1-D ids, may hold <|vis|> slots) with a KV cache.

        Stops at <|endoftext|> (not returned), after max_new_tokens, or at max_position_embeddings.
        Runs in eval mode and restores the previous mode.
        """
        if prompt_ids.dim() != 1 or prompt_ids.numel() == 0:
            raise ValueError(f"prompt_ids: expected a non-empty 1-D tensor, got shape {list(prompt_ids.shape)}")
        if max_new_tokens < 0:
            raise ValueError(f"max_new_tokens: must be >= 0, got {max_new_tokens}")
        was_training = self.training
        self.eval()
        try:
            return self._greedy(prompt_ids.unsqueeze(0), pixels, geometry, pose, max_new_tokens)
        finally:
            self.train(was_training)

    def _greedy(self, input_ids: torch.Tensor, pixels: torch.Tensor | None, geometry: torch.Tensor | None,
                pose: torch.Tensor | None, max_new_tokens: int) -> list[int]:
        budget = min(max_new_tokens, self.config.max_position_embeddings - input_ids.shape[1])
        cache = DynamicCache()
        out = self.lm(inputs_embeds=self.embed(input_ids, pixels, geometry, pose), past_key_values=cache,
                      use_cache=True, logits_to_keep=1)
        new_ids: list[int] = []
        for _ in range(budget):
            next_id = int(out.logits[0, -1].argmax())
            if next_id == self.config.eos_token_id:
                break
            new_ids.append(next_id)
            out = self.lm(input_ids=torch.tensor([[next_id]], device=input_ids.device), past_key_values=cache,
                          use_cache=True, logits_to_keep=1)
        return new_ids

    def parameter_counts(self) -> dict[str, int]:
        """Parameters by part: encoder, lm (embeddings and head included), total."""
        encoder = sum(p.numel() for p in self.encoder.parameters())
        lm = sum(p.numel() for p in self.lm.parameters())
        return {"encoder": encoder, "lm": lm, "total": encoder + lm}

    def save_pretrained(self, directory: str | os.PathLike) -> None:
        write_folder(directory, self._write_into)

    def _write_into(self, folder: Path) -> None:
        self.lm.save_pretrained(folder, safe_serialization=True)
        encoder_state = {name: tensor.detach().contiguous().cpu() for name, tensor in self.encoder.state_dict().items()}
        save_file(encoder_state, folder / ENCODER_FILE, metadata={"format": "pt"})
        (folder / SSR_CONFIG_FILE).write_text(self.config.to_json())

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, device: str | torch.device = "cpu") -> SSRModel:
        folder = Path(directory)
        config_path = folder / SSR_CONFIG_FILE
        if not config_path.is_file():
            raise FileNotFoundError(f"{folder}: no {SSR_CONFIG_FILE}, not an SSR model folder")
        config = SSRConfig.from_json(config_path.read_text())
        model = cls(config)
        model.encoder.load_state_dict(load_file(folder / ENCODER_FILE, device=str(device)), strict=True)
        model.lm.load_state_dict(load_file(folder / LM_WEIGHTS_FILE, device=str(device)), strict=True)
        return model.to(device).eval()


def save_checkpoint(directory: str | os.PathLike, model: SSRModel, tokenizer: PreTrainedTokenizerFast) -> None:
    """Model and tokenizer into one folder (layout in the module docstring), replacing it whole."""
    _check_tokenizer_matches(model.config, tokenizer, "save_checkpoint")

    def write(folder: Path) -> None:
        model._write_into(folder)
        tokenizer.save_pretrained(folder)

    write_folder(directory, write)


def load_checkpoint(directory: str | os.PathLike,
                    device: str | torch.device = "cpu") -> tuple[SSRModel, PreTrainedTokenizerFast]:
    model = SSRModel.from_pretrained(directory, device)
    tokenizer = load_tokenizer(str(directory))
    _check_tokenizer_matches(model.config, tokenizer, f"load_checkpoint({directory})")
    return model, tokenizer


def _check_tokenizer_matches(config: SSRConfig, tokenizer: PreTrainedTokenizerFast, where: str) -> None:
    for name, value in tokenizer_fields(tokenizer).items():
        if getattr(config, name) != value:
            raise ValueError(f"{where}: tokenizer has {name} = {value}, the model config {getattr(config, name)}")


def _check_frames(config: SSRConfig, pixels: torch.Tensor, geometry: torch.Tensor | None,
                  pose: torch.Tensor | None) -> None:
    if geometry is None or pose is None:
        raise ValueError("frames: pixels, geometry and pose must be given together")
    frames, side, grid = pixels.shape[0], config.image_size, config.grid
    expected = {"pixels": (pixels, [frames, 3, side, side]),
                "geometry": (geometry, [frames, grid, grid, config.geometry_features]),
                "pose": (pose, [frames, config.pose_features])}
    for name, (tensor, shape) in expected.items():
        if list(tensor.shape) != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {list(tensor.shape)}")
        if not tensor.is_floating_point():
            raise ValueError(f"{name}: expected a floating-point tensor, got {tensor.dtype}")
        if not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{name}: holds NaN or inf")


def write_folder(directory: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """`write` fills a staging folder beside `directory`, which then replaces `directory` whole."""
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    staging.chmod(0o755)  # mkdtemp makes it private; the checkpoint is an ordinary folder
    try:
        write(staging)
        for item in staging.iterdir():  # safetensors writes its files owner-only (0600)
            if item.is_file():
                item.chmod(0o644)
        if target.exists():
            retired = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
            os.replace(target, retired / target.name)
            os.replace(staging, target)
            shutil.rmtree(retired)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
