"""The GPT-2 adapters: KerasHubTokenizer is KerasHub's tokenizer with the project's interface, and
KerasHubLanguageModel's cached prefill/step compute KerasHub's own (uncached) forward pass."""

import numpy as np
import pytest
import tensorflow as tf

from lm_keras.evaluation import evaluate_language_model
from lm_keras.generation.generator import left_pad
from lm_keras.pretrained import KerasHubLanguageModel, KerasHubTokenizer, from_keras_hub, tokens_per_character
from lm_keras.pretrained import shims
from lm_keras.tokenizers import CharTokenizer, load_tokenizer

TEXTS = ["the cat sat on the mat", "", "床前明月光😀", "hello there, world"]


def forward(causal_lm, ids):
    """KerasHub's own forward pass over one unpadded row: logits (len(ids), vocab) float32."""
    ids = np.array([ids], np.int32)
    logits = causal_lm({"token_ids": ids, "padding_mask": np.ones_like(ids, bool)}, training=False)
    return np.asarray(logits, np.float32)[0]


# ----- the tokenizer ---------------------------------------------------------------------------------------

def test_tokenizer_encodes_as_keras_hub_and_decodes_back(gpt2, wrapped):
    _, tokenizer = wrapped
    expected = [np.asarray(gpt2.preprocessor.tokenizer(text)).tolist() for text in TEXTS]
    assert tokenizer.encode(tf.constant(TEXTS)).to_list() == expected
    assert tokenizer.encode(TEXTS[0]).numpy().tolist() == expected[0]
    assert [t.decode("utf-8") for t in tokenizer.decode(tokenizer.encode(tf.constant(TEXTS))).numpy()] == TEXTS
    assert tokenizer.vocabulary_size == gpt2.backbone.vocabulary_size == 283


def test_endoftext_is_bos_eos_and_padding_and_decodes_to_nothing(gpt2, wrapped):
    _, tokenizer = wrapped
    end = gpt2.preprocessor.tokenizer.end_token_id
    assert tokenizer.pad_id == tokenizer.bos_id == tokenizer.eos_id == end and tokenizer.unk_id is None
    assert tokenizer.token_to_id("<|endoftext|>") == end and tokenizer.id_to_token(end) == "<|endoftext|>"
    ids = tokenizer.encode_to_numpy("the cat").tolist()
    assert tokenizer.decode_to_str([end] + ids + [end, end]) == "the cat"


def test_ids_cut_inside_a_character_decode_to_valid_utf8(wrapped):
    _, tokenizer = wrapped
    ids = tokenizer.encode_to_numpy("月光").tolist()  # 6 bytes, 6 tokens in the tiny vocabulary
    assert len(ids) == 6
    assert tokenizer.decode_to_str(ids[:4]) == "月\ufffd"


