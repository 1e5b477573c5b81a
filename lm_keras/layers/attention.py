"""Attention written from the formulas: softmax(Q Kᵀ / √d_k) V, then many heads at once.

Shapes use b = batch, t = query positions, s = key positions, h = heads, d = head size.
Masks are boolean and True where a query may attend to a key (the convention of
`keras.layers.MultiHeadAttention`); masked scores are replaced by a large negative
number before the softmax, so a row with every key masked gives a uniform average
instead of NaN.
"""

import math

import keras
from keras import ops


def large_negative(dtype):
    """The stand-in for -inf in masked scores (float16 cannot hold -1e9)."""
    return -3e4 if keras.backend.standardize_dtype(dtype) == "float16" else -1e9


def causal_mask(query_length, key_length=None, offset=0):
    """(1, t, s) bool: query i (at absolute position offset + i) may see keys 0..offset + i."""
    key_length = query_length if key_length is None else key_length
    rows = ops.arange(query_length, dtype="int32")[:, None] + offset
    cols = ops.arange(key_length, dtype="int32")[None, :]
    return ops.expand_dims(cols <= rows, 0)


@keras.saving.register_keras_serializable(package="lm_keras")
class ScaledDotProductAttention(keras.layers.Layer):
    """Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V, for every head at once.

    Call args:
        query: (b, t, h, d); key, value: (b, s, h, d).
        attention_mask: optional bool, broadcastable to (b, t, s) (the same for every head) or (b, h, t, s).
        return_attention_scores: also return the softmax weights (b, h, t, s).

    Returns:
        (b, t, h, d), and the weights if asked for.

    Without weights to return (and no dropout on them), the call runs `keras.ops.dot_product_attention`,
    the backend's fused version of the same function; with them, `formula`, the function op by op.
    """

    def __init__(self, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.dropout = dropout
        self.dropout_layer = keras.layers.Dropout(dropout)

    def call(self, query, key, value, attention_mask=None, training=None, return_attention_scores=False):
        mask = None
        if attention_mask is not None:
            mask = ops.cast(attention_mask, "bool")
            if len(mask.shape) == 3:
                mask = ops.expand_dims(mask, 1)  # same mask for every head
        if not return_attention_scores and not (training and self.dropout):
            # The same function, fused where the backend has a kernel for it (flash attention on a GPU with
            # JAX or PyTorch; one softmax op in TensorFlow); the weights are never materialised for the caller.
            return ops.dot_product_attention(query, key, value, mask=mask,
                                             scale=1.0 / math.sqrt(ops.shape(query)[-1]))
        return self.formula(query, key, value, mask, training, return_attention_scores)

    def formula(self, query, key, value, mask=None, training=None, return_attention_scores=False):
        """softmax(Q Kᵀ / √d_k) V written out op by op; `mask` None or bool broadcastable to (b, h, t, s)."""
        head_size = ops.shape(query)[-1]
        query = query * ops.cast(1.0 / math.sqrt(head_size), query.dtype)
        scores = ops.einsum("bthd,bshd->bhts", query, key)  # (b, h, t, s)
        if mask is not None:
            scores = ops.where(mask, scores, ops.cast(large_negative(scores.dtype), scores.dtype))
        scores = ops.cast(scores, "float32")
        exp = ops.exp(scores - ops.max(scores, axis=-1, keepdims=True))  # softmax, shifted for stability
        weights = ops.cast(exp / ops.sum(exp, axis=-1, keepdims=True), query.dtype)
        output = ops.einsum("bhts,bshd->bthd", self.dropout_layer(weights, training=training), value)
        return (output, weights) if return_attention_scores else output

    def get_config(self):
        return {**super().get_config(), "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="lm_keras")
class MultiHeadSelfAttention(keras.layers.Layer):
    """Multi-head self-attention with an optional key/value cache.

        Q, K, V = x W_qkv (one matmul), each split into h heads of size d = d_model / h (a reshape)
        head_i  = Attention(Q_i, K_i, V_i)
        output  = concat(head_1..head_h) W_o

    Args:
        num_heads: h; d_model (the last input dimension) must be divisible by it.
        dropout: on the attention weights.
        use_bias: biases in the projections.
        rotary: a `RotaryEmbedding` applied to Q and K (needs `positions`), or None.
        kernel_initializer, output_initializer: for W_qkv and W_o.

    Call args:
        inputs: (b, t, d_model).
        attention_mask: bool broadcastable to (b, t, s); s = t without a cache, the cache
            capacity with one.
        positions: (b, t) int position ids (only used by rotary embeddings).
        cache: optional (keys, values), each (b, capacity, h, d). The new keys and values
            are written at slots [cache_index, cache_index + t) and attention runs over
            the whole cache (the mask hides empty slots).
        cache_index: int scalar, the first slot to write.
        return_attention_scores: also return the weights (b, h, t, s).

    Returns:
        output (b, t, d_model); then the updated cache if one was given; then the
        weights if asked for.
    """

    def __init__(self, num_heads, dropout=0.0, use_bias=True, rotary=None,
                 kernel_initializer="glorot_uniform", output_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.rotary = rotary
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.output_initializer = keras.initializers.get(output_initializer)
        self.attention = ScaledDotProductAttention(dropout, name="attention")

    def build(self, input_shape):
        d_model = input_shape[-1]
        if d_model % self.num_heads:
            raise ValueError(f"d_model={d_model} is invalid: must be divisible by num_heads={self.num_heads}")
        self.head_size = d_model // self.num_heads
        self.qkv = keras.layers.Dense(3 * d_model, use_bias=self.use_bias,
                                      kernel_initializer=self.kernel_initializer, name="qkv")
        self.qkv.build(input_shape)
        self.output_projection = keras.layers.Dense(d_model, use_bias=self.use_bias,
                                                    kernel_initializer=self.output_initializer, name="output")
        self.output_projection.build(input_shape)
        self.built = True

    def _split_heads(self, x):
        """(b, t, h * d) -> (b, t, h, d)"""
        return ops.reshape(x, (ops.shape(x)[0], ops.shape(x)[1], self.num_heads, self.head_size))

    def call(self, inputs, attention_mask=None, positions=None, cache=None, cache_index=None,
             training=None, return_attention_scores=False):
        query, key, value = ops.split(self.qkv(inputs), 3, axis=-1)
        query, key, value = self._split_heads(query), self._split_heads(key), self._split_heads(value)
        if self.rotary is not None:
            query, key = self.rotary(query, positions), self.rotary(key, positions)
        if cache is not None:
            start = [0, cache_index, 0, 0]
            key = ops.slice_update(cache[0], start, ops.cast(key, cache[0].dtype))
            value = ops.slice_update(cache[1], start, ops.cast(value, cache[1].dtype))
            cache = (key, value)
        heads = self.attention(query, key, value, attention_mask=attention_mask, training=training,
                               return_attention_scores=return_attention_scores)
        if return_attention_scores:
            heads, weights = heads
        shape = ops.shape(inputs)
        output = self.output_projection(ops.reshape(heads, (shape[0], shape[1], -1)))
        results = (output,) + ((cache,) if cache is not None else ()) + ((weights,) if return_attention_scores else ())
        return results[0] if len(results) == 1 else results

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "rotary": keras.saving.serialize_keras_object(self.rotary) if self.rotary is not None else None,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "output_initializer": keras.initializers.serialize(self.output_initializer),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("rotary") is not None:
            config["rotary"] = keras.saving.deserialize_keras_object(config["rotary"])
        return cls(**config)
