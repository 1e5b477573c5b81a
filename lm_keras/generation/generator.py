"""Text generation shared by every model: prefill the prompt once, then one cached step per token.

The decode loop is a `tf.function` (optionally XLA-compiled) over the model's
`step(token_ids, cache)`; it never re-reads the prefix. Prompts of different lengths
are left-padded so that every row's last prompt token sits in the same column; the
model's `prefill` takes the padding mask (the Transformer starts each row at position
0 and never attends to padding, the RNN carries its state over it).
Decoding samples (greedy, temperature, top-k, top-p) or runs beam search (`num_beams`).
"""

import random
import warnings

import numpy as np
import tensorflow as tf

from lm_keras.errors import ConfigError
from lm_keras.generation.beam_search import beam_search
from lm_keras.generation.naive import naive_generate_ids
from lm_keras.generation.samplers import check_sampling_args, sample_next_token
from lm_keras.tokenizers.base import PAD_ID, banned_mask


class Generator:
    """Generate text from a language model and its tokenizer.

    Args:
        model: any lm_keras language model (`prefill`, `step`).
        tokenizer: the tokenizer the model was trained with.
        jit_compile: compile the decode loop with XLA.
        allow_eos: whether [EOS] may be generated (and ends the text). Models of one document
            per line learn when to stop; a model of one long stream never saw [EOS], so for
            it (allow_eos=False) the token is banned and generation runs to max_new_tokens.
        allow_unknown: whether [UNK] may be generated (it stands for every character the
            vocabulary left out, so a model learns to predict it; it decodes to U+FFFD).

    Example:
        >>> Generator(model, tokenizer)("ROMEO:", max_new_tokens=100, temperature=0.8, seed=1)
    """

    def __init__(self, model, tokenizer, jit_compile=False, allow_eos=True, allow_unknown=True):
        self.model = model
        self.tokenizer = tokenizer
        self.jit_compile = jit_compile
        # The loops are written in TensorFlow ops (tf.while_loop, tf.cond), so AutoGraph need not rewrite them
        # or the model's code: that conversion was 0.8 s of a first 300-token sample's 2.2 s.
        self._prefill = tf.function(model.prefill, reduce_retracing=True, autograph=False)
        self.banned_ids = banned_ids(tokenizer, allow_eos, allow_unknown)
        self._banned = banned_mask(tokenizer.vocabulary_size, self.banned_ids)
        self._decode = tf.function(self._decode_loop, jit_compile=jit_compile, reduce_retracing=True, autograph=False)
        self._beam = tf.function(self._beam_loop, jit_compile=jit_compile, reduce_retracing=True)

    def _beam_loop(self, logits, cache, max_new_tokens, num_beams, stop_id, length_penalty):
        return beam_search(self.model.step, logits, cache, num_beams, max_new_tokens, stop_id, length_penalty,
                           self._banned, pad_id=self.tokenizer.pad_id)

    def _decode_loop(self, logits, cache, capacity, max_new_tokens, seed, temperature, top_k, top_p, stop_id):
        return decode_loop(self.model.step, logits, cache, self._banned, capacity, max_new_tokens, seed, temperature,
                           top_k, top_p, stop_id, pad_id=self.tokenizer.pad_id)

    def _encode(self, prompts):
        """Prompts -> full id lists; an empty prompt is [BOS]."""
        encoded = self.tokenizer.encode(tf.constant(prompts, tf.string)).to_list()
        return [ids or [self.tokenizer.bos_id] for ids in encoded]

    def _crop(self, rows):
        """Crop id lists longer than the model's context from the left, with a warning."""
        limit = getattr(self.model, "context_length", None)
        cropped = []
        for ids in rows:
            if limit and len(ids) > limit:
                warnings.warn(f"Prompt of {len(ids)} tokens cropped to the last {limit} (the context length).")
                ids = ids[-limit:]
            cropped.append(ids)
        return cropped

    def prompt_ids(self, prompts):
        """Prompts -> list of id lists; empty prompts start from [BOS], long ones are cropped."""
        return self._crop(self._encode(prompts))

    def generate_ids(self, prompt_rows, max_new_tokens=100, temperature=1.0, top_k=0, top_p=1.0,
                     seed=None, stop_at_eos=True, num_beams=None, length_penalty=1.0, use_cache=True,
                     condition=None):
        """Token-level generation: list of prompt id lists -> list of new id lists (EOS excluded).

        `condition` (batch, d) is passed to the prefill of a conditional model (the VAE's
        latent code z, one row per prompt).

        `num_beams` (an int >= 1) switches from sampling to beam search (temperature,
        top-k and top-p are then ignored). `use_cache=False` runs the naive loop that
        re-reads the whole sequence for every token (for checks and timing only).
        """
        check_sampling_args(temperature, top_k, top_p, max_new_tokens)
        allowed = self.tokenizer.vocabulary_size - len(self.banned_ids)
        if num_beams is not None and not 1 <= num_beams <= allowed:
            raise ConfigError(f"num_beams={num_beams} is invalid: must be an integer in [1, {allowed}] (the tokens "
                             f"that may be generated)")
        if max_new_tokens == 0:
            return [[] for _ in prompt_rows]
        seed = random.SystemRandom().randrange(2**31 - 1) if seed is None else int(seed)
        stop_id = self.tokenizer.eos_id if stop_at_eos else -1
        if not use_cache:
            if num_beams is not None or condition is not None:
                raise ValueError("Beam search and conditioning need the cache (use_cache=True).")
            new = np.concatenate([
                naive_generate_ids(self.model, [row], max_new_tokens, temperature, top_k, top_p, seed,
                                   self._banned.numpy(), stop_id) for row in prompt_rows])
            return _cut_at_stop(new, stop_id)
        ids, mask = left_pad(tf.ragged.constant(prompt_rows, dtype=tf.int32))
        logits, cache = self._prefill(ids, mask, *_condition_arg(condition))
        if num_beams is not None:
            # XLA needs the output length at compile time; a plain graph takes it as a tensor.
            length = int(max_new_tokens) if self.jit_compile else tf.constant(int(max_new_tokens))
            new = self._beam(logits, cache, length, int(num_beams), tf.constant(stop_id),
                             tf.constant(float(length_penalty)))
        else:
            new = self._decode(logits, cache, output_capacity(max_new_tokens), tf.constant(int(max_new_tokens)),
                               tf.constant(seed, tf.int32), tf.constant(float(temperature)),
                               tf.constant(int(top_k)), tf.constant(float(top_p)), tf.constant(stop_id))
        return _cut_at_stop(new.numpy()[:, :max_new_tokens], stop_id)

    def generate_text(self, prompts, max_new_tokens, temperature, top_k, top_p, seed, capacity, condition=None):
        """The whole string -> string road in TensorFlow ops (what the SavedModel serves).

        Args:
            prompts: tf.string (batch,). Empty prompts start from [BOS]; prompts longer
                than the context are cropped from the left (silently, in a graph).
            max_new_tokens: int32 scalar, at most `capacity` (a Python int).
            condition: for a conditional model, (batch, d) passed to its prefill.
            temperature, top_k, top_p, seed: scalars, as in `generate_ids`; out-of-range
                values raise `InvalidArgumentError` with a message naming the argument.

        Returns:
            tf.string (batch,): each prompt followed by its continuation (up to [EOS]).
        """
        checks = sampling_arg_checks(max_new_tokens, temperature, top_k, top_p, capacity)
        with tf.control_dependencies(checks):
            full = self.tokenizer.encode(prompts)
        lengths = full.row_lengths()
        # an empty prompt becomes [BOS]
        bos = tf.RaggedTensor.from_row_lengths(
            tf.fill([tf.reduce_sum(tf.cast(lengths == 0, tf.int32))], self.tokenizer.bos_id),
            tf.cast(lengths == 0, tf.int64))
        full = tf.concat([bos, full], axis=1)
        limit = getattr(self.model, "context_length", None)
        ids, mask = left_pad(full[:, -limit:] if limit else full)
        logits, cache = self.model.prefill(ids, mask, *_condition_arg(condition))
        new = self._decode(logits, cache, capacity, max_new_tokens, tf.cast(seed, tf.int32),
                           tf.cast(temperature, tf.float32), tf.cast(top_k, tf.int32),
                           tf.cast(top_p, tf.float32), tf.constant(self.tokenizer.eos_id))
        new = tf.RaggedTensor.from_tensor(new[:, :max_new_tokens])
        # padding after [EOS], [BOS] and [EOS] itself decode to nothing
        return self.tokenizer.decode(tf.concat([full, new], axis=1))

    def __call__(self, prompts, max_new_tokens=100, temperature=1.0, top_k=0, top_p=1.0, seed=None,
                 stop_at_eos=True, num_beams=None, length_penalty=1.0, use_cache=True, condition=None):
        """Prompt(s) -> prompt + generated text (a str for a str, a list for a list).

        The whole prompt is returned even when the model only read its last
        `context_length` tokens. See `generate_ids` for the other arguments.
        """
        single = isinstance(prompts, str)
        prompts = [prompts] if single else list(prompts)
        full = self._encode(prompts)
        new = self.generate_ids(self._crop(full), max_new_tokens, temperature, top_k, top_p, seed, stop_at_eos, num_beams,
                                length_penalty, use_cache, condition)
        texts = [self.tokenizer.decode_to_str(r + n) for r, n in zip(full, new)]
        return texts[0] if single else texts

    generate = __call__


