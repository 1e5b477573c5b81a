"""GPT-style Transformer language model (decoder only, pre-LayerNorm, like GPT-2 and nanoGPT).

    token ids (b, t)
      -> token embedding (+ learned or sinusoidal position embedding)   (b, t, d_model)
      -> TransformerDecoderBlock x num_layers (causal self-attention + GELU MLP)
      -> LayerNorm -> logits = x Eᵀ (tied to the token embedding E) or a Dense layer
                                                                       (b, t, vocabulary_size)

Generation uses a key/value cache of fixed capacity `context_length`: `prefill` reads the
prompt once and `step` adds one position, so a new token costs one position of compute
instead of the whole prefix. When the cache is full, `step` keeps the last half of the
tokens and re-reads them from position 0 (a sliding window, as nanoGPT crops its input
to the last `block_size` tokens), then goes on. In a batch of left-padded prompts every
row shares the slot index, so all rows slide at the same step (when the longest one
fills the cache): a batch gives exactly the tokens of its prompts run one at a time as
long as prompt + new tokens fit in the context, and shorter rows see a shorter window
than they would alone after that.
"""

import math

import keras
from keras import ops

from lm_keras.config import TransformerConfig
from lm_keras.layers import PositionEmbedding, SinusoidalPositionEncoding, TransformerDecoderBlock, causal_mask
from lm_keras.models.base import LanguageModel


