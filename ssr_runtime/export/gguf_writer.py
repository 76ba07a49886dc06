"""The SSR language model (a transformers ``Qwen2ForCausalLM``) → GGUF for llama.cpp, and quantized copies.

The project writes its own GGUF with the ``gguf`` package instead of calling llama.cpp's
``convert_hf_to_gguf.py``: that script is not part of any wheel, and ours knows the SSR tokenizer
(special tokens as CONTROL, Qwen2's digit split) rather than guessing it from a hash of test strings.

Layout written (arch ``qwen2``; llama.cpp applies no q/k permutation for it):
``model.embed_tokens → token_embd``, ``model.norm → output_norm``, ``lm_head → output`` (left out when
the embeddings are tied: llama.cpp then reuses ``token_embd``), and per layer ``blk.{i}.attn_{q,k,v}``
(weight and bias), ``attn_output``, ``attn_norm``, ``ffn_norm``, ``ffn_{gate,up,down}``.
Matrices are stored in the requested float type; vectors (norms, biases) always in F32, as
llama.cpp's own converter does.

Quantized variants are made from the F32 file by llama.cpp itself (``llama_model_quantize`` through
llama-cpp-python), so they are exactly what llama.cpp's ``llama-quantize`` tool would give.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ssr_runtime.files import atomic_path

if TYPE_CHECKING:  # the module imports without torch, so `ssr export --help` and the CLI checks stay fast
    from ssr_runtime.model.config import SSRConfig

GGUF_ARCH = "qwen2"
# The training tokenizer splits text with Qwen2's regex (ssr_runtime.model.tokenizer), which is what
# llama.cpp's "qwen2" pre-tokenizer applies; tests/test_export.py checks the two agree.
GGUF_TOKENIZER_PRE = "qwen2"
GGUF_TOKENIZER_MODEL = "gpt2"

# Float outputs are written here; the rest come from llama.cpp's quantizer.
FLOAT_TYPES = ("f32", "f16")
# llama_ftype values (llama.h) of the quantized types `ssr export --quant` accepts.
QUANT_FTYPES = {"q8_0": 7, "q4_0": 2, "q4_k_m": 15}
# Every row a quantized type packs must be a whole number of its blocks.
BLOCK_SIZES = {"q8_0": 32, "q4_0": 32, "q4_k_m": 256}
# A K-quant that the dimensions do not allow is replaced by the 4-bit type with 32-wide blocks.
K_QUANT_FALLBACK = {"q4_k_m": "q4_0"}
GGUF_TYPES = FLOAT_TYPES + tuple(QUANT_FTYPES)


@dataclass(frozen=True)
class QuantPlan:
    """What a requested GGUF type becomes: ``produced`` differs from ``requested`` after a fallback."""

    requested: str
    produced: str
    reason: str | None = None

    def to_json(self) -> dict:
        return {"requested": self.requested, "produced": self.produced, "fallback_reason": self.reason}


def gguf_file_name(gguf_type: str) -> str:
    return f"lm-{gguf_type}.gguf"


def check_gguf_type(requested: str) -> str:
    if requested not in GGUF_TYPES:
        raise ValueError(f"quantization type {requested!r}: expected one of {', '.join(GGUF_TYPES)}")
    return requested


def plan_quantization(config: SSRConfig, requested: str) -> QuantPlan:
    """Which type ``requested`` can be for this model's row lengths (hidden and intermediate size).

    Raises ValueError for an unknown type, or when not even the fallback fits the rows.
    """
    check_gguf_type(requested)
    if requested in FLOAT_TYPES:
        return QuantPlan(requested, requested)
    misfit = _rows_misfit(config, BLOCK_SIZES[requested])
    if misfit is None:
        return QuantPlan(requested, requested)
    fallback = K_QUANT_FALLBACK.get(requested)
    if fallback is None or _rows_misfit(config, BLOCK_SIZES[fallback]) is not None:
        raise ValueError(f"quantization type {requested!r}: {misfit}")
    return QuantPlan(requested, fallback, f"{misfit}; wrote {fallback} instead")


def _rows_misfit(config: SSRConfig, block: int) -> str | None:
    for name in ("hidden_size", "intermediate_size"):
        value = getattr(config, name)
        if value % block:
            return f"{name} = {value} is not a multiple of its block size {block}"
    return None


def write_gguf(lm, config: SSRConfig, tokenizer, path: str | os.PathLike, float_type: str = "f16",
               name: str = "ssr-lm") -> Path:
    """Write ``lm`` (a Qwen2ForCausalLM built from ``config``) and ``tokenizer`` as one GGUF file.

    float_type: "f32" or "f16" for the matrices. The file appears at ``path`` only once complete.
    """
    if float_type not in FLOAT_TYPES:
        raise ValueError(f"write_gguf.float_type: expected one of {FLOAT_TYPES}, got {float_type!r}")
    import gguf

    path = Path(path)
    tensors = _gguf_tensors(lm, config, np.float16 if float_type == "f16" else np.float32)
    with atomic_path(path) as staging:
        writer = gguf.GGUFWriter(str(staging), GGUF_ARCH)
        try:
            _add_hyperparameters(writer, config, name, float_type)
            _add_tokenizer(writer, config, tokenizer)
            for tensor_name, array in tensors:
                writer.add_tensor(tensor_name, array)
            writer.write_header_to_file()
            writer.write_kv_data_to_file()
            writer.write_tensors_to_file()
        finally:
            writer.close()
    return path


def quantize_gguf(source: str | os.PathLike, path: str | os.PathLike, quant_type: str, threads: int = 2) -> Path:
    """A quantized copy of an F32/F16 GGUF made by llama.cpp (``quant_type`` in QUANT_FTYPES).

    Raises RuntimeError with llama.cpp's last log lines when it refuses; its log is hidden otherwise.
    """
    if quant_type not in QUANT_FTYPES:
        raise ValueError(f"quantize_gguf.quant_type: expected one of {', '.join(QUANT_FTYPES)}, got {quant_type!r}")
    import llama_cpp

    path = Path(path)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_FTYPES[quant_type]
    params.nthread = threads
    with atomic_path(path) as staging:
        with _captured_stderr() as log:
            status = llama_cpp.llama_model_quantize(str(source).encode(), str(staging).encode(), params)
            messages = log()
        if status != 0:
            tail = "\n".join(messages.strip().splitlines()[-5:])
            raise RuntimeError(f"llama_model_quantize({source} → {quant_type}) failed with status {status}:\n{tail}")
    return path


def _gguf_tensors(lm, config: SSRConfig, matrix_dtype) -> list[tuple[str, np.ndarray]]:
    """(GGUF name, array) for every weight of the LM; refuses a state dict with names it does not know."""
    state = {name: tensor.detach().float().cpu().numpy() for name, tensor in lm.state_dict().items()}
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    if not config.tie_word_embeddings:
        names["lm_head.weight"] = "output.weight"
    per_layer = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                 "self_attn.o_proj": "attn_output", "input_layernorm": "attn_norm",
                 "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                 "mlp.down_proj": "ffn_down"}
    for layer in range(config.num_hidden_layers):
        for hf, gg in per_layer.items():
            for kind in ("weight", "bias"):
                names[f"model.layers.{layer}.{hf}.{kind}"] = f"blk.{layer}.{gg}.{kind}"
    tied = {"lm_head.weight"} if config.tie_word_embeddings else set()
    unknown = sorted(set(state) - set(names) - tied)
    if unknown:
        raise ValueError(f"write_gguf: LM tensor {unknown[0]} has no GGUF name (not a Qwen2 layout?)")
    out = []
    for hf_name, array in state.items():
        if hf_name in tied:
            continue
        dtype = matrix_dtype if array.ndim == 2 else np.float32
        out.append((names[hf_name], np.ascontiguousarray(array.astype(dtype))))
    return out


def _add_hyperparameters(writer, config: SSRConfig, name: str, float_type: str) -> None:
    import gguf

    writer.add_name(name)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if float_type == "f16" else gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_freq_base(config.rope_theta)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)


def _add_tokenizer(writer, config: SSRConfig, tokenizer) -> None:
    """Tokens in id order, their types (special tokens CONTROL), the BPE merges, and the special ids."""
    import gguf

    tokens, types = tokenizer_vocabulary(tokenizer, config.vocab_size)
    writer.add_tokenizer_model(GGUF_TOKENIZER_MODEL)
    writer.add_tokenizer_pre(GGUF_TOKENIZER_PRE)
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType(t) for t in types])
    writer.add_token_merges(tokenizer_merges(tokenizer))
    # Texts start with no BOS in training; <|endoftext|> ends them and pads batches.
    writer.add_bos_token_id(config.eos_token_id)
    writer.add_eos_token_id(config.eos_token_id)
    writer.add_pad_token_id(config.eos_token_id)
    writer.add_add_bos_token(False)
    writer.add_add_eos_token(False)


def tokenizer_vocabulary(tokenizer, vocab_size: int) -> tuple[list[str], list[int]]:
    """(token strings by id, GGUF token types) for a PreTrainedTokenizerFast with ids 0..n-1.

    Rows of the embedding beyond the tokenizer's ids (if the model has more) become UNUSED ``[PAD{i}]``.
    """
    import gguf

    by_id = {token_id: token for token, token_id in tokenizer.get_vocab().items()}
    if sorted(by_id) != list(range(len(by_id))):
        raise ValueError("tokenizer: token ids must be 0..n-1 without gaps")
    if len(by_id) > vocab_size:
        raise ValueError(f"tokenizer: {len(by_id)} tokens, more than the model's vocab_size = {vocab_size}")
    special = set(tokenizer.all_special_tokens)
    tokens, types = [], []
    for token_id in range(vocab_size):
        if token_id in by_id:
            tokens.append(by_id[token_id])
            types.append(gguf.TokenType.CONTROL if by_id[token_id] in special else gguf.TokenType.NORMAL)
        else:
            tokens.append(f"[PAD{token_id}]")
            types.append(gguf.TokenType.UNUSED)
    return tokens, [int(t) for t in types]


def tokenizer_merges(tokenizer) -> list[str]:
    """The BPE merges as llama.cpp reads them: "left right" (byte-level tokens never hold a space)."""
    model = json.loads(tokenizer.backend_tokenizer.to_str())["model"]
    if model.get("type") != "BPE":
        raise ValueError(f"tokenizer: expected a BPE model, got {model.get('type')!r}")
    return [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]


@contextlib.contextmanager
def _captured_stderr() -> Iterator[Callable[[], str]]:
    """Route file descriptor 2 to a temporary file for the block: llama.cpp reports every tensor it
    quantizes, partly with its own fprintf. Yields a function returning what was written so far."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as log:
        os.dup2(log.fileno(), 2)

        def text() -> str:
            sys.stderr.flush()
            log.seek(0)
            return log.read().decode(errors="replace")

        try:
            yield text
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
