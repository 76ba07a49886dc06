import pytest

pytest.importorskip("tokenizers")
pytest.importorskip("transformers")
pytest.importorskip("torch")

from ssr_runtime.model import (  # noqa: E402
    EOS_TOKEN, SPECIAL_TOKENS, VIS_TOKEN, load_tokenizer, train_tokenizer,
)

TEXTS = [
    "<|graph|>\n<box> chair#2 x=1.20 y=-0.40 z=0.45 l=0.50 w=0.50 h=0.90 yaw=1.57 </box>\n"
    "<tri> chair#2 left_of table#1 dx=-0.80 dy=0.10 dz=0.00 </tri>\n<|window|>" + VIS_TOKEN * 17 +
    "\n<|new|>\n<box> lamp#1 x=3.05 y=2.10 z=1.30 l=0.30 w=0.30 h=1.60 yaw=0.00 </box><|endoftext|>",
    "<|graph|>\n<|question|>\nHow far is the lamp from the bed (in metres)?\nA. 1.5\nB. 2.0\n<|scaffold|>\n"
    "<cog anchor=table#1 res=0.5> chair#2 (3,4); lamp#1 (7,1) </cog>\n<ans> B </ans><|endoftext|>",
    "<|cogmap|> room\n<cog anchor=room res=0.5> bed#1 (0,9) </cog><|direct|><ans> 3.20 m </ans>",
]


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS * 20, vocab_size=400)


def test_special_tokens_have_fixed_ids(tokenizer):
    assert [tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))
    assert tokenizer.eos_token == tokenizer.pad_token == EOS_TOKEN
    assert tokenizer.encode(VIS_TOKEN * 3) == [1, 1, 1]


@pytest.mark.parametrize("text", TEXTS + ["  spaces  and\ttabs\n\n\r\n trailing ", "naïve café ☃ 1.2e3", " . , ;", ""])
def test_round_trip(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_digits_split_one_by_one(tokenizer):
    tokens = tokenizer.convert_ids_to_tokens(tokenizer.encode("x=1.20 y=-0.45"))
    assert tokens[tokens.index("1"):tokens.index("1") + 4] == ["1", ".", "2", "0"]
    assert all(len(t) == 1 for t in tokens if any(ch.isdigit() for ch in t))


def test_training_is_deterministic(tokenizer):
    again = train_tokenizer(TEXTS * 20, vocab_size=400)
    assert again.backend_tokenizer.to_str() == tokenizer.backend_tokenizer.to_str()


def test_vocab_size_is_respected_and_learns_merges(tokenizer):
    assert len(SPECIAL_TOKENS) + 256 < len(tokenizer) <= 400
    assert len(tokenizer.encode(TEXTS[0])) < len(TEXTS[0].encode()) / 2


def test_too_small_vocab_is_refused():
    with pytest.raises(ValueError, match="vocab_size: must be >= 266"):
        train_tokenizer(TEXTS, vocab_size=100)


def test_save_and_load(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    loaded = load_tokenizer(str(tmp_path))
    for text in TEXTS:
        assert loaded.encode(text) == tokenizer.encode(text)
    assert loaded.eos_token_id == tokenizer.eos_token_id == 0
