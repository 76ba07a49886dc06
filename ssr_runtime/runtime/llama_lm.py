"""LlamaCppLM: a GGUF language model under llama.cpp, through llama-cpp-python's low-level C API.

Why the low-level API: the runtime feeds the encoder's visual tokens as input embeddings
(``llama_batch.embd``) between token segments and drops positions from the KV cache
(``llama_memory_seq_rm``); the high-level ``Llama`` class does neither.

Ownership: the object owns its model, context, two batches (ids, embeddings; ``n_batch`` entries
each) and its grammar samplers, and frees them in ``close()`` (or on ``with`` exit). Not thread-safe.

llama.cpp logs through one process-wide callback; this module installs one that drops everything
but errors, and keeps the last errors to quote when a file fails to load.
"""

from __future__ import annotations

import collections
import ctypes
import math
import os
from pathlib import Path

import numpy as np

from ssr_runtime.runtime.errors import ModelFileError
from ssr_runtime.runtime.lm import LanguageModel

DEFAULT_BATCH = 512
_LOG_LEVEL_ERROR = 4  # ggml_log_level: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5
_LOG_LEVEL_CONT = 5
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])  # llama_token_data

_llama = None
_errors: collections.deque[str] = collections.deque(maxlen=32)
_log_state = {"last_level": 0}


def _library():
    """llama_cpp, with the backend initialised and logging quietened once per process."""
    global _llama, _log_callback
    if _llama is None:
        import llama_cpp

        @llama_cpp.llama_log_callback
        def log(level: int, text: bytes, _user_data) -> None:
            if level == _LOG_LEVEL_CONT:
                level = _log_state["last_level"]
            _log_state["last_level"] = level
            if level == _LOG_LEVEL_ERROR and text:
                _errors.append(text.decode("utf-8", "replace").strip())

        _log_callback = log  # ctypes calls it for the life of the process: keep it referenced
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
        llama_cpp.llama_backend_init()
        _llama = llama_cpp
    return _llama


def _recent_errors() -> str:
    text = "; ".join(e for e in _errors if e)
    _errors.clear()
    return text or "no message"


def _load_model(path: str | os.PathLike, vocab_only: bool = False, gpu_layers: int = 0):
    llama = _library()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such GGUF file")
    params = llama.llama_model_default_params()
    params.vocab_only = vocab_only
    params.n_gpu_layers = gpu_layers
    _errors.clear()
    model = llama.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise ModelFileError(f"{path}: llama.cpp cannot load this GGUF file ({_recent_errors()})")
    return model


class GrammarConstraint:
    """llama.cpp's grammar sampler over one vocabulary, used greedily: the highest-logit token the
    grammar allows. The vocabulary's owner must outlive this object."""

    def __init__(self, vocab, grammar: str, n_vocab: int) -> None:
        llama = _library()
        _errors.clear()
        self._sampler = llama.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
        if not self._sampler:
            raise ValueError(f"grammar: llama.cpp rejects it ({_recent_errors()})")
        self._candidates = np.zeros(n_vocab, dtype=_TOKEN_DATA)
        self._candidates["id"] = np.arange(n_vocab, dtype=np.int32)
        self._one = np.zeros(1, dtype=_TOKEN_DATA)

    def restart(self) -> None:
        _library().llama_sampler_reset(self._sampler)

    def pick(self, logits: np.ndarray) -> int:
        # The greedy choice is usually allowed: check it alone before masking the whole vocabulary
        # (llama.cpp's own common sampler does the same).
        best = int(np.argmax(logits))
        self._one["id"], self._one["logit"] = best, logits[best]
        if math.isfinite(float(self._apply(self._one)["logit"][0])):
            return best
        self._candidates["logit"] = logits
        masked = self._apply(self._candidates)["logit"]
        choice = int(np.argmax(masked))
        if not math.isfinite(float(masked[choice])):
            raise RuntimeError("grammar: no token is allowed here, not even the end of text; check the grammar")
        return choice

    def accept(self, token: int) -> None:
        _library().llama_sampler_accept(self._sampler, token)

    def _apply(self, candidates: np.ndarray) -> np.ndarray:
        llama = _library()
        array = llama.llama_token_data_array(
            data=ctypes.cast(candidates.ctypes.data, llama.llama_token_data_p), size=len(candidates),
            selected=-1, sorted=False)
        llama.llama_sampler_apply(self._sampler, ctypes.byref(array))
        return candidates

    def close(self) -> None:
        if self._sampler:
            _library().llama_sampler_free(self._sampler)
            self._sampler = None


