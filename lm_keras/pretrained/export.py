"""Export a KerasHub GPT-2 as a SavedModel that serves strings: `tf.saved_model.load` is all a caller needs.

    <export>/saved_model.pb, variables/   the graphs and the weights
    <export>/assets/export.json           preset config, limits and defaults, the signatures

KerasHub's own `generate` is a Python method around a compiled function, so it cannot be
saved; the export traces the same steps in TensorFlow ops instead: the tokenizer's TF path
(byte-level BPE with lookup tables), `<|endoftext|>` + prompt, right padding, one prefill
of the key/value cache with `call_with_cache`, then a `tf.while_loop` of cached steps
(optionally XLA) that picks tokens with the project's samplers, stops when every row has
produced `<|endoftext|>`, and detokenizes. The BPE pre-split uses `tensorflow_text`
ops, so a loader runs `import tensorflow_text` before `tf.saved_model.load` (keras_hub
and lm_keras are not needed).
"""

import json
import tempfile
from pathlib import Path

import tensorflow as tf

from lm_keras.export.server import SavedModelServer, resolve_seed
from lm_keras.generation.samplers import sample_next_token
from lm_keras.pretrained.shims import empty_kv_cache
from lm_keras.utils.atomic import atomic_directory

EXPORT_INFO = "export.json"
SIGNATURES = {
    "generate": "prompt string[batch], max_length int32, temperature float32, top_k int32, top_p float32, "
                "seed int32 -> text string[batch] (prompt + continuation; temperature <= 0 is greedy)",
    "serving_default": "prompt string[batch] -> text string[batch] (greedy, the export's max_length)",
}


def decode(causal_lm, token_ids, padding_mask, end_token_id, temperature, top_k, top_p, seed):
    """Continue right-padded prompts in place, as KerasHub's `generate_step` does.

    token_ids (b, L) int32, padding_mask (b, L) bool (True on `<|endoftext|>` + prompt)
    -> (token_ids (b, L), mask (b, L): True on the prompt and the new tokens up to and
    including the first `<|endoftext|>`). Generation starts at the shortest prompt's end;
    longer prompts keep their tokens there. Step t draws its token with seed (seed, t).
    """
    batch, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
    _, _, cache = causal_lm.call_with_cache(token_ids, empty_kv_cache(causal_lm, batch, length), 0)
    start = tf.reduce_min(tf.reduce_sum(tf.cast(padding_mask, tf.int32), axis=-1))

    def not_done(ids, cache, index):
        return tf.logical_not(tf.reduce_all(tf.reduce_any((ids == end_token_id) & ~padding_mask, axis=-1)))

    def step(ids, cache, index):
        # tf.slice / tf.gather, not ids[:, index - 1:index]: XLA miscompiles dynamic strided slices here
        logits, _, cache = causal_lm.call_with_cache(tf.slice(ids, [0, index - 1], [-1, 1]), cache, index - 1)
        new = sample_next_token(logits[:, 0], tf.stack([seed, index]), temperature, top_k, top_p)
        new = tf.where(tf.gather(padding_mask, index, axis=1), tf.gather(ids, index, axis=1), new)
        ids = tf.where(tf.range(length)[tf.newaxis, :] == index, new[:, tf.newaxis], ids)
        return ids, cache, index + 1

    ids, _, _ = tf.while_loop(not_done, step, (token_ids, cache, start), maximum_iterations=length - start)
    ends = tf.cast((ids == end_token_id) & ~padding_mask, tf.int32)
    after_end = tf.cumsum(ends, axis=-1) - ends > 0
    return ids, ~after_end