def banned_ids(tokenizer, allow_eos=True, allow_unknown=True):
    """The ids a `Generator` never produces: [PAD] and [BOS], [EOS] unless `allow_eos`, [UNK] unless
    `allow_unknown`. A tokenizer whose [EOS] is also its [BOS] (GPT-2's `<|endoftext|>`) keeps it when
    `allow_eos`; one without an unknown token has `unk_id = None`."""
    banned = {tokenizer.pad_id, tokenizer.bos_id} - {tokenizer.eos_id}
    if not allow_eos:
        banned.add(tokenizer.eos_id)
    if not allow_unknown and tokenizer.unk_id is not None:
        banned.add(tokenizer.unk_id)
    return tuple(sorted(banned))


def decode_loop(step, logits, cache, banned, capacity, max_new_tokens, seed, temperature, top_k, top_p, stop_id,
                pad_id=PAD_ID):
    """The sampling loop every generation in lm_keras runs (in TensorFlow ops; a GAN's train step calls it too).

    Args:
        step: a model's `step(ids (batch,), cache) -> (logits, cache)`.
        logits: (batch, vocab) of the last prompt position; cache: the model's cache after it.
        banned: (vocab,) float32, -inf on ids that may never be generated, else 0.
        capacity: the static size of the output buffer (a Python int), which XLA needs; the
            loop runs `max_new_tokens` <= capacity steps (a tensor), so one compiled loop
            serves every length up to its capacity.
        seed, temperature, top_k, top_p: as in `sample_next_token`; step i uses seed (seed, i).
        stop_id: rows that produce it are padded with `pad_id` afterwards; the loop ends early
            once every row has stopped.

    Returns:
        new ids (batch, capacity) int32.
    """
    def body(i, logits, cache, tokens, done):
        scores = tf.cast(logits, tf.float32) + banned
        next_ids = sample_next_token(scores, tf.stack([seed, i]), temperature, top_k, top_p)
        next_ids = tf.where(done, tf.fill(tf.shape(next_ids), pad_id), next_ids)
        tokens = tf.tensor_scatter_nd_update(tokens, [[i]], next_ids[tf.newaxis])
        done = done | tf.equal(next_ids, stop_id)
        # No step once every row has stopped (the loop then ends).
        logits, cache = tf.cond(tf.reduce_all(done), lambda: (logits, cache), lambda: step(next_ids, cache))
        return i + 1, logits, cache, tokens, done

    batch = tf.shape(logits)[0]
    state = (tf.constant(0), logits, cache, tf.zeros([capacity, batch], tf.int32), tf.zeros([batch], tf.bool))
    running = lambda i, logits, cache, tokens, done: (i < max_new_tokens) & ~tf.reduce_all(done)
    return tf.transpose(tf.while_loop(running, body, state)[3])


