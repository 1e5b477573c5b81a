"""Choosing the next token from logits: greedy, temperature, top-k and top-p (nucleus).

All functions are TensorFlow ops with dynamic arguments (`top_k`, `top_p` may be tensors),
so one compiled decode loop serves every setting.

Sampling is the Gumbel-max trick, argmax(logits / T + Gumbel noise), with noise from a
counter-based hash of (seed, step, row, token). TensorFlow's own stateless random ops
give different numbers with and without XLA; this hash gives the same bits everywhere
(eager, graph, XLA, a SavedModel), so the same seed always gives the same text.
"""

import numpy as np
import tensorflow as tf

from lm_keras.errors import ConfigError

NEG_INF = float("-inf")


def check_sampling_args(temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=1):
    """Raise ConfigError (a ValueError) for out-of-range sampling settings (temperature <= 0 means greedy)."""
    if not np.isfinite(temperature):
        raise ConfigError(f"temperature={temperature} is invalid: must be a finite number (<= 0 means greedy)")
    if int(top_k) != top_k or top_k < 0:
        raise ConfigError(f"top_k={top_k} is invalid: must be an integer >= 0 (0 disables top-k)")
    if not 0.0 < top_p <= 1.0:
        raise ConfigError(f"top_p={top_p} is invalid: must be in (0, 1] (1 disables top-p)")
    if int(max_new_tokens) != max_new_tokens or max_new_tokens < 0:
        raise ConfigError(f"max_new_tokens={max_new_tokens} is invalid: must be an integer >= 0")


def top_k_filter(logits, top_k):
    """Keep the `top_k` largest logits of each row (ties kept), the rest -inf. top_k=0: no-op.

    logits (batch, vocab), top_k int32 scalar -> (batch, vocab)
    """
    def filtered():
        k = tf.clip_by_value(tf.cast(top_k, tf.int32), 1, tf.shape(logits)[-1])
        kth = tf.sort(logits, axis=-1, direction="DESCENDING")[:, k - 1 : k]
        return tf.where(logits < kth, tf.constant(NEG_INF, logits.dtype), logits)

    # tf.cond runs one branch: the sort (slow on a CPU, for a large batch and vocabulary) only when needed.
    return tf.cond(tf.cast(top_k, tf.int32) > 0, filtered, lambda: logits)


def top_p_filter(logits, top_p):
    """Keep the smallest set of most likely tokens whose probability reaches `top_p`.

    The most likely token is always kept. logits (batch, vocab) -> (batch, vocab)
    """
    def filtered():
        sorted_logits = tf.sort(logits, axis=-1, direction="DESCENDING")
        mass_before = tf.cumsum(tf.nn.softmax(sorted_logits), axis=-1, exclusive=True)
        kept = tf.where(mass_before < top_p, sorted_logits, tf.constant(np.inf, logits.dtype))
        threshold = tf.reduce_min(kept, axis=-1, keepdims=True)
        return tf.where(logits < threshold, tf.constant(NEG_INF, logits.dtype), logits)

    return tf.cond(tf.cast(top_p, tf.float32) < 1.0, filtered, lambda: logits)


def _fmix32(h):
    """MurmurHash3's 32-bit finaliser: a bijective mix of uint32 bits."""
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 16))
    h = h * tf.constant(0x85EBCA6B, tf.uint32)
    h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 13))
    h = h * tf.constant(0xC2B2AE35, tf.uint32)
    return tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 16))


def hash_uniform(seed, shape):
    """Uniform floats in (0, 1) of `shape` (rows, cols), a pure function of `seed` (2,) int32."""
    seed = tf.cast(seed, tf.uint32)
    rows = tf.cast(tf.range(shape[0]), tf.uint32)[:, tf.newaxis]
    cols = tf.cast(tf.range(shape[1]), tf.uint32)[tf.newaxis, :]
    key = _fmix32(tf.bitwise.bitwise_xor(_fmix32(seed[0]), seed[1]))
    bits = _fmix32(tf.bitwise.bitwise_xor(_fmix32(key + rows * tf.constant(0x9E3779B9, tf.uint32)), cols))
    return (tf.cast(tf.bitwise.right_shift(bits, 8), tf.float32) + 0.5) / 16777216.0


def sample_next_token(logits, seed, temperature=1.0, top_k=0, top_p=1.0):
    """Pick one token per row.

    Args:
        logits: (batch, vocab) unnormalised scores.
        seed: int32 tensor of shape (2,), e.g. (user seed, step).
        temperature: <= 0 gives greedy argmax; otherwise logits are divided by it.
        top_k: keep only the k most likely tokens (0: all).
        top_p: keep the nucleus of probability mass top_p (1.0: all).

    Returns:
        (batch,) int32 token ids.
    """
    logits = tf.cast(logits, tf.float32)
    temperature = tf.cast(temperature, tf.float32)
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)
    scaled = logits / tf.maximum(temperature, 1e-6)
    scaled = top_p_filter(top_k_filter(scaled, top_k), tf.cast(top_p, tf.float32))
    gumbel = -tf.math.log(-tf.math.log(hash_uniform(seed, tf.shape(scaled))))
    sampled = tf.argmax(scaled + gumbel, axis=-1, output_type=tf.int32)
    return tf.where(temperature > 0, sampled, greedy)