class GPT2Server(SavedModelServer):
    """`generate` (string → string) of a KerasHub causal LM, traced into TensorFlow graphs.

    Args:
        causal_lm: a KerasHub causal LM with a byte-pair preprocessor (GPT-2).
        max_length: the default total length (tokens, prompt included) of `serving_default`.
        jit_compile: compile the decode loop with XLA.
    """

    def __init__(self, causal_lm, max_length, jit_compile=True, assets=None):
        tokenizer = causal_lm.preprocessor.tokenizer
        # The BPE tokenizer's lookup tables and cache, saved with the graphs that read them.
        tables = tf.Module()
        tables.resources = [v for v in vars(tokenizer).values()
                            if isinstance(v, (tf.Module, tf.saved_model.experimental.TrackableResource))]
        super().__init__(tables, assets, causal_lm=causal_lm, bpe=tokenizer,
                         decode=tf.function(decode, jit_compile=jit_compile))
        self.max_length = max_length
        self.limit = causal_lm.backbone.max_sequence_length

    def check(self, max_length, temperature, top_k, top_p):
        """In-graph argument checks (a signature cannot raise ValueError); messages name the argument."""
        return [
            tf.debugging.assert_greater_equal(max_length, 1, message="max_length is invalid: must be >= 1"),
            tf.debugging.assert_less_equal(max_length, self.limit,
                                           message=f"max_length is invalid: must be <= {self.limit}"),
            tf.debugging.assert_all_finite(temperature, message="temperature is invalid: must be finite"),
            tf.debugging.assert_non_negative(top_k, message="top_k is invalid: must be >= 0 (0 disables it)"),
            tf.debugging.assert_greater(top_p, 0.0, message="top_p is invalid: must be in (0, 1]"),
            tf.debugging.assert_less_equal(top_p, 1.0, message="top_p is invalid: must be in (0, 1]"),
        ]

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name="prompt"),
        tf.TensorSpec([], tf.int32, name="max_length"),
        tf.TensorSpec([], tf.float32, name="temperature"),
        tf.TensorSpec([], tf.int32, name="top_k"),
        tf.TensorSpec([], tf.float32, name="top_p"),
        tf.TensorSpec([], tf.int32, name="seed"),
    ])
    def generate(self, prompt, max_length, temperature, top_k, top_p, seed):
        """prompt tf.string (batch,) -> {"text": prompt + continuation (batch,)}; a seed < 0 draws a fresh one."""
        keras = self._keras
        with tf.control_dependencies(self.check(max_length, temperature, top_k, top_p)):
            tokens = keras.bpe(prompt)
        start = tf.fill([tokens.nrows(), 1], tf.cast(keras.bpe.start_token_id, tokens.dtype))
        rows = tf.concat([start, tokens], axis=1)[:, :max_length]
        shape = tf.stack([rows.nrows(), tf.cast(max_length, tf.int64)])
        token_ids = tf.cast(rows.to_tensor(0, shape=shape), tf.int32)
        padding_mask = tf.ones_like(rows, tf.bool).to_tensor(False, shape=shape)
        ids, mask = keras.decode(keras.causal_lm, token_ids, padding_mask, keras.bpe.end_token_id,
                                 temperature, top_k, top_p, resolve_seed(seed))
        special = tf.reduce_any(ids[..., tf.newaxis] == tf.constant(keras.bpe.special_token_ids), axis=-1)
        return {"text": keras.bpe.detokenize(tf.ragged.boolean_mask(ids, mask & ~special))}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="prompt")])
    def generate_greedy(self, prompt):
        """`generate` greedy to the export's max_length (the `serving_default` signature)."""
        return self.generate(prompt, tf.constant(self.max_length), tf.constant(0.0), tf.constant(0),
                             tf.constant(1.0), tf.constant(0))

    def signature_functions(self):
        return {"serving_default": self.generate_greedy, "generate": self.generate}


def export_gpt2(causal_lm, path, max_length=128, overwrite=False, jit_compile=True):
    """Write `causal_lm` (a KerasHub GPT-2 with its preprocessor) as a SavedModel at `path`, atomically.

    Args:
        max_length: the total length (tokens, prompt included) of `serving_default`;
            `generate` takes any max_length up to the model's max_sequence_length.
        overwrite: replace an existing `path` (otherwise FileExistsError, nothing written).
        jit_compile: XLA-compile the decode loop inside the SavedModel.

    Returns:
        The `Path` of the export. Load it with `import tensorflow_text` and
        `tf.saved_model.load(path)`; `loaded.generate(prompts, max_length, temperature,
        top_k, top_p, seed)["text"]`.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it.")
    limit = causal_lm.backbone.max_sequence_length
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= limit:
        raise ValueError(f"max_length={max_length!r} is invalid: must be an integer in [1, {limit}]")
    if getattr(causal_lm, "preprocessor", None) is None:
        raise ValueError("causal_lm is invalid: it has no preprocessor (load it with load_gpt2)")
    info = {"model_class": type(causal_lm).__name__, "backbone_config": causal_lm.backbone.get_config(),
            "max_length": max_length, "max_sequence_length": limit, "signatures": SIGNATURES,
            "load": "import tensorflow_text; tf.saved_model.load(path)"}
    with tempfile.TemporaryDirectory() as scratch, atomic_directory(path, overwrite=overwrite) as directory:
        info_file = Path(scratch) / EXPORT_INFO
        info_file.write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
        server = GPT2Server(causal_lm, max_length, jit_compile, assets={"export_json": info_file})
        tf.saved_model.save(server, str(directory), signatures=server.signatures())
    return path
