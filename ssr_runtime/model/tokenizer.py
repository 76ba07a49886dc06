"""The SSR tokenizer: byte-level BPE trained on the project's own texts, split the way Qwen2 splits.

The pre-tokenizer is Qwen2's own (a regex Split, then ByteLevel without its regex), so llama.cpp's
``qwen2`` pre-tokenizer cuts text at the same places: digits stand alone, so a coordinate such as
``1.20`` is always the tokens ``1 . 2 0``. No normalizer: every string round-trips exactly.
Special tokens take ids 0..9 in the order of SPECIAL_TOKENS (the BPE trainer places them first).
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

# The special tokens belong to the training texts' contract and are defined once, beside them.
from ssr_runtime.training.samples import COGMAP_MARK as COGMAP_TOKEN
from ssr_runtime.training.samples import DIRECT_MARK as DIRECT_TOKEN
from ssr_runtime.training.samples import END as EOS_TOKEN
from ssr_runtime.training.samples import GRAPH_MARK as GRAPH_TOKEN
from ssr_runtime.training.samples import NEW_MARK as NEW_TOKEN
from ssr_runtime.training.samples import QUESTION_MARK as QUESTION_TOKEN
from ssr_runtime.training.samples import SCAFFOLD_MARK as SCAFFOLD_TOKEN
from ssr_runtime.training.samples import LABELS_MARK as LABELS_TOKEN
from ssr_runtime.training.samples import SPECIAL_TOKENS
from ssr_runtime.training.samples import VIS as VIS_TOKEN
from ssr_runtime.training.samples import WINDOW_MARK as WINDOW_TOKEN

__all__ = ["COGMAP_TOKEN", "DIRECT_TOKEN", "EOS_TOKEN", "GRAPH_TOKEN", "NEW_TOKEN", "QUESTION_TOKEN",
           "QWEN2_SPLIT_PATTERN", "SCAFFOLD_TOKEN", "SPECIAL_TOKENS", "VIS_TOKEN", "WINDOW_TOKEN",
           "load_tokenizer", "train_tokenizer", "wrap_tokenizer"]

# Qwen2's tokenizer.json split pattern, character for character.
QWEN2_SPLIT_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
                       r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def _empty_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> PreTrainedTokenizerFast:
    """Train the byte-level BPE on ``texts``; the same texts in the same order give the same tokenizer.

    vocab_size counts everything (the 10 special tokens, the 256 bytes, the merges); it must leave room
    for the bytes. Fewer merges result when the texts hold fewer distinct pairs.
    """
    minimum = len(SPECIAL_TOKENS) + 256
    if vocab_size < minimum:
        raise ValueError(f"train_tokenizer.vocab_size: must be >= {minimum} (special tokens + 256 bytes), "
                         f"got {vocab_size}")
    tokenizer = _empty_tokenizer()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return wrap_tokenizer(tokenizer)


def wrap_tokenizer(tokenizer: Tokenizer) -> PreTrainedTokenizerFast:
    """The transformers view of a trained ``tokenizers.Tokenizer``, with eos = pad = <|endoftext|>.

    The last special token, <|labels|> (training-only, since prepared data v4), may be absent: older
    tokenizers, and the checkpoints and exports made with them, still load."""
    special = SPECIAL_TOKENS if tokenizer.token_to_id(LABELS_TOKEN) is not None else SPECIAL_TOKENS[:-1]
    for token_id, token in enumerate(special):
        if tokenizer.token_to_id(token) != token_id:
            raise ValueError(f"tokenizer: special token {token} must have id {token_id}, "
                             f"has {tokenizer.token_to_id(token)}")
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=EOS_TOKEN,
        pad_token=EOS_TOKEN,
        additional_special_tokens=list(special[1:]),
        # The default clean-up would turn " ." into "." and break the round trip.
        clean_up_tokenization_spaces=False,
        model_max_length=1 << 30,
    )


def load_tokenizer(directory: str) -> PreTrainedTokenizerFast:
    """A tokenizer saved with ``save_pretrained`` (tokenizer.json), checked for the special tokens."""
    return wrap_tokenizer(Tokenizer.from_file(f"{directory}/tokenizer.json"))
