"""OnnxLM: the language model exported through Hugging Face Optimum (``lm.onnx``), under ONNX Runtime.

The second language-model backend, for devices that run ONNX Runtime but not llama.cpp. The graph
(contract in ``export/onnx_lm.py``) takes ``inputs_embeds`` rather than ids, so the encoder's visual
tokens and text enter the same way: text ids are looked up in the export's embedding matrix
(``lm-embeddings.npy``, float32 [vocab, hidden]) here, without torch.

The KV cache is one numpy array per layer and kind, [1, kv_heads, position, head_dim], fed back as
``past_key_values.<i>.{key,value}`` and replaced by the graph's ``present.*`` outputs; ``truncate``
slices it along the position axis. Each call copies the whole cache in and out (no I/O binding):
simple, and at this model's size cheap next to the layers' work.

Grammar-constrained decoding uses llama.cpp's grammar engine over the vocabulary of a GGUF of the same
export (``grammar_vocab``, vocabulary only: no weights are loaded), as TorchLM does, so constrained
generation — every window the Session reads — still needs llama-cpp-python installed.
Not thread-safe: one object serves one sequence from one thread.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ssr_runtime.runtime.encoders import open_session
from ssr_runtime.runtime.errors import ModelFileError
from ssr_runtime.runtime.llama_lm import GrammarVocabulary
from ssr_runtime.runtime.lm import LanguageModel, TokenConstraint

_PAST = re.compile(r"^past_key_values\.(\d+)\.(key|value)$")
# Not TensorRT: its provider would run the LM in float16 and build a new engine as the KV length grows.
LM_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")


class OnnxLM(LanguageModel):
    """The exported ``lm.onnx`` with its embedding matrix (interface: ``lm.LanguageModel``).

    eos_token_id and capacity (most positions, the model's max_position_embeddings) come from the
    export's manifest; vocabulary, hidden size and cache layout from the graph itself. threads: ONNX
    Runtime intra-op threads. providers: ONNX Runtime's, of LM_PROVIDERS (default: the CPU; e.g.
    ["CUDAExecutionProvider", "CPUExecutionProvider"] for a GPU). Raises FileNotFoundError /
    ModelFileError naming the file when a file is missing, not loadable, or not this kind of graph, or
    when the embeddings do not fit the graph; ValueError for another provider; BackendUnavailableError
    when a provider is not available here.
    """

    def __init__(self, onnx_path: str | os.PathLike, embeddings_path: str | os.PathLike, eos_token_id: int,
                 capacity: int, grammar_vocab: str | os.PathLike | None = None, threads: int = 1,
                 providers: list[str] | None = None) -> None:
        self.path = Path(onnx_path)
        providers = ["CPUExecutionProvider"] if providers is None else providers
        if not set(providers) <= set(LM_PROVIDERS):
            raise ValueError(f"providers: expected some of {', '.join(LM_PROVIDERS)}, got {providers}")
        self.session = open_session(self.path, providers, threads)
        self.providers = self.session.get_providers()
        self._past_names, self._kv_shape = self._graph_layout()
        self._output_names = ["logits"] + [n.replace("past_key_values", "present") for n in self._past_names]
        self.embeddings = _load_embeddings(Path(embeddings_path), self.n_vocab, self.hidden_size)
        self.eos_token_id, self.capacity = eos_token_id, capacity
        self._grammar_vocab = GrammarVocabulary(grammar_vocab, "OnnxLM")
        self._past = self._empty_past()
        super().__init__()

    def _graph_layout(self) -> tuple[list[str], tuple[int, int]]:
        """Past input names in layer order and the (kv_heads, head_dim) of each; sets n_vocab and
        hidden_size. A graph without the contract's inputs and outputs is refused."""
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        outputs = {o.name: o.shape for o in self.session.get_outputs()}
        past = sorted((n for n in inputs if _PAST.match(n)), key=lambda n: (int(_PAST.match(n)[1]), n))
        expected = {"inputs_embeds", "attention_mask", "position_ids", *past}
        if not past or set(inputs) != expected or "logits" not in outputs:
            raise ModelFileError(f"{self.path}: not an SSR language-model graph (inputs {sorted(inputs)}, "
                                 f"outputs {sorted(outputs)}); export it with `ssr export --onnx-lm`")
        self.hidden_size = int(inputs["inputs_embeds"][2])
        self.n_vocab = int(outputs["logits"][2])
        _, kv_heads, _, head_dim = inputs[past[0]]
        return past, (int(kv_heads), int(head_dim))

    def _empty_past(self) -> list[np.ndarray]:
        return [np.zeros((1, *self._kv_shape[:1], 0, self._kv_shape[1]), np.float32) for _ in self._past_names]

    def _run(self, embeds: np.ndarray, start: int) -> np.ndarray:
        """Feed rows [n, hidden] at positions start..; keep the new cache; the last row's logits."""
        n = len(embeds)
        feeds = {"inputs_embeds": embeds[None], "attention_mask": np.ones((1, start + n), np.int64),
                 "position_ids": np.arange(start, start + n, dtype=np.int64)[None]}
        feeds.update(zip(self._past_names, self._past))
        logits, *self._past = self.session.run(self._output_names, feeds)
        return np.asarray(logits[0, -1], dtype=np.float32)

    def _feed_tokens(self, ids: list[int], start: int) -> np.ndarray:
        return self._run(self.embeddings[ids], start)

    def _feed_embeddings(self, block: np.ndarray, start: int) -> np.ndarray:
        return self._run(block, start)

    def _drop_from(self, position: int) -> None:
        self._past = [np.ascontiguousarray(a[:, :, :position]) for a in self._past]

    def _clear(self) -> None:
        self._past = self._empty_past()

    def _constraint(self, grammar: str) -> TokenConstraint:
        return self._grammar_vocab.constraint(grammar)

    def close(self) -> None:
        """Free the grammar vocabulary (llama.cpp); the ONNX Runtime session goes with the object."""
        self._grammar_vocab.close()


def _load_embeddings(path: Path, n_vocab: int, hidden_size: int) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such embedding file")
    try:
        embeddings = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise ModelFileError(f"{path}: not a numpy .npy file ({e})") from None
    if embeddings.dtype != np.float32 or embeddings.shape != (n_vocab, hidden_size):
        raise ModelFileError(f"{path}: expected float32 [{n_vocab}, {hidden_size}] embeddings (the graph's "
                             f"vocabulary and hidden size), got {embeddings.dtype} {list(embeddings.shape)}")
    return embeddings
