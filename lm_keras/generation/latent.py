"""A trained text VAE used through strings: encode, reconstruct, sample, interpolate, nearest neighbours.

Decoding a code z is the project's `Generator` with `condition=z`: the same samplers,
cache and beam search as every language model, starting from [BOS] and stopping at [EOS].
"""

import random

import numpy as np
import tensorflow as tf

from lm_keras.data.pipeline import encode_rows
from lm_keras.generation.generator import Generator


class LatentGenerator:
    """Args: vae (a trained `TextVAE`), tokenizer (its tokenizer), jit_compile (XLA decode loop).

    Example:
        >>> codes = LatentGenerator(vae, tokenizer)
        >>> codes.interpolate("白日依山盡，黃河入海流。欲窮千里目，更上一層樓。", "床前明月光，...", steps=5)
    """

    def __init__(self, vae, tokenizer, jit_compile=False):
        self.vae = vae
        self.tokenizer = tokenizer
        self.generator = Generator(vae, tokenizer, jit_compile=jit_compile, allow_eos=True, allow_unknown=False)

    def rows(self, texts):
        """Texts -> rows of `[BOS] text [EOS]` (truncated to the context with a warning); empty texts are an error."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            raise ValueError("No texts given.")
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"texts[{i}] = {text!r} is empty: there is nothing to encode.")
        return encode_rows(texts, self.tokenizer, self.vae.context_length)

    def encode(self, texts):
        """Texts -> (z_mean, z_log_var): NumPy arrays (batch, latent_dim), the parameters of q(z|x)."""
        z_mean, z_log_var = self.vae.encode(tf.constant(self.rows(texts)))
        return z_mean.numpy(), z_log_var.numpy()

    def decode(self, z, temperature=0.0, top_k=0, top_p=1.0, seed=None, num_beams=None):
        """Codes (batch, latent_dim) -> one text each, generated from [BOS] given z (greedy by default)."""
        z = np.asarray(z, np.float32).reshape(-1, self.vae.latent_dim)
        return self.generator([""] * len(z), max_new_tokens=self.vae.context_length - 1, temperature=temperature,
                              top_k=top_k, top_p=top_p, seed=seed, num_beams=num_beams, condition=z)

    def reconstruct(self, texts, temperature=0.0, seed=None, sample_z=False):
        """Texts -> decoded from their posterior mean μ (or from z ~ q(z|x) with `sample_z`)."""
        z_mean, z_log_var = self.encode(texts)
        if sample_z:
            z_mean = z_mean + np.exp(0.5 * z_log_var) * np.random.default_rng(seed).standard_normal(z_mean.shape)
        return self.decode(z_mean, temperature, seed=seed)

    def sample(self, count, seed=None, temperature=0.0):
        """`count` new texts, decoded from codes drawn from the prior N(0, I)."""
        if count < 1:
            raise ValueError(f"count={count} is invalid: must be >= 1")
        seed = random.SystemRandom().randrange(2**31 - 1) if seed is None else int(seed)
        # the draw of the SavedModel's `sample` signature: the same seed gives the same codes and poems there
        z = tf.random.stateless_normal([count, self.vae.latent_dim], seed=[seed, 0])
        return self.decode(z.numpy(), temperature, seed=seed)

    def interpolate(self, text_a, text_b, steps=5, temperature=0.0):
        """Decode `steps` codes evenly spaced on the line from μ(a) to μ(b) -> list of (t, text), t from 0 to 1."""
        if steps < 2:
            raise ValueError(f"steps={steps} is invalid: must be >= 2 (the two ends)")
        z_mean, _ = self.encode([text_a, text_b])
        t = np.linspace(0.0, 1.0, steps)[:, None]
        return list(zip(t[:, 0].tolist(), self.decode((1 - t) * z_mean[0] + t * z_mean[1], temperature)))

    def nearest_neighbours(self, text, candidates, k=5):
        """The `k` candidates whose posterior means are closest (Euclidean) to `text`'s -> list of (candidate, distance)."""
        query, _ = self.encode(text)
        codes = np.concatenate([self.encode(candidates[i:i + 512])[0] for i in range(0, len(candidates), 512)])
        distances = np.linalg.norm(codes - query, axis=1)
        order = np.argsort(distances)[:k]
        return [(candidates[i], float(distances[i])) for i in order]
