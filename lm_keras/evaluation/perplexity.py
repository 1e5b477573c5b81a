"""Held-out cross-entropy, perplexity and bits per character of any lm_keras model."""

import math

import numpy as np
import tensorflow as tf

from lm_keras.data.pipeline import check_length, window_starts


# A whole-split evaluation's batches hold at least this many logits: for nanoGPT's char model, 63 windows
# of 64 instead of its 12 cut the final evaluation from 1.5 to 1.1 s on 2 CPU cores. No more, so that a
# large vocabulary's logits stay the size of the training batch's.
EVALUATION_LOGITS = 2**18


def evaluation_batch_size(training_batch_size, context_length, vocabulary_size):
    """Windows per batch of a whole-split evaluation: the training batch, or more when a batch of
    `EVALUATION_LOGITS` logits holds more windows."""
    return max(training_batch_size, EVALUATION_LOGITS // (context_length * vocabulary_size))


def evaluate_language_model(model, ids, context_length, batch_size=64, num_characters=None, jit_compile=False):
    """Mean next-token cross-entropy over `ids`, in non-overlapping windows.

    Every batch has the same shape (the last one is padded, its padding rows ignored), so
    `model.score` is traced once per call; `jit_compile` compiles it with XLA.

    Args:
        ids: 1-D token ids of one split.
        num_characters: characters of text behind `ids`; gives bits per character, which
            compares char-, word- and subword-level models on the same text.

    Returns:
        dict with `loss` (nats per token), `perplexity`, `bits_per_token`,
        `bits_per_character` (when `num_characters` is given) and `num_tokens` predicted.
    """
    ids = np.asarray(ids, dtype=np.int32)
    check_length(ids, context_length, "evaluation")
    starts = window_starts(len(ids), context_length)
    windows = ids[starts[:, None] + np.arange(context_length + 1)]
    batch_size = min(batch_size, len(windows))
    padded = np.pad(windows, ((0, -len(windows) % batch_size), (0, 0)))
    score = tf.function(model.score, jit_compile=jit_compile, autograph=False)
    total = 0.0
    for i in range(0, len(windows), batch_size):
        log_likelihood = score(tf.constant(padded[i : i + batch_size])).numpy()[: len(windows) - i]
        total -= float(log_likelihood.sum(dtype=np.float64))
    count = len(windows) * context_length
    loss = total / count
    result = {"loss": loss, "perplexity": math.exp(loss), "bits_per_token": loss / math.log(2),
              "num_tokens": count}
    if num_characters:
        # The windows predict `count` of the len(ids) - 1 predictable tokens; scale the characters alike.
        characters = num_characters * count / max(1, len(ids) - 1)
        result["bits_per_character"] = total / math.log(2) / characters
    return result