@keras.saving.register_keras_serializable(package="lm_keras")
class TransformerLanguageModel(LanguageModel):
    """Args: see `lm_keras.config.TransformerConfig` (validated on construction)."""

    def __init__(self, vocabulary_size, context_length=256, num_layers=4, num_heads=4, d_model=128, mlp_ratio=4,
                 dropout=0.0, position_encoding="learned", tie_weights=True, use_bias=True,
                 layer_norm_epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.config = c = TransformerConfig(vocabulary_size, context_length, num_layers, num_heads, d_model,
                                            mlp_ratio, dropout, position_encoding, tie_weights, use_bias,
                                            layer_norm_epsilon)
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.token_embedding = keras.layers.Embedding(vocabulary_size, d_model, embeddings_initializer=init,
                                                      name="token_embedding")
        self.position_embedding = {
            "learned": lambda: PositionEmbedding(context_length, d_model, initializer=init, name="position_embedding"),
            "sinusoidal": lambda: SinusoidalPositionEncoding(d_model, name="position_encoding"),
            "rotary": lambda: None,  # applied to queries and keys inside attention
        }[position_encoding]()
        self.embedding_dropout = keras.layers.Dropout(dropout)
        self.blocks = [
            TransformerDecoderBlock(num_heads, mlp_ratio, dropout, use_bias, rotary=position_encoding == "rotary",
                                    layer_norm_epsilon=layer_norm_epsilon, initializer_stddev=0.02,
                                    output_stddev=0.02 / math.sqrt(2 * num_layers), name=f"block_{i}")
            for i in range(num_layers)
        ]
        self.final_norm = keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, center=use_bias,
                                                          name="final_norm")
        self.output_projection = None if tie_weights else keras.layers.Dense(
            vocabulary_size, use_bias=False, kernel_initializer=init, name="logits")
        self.head_size = c.d_model // c.num_heads

    @property
    def vocabulary_size(self):
        return self.config.vocabulary_size

    @property
    def context_length(self):
        return self.config.context_length

    def build(self, input_shape):
        batch, time = input_shape[0], input_shape[1]
        self.token_embedding.build(input_shape)
        if self.position_embedding is not None:
            self.position_embedding.build(input_shape)
        shape = (batch, time, self.config.d_model)
        for block in self.blocks:
            block.build(shape)
        self.final_norm.build(shape)
        if self.output_projection is not None:
            self.output_projection.build(shape)
        self.built = True

    def _embed(self, token_ids, positions, training=None, embedding_offset=None):
        """ids (b, t), positions (b or 1, t), optional offset (b, d_model) added everywhere -> (b, t, d_model)"""
        x = self.token_embedding(token_ids)
        if embedding_offset is not None:
            x = x + ops.expand_dims(ops.cast(embedding_offset, x.dtype), 1)
        if self.position_embedding is not None:
            x = x + ops.cast(self.position_embedding(positions), x.dtype)
        return self.embedding_dropout(x, training=training)

    def _logits(self, x):
        """(b, t, d_model) -> (b, t, vocabulary_size), float32 also under mixed precision."""
        return self._project(self.final_norm(x))

    def _project(self, x):
        """Normalised states (b, t, d_model) -> logits (b, t, vocabulary_size), float32."""
        if self.output_projection is not None:
            return ops.cast(self.output_projection(x), "float32")
        return ops.cast(ops.matmul(x, ops.transpose(ops.cast(self.token_embedding.embeddings, x.dtype))), "float32")

    def _check_length(self, time):
        if isinstance(time, int) and time > self.context_length:
            raise ValueError(f"Input of {time} tokens is longer than context_length={self.context_length}; "
                             f"crop it to the last {self.context_length} tokens.")

    def call(self, token_ids, training=None, return_attention_scores=False, embedding_offset=None):
        """token_ids (b, t), t <= context_length -> logits (b, t, vocabulary_size).

        A conditional model (the VAE's decoder) passes `embedding_offset` (b, d_model),
        added to every input embedding.

        With `return_attention_scores`, also a list with each layer's attention weights (b, heads, t, t).
        """
        states = self.hidden_states(token_ids, training, return_attention_scores, embedding_offset)
        if return_attention_scores:
            return self._project(states[0]), states[1]
        return self._project(states)

    def hidden_states(self, token_ids, training=None, return_attention_scores=False, embedding_offset=None):
        """token_ids (b, t) -> the final LayerNorm's output (b, t, d_model), from which the logits are read.

        Position i has seen tokens 0..i only (causal attention), so right padding never
        changes the states of the real tokens. A classifier pools these states
        (`lm_keras.models.classifier.TransformerClassifier`).
        """
        time = token_ids.shape[1] if token_ids.shape[1] is not None else ops.shape(token_ids)[1]
        self._check_length(time)
        positions = ops.expand_dims(ops.arange(time, dtype="int32"), 0)
        mask = causal_mask(time)
        x = self._embed(token_ids, positions, training, embedding_offset)
        scores = []
        for block in self.blocks:
            x = block(x, attention_mask=mask, positions=positions, training=training,
                      return_attention_scores=return_attention_scores)
            if return_attention_scores:
                x, weights = x
                scores.append(weights)
        x = self.final_norm(x)
        return (x, scores) if return_attention_scores else x

    # --- cached generation -------------------------------------------------------------------

    def initial_cache(self, batch_size):
        """An empty cache for `batch_size` rows (every tensor but `index` is batch-first):

            layers     per block (keys, values), each (b, context_length, heads, head_size)
            tokens     (b, context_length) int32, the ids in the cache (to slide the window)
            mask       (b, context_length) bool, slots that hold a real token
            positions  (b,) int32, the position id of each row's next token
            index      () int32, the next free slot (the same for every row)
        """
        capacity = self.context_length
        zeros = ops.zeros((batch_size, capacity, self.config.num_heads, self.head_size), self.compute_dtype)
        return {
            "layers": tuple((zeros, zeros) for _ in self.blocks),
            "tokens": ops.zeros((batch_size, capacity), "int32"),
            "mask": ops.zeros((batch_size, capacity), "bool"),
            "positions": ops.zeros((batch_size,), "int32"),
            "index": ops.convert_to_tensor(0, "int32"),
        }

    def _extend(self, token_ids, token_mask, positions, cache, embedding_offset=None):
        """Write t new tokens at slots [index, index + t) -> (logits of the last one (b, vocab), cache)."""
        index = cache["index"]
        time = ops.shape(token_ids)[1]
        slot_mask = ops.slice_update(cache["mask"], [0, index], token_mask)
        # query i (slot index + i) sees the filled slots up to its own.
        visible = causal_mask(time, self.context_length, offset=index) & ops.expand_dims(slot_mask, 1)
        x = self._embed(token_ids, positions, training=False, embedding_offset=embedding_offset)
        layers = []
        for block, kv in zip(self.blocks, cache["layers"]):
            x, kv = block(x, attention_mask=visible, positions=positions, cache=kv, cache_index=index,
                          training=False)
            layers.append(kv)
        logits = self._logits(x[:, -1:])[:, 0]
        return logits, {
            "layers": tuple(layers),
            "tokens": ops.slice_update(cache["tokens"], [0, index], ops.cast(token_ids, "int32")),
            "mask": slot_mask,
            "positions": positions[:, -1] + 1,
            "index": index + time,
        }

    def prefill(self, token_ids, padding_mask=None, embedding_offset=None):
        """Read a prompt: (b, t) ids, t <= context_length -> (last logits (b, vocab), cache).

        Prompts are left-padded; `padding_mask` (b, t) is False on padding. Each row's
        first real token gets position 0, and padding slots are never attended to.
        """
        self._check_length(token_ids.shape[1])
        batch, time = ops.shape(token_ids)[0], ops.shape(token_ids)[1]
        if padding_mask is None:
            padding_mask = ops.ones((batch, time), "bool")
        padding_mask = ops.cast(padding_mask, "bool")
        positions = ops.maximum(ops.cumsum(ops.cast(padding_mask, "int32"), axis=1) - 1, 0)
        return self._extend(token_ids, padding_mask, positions, self.initial_cache(batch), embedding_offset)

    def _slide(self, cache, embedding_offset=None):
        """Full cache -> a cache holding only the last context_length // 2 tokens, re-read from position 0."""
        keep = self.context_length // 2
        if keep == 0:
            return self.initial_cache(ops.shape(cache["tokens"])[0])
        _, cache = self.prefill(cache["tokens"][:, -keep:], cache["mask"][:, -keep:], embedding_offset)
        return cache

    def step(self, token_ids, cache, embedding_offset=None):
        """One new position: ids (b,) and cache -> (logits (b, vocab), new cache)."""
        cache = ops.cond(cache["index"] >= self.context_length, lambda: self._slide(cache, embedding_offset),
                         lambda: cache)
        token_ids = ops.expand_dims(token_ids, 1)
        mask = ops.ones_like(token_ids, dtype="bool")
        return self._extend(token_ids, mask, ops.expand_dims(cache["positions"], 1), cache, embedding_offset)

    def get_config(self):
        return {**super().get_config(), **self.config.to_dict()}
