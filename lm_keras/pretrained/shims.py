"""The only two places where lm_keras relies on more than a library's documented API, because none exists.

Checked against keras 3.15.1, keras_hub 0.32.0 and kagglehub 1.0.2. Each shim has a test
that fails loudly when the library changes under it:
tests/pretrained/test_gpt2_loading.py::test_shims_kaggle_cache_layout and
tests/pretrained/test_gpt2_adapter.py::test_shims_cached_forward_is_keras_hubs_call_with_cache.

- `kaggle_cache_path(handle)` uses kagglehub's internal `kagglehub.handle.parse_model_handle`
  and `kagglehub.cache.Cache().load_from_cache` (the on-disk cache layout and its
  completion markers). kagglehub's public `model_download` asks Kaggle about the handle
  (it fails offline, or fetches only the file asked for), and KerasHub has no public
  "is this preset cached" call; reading the cache directly is what lets `load_gpt2` load
  a cached preset name offline.
- `cached_forward(backbone, ...)` is KerasHub's public `GPT2CausalLM.call_with_cache` plus
  what it lacks: a per-row attention mask and per-row positions. `call_with_cache` gives
  every row the same positions and lets every query see every earlier slot, so a batch of
  prompts of different lengths could only be decoded the way KerasHub's own sampler does
  it (right padding, prompt tokens forced into the loop), which the project's one decode
  loop does not do. The shim walks the backbone's public layers in `call_with_cache`'s
  order and passes the two through their public call arguments
  (`PositionEmbedding(positions=...)`, `TransformerDecoder(decoder_attention_mask=...)`);
  what it relies on is that order (token + position embedding, dropout, the decoder
  blocks, the final LayerNorm; the logits are the tied token embedding, `reverse=True`).
"""

import inspect
from pathlib import Path

from keras import ops

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


def cached_forward(backbone, token_ids, positions, attention_mask, layer_caches, index):
    """A GPT-2 backbone's forward pass over t new tokens written at cache slots [index, index + t).

    Args:
        token_ids: (b, t) int; positions: (b, t) int, each token's position id.
        attention_mask: (b, t, capacity) bool, the slots each new token may attend to.
        layer_caches: one (b, 2, capacity, heads, head_dim) key/value cache per decoder block.
        index: int scalar, the first slot written.

    Returns:
        (the final LayerNorm's output (b, t, hidden_dim), the updated layer caches as a tuple);
        `backbone.token_embedding(states, reverse=True)` gives the logits (for the last position
        only, when generating: a prompt's logits at every position would be b x t x 50,257 floats).
    """
    x = backbone.token_embedding(token_ids)
    x = backbone.embeddings_add((x, position_vectors(backbone.position_embedding, x, positions)))
    x = backbone.embeddings_dropout(x)
    caches = []
    for layer, cache in zip(backbone.transformer_layers, layer_caches):
        x, cache = layer(x, decoder_attention_mask=attention_mask, self_attention_cache=cache,
                         self_attention_cache_update_index=index)
        caches.append(cache)
    return backbone.layer_norm(x), tuple(caches)


def empty_layer_caches(backbone, batch_size, capacity, dtype):
    """Zero key/value caches in `cached_forward`'s layout (`TransformerDecoder`'s `self_attention_cache`)."""
    shape = (batch_size, 2, capacity, backbone.num_heads, backbone.hidden_dim // backbone.num_heads)
    return tuple(ops.zeros(shape, dtype) for _ in range(backbone.num_layers))


def position_vectors(layer, inputs, positions):
    """`keras_hub.layers.PositionEmbedding` at per-row `positions` (b, t): its `positions=` argument
    where the installed KerasHub has it, else the rows of its (public) `position_embeddings` table,
    which is what that argument gathers (KerasHub 0.21 only takes one `start_index` for the batch)."""
    if "positions" in inspect.signature(layer.call).parameters:
        return layer(inputs, positions=positions)
    return ops.cast(ops.take(layer.position_embeddings, positions, axis=0), inputs.dtype)

