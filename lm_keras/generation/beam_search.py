"""Beam search: keep the `num_beams` most likely continuations instead of one sample.

Each step extends every live beam by every token, scores the candidates by their total
log-probability log p(y_1..y_i | prompt), and keeps the best `num_beams` per prompt.
A beam that produced the stop token is finished: it is carried along, extended only by
padding at no cost. At the end the best beam per prompt is chosen by
score / length^length_penalty (1.0: mean log-probability per token; 0: total).
With `num_beams=1` this is exactly greedy decoding.
"""

import tensorflow as tf


def reorder_cache(cache, rows):
    """Gather the rows (axis 0) of every batch-first tensor of a cache; scalars stay as they are."""
    return tf.nest.map_structure(lambda t: tf.gather(t, rows) if t.shape.rank else t, cache)


def beam_search(step, logits, cache, num_beams, max_new_tokens, stop_id, length_penalty, banned, pad_id=0):
    """Decode `max_new_tokens` with beam search.

    Args:
        step: the model's `step(ids (n,), cache) -> (logits (n, vocab), cache)`.
        logits: (batch, vocab) after the prompt; cache: the prompt's cache (batch rows).
        num_beams: a Python int >= 1.
        stop_id: int32 scalar; -1 never stops.
        banned: (vocab,) 0 or -inf, added to every logit (tokens that may never be produced).

    Returns:
        (batch, max_new_tokens) int32: the best beam of each prompt, `pad_id` after it stopped.
    """
    # static sizes where known, so that the loop variables keep their shapes (XLA needs them)
    batch = logits.shape[0] if logits.shape[0] is not None else tf.shape(logits)[0]
    vocab = logits.shape[1] if logits.shape[1] is not None else tf.shape(logits)[1]
    k = num_beams
    cache = reorder_cache(cache, tf.repeat(tf.range(batch), k))
    logits = tf.repeat(logits, k, axis=0)
    # only the first beam is live at the start, or all k would pick the same tokens
    scores = tf.tile(tf.concat([[0.0], tf.fill([k - 1], float("-inf"))], 0)[tf.newaxis], [batch, 1])
    tokens = tf.zeros([batch, k, max_new_tokens], tf.int32)
    done = tf.zeros([batch, k], tf.bool)
    lengths = tf.zeros([batch, k], tf.float32)
    pad_only = tf.where(tf.range(vocab) == pad_id, 0.0, float("-inf"))
    for i in tf.range(max_new_tokens):
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32) + banned)
        log_probs = tf.where(done[..., tf.newaxis], pad_only, tf.reshape(log_probs, [batch, k, vocab]))
        candidates = tf.reshape(scores[..., tf.newaxis] + log_probs, [batch, k * vocab])
        scores, best = tf.math.top_k(candidates, k)
        beam, token = best // vocab, best % vocab
        tokens = tf.gather(tokens, beam, batch_dims=1)
        tokens = tf.where(tf.one_hot(i, max_new_tokens, on_value=True, off_value=False, dtype=tf.bool),
                          token[..., tf.newaxis], tokens)
        done, lengths = tf.gather(done, beam, batch_dims=1), tf.gather(lengths, beam, batch_dims=1)
        lengths += tf.cast(~done, tf.float32)
        done = done | tf.equal(token, stop_id)
        if tf.reduce_all(done):
            break
        rows = tf.reshape(tf.range(batch)[:, tf.newaxis] * k + beam, [-1])
        logits, cache = step(tf.reshape(token, [-1]), reorder_cache(cache, rows))
    normalised = scores / tf.maximum(lengths, 1.0) ** length_penalty
    return tf.gather(tokens, tf.argmax(normalised, axis=1, output_type=tf.int32), batch_dims=1)
