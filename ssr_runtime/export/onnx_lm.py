"""The language model → ONNX through Hugging Face Optimum (``ssr export --onnx-lm``), for ONNX-Runtime-only devices.

Files::

    lm.onnx            the Qwen2 decoder with a KV cache, float32, one graph for prefill and decoding:
                       inputs  inputs_embeds [1, n, hidden], attention_mask int64 [1, past + n] (all ones),
                               position_ids int64 [1, n] (past .. past + n - 1),
                               past_key_values.<i>.key / .value [1, kv_heads, past, head_dim] (past may be 0)
                       outputs logits [1, n, vocab], present.<i>.key / .value [1, kv_heads, past + n, head_dim]
    lm-embeddings.npy  the input embedding matrix, float32 [vocab, hidden]: the runtime looks text ids up
                       here (runtime/onnx_lm.py)

Why ``inputs_embeds``: the runtime injects the encoder's visual tokens as embeddings between text
segments, and Optimum's own Qwen2 config traces ``input_ids``. ``EmbedsQwen2OnnxConfig`` is that config
with ``inputs_embeds`` in place of ``input_ids`` and a dummy generator for it; Optimum's ``export``
does the rest (its model patcher turns the past tuples into the transformers cache while tracing).
Optimum's exporter is TorchScript-based (``torch.onnx.export(..., dynamo=False)``); the encoder uses
the torch.export one (onnx_encoder.py).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from optimum.exporters.onnx import export
from optimum.exporters.onnx.model_configs import Qwen2OnnxConfig
from optimum.utils.input_generators import DummyInputGenerator

from ssr_runtime.files import atomic_open, atomic_path
from ssr_runtime.runtime.bundle import ONNX_LM_FILE

OPSET = 18
EMBEDDINGS_FILE = "lm-embeddings.npy"
CHECK_TOKENS = 24  # the export check: half prefilled at once, half decoded one by one


class DummyEmbedsGenerator(DummyInputGenerator):
    """Random ``inputs_embeds`` [batch, sequence, hidden] for tracing."""

    SUPPORTED_INPUT_NAMES = ("inputs_embeds",)

    def __init__(self, task: str, normalized_config, batch_size: int = 2, sequence_length: int = 16, **kwargs) -> None:
        self.batch_size, self.sequence_length = batch_size, sequence_length
        self.hidden_size = normalized_config.hidden_size

    def generate(self, input_name: str, framework: str = "pt", int_dtype: str = "int64", float_dtype: str = "fp32"):
        shape = [self.batch_size, self.sequence_length, self.hidden_size]
        return self.random_float_tensor(shape, framework=framework, dtype=float_dtype)


class EmbedsQwen2OnnxConfig(Qwen2OnnxConfig):
    """Optimum's Qwen2 text-generation config with past key values, fed ``inputs_embeds`` instead of ids.

    Optimum pads its dummy attention mask to the past length by reading ``input_ids``; with no ids that
    padding is done here instead, and position ids follow the past as they do at run time.
    """

    DUMMY_INPUT_GENERATOR_CLASSES = (DummyEmbedsGenerator, *Qwen2OnnxConfig.DUMMY_INPUT_GENERATOR_CLASSES)
    PAD_ATTENTION_MASK_TO_PAST = False

    def __init__(self, config) -> None:
        super().__init__(config, task="text-generation", use_past=True, use_past_in_inputs=True)

    @property
    def inputs(self) -> dict[str, dict[int, str]]:
        inputs = dict(super().inputs)
        axes = inputs.pop("input_ids")
        return {"inputs_embeds": axes, **inputs}

    def generate_dummy_inputs(self, framework: str = "pt", **kwargs):
        dummy = super().generate_dummy_inputs(framework, **kwargs)
        batch, length, _ = dummy["inputs_embeds"].shape
        past = dummy["past_key_values"][0][0].shape[-2]
        dummy["attention_mask"] = torch.ones(batch, past + length, dtype=torch.int64)
        dummy["position_ids"] = torch.arange(past, past + length).expand(batch, length)
        return dummy


def export_lm(lm, folder: str | os.PathLike) -> list[str]:
    """Write ``lm`` (a Qwen2ForCausalLM) as ``lm.onnx`` and its embeddings as ``lm-embeddings.npy`` in
    ``folder``; returns the two file names. The graph is checked with ``onnx.checker`` before it appears."""
    import onnx

    folder = Path(folder)
    with atomic_path(folder / ONNX_LM_FILE) as staging, _quiet_tracer():
        export(lm.eval(), EmbedsQwen2OnnxConfig(lm.config), staging, opset=OPSET)
        graph = onnx.load(str(staging), load_external_data=False)
        if any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.graph.initializer):
            raise ValueError("export: the language model does not fit one ONNX file (over 2 GB); not supported")
        onnx.checker.check_model(graph, full_check=True)
    embeddings = lm.get_input_embeddings().weight.detach().float().cpu().numpy()
    with atomic_open(folder / EMBEDDINGS_FILE, "wb") as f:
        np.save(f, embeddings, allow_pickle=False)
    return [ONNX_LM_FILE, EMBEDDINGS_FILE]


@contextlib.contextmanager
def _quiet_tracer() -> Iterator[None]:
    """The TorchScript tracer warns at every Python branch on a tensor in transformers' code, and the
    exporter about negative indices in advanced indexing (transformers' mask indexes the key positions
    with an arange, never negative); the graph is checked against torch instead (``max_abs_diff``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index operator of advanced indexing")
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def manifest_entry(check_max_abs_diff: float) -> dict:
    """The manifest's ``language_model.onnx`` record (the files' sizes and hashes go under ``files``)."""
    from importlib.metadata import version

    return {"file": ONNX_LM_FILE, "embeddings": EMBEDDINGS_FILE, "opset": OPSET, "exporter": "optimum",
            "optimum_version": version("optimum"), "optimum_onnx_version": version("optimum-onnx"),
            "check_max_abs_diff": check_max_abs_diff, "check_tokens": CHECK_TOKENS}


def max_abs_diff(lm, folder: str | os.PathLike, eos_token_id: int, seed: int = 0) -> float:
    """Largest |ONNX Runtime − torch| over the next-token logits of CHECK_TOKENS random ids: the first
    half prefilled at once (empty cache), the rest fed one by one (the cache in use), by the runtime's
    OnnxLM on the CPU against one torch forward pass over the whole sequence."""
    from ssr_runtime.runtime.onnx_lm import OnnxLM

    folder = Path(folder)
    ids = np.random.default_rng(seed).integers(0, lm.config.vocab_size, CHECK_TOKENS).tolist()
    with torch.no_grad():
        expected = lm.eval()(input_ids=torch.tensor([ids])).logits[0].float().cpu().numpy()
    onnx_lm = OnnxLM(folder / ONNX_LM_FILE, folder / EMBEDDINGS_FILE, eos_token_id, capacity=CHECK_TOKENS,
                     providers=["CPUExecutionProvider"])
    half = CHECK_TOKENS // 2
    onnx_lm.prefill([ids[:half]])
    diffs = [np.abs(onnx_lm.next_logits - expected[half - 1]).max()]
    for k in range(half, CHECK_TOKENS):
        onnx_lm.prefill([ids[k:k + 1]])
        diffs.append(np.abs(onnx_lm.next_logits - expected[k]).max())
    return float(max(diffs))
