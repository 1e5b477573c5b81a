"""Generate with and score a KerasHub causal LM, in the project's terms (sampler names, nats, characters)."""

import weakref

import keras
import numpy as np
import tensorflow as tf

SAMPLERS = ("greedy", "top_k", "top_p", "temperature", "random")
# model -> {sampler settings: (sampler, compiled generate function)}; an entry goes with its model
_COMPILED = weakref.WeakKeyDictionary()


def check_generation_args(sampler, max_length, temperature, top_k, top_p, limit):
    """Raise ValueError naming the first invalid argument."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler={sampler!r} is invalid: must be one of {', '.join(map(repr, SAMPLERS))}")
    if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) or not 1 <= max_length <= limit:
        raise ValueError(f"max_length={max_length!r} is invalid: must be an integer in [1, {limit}] (prompt "
                         f"and continuation together, in tokens, at most the model's max_sequence_length)")
    if sampler != "greedy" and not (np.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature={temperature!r} is invalid: must be a finite number > 0 "
                         f"(use sampler='greedy' for argmax)")
    if sampler == "top_k" and (isinstance(top_k, bool) or int(top_k) != top_k or top_k < 1):
        raise ValueError(f"top_k={top_k!r} is invalid: must be an integer >= 1")
    if sampler == "top_p" and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p={top_p!r} is invalid: must be in (0, 1]")


def make_sampler(sampler="greedy", temperature=1.0, top_k=50, top_p=0.9, seed=None):
    """The `keras_hub.samplers.Sampler` for one of the project's sampler names.

    `temperature` and `random` both sample from softmax(logits / temperature); `top_p`
    also keeps at most `top_k` tokens when top_k is given (None or 0: no such limit).
    """
    import keras_hub

    if sampler == "greedy":
        return keras_hub.samplers.GreedySampler()
    if sampler == "top_k":
        return keras_hub.samplers.TopKSampler(k=int(top_k), seed=seed, temperature=temperature)
    if sampler == "top_p":
        return keras_hub.samplers.TopPSampler(p=top_p, k=int(top_k) if top_k else None, seed=seed,
                                              temperature=temperature)
    return keras_hub.samplers.RandomSampler(seed=seed, temperature=temperature)


def generate(causal_lm, prompts, max_length=64, sampler="greedy", temperature=1.0, top_k=50, top_p=0.9,
             seed=None, strip_prompt=False):
    """Prompt(s) -> prompt + continuation (a str for a str, a list for a list).

    Args:
        causal_lm: a KerasHub causal LM with its preprocessor (e.g. from `load_gpt2`).
        max_length: tokens of prompt and continuation together (KerasHub's meaning); the
            continuation stops earlier at `<|endoftext|>`.
        sampler: "greedy", "top_k", "top_p", or "temperature" / "random" (plain sampling).
        seed: an int gives the same text on every call with the same settings; None
            gives a fresh draw per call.
        strip_prompt: return only the continuation.

    The generate function is compiled once per (sampler, settings); a seeded sampler's
    random state is reset before every call, so repeated calls do not recompile.
    """
    limit = causal_lm.backbone.max_sequence_length
    check_generation_args(sampler, max_length, temperature, top_k, top_p, limit)
    key = (sampler, float(temperature), int(top_k or 0), float(top_p), seed)
    compiled = _COMPILED.setdefault(causal_lm, {})
    if key not in compiled:
        compiled[key] = (make_sampler(sampler, temperature, top_k, top_p, None if seed is None else int(seed)),
                         compile_generate_step(causal_lm))
    causal_lm.sampler, causal_lm.generate_function = compiled[key]
    if seed is not None:
        for variable in causal_lm.sampler.variables:  # a SeedGenerator's state starts at (seed, 0)
            variable.assign(np.array([seed, 0], dtype=variable.dtype))
    return causal_lm.generate(prompts, max_length=max_length, strip_prompt=strip_prompt)


def compile_generate_step(causal_lm):
    """KerasHub's `make_generate_function` on TensorFlow: its public `generate_step`, in a `tf.function`.

    The function holds the model through a weak reference, so that `_COMPILED` (keyed
    weakly by the model) does not keep the model alive.
    """
    model = weakref.ref(causal_lm)

    def generate_step(inputs, stop_token_ids=None):
        return model().generate_step(inputs, stop_token_ids=stop_token_ids)

    if causal_lm.run_eagerly:
        return generate_step
    return tf.function(generate_step, jit_compile=getattr(causal_lm, "jit_compile", True))


def forget_compiled_generate(causal_lm):
    """Drop the compiled generate functions (after new variables, e.g. LoRA, or a new compile)."""
    _COMPILED.pop(causal_lm, None)
    causal_lm.generate_function = None


def _token_ids(tokenizer, texts):
    """Texts -> list of token-id lists (no special tokens)."""
    return [np.asarray(ids).reshape(-1).tolist() for ids in (tokenizer(text) for text in texts)]


def tokens_per_character(preprocessor_or_tokenizer, texts):
    """Tokens of `texts` (no special tokens) divided by their characters (Unicode code points)."""
    tokenizer = getattr(preprocessor_or_tokenizer, "tokenizer", preprocessor_or_tokenizer)
    tokens = sum(len(ids) for ids in _token_ids(tokenizer, texts))
    characters = sum(len(text) for text in texts)
    if characters == 0:
        raise ValueError("texts is invalid: it has no characters")
    return tokens / characters


def score_texts(causal_lm, texts, batch_size=8, add_end_token=False):
    """Negative log-likelihood of each text under the model, in nats.

    Every text is read as `<|endoftext|> text` (+ `<|endoftext|>` with `add_end_token`) and
    each of its tokens is predicted from the tokens before it; a text longer than the
    model's context is read in windows of `max_sequence_length` tokens that overlap by one
    token, so every token is scored exactly once.

    Returns:
        {"nll": (n,) summed NLL per text, "num_tokens": (n,), "num_characters": (n,),
         "nll_per_token": (n,), "total_nll", "total_tokens", "mean_nll_per_token",
         "nll_per_character": total NLL / total characters (comparable with a char
         model's nats/char), "bits_per_character"}.
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts is invalid: must be a non-empty list of strings")
    tokenizer = causal_lm.preprocessor.tokenizer
    window = causal_lm.backbone.max_sequence_length
    rows, owners = [], []
    for i, ids in enumerate(_token_ids(tokenizer, texts)):
        ids = [tokenizer.start_token_id] + ids + ([tokenizer.end_token_id] if add_end_token else [])
        for start in range(0, max(len(ids) - 1, 1), window - 1):
            rows.append(ids[start:start + window])
            owners.append(i)
    nll = np.zeros(len(texts))
    counts = np.zeros(len(texts), np.int64)
    for first in range(0, len(rows), batch_size):
        batch = rows[first:first + batch_size]
        width = max(len(r) for r in batch)
        ids = np.array([r + [0] * (width - len(r)) for r in batch], np.int32)
        mask = np.array([[1] * len(r) + [0] * (width - len(r)) for r in batch], bool)
        logits = causal_lm({"token_ids": ids, "padding_mask": mask}, training=False)
        token_nll = keras.ops.sparse_categorical_crossentropy(ids[:, 1:], keras.ops.cast(logits[:, :-1], "float32"),
                                                              from_logits=True)
        token_nll = keras.ops.convert_to_numpy(token_nll) * mask[:, 1:]
        for row, owner in enumerate(owners[first:first + batch_size]):
            nll[owner] += token_nll[row].sum()
            counts[owner] += mask[row, 1:].sum()
    characters = np.array([len(t) for t in texts])
    total_nll, total_tokens = float(nll.sum()), int(counts.sum())
    per_character = total_nll / max(int(characters.sum()), 1)
    return {"nll": nll, "num_tokens": counts, "num_characters": characters,
            "nll_per_token": nll / np.maximum(counts, 1), "total_nll": total_nll, "total_tokens": total_tokens,
            "mean_nll_per_token": total_nll / max(total_tokens, 1), "nll_per_character": per_character,
            "bits_per_character": per_character / np.log(2)}

