"""Prompts and completions as token rows, sampled and scored in TensorFlow ops.

Every stage of alignment (SFT samples, preference pairs, the reward model, RL, DPO)
handles one kind of example: a prompt (the title and `：`, read after [BOS]) and the
model's completion (the poem and [EOS]), packed right-padded into one row

    row            [BOS] 靜 夜 思 ： 牀 前 … 鄉 。 [EOS] [PAD] …          (width,)
    prompt_length  5  (the prompt's tokens, [BOS] included)

so that a causal model reads it in one call (right padding never changes the real
positions), the reward model pools its last real token, and the log-probability of the
completion is the sum of the scores of positions prompt_length … of the row.
"""

import numpy as np
import tensorflow as tf

from lm_keras.errors import ConfigError
from lm_keras.generation.generator import left_pad, model_decode_loop
from lm_keras.tokenizers.base import PAD_ID, banned_mask

PROMPT_SEPARATOR = "："


def prompt_for(title):
    """The prompt of a title: `title：`, as the SFT corpus writes `title：body`."""
    return f"{title}{PROMPT_SEPARATOR}"


def prompt_ids(tokenizer, prompts, context_length, max_new_tokens):
    """Prompts (str) -> id lists `[BOS] prompt`; a prompt that leaves no room to answer is a `ConfigError`."""
    rows = [[tokenizer.bos_id, *ids] for ids in tokenizer.encode(tf.constant(list(prompts), tf.string)).to_list()]
    limit = context_length - max_new_tokens
    for prompt, ids in zip(prompts, rows):
        if len(ids) > limit:
            raise ConfigError(f"prompt {prompt!r} is {len(ids)} tokens with [BOS]; with max_new_tokens={max_new_tokens} "
                              f"it must be at most {limit} (context_length {context_length} − max_new_tokens)")
    return rows


def pack_rows(prompts, completions, width):
    """Id lists -> (rows (n, width) int32 right-padded, prompt_lengths (n,) int32).

    A completion is cut to the room left after its prompt (its [EOS] is kept only if it fits).
    """
    rows = np.full((len(prompts), width), PAD_ID, np.int32)
    lengths = np.zeros(len(prompts), np.int32)
    for i, (prompt, completion) in enumerate(zip(prompts, completions)):
        if len(prompt) >= width:
            raise ConfigError(f"a prompt of {len(prompt)} tokens leaves no room in rows of width {width}")
        ids = (list(prompt) + list(completion))[:width]
        rows[i, :len(ids)] = ids
        lengths[i] = len(prompt)
    return rows, lengths


def completion_mask(rows, prompt_lengths):
    """(b, w) rows, (b,) prompt lengths -> (b, w − 1) bool: which targets rows[:, 1:] belong to the completion."""
    positions = tf.range(1, tf.shape(rows)[1])[None, :]
    return (positions >= tf.cast(prompt_lengths, tf.int32)[:, None]) & (rows[:, 1:] != PAD_ID)


def token_log_probs(model, rows, training=False):
    """log π(x_t | x_<t) of every target: rows (b, w) -> (b, w − 1) float32 (any causal LM's `call`)."""
    rows = tf.cast(rows, tf.int32)
    log_probs = tf.nn.log_softmax(tf.cast(model(rows[:, :-1], training=training), tf.float32))
    return tf.gather(log_probs, rows[:, 1:], batch_dims=2)


def completion_log_prob(model, rows, prompt_lengths, training=False):
    """log π(y | x) = Σ over the completion's tokens: (b, w), (b,) -> (b,) float32."""
    mask = tf.cast(completion_mask(tf.cast(rows, tf.int32), prompt_lengths), tf.float32)
    return tf.reduce_sum(token_log_probs(model, rows, training) * mask, axis=1)


def sample_completions(model, prompts, prompt_mask, banned, max_new_tokens, seed, temperature, eos_id):
    """Sample one completion per prompt row, in TF ops (usable inside a `train_step`).

    Args:
        prompts: (b, p) int32 left-padded `[BOS] prompt` ids; prompt_mask (b, p) True on real tokens.
        banned: (vocab,) float32, −inf on ids never generated (`banned_mask`: [PAD], [BOS]).
        max_new_tokens: a Python int; seed an int32 scalar; temperature a float.

    Returns:
        rows (b, p + max_new_tokens) right-padded `[BOS] prompt completion [EOS]`, prompt_lengths (b,).
    """
    logits, cache = model.prefill(prompts, prompt_mask)
    new = model_decode_loop(model, logits, cache, banned, max_new_tokens, tf.constant(max_new_tokens),
                            tf.cast(seed, tf.int32), tf.constant(float(temperature)), tf.constant(0), tf.constant(1.0),
                            tf.constant(eos_id))
    prompt_part = tf.ragged.boolean_mask(prompts, prompt_mask)
    completion = tf.ragged.boolean_mask(new, new != PAD_ID)  # [PAD] only fills after [EOS]: it is never sampled
    rows = tf.concat([prompt_part, completion], axis=1).to_tensor(PAD_ID)
    width = tf.shape(prompts)[1] + max_new_tokens   # a traced width once a tf.function relaxes the prompts' shape
    rows = tf.pad(rows, [[0, 0], [0, width - tf.shape(rows)[1]]], constant_values=PAD_ID)
    if prompts.shape[1] is not None:
        rows = tf.ensure_shape(rows, [None, prompts.shape[1] + max_new_tokens])
    return rows, tf.cast(prompt_part.row_lengths(), tf.int32)


# The prefill and the loop in one graph, traced once per model and batch shape (the seed is a tensor).
_sample_batch = tf.function(sample_completions, reduce_retracing=True)


def completions_text(tokenizer, rows, prompt_lengths):
    """Rows and prompt lengths -> the completions as str (up to [EOS], which is dropped), decoded in one batch."""
    completions = []
    for row, length in zip(np.asarray(rows), np.asarray(prompt_lengths)):
        ids = row[length:]
        stop = np.flatnonzero(ids == tokenizer.eos_id)
        ids = ids[:stop[0]] if len(stop) else ids
        completions.append(ids[ids != PAD_ID])
    if not completions:
        return []
    ragged = tf.RaggedTensor.from_row_lengths(np.concatenate(completions).astype(np.int32),
                                              [len(ids) for ids in completions])
    return [text.decode("utf-8") for text in tokenizer.decode(ragged).numpy()]


def generate_completions(model, tokenizer, prompts, max_new_tokens, seed=0, temperature=1.0, batch_size=64):
    """Prompts (str) -> (completions (str), rows, prompt_lengths), sampled in batches with `sample_completions`."""
    ids = prompt_ids(tokenizer, prompts, model.context_length, max_new_tokens)
    banned = banned_mask(tokenizer.vocabulary_size)
    width = max(map(len, ids)) + max_new_tokens
    all_prompts, all_masks = left_pad(tf.ragged.constant(ids, dtype=tf.int32))   # one width: one trace
    all_rows, all_lengths = [], []
    for start in range(0, len(ids), batch_size):
        rows, lengths = _sample_batch(model, all_prompts[start:start + batch_size],
                                      all_masks[start:start + batch_size], banned, max_new_tokens,
                                      tf.constant(seed + start, tf.int32), float(temperature), tokenizer.eos_id)
        rows = rows.numpy()
        padded = np.full((len(rows), width), PAD_ID, np.int32)
        padded[:, :rows.shape[1]] = rows
        all_rows.append(padded)
        all_lengths.append(lengths.numpy())
    rows, lengths = np.concatenate(all_rows), np.concatenate(all_lengths)
    return completions_text(tokenizer, rows, lengths), rows, lengths
