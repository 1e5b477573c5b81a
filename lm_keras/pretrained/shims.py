"""The only two places where lm_keras relies on library internals, because no public API exists.

Checked against keras 3.15.1, keras_hub 0.32.0 and kagglehub 1.0.2. Each shim has a test
that fails loudly when the library changes under it:
tests/pretrained/test_gpt2.py::test_shims_kaggle_cache_layout and
tests/pretrained/test_gpt2.py::test_shims_kv_cache_matches_keras_hub.

- `kaggle_cache_path(handle)` uses kagglehub's internal `kagglehub.handle.parse_model_handle`
  and `kagglehub.cache.Cache().load_from_cache` (the on-disk cache layout and its
  completion markers). kagglehub's public `model_download` asks Kaggle about the handle
  (it fails offline, or fetches only the file asked for), and KerasHub has no public
  "is this preset cached" call; reading the cache directly is what lets `load_gpt2` load
  a cached preset name offline.
- `empty_kv_cache(causal_lm, batch, length)` builds the zero key/value cache that
  KerasHub's GPT-2 `call_with_cache` (public) takes, in the layout of KerasHub's private
  `GPT2CausalLM._build_cache`: `[batch, num_layers, 2 (key, value), length, num_heads,
  head_dim]` in the model's compute dtype. The export's TensorFlow decode loop needs it.
"""

from pathlib import Path

KAGGLE_PREFIX = "kaggle://"


def kaggle_cache_path(handle):
    """The local folder of a versioned Kaggle handle if its `config.json` is in the kagglehub cache, else None."""
    from kagglehub.cache import Cache
    from kagglehub.handle import parse_model_handle

    try:
        model = parse_model_handle(handle.removeprefix(KAGGLE_PREFIX))
    except ValueError:
        return None
    if model.version is None:  # an unversioned handle asks Kaggle for the latest version
        return None
    cached = Cache().load_from_cache(model, "config.json")
    return str(Path(cached).parent) if cached else None


def empty_kv_cache(causal_lm, batch, length):
    """Zeros in the key/value cache layout of a KerasHub GPT-2's `call_with_cache`, for `batch` rows of `length`.

    `batch` and `length` may be Python ints or scalar int tensors (inside a `tf.function`).
    """
    import tensorflow as tf

    backbone = causal_lm.backbone
    return tf.zeros([batch, backbone.num_layers, 2, length, backbone.num_heads,
                     backbone.hidden_dim // backbone.num_heads], causal_lm.compute_dtype)
