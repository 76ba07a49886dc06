"""Numeric answers by expected score (runtime.numbers): the choice rule on hand-made distributions, the
best-first digit tree on the shipped model's language model (llama.cpp), and the tokens it needs."""

import re

import pytest

from ssr_runtime.eval.metrics import mean_relative_accuracy
from ssr_runtime.runtime import numbers as N

NUMBER = re.compile(r"^(0|[1-9][0-9]{0,3})\.[0-9][0-9]$")  # the answer grammar's `num`, unsigned
LEAF = re.compile(r"^([1-9][0-9]{1,3}\.|[1-9]\.[0-9]|0\.[0-9][0-9])$")  # two significant digits at least


def leaf_of(number):
    """The leaf of the digit tree a full number ("2.40", "133.00") falls under ("2.4", "133.")."""
    return next(number[:end] for end in range(1, len(number) + 1) if LEAF.match(number[:end]))


def expected_score(text, distribution):
    total = sum(distribution.values())
    scores = [p * mean_relative_accuracy(float(text), float(t)) for t, p in distribution.items() if float(t) > 0]
    return sum(scores) / total


def test_best_number_is_the_expected_score_not_the_mode():
    distribution = {"0.20": 0.40, "2.00": 0.35, "2.20": 0.25}  # the mode sits apart from the mass
    assert N.best_number(distribution) == "2.00"
    assert expected_score("2.00", distribution) == pytest.approx(0.575)
    assert expected_score("0.20", distribution) == pytest.approx(0.40)
    assert N.best_number({"3.00": 0.9, "4.00": 0.1}) == "3.00"
    assert N.best_number({"0.00": 0.6}) == "0.00"  # no positive candidate to score against: the likeliest
    assert N.best_number({"5.00": 0.5, "5.50": 0.5}) in ("5.00", "5.50")


@pytest.fixture(scope="module")
def bundle():
    pytest.importorskip("llama_cpp", reason="the runtime extra (llama-cpp-python) is not installed")
    from ssr_runtime.runtime.bundle import load_bundle
    from ssr_runtime.runtime.session import DEFAULT_MODEL

    return load_bundle(DEFAULT_MODEL)


def prompt_ids(bundle, question):
    from ssr_runtime import _core
    from ssr_runtime.eval.records import vsi_prompt
    from ssr_runtime.runtime.grammars import ANSWER_HEAD
    from ssr_runtime.training.samples import DIRECT_MARK, stage2_prompt

    text = stage2_prompt(_core.SceneGraph(), vsi_prompt(question, None), DIRECT_MARK) + ANSWER_HEAD
    return bundle.tokenizer.encode(text).ids


@pytest.mark.parametrize("question", ["How many chairs are in this room?",
                                      "What is the length of the longest dimension of the bed in centimeters?",
                                      "What is the distance between the bed and the lamp in meters?"])
def test_digit_tree_of_the_shipped_model(bundle, question):
    lm, tokens = bundle.lm, N.NumberTokens.of(bundle.tokenizer)
    lm.reset()
    lm.prefill([prompt_ids(bundle, question)])
    start = lm.position
    distribution = N.number_distribution(lm, tokens)
    assert lm.position == start and lm.next_logits is None  # the tree is walked and dropped again
    assert distribution and all(LEAF.match(text) for text in distribution), sorted(distribution)[:5]
    # Best-first covers the mass: a depth-first walk left two thirds of the centimetre question's uncovered
    # (0.34), spending its budget on sizes starting with 1 (docs/MODEL.md).
    assert 0.9 <= sum(distribution.values()) <= 1 + 1e-6, sum(distribution.values())
    lm.reset()
    lm.prefill([prompt_ids(bundle, question)])
    text, ids = N.decode_number(lm, tokens)
    best = N.best_number(distribution)
    assert NUMBER.match(text) and leaf_of(text) == best, (text, best)
    assert lm.position == start and len(ids) == len(text) and bundle.tokenizer.decode(ids) == text
    likeliest = max(distribution, key=distribution.get)
    assert expected_score(best, distribution) >= expected_score(likeliest, distribution) - 1e-9


def test_a_whole_number_stops_the_tree_at_the_point(bundle):
    lm, tokens = bundle.lm, N.NumberTokens.of(bundle.tokenizer)
    lm.reset()
    lm.prefill([prompt_ids(bundle, "How many chairs are in this room?")])
    start = lm.position
    wholes = N.number_distribution(lm, tokens, integer=True)
    assert wholes and all(re.fullmatch(r"(0|[1-9][0-9]{0,3})\.", text) for text in wholes), sorted(wholes)
    assert lm.position == start and 0.9 <= sum(wholes.values()) <= 1 + 1e-6
    lm.reset()
    lm.prefill([prompt_ids(bundle, "How many chairs are in this room?")])
    text, ids = N.decode_number(lm, tokens, integer=True)
    assert text == N.best_number(wholes) + "00" and bundle.tokenizer.decode(ids) == text
    assert lm.position == start


def test_a_tokenizer_without_single_digit_tokens_is_refused():
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel

    vocab = {str(d): d for d in range(10)} | {"[UNK]": 10}
    with pytest.raises(ValueError, match=r"'\.' is not a single token"):
        N.NumberTokens.of(Tokenizer(WordLevel(vocab, unk_token="[UNK]")))


def test_number_distribution_needs_logits(bundle):
    bundle.lm.reset()
    with pytest.raises(ValueError, match="prefill first"):
        N.number_distribution(bundle.lm, N.NumberTokens.of(bundle.tokenizer))


def test_the_greedy_number_is_a_leaf_of_the_tree(bundle, monkeypatch):
    """The greedy path (what `ask(greedy_numbers=True)` writes) is expanded whatever the budget, so its
    leaf is always among the candidates the expected score chooses from; with no budget it is the only
    one."""
    from ssr_runtime.runtime.grammars import ANSWER_HEAD, answer_grammar

    lm, tokens = bundle.lm, N.NumberTokens.of(bundle.tokenizer)
    for question in ["What is the distance between the bed and the lamp in meters?",
                     "What is the length of the longest dimension of the sofa in centimeters?"]:
        prompt = prompt_ids(bundle, question)
        head = len(bundle.tokenizer.encode(ANSWER_HEAD).ids)
        lm.reset()
        lm.prefill([prompt[:-head]])
        greedy = bundle.tokenizer.decode(lm.generate(40, grammar=answer_grammar(None)))
        number = greedy.split()[1]
        lm.reset()
        lm.prefill([prompt])
        assert leaf_of(number) in N.number_distribution(lm, tokens), greedy
        with monkeypatch.context() as patch:  # no budget: the greedy path alone is walked
            patch.setattr(N, "MAX_EVALUATIONS", 0)
            lm.reset()
            lm.prefill([prompt])
            starved = N.number_distribution(lm, tokens)
            assert leaf_of(number) in starved
            assert all(number.startswith(leaf[:-1]) for leaf in starved), (number, sorted(starved))
