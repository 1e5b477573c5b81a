"""The VAE's latent layer: the reparameterisation trick and the Gaussian KL divergence."""

import math

import keras
from keras import ops

SAMPLING_MODES = ("sample", "mean")


@keras.saving.register_keras_serializable(package="lm_keras")
class LatentSampling(keras.layers.Layer):
    """z = μ + exp(½·z_log_var) ⊙ ε with ε ~ N(0, I): a sample of q(z|x) that gradients flow through.

    Args:
        mode: "sample" (the reparameterised draw) or "mean" (z = μ, for deterministic
            encoding at inference); `call(..., mode=)` overrides it per call.
        seed: seeds ε (the same seed gives the same sequence of draws).

    Call: z_mean, z_log_var (batch, latent_dim) -> z (batch, latent_dim).
    """

    def __init__(self, mode="sample", seed=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in SAMPLING_MODES:
            raise ValueError(f"mode={mode!r} is invalid: must be one of {SAMPLING_MODES}")
        self.mode = mode
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, z_mean, z_log_var, mode=None):
        mode = mode or self.mode
        if mode not in SAMPLING_MODES:
            raise ValueError(f"mode={mode!r} is invalid: must be one of {SAMPLING_MODES}")
        if mode == "mean":
            return z_mean
        epsilon = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, z_mean_shape, z_log_var_shape=None):
        return z_mean_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "seed": self.seed}


def gaussian_kl(z_mean, z_log_var):
    """KL(N(μ, σ²) ‖ N(0, 1)) per dimension, in closed form: ½(μ² + σ² − 1 − log σ²).

    (batch, latent_dim) -> (batch, latent_dim) nats; sum over the last axis for the KL of z.
    """
    return 0.5 * (ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var)


def gaussian_log_density(z, z_mean, z_log_var):
    """log N(z; μ, σ²) summed over the last axis: (..., latent_dim) -> (...)."""
    return -0.5 * ops.sum(math.log(2 * math.pi) + z_log_var + ops.square(z - z_mean) * ops.exp(-z_log_var), axis=-1)
