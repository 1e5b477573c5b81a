"""What every autoregressive language model of lm_keras shares.

    LanguageModel          call (b, t) ids -> (b, t, vocab) logits; score from call
    CachedLanguageModel    + prefill / step over a key/value cache of `context_length` slots that
                           slides when full (subclasses supply the forward pass over the cache)
"""

import keras
from keras import ops

from lm_keras.layers import causal_mask


class LanguageModel(keras.Model):
    """Base class: subclasses implement `call`, `prefill` and `step`; `score` comes from `call`."""

    def score(self, token_ids):
        """Log-likelihood of each token given the ones before it.

        token_ids (batch, time) -> (batch, time - 1) float32: log p(x_t | x_<t) for t >= 1.
        """
        logits = ops.cast(self(token_ids[:, :-1], training=False), "float32")
        log_probs = ops.log_softmax(logits, axis=-1)
        targets = ops.expand_dims(ops.cast(token_ids[:, 1:], "int32"), -1)
        return ops.squeeze(ops.take_along_axis(log_probs, targets, axis=-1), -1)


class CachedLanguageModel(LanguageModel):
    """A language model that generates through a fixed-capacity key/value cache: `prefill` reads a
    prompt once, `step` adds one position, so a new token costs one position of compute.

    The cache has `context_length` slots. Prompts come left-padded (`padding_mask` False on
    padding): each row's first real token gets position 0 and padding is never attended to,
    so a row of a batch gives the tokens it would give alone. When the cache is full, `step`
    keeps the last half of the tokens and re-reads them from position 0 (a sliding window, as
    nanoGPT crops its input to the last `block_size` tokens); every row slides at the same step.

    Subclasses define `context_length`, `empty_layer_cache(batch_size)` (their keys and values,
    a nest of batch-first tensors) and `forward_with_cache(token_ids, positions, attention_mask,
    layer_cache, index)` -> (final hidden states (b, t, d), layer cache) and
    `project(states)` -> float32 logits.
    """

    def initial_cache(self, batch_size):
        """An empty cache for `batch_size` rows (every tensor but `index` is batch-first):

            layers     the subclass's keys and values (`empty_layer_cache`)
            tokens     (b, context_length) int32, the ids in the cache (to slide the window)
            mask       (b, context_length) bool, slots that hold a real token
            positions  (b,) int32, the position id of each row's next token
            index      () int32, the next free slot (the same for every row)
        """
        capacity = self.context_length
        return {
            "layers": self.empty_layer_cache(batch_size),
            "tokens": ops.zeros((batch_size, capacity), "int32"),
            "mask": ops.zeros((batch_size, capacity), "bool"),
            "positions": ops.zeros((batch_size,), "int32"),
            "index": ops.convert_to_tensor(0, "int32"),
        }

    def _extend(self, token_ids, token_mask, positions, cache):
        """Write t new tokens at slots [index, index + t) -> (logits of the last one (b, vocab), cache)."""
        index = cache["index"]
        slot_mask = ops.slice_update(cache["mask"], [0, index], token_mask)
        # query i (slot index + i) sees the filled slots up to its own.
        visible = causal_mask(ops.shape(token_ids)[1], self.context_length, offset=index) & ops.expand_dims(
            slot_mask, 1)
        states, layers = self.forward_with_cache(token_ids, positions, visible, cache["layers"], index)
        return self.project(states[:, -1:])[:, 0], {
            "layers": layers,
            "tokens": ops.slice_update(cache["tokens"], [0, index], ops.cast(token_ids, "int32")),
            "mask": slot_mask,
            "positions": positions[:, -1] + 1,
            "index": index + ops.shape(token_ids)[1],
        }

    def prefill(self, token_ids, padding_mask=None):
        """Read a prompt: (b, t) ids, t <= context_length -> (last logits (b, vocab), cache)."""
        if isinstance(token_ids.shape[1], int) and token_ids.shape[1] > self.context_length:
            raise ValueError(f"Input of {token_ids.shape[1]} tokens is longer than context_length="
                             f"{self.context_length}; crop it to the last {self.context_length} tokens.")
        if padding_mask is None:
            padding_mask = ops.ones(ops.shape(token_ids), "bool")
        padding_mask = ops.cast(padding_mask, "bool")
        positions = ops.maximum(ops.cumsum(ops.cast(padding_mask, "int32"), axis=1) - 1, 0)
        return self._extend(token_ids, padding_mask, positions, self.initial_cache(ops.shape(token_ids)[0]))

    def _slide(self, cache):
        """Full cache -> a cache holding only the last context_length // 2 tokens, re-read from position 0."""
        keep = self.context_length // 2
        if keep == 0:
            return self.initial_cache(ops.shape(cache["tokens"])[0])
        return self.prefill(cache["tokens"][:, -keep:], cache["mask"][:, -keep:])[1]

    def step(self, token_ids, cache):
        """One new position: ids (b,) and cache -> (logits (b, vocab), new cache)."""
        cache = ops.cond(cache["index"] >= self.context_length, lambda: self._slide(cache), lambda: cache)
        token_ids = ops.expand_dims(token_ids, 1)
        return self._extend(token_ids, ops.ones_like(token_ids, dtype="bool"), ops.expand_dims(cache["positions"], 1),
                            cache)
