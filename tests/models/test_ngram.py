import math

import keras
import numpy as np
import pytest

from lm_keras.models.ngram import NGramLanguageModel
from lm_keras.tokenizers import create_tokenizer

TEXT = "the cat sat on the mat . the dog sat on the log . a cat and a dog . " * 5


@pytest.fixture(scope="module")
def words():
    tokenizer = create_tokenizer("word", [TEXT])
    return tokenizer, tokenizer.encode_to_numpy(TEXT)


@pytest.mark.parametrize("smoothing", ["kneser_ney", "add_k"])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_probabilities_over_the_vocabulary_sum_to_one(words, order, smoothing):
    tokenizer, ids = words
    model = NGramLanguageModel(order, tokenizer.vocabulary_size, smoothing, k=0.5).fit(ids)
    unseen = [tokenizer.token_to_id("dog")] * 4  # "dog dog dog dog" never occurs
    for context in ([], ids[:4], ids[7:11], unseen):
        p = model.next_token_probabilities(context)
        assert p.shape == (tokenizer.vocabulary_size,) and np.all(p > 0)
        assert p.sum() == pytest.approx(1.0, abs=1e-9)
    # log_prob and the vectorised scoring agree with the full distribution
    p = model.next_token_probabilities(ids[:4])
    assert model.log_prob(ids[4], ids[:4]) == pytest.approx(math.log(p[ids[4]]))
    assert model.token_log_probs(ids[:5])[-1] == pytest.approx(math.log(p[ids[4]]))


def test_add_k_uses_the_context_it_has_at_the_start_of_a_text(words):
    tokenizer, ids = words
    trigram = NGramLanguageModel(3, tokenizer.vocabulary_size, "add_k").fit(ids)
    bigram = NGramLanguageModel(2, tokenizer.vocabulary_size, "add_k").fit(ids)
    the = tokenizer.token_to_id("the")
    np.testing.assert_allclose(trigram.next_token_probabilities([the]), bigram.next_token_probabilities([the]))
    assert trigram.token_log_probs(ids[:2])[0] == pytest.approx(bigram.token_log_probs(ids[:2])[0])


def test_add_one_is_the_counting_formula(words):
    tokenizer, ids = words
    V = tokenizer.vocabulary_size
    model = NGramLanguageModel(2, V, "add_k", k=1.0).fit(ids)
    the, cat = tokenizer.token_to_id("the"), tokenizer.token_to_id("cat")
    pairs = list(zip(ids[:-1], ids[1:]))
    c_the_cat = sum(1 for a, b in pairs if a == the and b == cat)
    c_the = sum(1 for a, _ in pairs if a == the)
    assert math.exp(model.log_prob(cat, [the])) == pytest.approx((c_the_cat + 1) / (c_the + V))


def test_kneser_ney_prefers_tokens_seen_in_many_contexts(words):
    tokenizer, ids = words
    model = NGramLanguageModel(2, tokenizer.vocabulary_size).fit(ids)
    # in an unseen context, "." (seen after mat, log, dog) beats "mat" (seen after "the" only)
    # although both occur 5 times
    p = model.next_token_probabilities([tokenizer.token_to_id("and")])
    assert p[tokenizer.token_to_id(".")] > p[tokenizer.token_to_id("mat")]


def test_generation_uses_the_seeded_samplers(words):
    tokenizer, ids = words
    model = NGramLanguageModel(3, tokenizer.vocabulary_size).fit(ids)
    prompt = tokenizer.encode_to_numpy("the cat").tolist()
    banned = [tokenizer.pad_id, tokenizer.bos_id]
    a = model.generate_ids(prompt, 12, temperature=1.0, seed=3, banned=banned)
    assert a == model.generate_ids(prompt, 12, temperature=1.0, seed=3, banned=banned)
    assert a != model.generate_ids(prompt, 12, temperature=1.0, seed=4, banned=banned)
    greedy = model.generate_ids(prompt, 3, temperature=0.0, banned=banned)
    assert tokenizer.decode_to_str(greedy) == "sat on the"


@pytest.mark.parametrize("field, value", [("order", 0), ("order", 6), ("smoothing", "witten_bell"), ("k", 0.0)])
def test_invalid_settings_name_the_field(field, value):
    options = {"order": 3, "vocabulary_size": 10, "smoothing": "kneser_ney", "k": 1.0, field: value}
    with pytest.raises(ValueError, match=f"{field}={value!r} is invalid"):
        NGramLanguageModel(**options)


def test_kneser_ney_beats_add_one_on_tiny_shakespeare_words(shakespeare):
    from lm_keras.data import split_corpus

    splits = split_corpus(shakespeare)
    tokenizer = create_tokenizer("word", splits["train"])
    train, validation = (tokenizer.encode_to_numpy(splits[s][0]) for s in ("train", "validation"))
    kneser_ney = NGramLanguageModel(3, tokenizer.vocabulary_size, "kneser_ney").fit(train).perplexity(validation)
    add_one = NGramLanguageModel(3, tokenizer.vocabulary_size, "add_k", k=1.0).fit(train).perplexity(validation)
    print(f"word trigram validation perplexity: Kneser-Ney {kneser_ney:.1f}, add-one {add_one:.1f}")
    assert kneser_ney < add_one / 5


def test_the_documents_cross_entropy_example_with_the_projects_loss():
    # vocabulary 我 / 爱 / 你, the model predicts 0.1 / 0.7 / 0.2, the right next token is 爱
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = np.log(np.array([[0.1, 0.7, 0.2]], np.float32))
    assert float(loss(np.array([1]), logits)) == pytest.approx(-math.log(0.7), abs=1e-6)
    assert -math.log(0.7) == pytest.approx(0.35667, abs=1e-5)
