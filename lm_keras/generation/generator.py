"""Text generation shared by every model: prefill the prompt once, then one cached step per token.

The decode loop is a `tf.function` (optionally XLA-compiled) over the model's
`step(token_ids, cache)`; it never re-reads the prefix. Prompts of different lengths
are left-padded so that every row's last prompt token sits in the same column.
"""

import random
import warnings

import numpy as np
import tensorflow as tf

from lm_keras.generation.samplers import check_sampling_args, sample_next_token


class Generator:
    """Generate text from a language model and its tokenizer.

    Args:
        model: any lm_keras language model (`prefill`, `step`).
        tokenizer: the tokenizer the model was trained with.
        jit_compile: compile the decode loop with XLA.

    Example:
        >>> Generator(model, tokenizer)("ROMEO:", max_new_tokens=100, temperature=0.8, seed=1)
    """

    def __init__(self, model, tokenizer, jit_compile=False):
        self.model = model
        self.tokenizer = tokenizer
        self.jit_compile = jit_compile
        self._prefill = tf.function(model.prefill, reduce_retracing=True)
        # [PAD] and [BOS] are never a valid next token.
        banned = np.zeros(tokenizer.vocabulary_size, np.float32)
        banned[[tokenizer.pad_id, tokenizer.bos_id]] = -np.inf
        self._banned = tf.constant(banned)
        self._decode = tf.function(self._decode_loop, jit_compile=jit_compile, reduce_retracing=True)

    def _decode_loop(self, logits, cache, max_new_tokens, seed, temperature, top_k, top_p, stop_id):
        """logits (batch, vocab) of the last prompt position -> new ids (batch, max_new_tokens).

        Rows that produced `stop_id` are padded with 0 afterwards; the loop ends early
        once every row has stopped.
        """
        batch = tf.shape(logits)[0]
        tokens = tf.zeros([max_new_tokens, batch], tf.int32)
        done = tf.zeros([batch], tf.bool)
        for i in tf.range(max_new_tokens):
            logits = tf.cast(logits, tf.float32) + self._banned
            next_ids = sample_next_token(logits, tf.stack([seed, i]), temperature, top_k, top_p)
            next_ids = tf.where(done, tf.zeros_like(next_ids), next_ids)
            tokens = tf.tensor_scatter_nd_update(tokens, [[i]], next_ids[tf.newaxis])
            done = done | tf.equal(next_ids, stop_id)
            if tf.reduce_all(done):
                break
            logits, cache = self.model.step(next_ids, cache)
        return tf.transpose(tokens)

    def prompt_ids(self, prompts):
        """Prompts -> list of id lists; empty prompts start from [BOS], long ones are cropped."""
        encoded = self.tokenizer.encode(tf.constant(prompts, tf.string)).to_list()
        limit = getattr(self.model, "context_length", None)
        rows = []
        for prompt, ids in zip(prompts, encoded):
            ids = ids or [self.tokenizer.bos_id]
            if limit and len(ids) > limit:
                warnings.warn(f"Prompt of {len(ids)} tokens cropped to the last {limit} (the context length).")
                ids = ids[-limit:]
            rows.append(ids)
        return rows

    def generate_ids(self, prompt_rows, max_new_tokens=100, temperature=1.0, top_k=0, top_p=1.0,
                     seed=None, stop_at_eos=True):
        """Token-level generation: list of prompt id lists -> list of new id lists (EOS excluded)."""
        check_sampling_args(temperature, top_k, top_p, max_new_tokens)
        if max_new_tokens == 0:
            return [[] for _ in prompt_rows]
        seed = random.SystemRandom().randrange(2**31 - 1) if seed is None else int(seed)
        width = max(len(r) for r in prompt_rows)
        padded = np.zeros((len(prompt_rows), width), np.int32)
        for i, row in enumerate(prompt_rows):
            padded[i, width - len(row):] = row
        mask = np.arange(width)[None, :] >= (width - np.array([len(r) for r in prompt_rows]))[:, None]
        logits, cache = self._prefill(tf.constant(padded), tf.constant(mask))
        stop_id = self.tokenizer.eos_id if stop_at_eos else -1
        # XLA needs the output length at compile time; a plain graph takes it as a tensor.
        length = int(max_new_tokens) if self.jit_compile else tf.constant(int(max_new_tokens))
        new = self._decode(logits, cache, length, tf.constant(seed, tf.int32),
                           tf.constant(float(temperature)), tf.constant(int(top_k)),
                           tf.constant(float(top_p)), tf.constant(stop_id)).numpy()
        out = []
        for row in new.tolist():
            out.append(row[: row.index(stop_id)] if stop_id in row else row)
        return out

    def __call__(self, prompts, max_new_tokens=100, temperature=1.0, top_k=0, top_p=1.0, seed=None,
                 stop_at_eos=True):
        """Prompt(s) -> prompt + generated text (a str for a str, a list for a list)."""
        single = isinstance(prompts, str)
        prompts = [prompts] if single else list(prompts)
        rows = self.prompt_ids(prompts)
        new = self.generate_ids(rows, max_new_tokens, temperature, top_k, top_p, seed, stop_at_eos)
        texts = [self.tokenizer.decode_to_str(r + n) for r, n in zip(rows, new)]
        return texts[0] if single else texts

    generate = __call__


def generate(model, tokenizer, prompts, **kwargs):
    """One-off `Generator(model, tokenizer)(prompts, **kwargs)`; keep a Generator to reuse its compiled loop."""
    return Generator(model, tokenizer)(prompts, **kwargs)
