"""Log-likelihood of whole texts, in TensorFlow ops (the SavedModel's `score` signature uses it)."""

import tensorflow as tf

from lm_keras.tokenizers.base import PAD_ID


def score_texts(model, tokenizer, texts, add_special_tokens=False):
    """How likely is each text under the model?

    Every token after the first is predicted from the ones before it; with
    `add_special_tokens` (models trained on one document per line) the text is read as
    `[BOS] text [EOS]`, so its first token and its end are predicted too. Texts longer
    than the model's context are scored in windows of context + 1 tokens that overlap by
    one token (the non-overlapping windows of `evaluate_language_model`).

    Args:
        texts: tf.string (batch,).

    Returns:
        dict of (batch,) tensors: `log_likelihood` (float32, nats, summed over the
        predicted tokens), `num_tokens` (int32, tokens predicted) and `perplexity`
        exp(-log_likelihood / num_tokens) (1.0 for a text with nothing to predict).
    """
    ids = tokenizer.encode(tf.convert_to_tensor(texts, tf.string))
    if add_special_tokens:
        ones = tf.ones_like(ids.row_lengths())
        bos = tf.RaggedTensor.from_row_lengths(tf.fill([tf.size(ones)], tokenizer.bos_id), ones)
        eos = tf.RaggedTensor.from_row_lengths(tf.fill([tf.size(ones)], tokenizer.eos_id), ones)
        ids = tf.concat([bos, ids, eos], axis=1)
    lengths = tf.cast(ids.row_lengths(), tf.int32)
    dense = ids.to_tensor(PAD_ID)
    width = tf.maximum(tf.shape(dense)[1], 2)
    limit = getattr(model, "context_length", None)
    stride = limit if limit else width - 1  # an RNN reads the whole text in one window
    windows = tf.maximum(1, (width - 2) // stride + 1)  # ceil((width - 1) / stride)
    dense = tf.pad(dense, [[0, 0], [0, windows * stride + 1 - tf.shape(dense)[1]]])
    frames = tf.signal.frame(dense, stride + 1, stride, axis=1)  # (batch, windows, stride + 1)
    log_probs = model.score(tf.reshape(frames, [-1, stride + 1]))  # (batch * windows, stride)
    log_probs = tf.reshape(log_probs, [tf.shape(dense)[0], -1])  # target position j + 1 in column j
    predicted = tf.range(1, windows * stride + 1)[tf.newaxis, :] < lengths[:, tf.newaxis]
    log_likelihood = tf.reduce_sum(tf.where(predicted, log_probs, 0.0), axis=1)
    num_tokens = tf.reduce_sum(tf.cast(predicted, tf.int32), axis=1)
    perplexity = tf.exp(-log_likelihood / tf.cast(tf.maximum(num_tokens, 1), tf.float32))
    return {"log_likelihood": log_likelihood, "num_tokens": num_tokens, "perplexity": perplexity}
