"""The documents' generation loop, kept as the reference the cached loop is checked and timed against.

For every new token the whole sequence so far (cropped to the context length, as
nanoGPT does) goes through the model again: the cost of token n grows with n.
"""

import numpy as np

from lm_keras.generation.samplers import sample_next_token


def naive_generate_ids(model, prompt_ids, max_new_tokens, temperature=0.0, top_k=0, top_p=1.0, seed=0,
                       banned=None, stop_id=-1, use_predict=False):
    """Prompts of equal length (batch, t) -> new ids (batch, max_new_tokens) (0 after `stop_id`).

    `use_predict=True` calls `model.predict` each step, exactly as in the documents'
    example; otherwise `model(...)` (eager). Sampling uses the same seeded sampler as
    `Generator`, so a seed gives the same tokens as the cached loop within the context.
    """
    if use_predict and getattr(model, "jit_compile", False):
        # An XLA-compiled predict would compile a new program for every sequence length,
        # i.e. for every token: time the documents' loop as written, without XLA.
        model.jit_compile = False
        model.make_predict_function(force=True)
        try:
            return naive_generate_ids(model, prompt_ids, max_new_tokens, temperature, top_k, top_p, seed, banned,
                                      stop_id, use_predict)
        finally:
            model.jit_compile = True
            model.make_predict_function(force=True)
    ids = np.asarray(prompt_ids, np.int32)
    context = getattr(model, "context_length", None)
    new = np.zeros((len(ids), max_new_tokens), np.int32)
    done = np.zeros(len(ids), bool)
    for i in range(max_new_tokens):
        window = ids if context is None else ids[:, -context:]
        logits = model.predict(window, verbose=0) if use_predict else model(window, training=False).numpy()
        logits = logits[:, -1].astype(np.float32) + (0 if banned is None else np.asarray(banned))
        next_ids = sample_next_token(logits, np.array([seed, i], np.int32), temperature, top_k, top_p).numpy()
        next_ids = np.where(done, 0, next_ids)
        new[:, i] = next_ids
        done |= next_ids == stop_id
        if done.all():
            break
        ids = np.concatenate([ids, next_ids[:, None]], axis=1)
    return new