class LlamaModelFile:
    """A loaded GGUF file (the whole model, or with ``vocab_only`` just its vocabulary) and the grammar
    samplers made over its vocabulary. The vocabulary alone lets another backend (TorchLM) decode
    under the same grammars."""

    def __init__(self, gguf_path: str | os.PathLike, vocab_only: bool = True, gpu_layers: int = 0) -> None:
        llama = _library()
        self.path = Path(gguf_path)
        self.model = _load_model(self.path, vocab_only, gpu_layers)
        self.vocab = llama.llama_model_get_vocab(self.model)
        self.n_vocab = llama.llama_vocab_n_tokens(self.vocab)
        self._grammars: dict[str, GrammarConstraint] = {}

    def constraint(self, grammar: str) -> GrammarConstraint:
        """A constraint at the grammar's start; one sampler per grammar text, reused across calls."""
        if grammar not in self._grammars:
            self._grammars[grammar] = GrammarConstraint(self.vocab, grammar, self.n_vocab)
        constraint = self._grammars[grammar]
        constraint.restart()
        return constraint

    def close(self) -> None:
        for constraint in self._grammars.values():
            constraint.close()
        self._grammars.clear()
        if self.model:
            _library().llama_model_free(self.model)
            self.model = None


class GrammarVocabulary:
    """Grammar constraints for a backend that does not run llama.cpp itself (TorchLM, OnnxLM): llama.cpp's
    grammar engine over the vocabulary of a GGUF of the same model, opened (vocabulary only, no weights)
    on the first constrained ``generate``. ``gguf_path`` None: such a call raises, naming ``owner``."""

    def __init__(self, gguf_path: str | os.PathLike | None, owner: str) -> None:
        self.path = None if gguf_path is None else Path(gguf_path)
        self.owner = owner
        self._file: LlamaModelFile | None = None

    def constraint(self, grammar: str) -> GrammarConstraint:
        if self.path is None:
            raise ValueError(f"grammar: {self.owner} decodes under a grammar only with grammar_vocab "
                             f"(a GGUF of this model)")
        if self._file is None:
            self._file = LlamaModelFile(self.path, vocab_only=True)
        return self._file.constraint(grammar)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class LlamaCppLM(LanguageModel):
    """A GGUF language model under llama.cpp (interface: ``lm.LanguageModel``).

    n_ctx: positions the KV cache holds; threads: CPU threads for decoding and prefill;
    gpu_layers: layers offloaded to a GPU when llama.cpp was built with one (0: CPU only).
    Raises FileNotFoundError / ModelFileError naming the file when it is missing or unloadable.
    """

    def __init__(self, gguf_path: str | os.PathLike, n_ctx: int = 2048, threads: int = 2, gpu_layers: int = 0,
                 n_batch: int = DEFAULT_BATCH) -> None:
        if n_ctx < 1 or threads < 1 or n_batch < 1:
            raise ValueError(f"n_ctx, threads, n_batch: must be >= 1, got {n_ctx}, {threads}, {n_batch}")
        llama = _library()
        self._ctx = None
        self._batches: list = []
        self._file = LlamaModelFile(gguf_path, vocab_only=False, gpu_layers=gpu_layers)
        self.path = self._file.path
        try:
            self._open(llama, n_ctx, threads, min(n_batch, n_ctx))
        except BaseException:
            self.close()
            raise
        super().__init__()

    def _open(self, llama, n_ctx: int, threads: int, n_batch: int) -> None:
        self.n_vocab = self._file.n_vocab
        self.hidden_size = llama.llama_model_n_embd(self._file.model)
        self.eos_token_id = llama.llama_vocab_eos(self._file.vocab)
        params = llama.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch, params.n_seq_max = n_ctx, n_batch, n_batch, 1
        params.n_threads = params.n_threads_batch = threads
        _errors.clear()
        self._ctx = llama.llama_init_from_model(self._file.model, params)
        if not self._ctx:
            raise ModelFileError(f"{self.path}: llama.cpp cannot create a context of n_ctx = {n_ctx} "
                                 f"({_recent_errors()})")
        # llama.cpp rounds the context up (to a multiple of 256); the capacity promised is what was asked.
        self.capacity = min(n_ctx, llama.llama_n_ctx(self._ctx))
        self._memory = llama.llama_get_memory(self._ctx)
        self._n_batch = n_batch
        self._token_batch = self._new_batch(llama, 0)
        self._embd_batch = self._new_batch(llama, self.hidden_size)

    def _new_batch(self, llama, embd: int):
        """A batch of n_batch entries, all in sequence 0, with numpy views of its per-entry arrays."""
        batch = llama.llama_batch_init(self._n_batch, embd, 1)
        n = self._n_batch
        np.ctypeslib.as_array(batch.n_seq_id, shape=(n,))[:] = 1
        for i in range(n):
            batch.seq_id[i][0] = 0
        views = {"pos": np.ctypeslib.as_array(batch.pos, shape=(n,)),
                 "logits": np.ctypeslib.as_array(batch.logits, shape=(n,))}
        if embd == 0:
            views["token"] = np.ctypeslib.as_array(batch.token, shape=(n,))
        self._batches.append((batch, views))
        return batch, views

    def _open_context(self):
        """The llama.cpp context; a closed model raises instead of touching freed memory."""
        if not self._ctx:
            raise RuntimeError("LlamaCppLM: closed (close() freed its llama.cpp context)")
        return self._ctx

    def _decode(self, batch_views, count: int, start: int) -> np.ndarray:
        llama = _library()
        self._open_context()
        batch, views = batch_views
        batch.n_tokens = count
        views["pos"][:count] = np.arange(start, start + count, dtype=np.int32)
        views["logits"][:count] = 0
        views["logits"][count - 1] = 1
        status = llama.llama_decode(self._ctx, batch)
        if status != 0:
            raise RuntimeError(f"llama_decode failed with status {status} at position {start} ({_recent_errors()})")
        logits = llama.llama_get_logits_ith(self._ctx, count - 1)
        return np.ctypeslib.as_array(logits, shape=(self.n_vocab,)).copy()

    def _feed_tokens(self, ids: list[int], start: int) -> np.ndarray:
        for offset in range(0, len(ids), self._n_batch):
            chunk = ids[offset:offset + self._n_batch]
            self._token_batch[1]["token"][:len(chunk)] = chunk
            logits = self._decode(self._token_batch, len(chunk), start + offset)
        return logits

    def _feed_embeddings(self, block: np.ndarray, start: int) -> np.ndarray:
        batch = self._embd_batch[0]
        for offset in range(0, len(block), self._n_batch):
            chunk = block[offset:offset + self._n_batch]
            ctypes.memmove(batch.embd, chunk.ctypes.data, chunk.nbytes)
            logits = self._decode(self._embd_batch, len(chunk), start + offset)
        return logits

    def _drop_from(self, position: int) -> None:
        self._open_context()
        if not _library().llama_memory_seq_rm(self._memory, 0, position, -1):
            raise RuntimeError(f"llama.cpp could not drop positions >= {position} from the KV cache")

    def _clear(self) -> None:
        self._open_context()
        _library().llama_memory_clear(self._memory, True)

    def _constraint(self, grammar: str) -> GrammarConstraint:
        self._open_context()
        return self._file.constraint(grammar)

    def close(self) -> None:
        """Free llama.cpp's objects; the model cannot be used afterwards. Safe to call twice."""
        llama = _library()
        for batch, _ in self._batches:
            llama.llama_batch_free(batch)
        self._batches.clear()
        if self._ctx:
            llama.llama_free(self._ctx)
            self._ctx = None
        self._file.close()

    def __enter__(self) -> LlamaCppLM:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_file", None) is not None:
            self.close()