@tf.function(reduce_retracing=True, autograph=False)
def model_decode_loop(model, *args):
    """`decode_loop(model.step, *args)` as a tf.function traced once per model (and batch shape), for callers
    outside a `Generator`: RL's and the sequence GAN's samples (Keras does not AutoGraph-convert a custom
    `train_step`). A tf.function keys a Python argument by identity, and every `model.step` is a new bound
    method, so passing `model.step` itself would trace the loop again on every call."""
    return decode_loop(model.step, *args)


def _condition_arg(condition):
    """The extra prefill argument of a conditional model, none for a plain language model."""
    return () if condition is None else (tf.convert_to_tensor(condition, tf.float32),)


def output_capacity(max_new_tokens):
    """Static size of the decode loop's output buffer: the next power of two >= max_new_tokens (at least 64),
    so that an XLA-compiled loop is reused across many lengths."""
    return max(64, 1 << (int(max_new_tokens) - 1).bit_length())


def left_pad(rows):
    """tf.RaggedTensor of ids (batch, None) -> (ids (batch, width) left-padded with 0, mask True on real tokens)."""
    right = rows.to_tensor(0)
    lengths = tf.cast(rows.row_lengths(), tf.int32)[:, tf.newaxis]
    width = tf.shape(right)[1]
    columns = tf.range(width)[tf.newaxis, :]
    mask = columns >= width - lengths
    source = tf.maximum(columns - (width - lengths), 0)
    return tf.where(mask, tf.gather(right, source, batch_dims=1), 0), mask


def sampling_arg_checks(max_new_tokens, temperature, top_k, top_p, capacity):
    """In-graph versions of `check_sampling_args` (a SavedModel cannot raise ValueError)."""
    return [
        tf.debugging.assert_greater_equal(max_new_tokens, 0, message="max_new_tokens is invalid: must be >= 0"),
        tf.debugging.assert_less_equal(max_new_tokens, capacity,
                                       message=f"max_new_tokens is invalid: must be <= {capacity} (set when exporting)"),
        tf.debugging.assert_all_finite(tf.cast(temperature, tf.float32),
                                       message="temperature is invalid: must be a finite number (<= 0 means greedy)"),
        tf.debugging.assert_greater_equal(top_k, 0, message="top_k is invalid: must be >= 0 (0 disables top-k)"),
        tf.debugging.assert_greater(top_p, 0.0, message="top_p is invalid: must be in (0, 1] (1 disables top-p)"),
        tf.debugging.assert_less_equal(top_p, 1.0, message="top_p is invalid: must be in (0, 1] (1 disables top-p)"),
    ]


def _cut_at_stop(new, stop_id):
    """(batch, n) ids -> list of id lists, each ending before its first `stop_id`."""
    return [row[: row.index(stop_id)] if stop_id in row else row for row in new.tolist()]


def generate(model, tokenizer, prompts, **kwargs):
    """One-off `Generator(model, tokenizer)(prompts, **kwargs)`; keep a Generator to reuse its compiled loop."""
    return Generator(model, tokenizer)(prompts, **kwargs)
