"""Pretrained GPT-2 through KerasHub, offline: a tiny GPT-2 saved as a local preset stands in for gpt2_base_en."""

import gc
import json
import os
import shutil
import subprocess
import sys
import time
import weakref

import numpy as np
import pytest
import tensorflow as tf

from lm_keras.config import TrainConfig
from lm_keras.errors import ConfigError, ModelLoadError
from lm_keras.pretrained import (SAMPLERS, build_tiny_gpt2, count_trainable, enable_lora, export_gpt2, finetune,
                                 generate, gpt2_presets, kaggle_cache_path, load_gpt2, score_texts,
                                 tokens_per_character)
from lm_keras.pretrained import generation, shims
from lm_keras.pretrained.export import decode

PROMPTS = ["the cat", "hello there, world", ""]
TEXTS = ["the cat sat on the mat and the dog ran in the house", "she sells sea shells on the sea shore"] * 4
FAST = dict(batch_size=4, eval_interval=12, learning_rate=1e-2, context_length=32, seed=0)


@pytest.fixture(scope="session")
def preset_dir(tmp_path_factory):
    """A tiny GPT-2 (2 layers, width 32, ~280 BPE tokens) written with `save_to_preset`."""
    directory = tmp_path_factory.mktemp("tiny_gpt2") / "preset"
    build_tiny_gpt2().save_to_preset(str(directory))
    return directory


@pytest.fixture(scope="session")
def gpt2(preset_dir):
    return load_gpt2(preset_dir)


@pytest.fixture
def empty_kaggle_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    return tmp_path / "kagglehub"


def test_load_from_directory_restores_the_weights(gpt2, preset_dir):
    original = build_tiny_gpt2()  # same seed, same weights
    assert type(gpt2).__name__ == "GPT2CausalLM" and gpt2.preprocessor is not None
    for a, b in zip(original.backbone.weights, gpt2.backbone.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert load_gpt2(preset_dir, dtype="mixed_bfloat16").backbone.compute_dtype == "bfloat16"


def test_unknown_preset_name_is_a_model_load_error():
    with pytest.raises(ModelLoadError, match="gpt2_no_such_preset_en.*gpt2_base_en"):
        load_gpt2("gpt2_no_such_preset_en")


def test_missing_directory_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="not a KerasHub preset directory"):
        load_gpt2(tmp_path / "missing")


def test_uncached_preset_without_download_fails_at_once(empty_kaggle_cache):
    start = time.perf_counter()
    with pytest.raises(ModelLoadError, match="'gpt2_base_en'.*save_to_preset") as error:
        load_gpt2("gpt2_base_en", download=False)
    assert time.perf_counter() - start < 2
    assert "kaggle://keras/gpt2/keras/gpt2_base_en" in str(error.value)


def test_failed_download_is_a_model_load_error_quickly(empty_kaggle_cache):
    """Offline this is a connection error, online a 404: either way a ModelLoadError naming the handle."""
    handle = "kaggle://keras/gpt2/keras/gpt2_lm_keras_missing_en/1"
    start = time.perf_counter()
    with pytest.raises(ModelLoadError, match="gpt2_lm_keras_missing_en.*save_to_preset") as error:
        load_gpt2(handle)
    assert time.perf_counter() - start < 30
    assert error.value.__cause__ is not None


def test_shims_kaggle_cache_layout(preset_dir, empty_kaggle_cache):
    """Files laid out with kagglehub's own Cache API are found by the shim; the preset name loads offline.

    Fails when kagglehub changes its cache internals (`lm_keras.pretrained.shims`).
    """
    from kagglehub.cache import Cache
    from kagglehub.handle import parse_model_handle

    handle = gpt2_presets()["gpt2_base_en"]
    model = parse_model_handle(handle.removeprefix("kaggle://"))
    cache = Cache()
    shutil.copytree(preset_dir, cache.get_path(model))
    for root, _, files in os.walk(preset_dir):
        for name in files:
            cache.mark_as_complete(model, os.path.relpath(os.path.join(root, name), preset_dir))
    assert kaggle_cache_path is shims.kaggle_cache_path
    assert kaggle_cache_path(handle) == cache.get_path(model)
    assert kaggle_cache_path(handle.rsplit("/", 1)[0]) is None  # unversioned: only Kaggle knows the latest
    assert load_gpt2("gpt2_base_en", download=False).backbone.hidden_dim == 32


@pytest.mark.slow
@pytest.mark.parametrize("sampler", SAMPLERS)
def test_same_seed_gives_the_same_text(gpt2, sampler):
    first = generate(gpt2, PROMPTS, max_length=16, sampler=sampler, temperature=1.5, top_k=20, top_p=0.95, seed=7)
    again = generate(gpt2, PROMPTS, max_length=16, sampler=sampler, temperature=1.5, top_k=20, top_p=0.95, seed=7)
    assert first == again and len(first) == 3 and first[1].startswith("hello there, world")
    if sampler != "greedy":
        others = {tuple(generate(gpt2, PROMPTS, max_length=16, sampler=sampler, temperature=1.5, top_k=20,
                                 top_p=0.95, seed=seed)) for seed in (8, 9)}
        assert others != {tuple(first)}


