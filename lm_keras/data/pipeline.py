"""From documents to token ids to `tf.data` windows of `(inputs, targets)`.

A window of `context_length + 1` tokens gives `inputs = window[:-1]` and
`targets = window[1:]`: the model predicts each next token.
"""

import warnings

import numpy as np
import tensorflow as tf

from lm_keras.errors import ConfigError, CorpusError


def encode_documents(documents, tokenizer, add_special_tokens=False):
    """Concatenate the token ids of `documents` into one int32 array of shape (num_tokens,).

    With `add_special_tokens`, each document is wrapped as `[BOS] ... [EOS]` (line-level
    corpora: a poem per line), so that generation can start from `[BOS]` and stop at `[EOS]`.
    """
    if not documents:
        return np.zeros((0,), np.int32)
    pieces = []
    for start in range(0, len(documents), 4096):
        ragged = tokenizer.encode(tf.constant(documents[start : start + 4096]))
        if add_special_tokens:
            n = ragged.nrows()
            ragged = tf.concat([tf.fill([n, 1], tokenizer.bos_id), ragged, tf.fill([n, 1], tokenizer.eos_id)], axis=1)
        pieces.append(ragged.flat_values.numpy())
    return np.concatenate(pieces).astype(np.int32)


def check_length(ids, context_length, split="train"):
    """Raise `CorpusError` if `ids` cannot fill one window of `context_length + 1` tokens."""
    if len(ids) < context_length + 1:
        raise CorpusError(
            f"The {split} split has {len(ids)} tokens, fewer than one training window of "
            f"context_length + 1 = {context_length + 1}. Use a shorter context (--context), a "
            f"larger corpus, or a larger {split} fraction."
        )


def window_starts(num_tokens, context_length):
    """Starts of non-overlapping windows (each window overlaps the next by one token)."""
    return np.arange(0, num_tokens - context_length, context_length, dtype=np.int64)


def lm_dataset(ids, context_length, batch_size, sampling="sequential", shuffle=True,
               seed=0, drop_remainder=True, repeat=False, skip_batches=0):
    """A `tf.data.Dataset` of `(inputs, targets)` batches, each of shape (batch, context_length).

    Args:
        ids: 1-D array of token ids of one split (windows never leave it).
        sampling: `"sequential"` cuts the ids into non-overlapping windows (shuffled when
            `shuffle`); `"random"` draws each window at a random offset, nanoGPT style,
            and is infinite.
        seed: makes shuffling and random offsets deterministic.
        repeat: repeat a sequential dataset forever (for a fixed number of steps).
        skip_batches: start after that many batches of the same sequence (to resume a run
            exactly where it stopped); only the window offsets are skipped, which is cheap.
    """
    ids = np.asarray(ids, dtype=np.int32)
    check_length(ids, context_length)
    table = tf.constant(ids)
    span = context_length + 1

    if sampling == "random":
        high = len(ids) - context_length  # offsets 0 .. high-1 keep the window inside
        offsets = tf.data.Dataset.random(seed=seed).map(lambda r: tf.math.floormod(r, high))
    elif sampling == "sequential":
        starts = window_starts(len(ids), context_length)
        offsets = tf.data.Dataset.from_tensor_slices(starts)
        if shuffle:
            offsets = offsets.shuffle(len(starts), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            offsets = offsets.repeat()
    else:
        raise ConfigError(f"sampling={sampling!r} is invalid: must be 'sequential' or 'random'")

    if skip_batches:
        offsets = offsets.skip(skip_batches * batch_size)

    def to_pair(start):
        window = table[start : start + span]
        return window[:-1], window[1:]

    return (
        offsets.map(to_pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(batch_size, drop_remainder=drop_remainder)
        .prefetch(tf.data.AUTOTUNE)
    )


def encode_rows(documents, tokenizer, max_length):
    """One row per document, `[BOS] document [EOS]` padded with 0: an int32 array (num_documents, width).

    `width` is the longest row, at most `max_length`; longer documents are cut to
    `max_length` tokens (their end, [EOS] included, is lost) with a warning. Models that
    read whole documents (the VAE's encoder) use this instead of windows of a stream.
    """
    if not documents:
        raise CorpusError("No documents to encode: the split is empty.")
    ragged = tokenizer.encode(tf.constant(list(documents)))
    n = ragged.nrows()
    ragged = tf.concat([tf.fill([n, 1], tokenizer.bos_id), ragged, tf.fill([n, 1], tokenizer.eos_id)], axis=1)
    lengths = ragged.row_lengths().numpy()
    if lengths.max() > max_length:
        warnings.warn(f"{int((lengths > max_length).sum())} of {len(lengths)} documents are longer than "
                      f"{max_length} tokens ([BOS] and [EOS] included) and were truncated.")
    width = int(min(lengths.max(), max_length))
    return ragged[:, :width].to_tensor(tokenizer.pad_id, shape=[None, width]).numpy().astype(np.int32)


def document_dataset(rows, batch_size, shuffle=True, seed=0, repeat=False, skip_batches=0, drop_remainder=True):
    """Batches (batch, width) of the rows of `encode_rows`, shuffled with `seed` each pass.

    `skip_batches` starts after that many batches of the same sequence (exact resume).
    """
    rows = np.asarray(rows, np.int32)
    if len(rows) < batch_size and drop_remainder:
        raise CorpusError(f"{len(rows)} documents are fewer than one batch of {batch_size}; "
                          f"use a smaller batch size or more documents.")
    dataset = tf.data.Dataset.from_tensor_slices(rows)
    if shuffle:
        dataset = dataset.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if skip_batches:
        dataset = dataset.skip(skip_batches)
    return dataset.prefetch(tf.data.AUTOTUNE)
