"""The language-model backend interface: one sequence, a KV cache, greedy decoding.

A sequence is built by ``prefill`` from segments, each either token ids or a block of input
embeddings (the encoder's fused visual tokens, float32 [n, hidden_size]), appended at the current
position. ``generate`` continues greedily from there; every token it returns is fed back, so the
cache then holds the prompt and the returned tokens and may be continued or truncated.
``truncate(p)`` keeps positions < p: the runtime keeps a shared prefix (graph text) and drops what
followed (a window's visual tokens and output) without recomputing the prefix.

Backends implement four primitives (feed ids, feed embeddings, drop positions, clear); the greedy
loop, the bookkeeping and the input checks live here once, so the backends cannot drift apart.
Not thread-safe: one object serves one sequence from one thread at a time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Protocol, Union

import numpy as np

Segment = Union[Sequence[int], np.ndarray]


class TokenConstraint(Protocol):
    """A grammar's view of decoding: which token to take given the logits, and which was taken."""

    def pick(self, logits: np.ndarray) -> int: ...

    def accept(self, token: int) -> None: ...


class LanguageModel(ABC):
    """Greedy decoding over one sequence (see the module docstring).

    Subclasses set ``n_vocab``, ``hidden_size``, ``capacity`` (most positions the cache holds) and
    ``eos_token_id`` in their constructor, then call ``super().__init__()``.
    """

    n_vocab: int
    hidden_size: int
    capacity: int
    eos_token_id: int

    def __init__(self) -> None:
        self._position = 0
        self._logits: np.ndarray | None = None  # next-token logits at the current position

    @property
    def position(self) -> int:
        """Tokens in the KV cache (ids and embedding rows alike)."""
        return self._position

    @property
    def next_logits(self) -> np.ndarray | None:
        """The next-token logits at the current position, float32 [n_vocab]; None before a prefill
        (after reset or truncate too). The backend's own array: read, don't modify."""
        return self._logits

    def prefill(self, segments: Iterable[Segment]) -> None:
        """Append segments at the current position: token id sequences (ints in [0, n_vocab)) or float32
        embedding blocks [n, hidden_size]. All are checked before any is fed."""
        checked = [self._check_segment(i, s) for i, s in enumerate(segments)]
        checked = [s for s in checked if len(s)]
        total = sum(len(s) for s in checked)
        if self._position + total > self.capacity:
            raise ValueError(f"segments: {total} tokens after position {self._position} exceed the context "
                             f"of {self.capacity} tokens (n_ctx)")
        for segment in checked:
            if isinstance(segment, np.ndarray):
                self._logits = self._feed_embeddings(segment, self._position)
            else:
                self._logits = self._feed_tokens(segment, self._position)
            self._position += len(segment)

    def generate(self, max_new_tokens: int, grammar: str | None = None,
                 stop: int | Iterable[int] | None = None) -> list[int]:
        """Greedy continuation: up to ``max_new_tokens`` ids, ending before a ``stop`` id (default: the
        end-of-text id; not returned, not fed) or when the context is full. With ``grammar`` (GBNF, root
        rule ``root``) only tokens the grammar allows are taken, and a stop id only where it may end."""
        if max_new_tokens < 0:
            raise ValueError(f"max_new_tokens: must be >= 0, got {max_new_tokens}")
        if self._logits is None:
            raise ValueError("generate: nothing to continue from; prefill first (after reset or truncate too)")
        stops = {self.eos_token_id} if stop is None else {stop} if isinstance(stop, int) else set(stop)
        constraint = self._constraint(grammar) if grammar is not None else None
        new_ids: list[int] = []
        while len(new_ids) < max_new_tokens and self._position < self.capacity:
            token = constraint.pick(self._logits) if constraint else int(np.argmax(self._logits))
            if token in stops:
                break
            if constraint:
                constraint.accept(token)
            new_ids.append(token)
            self._logits = self._feed_tokens([token], self._position)
            self._position += 1
        return new_ids

    def truncate(self, position: int) -> None:
        """Drop every position >= ``position`` (0 <= position <= self.position). Prefill before the next
        ``generate`` unless nothing was dropped: the logits at the new end are not kept."""
        if not 0 <= position <= self._position:
            raise ValueError(f"position: must be in [0, {self._position}], got {position}")
        if position == self._position:
            return
        self._drop_from(position)
        self._position = position
        self._logits = None

    def reset(self) -> None:
        """An empty sequence, as after construction."""
        self._clear()
        self._position = 0
        self._logits = None

    def _check_segment(self, index: int, segment: Segment) -> Segment:
        name = f"segments[{index}]"
        if isinstance(segment, np.ndarray) and segment.dtype.kind == "f":
            if segment.dtype != np.float32:
                raise ValueError(f"{name}: embedding block must be float32, got {segment.dtype}")
            if segment.ndim != 2 or segment.shape[1] != self.hidden_size:
                raise ValueError(f"{name}: embedding block must have shape [n, {self.hidden_size}], "
                                 f"got {list(segment.shape)}")
            if not np.isfinite(segment).all():
                raise ValueError(f"{name}: embedding block holds NaN or inf")
            return np.ascontiguousarray(segment)
        ids = np.asarray(segment)
        if ids.ndim != 1 or (ids.size and ids.dtype.kind not in "iu"):
            raise ValueError(f"{name}: expected token ids (a 1-D sequence of ints) or a float32 embedding block, "
                             f"got {ids.dtype} with shape {list(ids.shape)}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_vocab):
            raise ValueError(f"{name}: token ids must be in [0, {self.n_vocab}), "
                             f"got {int(ids.min())}..{int(ids.max())}")
        return [int(i) for i in ids]

    @abstractmethod
    def _feed_tokens(self, ids: list[int], start: int) -> np.ndarray:
        """Decode ``ids`` at positions start.. and return the last one's logits, float32 [n_vocab]."""

    @abstractmethod
    def _feed_embeddings(self, block: np.ndarray, start: int) -> np.ndarray:
        """Decode the rows of ``block`` [n, hidden_size] at positions start..; the last row's logits."""

    @abstractmethod
    def _drop_from(self, position: int) -> None:
        """Remove positions >= ``position`` from the cache."""

    @abstractmethod
    def _clear(self) -> None:
        """Empty the cache."""

    @abstractmethod
    def _constraint(self, grammar: str) -> TokenConstraint:
        """A fresh constraint (at the grammar's start) for one ``generate`` call."""

