"""The cached, compiled decode loop against the naive loop, beam search against greedy, for every model."""

import warnings

import numpy as np
import pytest

from lm_keras.generation import Generator

PROMPTS = ["the quick brown", "a", "lazy dog. the"]


@pytest.mark.slow
def test_cached_and_uncached_generation_give_identical_greedy_tokens(generator):
    rows = generator.prompt_ids(PROMPTS)
    cached = generator.generate_ids(rows, max_new_tokens=8, temperature=0.0, stop_at_eos=False)
    naive = generator.generate_ids(rows, max_new_tokens=8, temperature=0.0, stop_at_eos=False, use_cache=False)
    assert cached == naive
    assert all(len(r) + 8 <= 24 for r in rows)  # within the context, where both read the same tokens


def test_cached_and_uncached_sampling_with_a_seed_agree(generator):
    kwargs = dict(max_new_tokens=10, temperature=1.0, top_k=8, seed=5)
    assert generator("the ", **kwargs) == generator("the ", use_cache=False, **kwargs)


def test_beam_width_1_and_top_k_1_equal_greedy(generator):
    greedy = generator(PROMPTS, max_new_tokens=15, temperature=0.0)
    assert generator(PROMPTS, max_new_tokens=15, num_beams=1) == greedy
    assert generator(PROMPTS, max_new_tokens=15, temperature=1.0, top_k=1, seed=3) == greedy


def test_beam_search_finds_a_sequence_at_least_as_likely_as_greedy(generator):
    model, tokenizer = generator.model, generator.tokenizer
    (prompt,) = generator.prompt_ids(["the lazy"])

    def log_likelihood(new):
        ids = np.array([prompt + new], np.int32)
        return float(model.score(ids).numpy()[0, len(prompt) - 1 :].sum())

    greedy = generator.generate_ids([prompt], max_new_tokens=12, temperature=0.0, stop_at_eos=False)[0]
    beam = generator.generate_ids([prompt], max_new_tokens=12, num_beams=4, length_penalty=0.0,
                                  stop_at_eos=False)[0]
    assert len(beam) == 12 and tokenizer.pad_id not in beam
    assert log_likelihood(beam) >= log_likelihood(greedy) - 1e-4


def test_beam_search_batch_equals_one_at_a_time(generator):
    batch = generator(PROMPTS, max_new_tokens=10, num_beams=3)
    assert batch == [generator(p, max_new_tokens=10, num_beams=3) for p in PROMPTS]


def test_xla_beam_search_gives_the_same_tokens(generator):
    compiled = Generator(generator.model, generator.tokenizer, jit_compile=True)
    assert compiled(PROMPTS, max_new_tokens=10, num_beams=3) == generator(PROMPTS, max_new_tokens=10, num_beams=3)


def test_invalid_beam_width_is_a_clear_error(generator):
    with pytest.raises(ValueError, match="num_beams=0 is invalid"):
        generator("the", num_beams=0)


def test_long_prompts_are_cropped_from_the_left_with_a_warning(generator):
    limit = getattr(generator.model, "context_length", None)
    if limit is None:
        pytest.skip("an RNN has no context limit")
    prompt = "the quick brown fox jumps over the lazy dog"
    with pytest.warns(UserWarning, match=f"cropped to the last {limit}"):
        long = generator(prompt, max_new_tokens=8, temperature=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cropped = generator(prompt[-limit:], max_new_tokens=8, temperature=0.0)
    assert long.startswith(prompt) and long[len(prompt) :] == cropped[limit:]


def test_generation_continues_past_the_context_length(generator):
    # 60 new tokens with a context of 24: the cache slides and the text keeps its learned pattern
    text = generator("the quick", max_new_tokens=60, temperature=0.0, stop_at_eos=False)
    assert len(text) == len("the quick") + 60
    assert text.count("the") >= 3