def test_tokenizer_saves_and_loads(wrapped, tmp_path):
    _, tokenizer = wrapped
    tokenizer.save(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert isinstance(loaded, KerasHubTokenizer) and loaded.vocabulary == tokenizer.vocabulary
    assert loaded.encode(tf.constant(TEXTS)).to_list() == tokenizer.encode(tf.constant(TEXTS)).to_list()
    with pytest.raises(ValueError, match="not trained here"):
        KerasHubTokenizer.train(TEXTS)


def test_tokens_per_character_counts_bpe_tokens(wrapped):
    _, tokenizer = wrapped
    assert tokens_per_character(CharTokenizer.train(TEXTS), TEXTS) == 1.0
    assert tokens_per_character(tokenizer, ["床前明月光"]) == 3.0  # no Chinese merges in the tiny vocabulary
    assert tokens_per_character(tokenizer, ["the"]) == pytest.approx(2 / 3)  # "t" + the merge "he"


# ----- the language model ----------------------------------------------------------------------------------

def test_shims_cached_forward_is_keras_hubs_call_with_cache(gpt2):
    """Unpadded, the shim's forward is KerasHub's public `call_with_cache`: the same states, logits and keys/values.

    Fails when KerasHub changes its GPT-2 forward pass (`lm_keras.pretrained.shims`).
    """
    backbone, ids, capacity = gpt2.backbone, tf.constant([[5, 6, 7, 8], [9, 10, 11, 12]], tf.int32), 10
    caches = shims.empty_layer_caches(backbone, 2, capacity, gpt2.compute_dtype)
    logits, states, stacked = gpt2.call_with_cache(ids, tf.stack(caches, axis=1), 0)
    visible = tf.range(4)[:, None] >= tf.range(capacity)[None, :]
    ours, layers = shims.cached_forward(backbone, ids, tf.tile(tf.range(4)[None], [2, 1]),
                                        tf.tile(visible[None], [2, 1, 1]), caches, 0)
    np.testing.assert_allclose(ours.numpy(), states.numpy(), atol=1e-5)
    np.testing.assert_allclose(backbone.token_embedding(ours, reverse=True).numpy(), logits.numpy(), atol=1e-5)
    np.testing.assert_allclose(tf.stack(layers, axis=1).numpy(), stacked.numpy(), atol=1e-5)


def test_prefill_and_step_equal_the_uncached_forward_pass(gpt2, wrapped):
    """Prompts of different lengths, left-padded in one batch: each row gives the logits of its prompt alone."""
    model, tokenizer = wrapped
    rows = [ids.tolist() for ids in (tokenizer.encode_to_numpy(t) for t in ("the cat", "hello there, world", "a"))]
    ids, mask = left_pad(tf.ragged.constant(rows, dtype=tf.int32))
    logits, cache = model.prefill(ids, mask)
    follow = np.array([[40, 41, 42], [50, 51, 52], [60, 61, 62]], np.int32)
    for i in range(4):
        for row, prompt in enumerate(rows):
            np.testing.assert_allclose(logits[row].numpy(), forward(gpt2, prompt + follow[row, :i].tolist())[-1],
                                       atol=1e-4)
        if i < 3:
            logits, cache = model.step(tf.constant(follow[:, i]), cache)


def test_a_full_cache_slides_to_its_last_half(gpt2):
    """With 8 slots, after the cache is full a step reads the last 4 tokens from position 0, then goes on."""
    model = KerasHubLanguageModel(gpt2, context_length=8)
    tokens = list(range(30, 36))
    logits, cache = model.prefill(tf.constant([tokens], tf.int32))
    window = list(tokens)
    for token in range(60, 70):
        logits, cache = model.step(tf.constant([token], tf.int32), cache)
        window = (window[-4:] if len(window) == 8 else window) + [token]
        np.testing.assert_allclose(logits[0].numpy(), forward(gpt2, window)[-1], atol=1e-4)


def test_call_and_score_are_keras_hubs_forward_pass(gpt2, wrapped):
    model, _ = wrapped
    ids = np.array([[5, 6, 7, 8, 9], [10, 11, 12, 13, 14]], np.int32)
    np.testing.assert_allclose(model(ids).numpy(), np.stack([forward(gpt2, row) for row in ids]), atol=1e-5)
    log_probs = tf.nn.log_softmax(np.stack([forward(gpt2, row[:-1]) for row in ids])).numpy()
    expected = np.take_along_axis(log_probs, ids[:, 1:, None], axis=-1)[..., 0]
    np.testing.assert_allclose(model.score(ids).numpy(), expected, atol=1e-5)
    ids = np.arange(40, 40 + 33, dtype=np.int32)  # two windows of 16 predicted tokens
    result = evaluate_language_model(model, ids, context_length=16)
    assert result["num_tokens"] == 32
    assert result["loss"] == pytest.approx(-np.mean(model.score(np.stack([ids[:17], ids[16:]])).numpy()), rel=1e-6)


def test_saved_and_loaded_keras_model_gives_the_same_logits(wrapped, tmp_path):
    import keras

    model, _ = wrapped
    small = KerasHubLanguageModel(model.causal_lm, context_length=32)
    small.save(tmp_path / "gpt2.keras")
    loaded = keras.saving.load_model(tmp_path / "gpt2.keras")
    assert isinstance(loaded, KerasHubLanguageModel) and loaded.context_length == 32
    ids = np.array([[5, 6, 7, 8, 9]], np.int32)
    np.testing.assert_allclose(loaded(ids).numpy(), small(ids).numpy(), atol=1e-6)


def test_mixed_precision_caches_in_bfloat16_and_returns_float32_logits(preset_dir):
    from lm_keras.pretrained import load_gpt2

    model, _ = from_keras_hub(load_gpt2(preset_dir, dtype="mixed_bfloat16"))
    logits, cache = model.prefill(tf.constant([[5, 6, 7]], tf.int32))
    assert logits.dtype == tf.float32 and cache["layers"][0].dtype == tf.bfloat16
    assert np.isfinite(model.step(tf.constant([8]), cache)[0].numpy()).all()


@pytest.mark.parametrize("context_length", [0, 65, 8.0, True])
def test_invalid_context_length_is_named(gpt2, context_length):
    with pytest.raises(ValueError, match="^context_length="):
        KerasHubLanguageModel(gpt2, context_length=context_length)


def test_a_model_without_preprocessor_cannot_be_wrapped(gpt2):
    import keras_hub

    with pytest.raises(ValueError, match="^causal_lm is invalid: it has no preprocessor"):
        from_keras_hub(keras_hub.models.GPT2CausalLM(backbone=gpt2.backbone, preprocessor=None))
