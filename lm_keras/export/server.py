"""The `tf.Module` that a SavedModel is made of: model + tokenizer + decode loop, strings in, strings out."""

import types

import tensorflow as tf

from lm_keras.evaluation.scoring import score_texts
from lm_keras.generation import Generator

#: Defaults of the `generate` arguments (a signature cannot have defaults; the restored
#: function `loaded.generate(prompt)` and `serving_default` use these).
DEFAULTS = {"max_new_tokens": 100, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "seed": -1}


def resolve_seed(seed):
    """A seed < 0 becomes a fresh one from the clock (a random op would be seeded once, at export time)."""
    clock = tf.cast(tf.math.floormod(tf.timestamp() * 1e6, 2**31 - 1), tf.int32)
    return tf.where(seed < 0, clock, seed)


def document_rows(tokenizer, text, max_length):
    """text string[b] -> int32 rows (b, width <= max_length) of `[BOS] text [EOS]`, cut to max_length, padded with 0."""
    ids = tokenizer.encode(text)
    n = ids.nrows()
    ids = tf.concat([tf.fill([n, 1], tokenizer.bos_id), ids, tf.fill([n, 1], tokenizer.eos_id)], axis=1)
    return ids[:, :max_length].to_tensor(0)


class SavedModelServer(tf.Module):
    """The base of every server: a tokenizer, assets, and `signatures()`.

    A subclass keeps its Keras objects in `self._keras` (a plain namespace, not tracked)
    and lists its `tf.function`s in `signature_functions()`; `signatures()` traces them
    and tracks only the `tf.Variable`s they read, the layout TF1-style loaders (TF
    Serving, `saved_model_cli run`) can restore.
    """

    def __init__(self, tokenizer, assets=None, **keras_objects):
        super().__init__(name="lm_keras_server")
        self._keras = types.SimpleNamespace(**keras_objects)
        self.tokenizer = tokenizer  # a tf.Module: its lookup tables are saved with it
        self.assets = {name: tf.saved_model.Asset(str(path)) for name, path in (assets or {}).items()}

    def signature_functions(self):
        """{signature name: tf.function with an input signature} to export."""
        raise NotImplementedError

    def signatures(self):
        """Trace the signatures and track the variables they read; pass to `tf.saved_model.save`."""
        signatures = {name: function.get_concrete_function()
                      for name, function in self.signature_functions().items()}
        used = {}
        for function in signatures.values():
            for variable in function.variables:
                used.setdefault(id(variable), variable)
        self.model_weights = list(used.values())
        return signatures


class LanguageModelServer(SavedModelServer):
    """Everything a served language model needs, traced into TensorFlow graphs.

    Args:
        model: a trained lm_keras language model.
        tokenizer: its tokenizer (a `tf.Module`; its lookup tables are saved with it).
        add_special_tokens: score texts as `[BOS] text [EOS]` (models of one document per line).
        max_new_tokens_limit: the largest `max_new_tokens` a caller may ask for (the static
            size of the compiled decode loop's output).
        jit_compile: compile the decode loop with XLA.
        assets: {name: path} of files to ship in the SavedModel's `assets/`.
    """

    def __init__(self, model, tokenizer, add_special_tokens=False, max_new_tokens_limit=1024, jit_compile=True,
                 assets=None):
        # The Keras objects are kept out of the saved object graph (see SavedModelServer).
        super().__init__(tokenizer, assets, model=model,
                         generator=Generator(model, tokenizer, jit_compile, allow_eos=add_special_tokens))
        self.add_special_tokens = add_special_tokens
        self.max_new_tokens_limit = max_new_tokens_limit

    @tf.function(input_signature=[
        tf.TensorSpec([None], tf.string, name="prompt"),
        tf.TensorSpec([], tf.int32, name="max_new_tokens"),
        tf.TensorSpec([], tf.float32, name="temperature"),
        tf.TensorSpec([], tf.int32, name="top_k"),
        tf.TensorSpec([], tf.float32, name="top_p"),
        tf.TensorSpec([], tf.int32, name="seed"),
    ])
    def generate(self, prompt, max_new_tokens=DEFAULTS["max_new_tokens"], temperature=DEFAULTS["temperature"],
                 top_k=DEFAULTS["top_k"], top_p=DEFAULTS["top_p"], seed=DEFAULTS["seed"]):
        """prompt tf.string (batch,) -> {"text": prompt + continuation (batch,)}.

        temperature <= 0 is greedy; top_k 0 and top_p 1 disable those filters; a seed < 0
        draws a fresh random seed per call, a seed >= 0 gives the same text every time.
        """
        text = self._keras.generator.generate_text(prompt, max_new_tokens, temperature, top_k, top_p,
                                                   resolve_seed(seed), capacity=self.max_new_tokens_limit)
        return {"text": text}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="prompt")])
    def generate_with_defaults(self, prompt):
        """`generate` with every argument but the prompt at its default (the `serving_default` signature)."""
        return self.generate(prompt, *(tf.constant(DEFAULTS[k], dtype) for k, dtype in (
            ("max_new_tokens", tf.int32), ("temperature", tf.float32), ("top_k", tf.int32),
            ("top_p", tf.float32), ("seed", tf.int32))))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def score(self, text):
        """text tf.string (batch,) -> {"log_likelihood", "num_tokens", "perplexity"} (batch,) each."""
        return score_texts(self._keras.model, self.tokenizer, text, self.add_special_tokens)

    def signature_functions(self):
        return {"serving_default": self.generate_with_defaults, "generate": self.generate, "score": self.score}
