"""The SavedModel of a text VAE: encode, reconstruct, sample and interpolate, strings in and out."""

import tensorflow as tf

from lm_keras.export.server import LanguageModelServer, document_rows, resolve_seed
from lm_keras.generation import Generator


class VAEServer(LanguageModelServer):
    """`LanguageModelServer` for a `TextVAE`.

    Signatures (besides `generate`, which continues prompts given z = 0, the prior's mean):
        encode(text string[b]) -> z_mean, z_log_var float32[b, latent_dim]
        reconstruct(text string[b], temperature, seed) -> text string[b], decoded from μ
        sample(count int32, temperature, seed) -> text string[count], decoded from z ~ N(0, I)
        interpolate(text_a string, text_b string, steps int32) -> text string[steps], t float32[steps]
    Decoding is greedy for temperature <= 0 and never emits [UNK]; a seed < 0 is drawn
    from the clock; `sample` draws the codes as `LatentGenerator.sample` does, so the same
    seed gives the same poems here and in Python. Texts
    longer than the context are cut (a graph cannot warn); an empty text is read as
    [BOS] [EOS], the empty poem.
    """

    score = None  # a VAE has no exact likelihood to serve (see lm_keras.evaluation.latent)

    def __init__(self, model, tokenizer, jit_compile=True, assets=None):
        super().__init__(model, tokenizer, add_special_tokens=True, max_new_tokens_limit=model.context_length,
                         jit_compile=jit_compile, assets=assets)
        self._keras.generator = Generator(model, tokenizer, jit_compile, allow_eos=True, allow_unknown=False)
        self.latent_dim = model.latent_dim
        self.context_length = model.context_length

    def _rows(self, text):
        """text string[b] -> rows (b, width) of [BOS] text [EOS], cut to the context, padded with 0."""
        return document_rows(self.tokenizer, text, self.context_length)

    def _decode(self, z, temperature, seed):
        prompts = tf.fill([tf.shape(z)[0]], "")
        return self._keras.generator.generate_text(
            prompts, tf.constant(self.context_length - 1), temperature, tf.constant(0), tf.constant(1.0),
            resolve_seed(seed), capacity=self.max_new_tokens_limit, condition=z)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def encode(self, text):
        z_mean, z_log_var = self._keras.model.encode(self._rows(text))
        return {"z_mean": z_mean, "z_log_var": z_log_var}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text"),
                                  tf.TensorSpec([], tf.float32, name="temperature"),
                                  tf.TensorSpec([], tf.int32, name="seed")])
    def reconstruct(self, text, temperature, seed):
        z_mean, _ = self._keras.model.encode(self._rows(text))
        return {"text": self._decode(z_mean, temperature, seed)}

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="count"),
                                  tf.TensorSpec([], tf.float32, name="temperature"),
                                  tf.TensorSpec([], tf.int32, name="seed")])
    def sample(self, count, temperature, seed):
        seed = resolve_seed(seed)
        z = tf.random.stateless_normal([count, self.latent_dim], seed=tf.stack([seed, 0]))
        return {"text": self._decode(z, temperature, seed)}

    @tf.function(input_signature=[tf.TensorSpec([], tf.string, name="text_a"),
                                  tf.TensorSpec([], tf.string, name="text_b"),
                                  tf.TensorSpec([], tf.int32, name="steps")])
    def interpolate(self, text_a, text_b, steps):
        z_mean, _ = self._keras.model.encode(self._rows(tf.stack([text_a, text_b])))
        t = tf.linspace(0.0, 1.0, tf.maximum(steps, 2))[:, tf.newaxis]
        z = (1.0 - t) * z_mean[0] + t * z_mean[1]
        return {"text": self._decode(z, tf.constant(0.0), tf.constant(0)), "t": t[:, 0]}

    def signature_functions(self):
        functions = super().signature_functions()
        del functions["score"]
        return {**functions, "encode": self.encode, "reconstruct": self.reconstruct, "sample": self.sample,
                "interpolate": self.interpolate}