def greedy_ids(causal_lm, prompt, max_length):
    """The argmax continuation, one full forward pass per token (the reference)."""
    tokenizer = causal_lm.preprocessor.tokenizer
    ids = [tokenizer.start_token_id] + np.asarray(tokenizer(prompt)).tolist()
    while len(ids) < max_length:
        logits = causal_lm({"token_ids": np.array([ids]), "padding_mask": np.ones((1, len(ids)), bool)})
        ids.append(int(np.argmax(logits[0, -1])))
        if ids[-1] == tokenizer.end_token_id:
            break
    return ids


def test_greedy_is_the_argmax_continuation(gpt2):
    tokenizer = gpt2.preprocessor.tokenizer
    expected = tokenizer.detokenize([i for i in greedy_ids(gpt2, "the cat", 16)[1:] if i != tokenizer.end_token_id])
    assert generate(gpt2, "the cat", max_length=16) == expected


@pytest.mark.parametrize("kwargs, field", [
    (dict(sampler="beam"), "sampler"), (dict(max_length=0), "max_length"), (dict(max_length=65), "max_length"),
    (dict(sampler="top_k", temperature=0.0), "temperature"), (dict(sampler="top_k", top_k=0), "top_k"),
    (dict(sampler="top_p", top_p=1.5), "top_p"),
])
def test_invalid_generation_args_name_the_field(gpt2, kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}="):
        generate(gpt2, "the cat", **{"max_length": 16, **kwargs})


def test_score_texts_is_the_mean_token_nll(gpt2):
    text, tokenizer = "the cat sat on the mat", gpt2.preprocessor.tokenizer
    ids = np.array([[tokenizer.start_token_id] + np.asarray(tokenizer(text)).tolist()])
    logits = gpt2({"token_ids": ids, "padding_mask": np.ones_like(ids, bool)}).numpy()[0, :-1]
    log_probs = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) - logits.max(
        -1, keepdims=True)
    expected = -log_probs[np.arange(len(log_probs)), ids[0, 1:]].sum()
    result = score_texts(gpt2, [text, "hello"])
    assert result["num_tokens"][0] == ids.shape[1] - 1
    np.testing.assert_allclose(result["nll"][0], expected, rtol=1e-4)
    np.testing.assert_allclose(result["nll_per_character"], result["total_nll"] / (len(text) + 5), rtol=1e-6)


def test_long_texts_are_scored_in_windows(gpt2):
    long_text = "the cat sat on the mat. " * 20  # > 64 tokens, the tiny model's context
    num_tokens = len(np.asarray(gpt2.preprocessor.tokenizer(long_text)))
    assert num_tokens > 64
    result = score_texts(gpt2, [long_text], batch_size=2)
    assert result["num_tokens"][0] == num_tokens and np.isfinite(result["total_nll"])


def test_tokens_per_character_counts_bpe_tokens(gpt2):
    texts = ["the cat", "in the house"]
    tokens = sum(len(np.asarray(gpt2.preprocessor.tokenizer(t))) for t in texts)
    assert tokens_per_character(gpt2.preprocessor, texts) == pytest.approx(tokens / 19)
    assert tokens_per_character(gpt2.preprocessor.tokenizer, ["the"]) < 1  # "the" is 2 tokens: merges work


@pytest.mark.slow
def test_finetune_lowers_the_loss(preset_dir):
    causal_lm = load_gpt2(preset_dir, dtype="auto")  # the precision of TrainConfig(precision="auto")
    before = score_texts(causal_lm, TEXTS[:2])["mean_nll_per_token"]
    history = finetune(causal_lm, TEXTS, TrainConfig(steps=12, eval_batches=1, **FAST), validation_texts=TEXTS[:2],
                       verbose=0)
    after = score_texts(causal_lm, TEXTS[:2])["mean_nll_per_token"]
    assert len(history.history["loss"]) == 1 and after < before - 1.0
    assert history.history["val_loss"][0] < before - 1.0


