"""The tiny GPT-2 through the project's `Generator`, checked against references built on KerasHub's own
uncached forward pass: greedy, top-k, top-p and temperature sampling with the same seed semantics, and
beam search."""

import numpy as np
import pytest
import tensorflow as tf

from lm_keras.generation import Generator, sample_next_token

PROMPTS = ["the cat", "hello there, world", ""]


def next_logits(causal_lm, rows):
    """The last position's logits of each row, each row read alone by KerasHub's forward pass: (b, vocab)."""
    out = []
    for ids in rows:
        ids = np.array([ids], np.int32)
        out.append(np.asarray(causal_lm({"token_ids": ids, "padding_mask": np.ones_like(ids, bool)})[0, -1]))
    return np.stack(out).astype(np.float32)


def reference_sample(causal_lm, rows, steps, seed, temperature, top_k, top_p, stop_id):
    """The decode loop's contract, one full forward pass per token: step i draws with seed (seed, i)."""
    rows, new = [list(r) for r in rows], [[] for _ in rows]
    done = [False] * len(rows)
    for i in range(steps):
        logits = next_logits(causal_lm, rows)
        picked = sample_next_token(logits, tf.constant([seed, i]), temperature, top_k, top_p).numpy()
        for r, token in enumerate(picked):
            if not done[r]:
                rows[r].append(int(token))
                new[r].append(int(token))
                done[r] = token == stop_id
        if all(done):
            break
    return [ids[:-1] if ids and ids[-1] == stop_id else ids for ids in new]


def reference_beam(causal_lm, prompt, steps, num_beams):
    """Plain beam search over full forward passes, no stop token: the `num_beams` best continuations by
    total log-probability at every step; the best one at the end."""
    beams = [(0.0, [])]
    for _ in range(steps):
        log_probs = tf.nn.log_softmax(next_logits(causal_lm, [prompt + ids for _, ids in beams])).numpy()
        candidates = [(score + log_probs[b, token], ids + [token]) for b, (score, ids) in enumerate(beams)
                      for token in range(log_probs.shape[1])]
        beams = sorted(candidates, key=lambda c: -c[0])[:num_beams]
    return beams[0][1]


@pytest.fixture(scope="module")
def generator(wrapped):
    return Generator(*wrapped)


@pytest.fixture(scope="module")
def prompt_rows(generator):
    return generator.prompt_ids(PROMPTS)


def test_empty_prompt_starts_from_endoftext(generator, prompt_rows):
    assert prompt_rows[2] == [generator.tokenizer.bos_id]
    assert generator.banned_ids == ()  # <|endoftext|> is [PAD], [BOS] and [EOS]: it may end a text


@pytest.mark.parametrize("settings", [
    dict(temperature=0.0),
    dict(temperature=1.5, top_k=5),
    dict(temperature=1.5, top_p=0.6),
    dict(temperature=0.7),
], ids=["greedy", "top_k", "top_p", "temperature"])
def test_generator_equals_the_reference_loop(gpt2, generator, prompt_rows, settings):
    settings = {"top_k": 0, "top_p": 1.0, **settings}
    got = generator.generate_ids(prompt_rows, max_new_tokens=12, seed=7, **settings)
    expected = reference_sample(gpt2, prompt_rows, 12, 7, settings["temperature"], settings["top_k"],
                                settings["top_p"], generator.tokenizer.eos_id)
    assert got == expected
    assert sum(map(len, got)) > 6  # something was generated, not only an early <|endoftext|>


def test_greedy_is_the_argmax_of_keras_hubs_forward_pass(gpt2, generator, prompt_rows):
    new = generator.generate_ids(prompt_rows[:1], max_new_tokens=8, temperature=0.0, stop_at_eos=False)[0]
    for i, token in enumerate(new):
        assert token == int(np.argmax(next_logits(gpt2, [prompt_rows[0] + new[:i]])[0]))


def test_same_seed_same_text_other_seed_other_text(generator):
    first = generator(PROMPTS, max_new_tokens=12, temperature=1.5, top_p=0.95, seed=3)
    assert generator(PROMPTS, max_new_tokens=12, temperature=1.5, top_p=0.95, seed=3) == first
    assert generator(PROMPTS, max_new_tokens=12, temperature=1.5, top_p=0.95, seed=4) != first
    assert [text[:len(prompt)] for text, prompt in zip(first, PROMPTS)] == PROMPTS


def test_beam_search_equals_the_reference(gpt2, generator, prompt_rows):
    got = generator.generate_ids(prompt_rows, max_new_tokens=4, num_beams=3, stop_at_eos=False)
    assert got == [reference_beam(gpt2, prompt, 4, 3) for prompt in prompt_rows]
    greedy = generator.generate_ids(prompt_rows, max_new_tokens=4, temperature=0.0, stop_at_eos=False)
    assert generator.generate_ids(prompt_rows, max_new_tokens=4, num_beams=1, stop_at_eos=False) == greedy


def test_long_generation_slides_past_the_context(wrapped, prompt_rows):
    """64 context tokens, 100 new ones: the cache slides instead of overflowing; the same tokens with XLA."""
    new = Generator(*wrapped).generate_ids(prompt_rows, max_new_tokens=100, temperature=0.0, stop_at_eos=False)
    assert [len(ids) for ids in new] == [100] * 3
    assert Generator(*wrapped, jit_compile=True).generate_ids(prompt_rows, max_new_tokens=100, temperature=0.0,
                                                              stop_at_eos=False) == new
