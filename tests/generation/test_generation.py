import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.generation import Generator, sample_next_token, top_k_filter, top_p_filter
from lm_keras.models import RNNLanguageModel
from lm_keras.tokenizers import CharTokenizer

TEXT = "the quick brown fox jumps over the lazy dog. " * 3  # as in conftest.py


def _logits(seed=0, batch=4, vocab=50):
    return tf.constant(np.random.default_rng(seed).normal(size=(batch, vocab)) * 3, tf.float32)


SEED = tf.constant([1, 2])


def test_greedy_top_k_1_and_tiny_top_p_all_pick_the_argmax():
    logits = _logits()
    greedy = tf.argmax(logits, -1, output_type=tf.int32).numpy()
    np.testing.assert_array_equal(sample_next_token(logits, SEED, temperature=0.0), greedy)
    np.testing.assert_array_equal(sample_next_token(logits, SEED, temperature=-1.0), greedy)
    for seed in range(5):
        s = tf.constant([seed, 0])
        np.testing.assert_array_equal(sample_next_token(logits, s, temperature=1.0, top_k=1), greedy)
        np.testing.assert_array_equal(sample_next_token(logits, s, temperature=1.0, top_p=1e-6), greedy)


def test_top_k_keeps_exactly_k_and_top_p_keeps_the_nucleus():
    logits = _logits()
    kept = np.isfinite(top_k_filter(logits, tf.constant(5)).numpy())
    assert (kept.sum(-1) == 5).all()
    assert np.isfinite(top_k_filter(logits, tf.constant(0)).numpy()).all()
    probs = tf.nn.softmax(logits).numpy()
    kept = np.isfinite(top_p_filter(logits, tf.constant(0.9)).numpy())
    for row, mask in zip(probs, kept):
        order = np.argsort(-row)
        n = mask.sum()
        assert set(np.flatnonzero(mask)) == set(order[:n])
        assert row[order[:n]].sum() >= 0.9 > row[order[: n - 1]].sum()


@pytest.mark.slow
def test_sampling_follows_the_distribution():
    logits = tf.math.log(tf.constant([[0.7, 0.2, 0.1]] * 4000))
    draws = sample_next_token(logits, SEED).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 4000, [0.7, 0.2, 0.1], atol=0.03)
    # the same over steps (seeds) for one row
    draws = [int(sample_next_token(logits[:1], tf.constant([9, s]))[0]) for s in range(1000)]
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 1000, [0.7, 0.2, 0.1], atol=0.05)
    # and with temperature: T=2 flattens to p^(1/2), normalised
    flat = np.sqrt([0.7, 0.2, 0.1]) / np.sqrt([0.7, 0.2, 0.1]).sum()
    draws = sample_next_token(logits, SEED, temperature=2.0).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 4000, flat, atol=0.03)


def test_same_seed_same_text_and_different_seeds_differ(generator):
    a = generator("the ", max_new_tokens=40, temperature=1.5, seed=3)
    b = generator("the ", max_new_tokens=40, temperature=1.5, seed=3)
    c = generator("the ", max_new_tokens=40, temperature=1.5, seed=4)
    assert a == b and a != c and a.startswith("the ")


def test_a_batch_of_prompts_equals_the_prompts_one_at_a_time(generator):
    prompts = ["the quick brown", "a", "lazy dog. the"]
    # within the Transformer's context of 24 (beyond it, every row of a batch slides its window at the same step)
    batch = generator(prompts, max_new_tokens=9, temperature=0.0)
    single = [generator(p, max_new_tokens=9, temperature=0.0) for p in prompts]
    assert batch == single


def test_empty_and_unknown_prompts_still_generate(generator):
    tokenizer = generator.tokenizer
    (new,) = generator.generate_ids(generator.prompt_ids([""]), max_new_tokens=10, temperature=1.0, seed=0,
                                    stop_at_eos=False)
    assert len(new) == 10 and tokenizer.pad_id not in new and tokenizer.bos_id not in new
    assert generator("", max_new_tokens=10, temperature=1.0, seed=0, stop_at_eos=False) == tokenizer.decode_to_str(new)
    text = generator("床前😀", max_new_tokens=5, temperature=0.0, stop_at_eos=False)
    assert text.startswith("\ufffd\ufffd\ufffd") and len(text) == 8


def test_generation_stops_at_the_end_token():
    tokenizer = CharTokenizer.train(TEXT)
    # Bias the output layer so that [EOS] is the most likely next token everywhere.
    keras.utils.set_random_seed(0)
    model = RNNLanguageModel(tokenizer.vocabulary_size, embedding_dim=8, hidden_dim=32)
    model(np.zeros((1, 1), np.int32))
    bias = model.output_projection.bias
    bias.assign(bias.numpy() + 100.0 * (np.arange(bias.shape[0]) == tokenizer.eos_id))
    stopping = Generator(model, tokenizer)
    assert stopping.generate_ids([[5, 6]], max_new_tokens=10, temperature=0.0) == [[]]
    assert stopping.generate_ids([[5, 6]], max_new_tokens=10, temperature=0.0, stop_at_eos=False) == [
        [tokenizer.eos_id] * 10]
    assert stopping.generate_ids([[5, 6]], max_new_tokens=10, num_beams=3) == [[]]


@pytest.mark.parametrize("kwargs,field", [
    ({"top_k": -1}, "top_k"), ({"top_p": 0.0}, "top_p"), ({"top_p": 1.5}, "top_p"),
    ({"temperature": float("nan")}, "temperature"), ({"max_new_tokens": -3}, "max_new_tokens"),
])
def test_invalid_sampling_arguments_are_clear_errors(generator, kwargs, field):
    with pytest.raises(ValueError, match=field):
        generator("the", **kwargs)


@pytest.mark.slow
def test_xla_compiled_loop_gives_the_same_tokens(generator):
    compiled = Generator(generator.model, generator.tokenizer, jit_compile=True)
    for kwargs in ({"temperature": 0.0}, {"temperature": 0.9, "top_k": 5, "top_p": 0.9, "seed": 11}):
        assert compiled("the quick", max_new_tokens=15, **kwargs) == generator("the quick", max_new_tokens=15, **kwargs)


def test_banned_ids_follow_the_tokenizer_and_the_switches():
    """[PAD] and [BOS] never; [EOS] and [UNK] on request; a tokenizer whose [EOS] is its [BOS] and [PAD]
    (GPT-2's <|endoftext|>) keeps it when it may end a text, and one without [UNK] bans nothing for it."""
    from types import SimpleNamespace

    from lm_keras.generation.generator import banned_ids
    from lm_keras.tokenizers import BOS_ID, EOS_ID, PAD_ID, UNK_ID

    char = CharTokenizer.train(TEXT)
    assert banned_ids(char) == (PAD_ID, BOS_ID)
    assert banned_ids(char, allow_eos=False, allow_unknown=False) == (PAD_ID, UNK_ID, BOS_ID, EOS_ID)
    gpt2_like = SimpleNamespace(pad_id=50256, bos_id=50256, eos_id=50256, unk_id=None)
    assert banned_ids(gpt2_like) == () and banned_ids(gpt2_like, allow_unknown=False) == ()
    assert banned_ids(gpt2_like, allow_eos=False) == (50256,)