@pytest.mark.slow
def test_lora_with_mixed_precision_trains_only_the_factors(preset_dir):
    causal_lm = load_gpt2(preset_dir, dtype="mixed_bfloat16")
    before, after = enable_lora(causal_lm, 2)
    assert after < before / 5 and after == count_trainable(causal_lm) > 0
    frozen = causal_lm.backbone.token_embedding.embeddings.numpy()
    factors = [w.numpy() for w in causal_lm.trainable_weights]
    history = finetune(causal_lm, TEXTS, TrainConfig(steps=3, precision="mixed_bfloat16", **FAST), verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert causal_lm.backbone.transformer_layers[0].compute_dtype == "bfloat16"
    np.testing.assert_array_equal(causal_lm.backbone.token_embedding.embeddings.numpy(), frozen)
    assert any(not np.array_equal(w.numpy(), f) for w, f in zip(causal_lm.trainable_weights, factors))
    assert generate(causal_lm, "the cat", max_length=12).startswith("the cat")


@pytest.mark.parametrize("call, field", [
    (lambda lm: enable_lora(lm, 0), "rank"),
    (lambda lm: finetune(lm, [], TrainConfig(**FAST)), "texts"),
    (lambda lm: finetune(lm, TEXTS, {"steps": 1}), "config"),
    (lambda lm: finetune(lm, TEXTS, TrainConfig(**{**FAST, "context_length": 65})), "TrainConfig.context_length"),
    (lambda lm: finetune(lm, TEXTS, TrainConfig(**FAST), lora_rank=-1), "rank"),
    (lambda lm: finetune(lm, TEXTS, TrainConfig(**{**FAST, "precision": "mixed_bfloat16"})),
     r"TrainConfig.precision = 'mixed_bfloat16' .*float32.*load_gpt2\(preset, dtype='mixed_bfloat16'\)"),
    (lambda lm: export_gpt2(lm, "unused", max_length=100), "max_length"),
])
def test_invalid_training_and_export_args_name_the_field(gpt2, call, field):
    with pytest.raises((ValueError, ConfigError), match=f"^{field}"):
        call(gpt2)


def test_shims_kv_cache_matches_keras_hub(gpt2, preset_dir):
    """The shim's cache is KerasHub's private `_build_cache` layout, and decoding through it is KerasHub's greedy.

    Fails when KerasHub changes its GPT-2 key/value cache (`lm_keras.pretrained.shims`).
    """
    for model in (gpt2, load_gpt2(preset_dir, dtype="mixed_bfloat16")):
        ids = tf.constant([[1, 2, 3, 4, 5], [6, 7, 8, 0, 0]], tf.int32)
        _, seeded = model._build_cache(ids)
        ours = shims.empty_kv_cache(model, 2, 5)
        assert ours.shape == seeded.shape and ours.dtype == seeded.dtype
        _, _, prefilled = model.call_with_cache(ids, ours, 0)
        np.testing.assert_array_equal(tf.cast(prefilled, tf.float32).numpy(), tf.cast(seeded, tf.float32).numpy())
    inputs = gpt2.preprocessor.generate_preprocess(PROMPTS, sequence_length=16)
    ids, mask = tf.function(decode, jit_compile=True)(
        gpt2, tf.cast(inputs["token_ids"], tf.int32), tf.cast(inputs["padding_mask"], tf.bool),
        gpt2.preprocessor.tokenizer.end_token_id, tf.constant(0.0), tf.constant(0), tf.constant(1.0), tf.constant(0))
    texts = gpt2.preprocessor.generate_postprocess({"token_ids": ids, "padding_mask": mask})
    assert list(texts) == generate(gpt2, PROMPTS, max_length=16)


def test_compiled_generate_functions_go_with_their_model():
    causal_lm = build_tiny_gpt2(num_layers=1, hidden_dim=16, max_sequence_length=16)
    generate(causal_lm, "the cat", max_length=8)
    assert causal_lm in generation._COMPILED
    model, entries = weakref.ref(causal_lm), len(generation._COMPILED)
    del causal_lm
    gc.collect()  # may also free models of earlier tests, so the table shrinks by at least one
    assert model() is None and len(generation._COMPILED) <= entries - 1


LOADER = """
import json, sys
import tensorflow as tf
import tensorflow_text  # registers the BPE pre-split ops
model = tf.saved_model.load(sys.argv[1])
prompts = tf.constant(json.loads(sys.argv[2]))
texts = lambda result: [t.decode("utf-8", errors="replace") for t in result["text"].numpy()]
greedy = texts(model.signatures["serving_default"](prompt=prompts))
sampled = [texts(model.generate(prompts, tf.constant(16), tf.constant(1.5), tf.constant(20), tf.constant(0.95),
                                tf.constant(7))) for _ in range(2)]
print(json.dumps({"greedy": greedy, "sampled": sampled, "imported": [m for m in ("keras_hub", "lm_keras")
                                                                     if m in sys.modules]}))
"""


@pytest.mark.slow
def test_export_round_trip_in_plain_tensorflow(gpt2, tmp_path):
    path = export_gpt2(gpt2, tmp_path / "export", max_length=16, jit_compile=False)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_gpt2(gpt2, path, max_length=16)
    assert json.loads((path / "assets" / "export.json").read_text())["max_length"] == 16
    run = subprocess.run([sys.executable, "-c", LOADER, str(path), json.dumps(PROMPTS)], capture_output=True,
                         text=True, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["imported"] == []
    # The tiny model can end on an incomplete UTF-8 sequence: KerasHub 0.21 drops its bytes where
    # later versions write U+FFFD, so compare with U+FFFD removed on both sides.
    complete = lambda texts: [t.replace("\ufffd", "") for t in texts]
    assert complete(result["greedy"]) == complete(generate(gpt2, PROMPTS, max_length=16))
    assert result["sampled"][0] == result["sampled"][1] and result["sampled"][0] != result["greedy"]
