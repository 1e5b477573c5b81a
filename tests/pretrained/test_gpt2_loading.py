"""Loading a pretrained GPT-2 through KerasHub, offline: a tiny GPT-2 saved as a local preset stands in for
gpt2_base_en; a kagglehub cache laid out by kagglehub's own API stands in for a downloaded preset."""

import os
import shutil

import numpy as np
import pytest

from lm_keras.errors import ModelLoadError
from lm_keras.pretrained import build_tiny_gpt2, gpt2_presets, kaggle_cache_path, load_gpt2
from lm_keras.pretrained import shims


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
    with pytest.raises(ModelLoadError, match="'gpt2_base_en'.*save_to_preset") as error:
        load_gpt2("gpt2_base_en", download=False)
    assert "kaggle://keras/gpt2/keras/gpt2_base_en" in str(error.value)


def test_failed_download_is_a_model_load_error(empty_kaggle_cache):
    """Offline this is a connection error, online a 404: either way a ModelLoadError naming the handle."""
    handle = "kaggle://keras/gpt2/keras/gpt2_lm_keras_missing_en/1"
    with pytest.raises(ModelLoadError, match="gpt2_lm_keras_missing_en.*save_to_preset") as error:
        load_gpt2(handle)
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
