"""Position information: a Transformer without it sees a bag of tokens.

Three options, all taking per-row position ids (b, t) so that left-padded prompts can
start at position 0:

- `PositionEmbedding`: a learned vector per position (GPT-2, nanoGPT).
- `SinusoidalPositionEncoding`: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d))
  (Vaswani et al. 2017); no weights.
- `RotaryEmbedding`: rotate each pair of query/key features by an angle p·θ_i, so that
  Q·K depends on the distance between positions only (Su et al. 2021, RoPE).
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lm_keras")
class PositionEmbedding(keras.layers.Layer):
    """Learned positions: positions (b, t) int -> (b, t, d_model)."""

    def __init__(self, max_length, d_model, initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_length, self.d_model = max_length, d_model
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(shape=(self.max_length, self.d_model), initializer=self.initializer,
                                          name="embeddings")
        self.built = True

    def call(self, positions):
        return ops.take(self.embeddings, positions, axis=0)

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length, "d_model": self.d_model,
                "initializer": keras.initializers.serialize(self.initializer)}


@keras.saving.register_keras_serializable(package="lm_keras")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Fixed sin/cos positions: positions (b, t) int -> (b, t, d_model)."""

    def __init__(self, d_model, max_wavelength=10000.0, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.max_wavelength = d_model, max_wavelength

    def call(self, positions):
        half = (self.d_model + 1) // 2
        frequencies = ops.power(self.max_wavelength, -ops.arange(half, dtype="float32") * 2.0 / self.d_model)
        angles = ops.cast(positions, "float32")[..., None] * frequencies  # (b, t, half)
        # interleave: [sin θ0, cos θ0, sin θ1, cos θ1, ...]
        encoding = ops.reshape(ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1),
                               (ops.shape(positions)[0], ops.shape(positions)[1], 2 * half))
        return ops.cast(encoding[..., : self.d_model], self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "max_wavelength": self.max_wavelength}


@keras.saving.register_keras_serializable(package="lm_keras")
class RotaryEmbedding(keras.layers.Layer):
    """RoPE: x (b, t, h, d) and positions (b, t) -> x rotated, same shape (d even).

    Feature i of the first half is paired with feature i of the second half (the
    GPT-NeoX layout) and the pair is rotated by the angle position · max_wavelength^(-2i/d).
    """

    def __init__(self, max_wavelength=10000.0, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = max_wavelength

    def call(self, x, positions):
        half = ops.shape(x)[-1] // 2
        frequencies = ops.power(self.max_wavelength,
                                -ops.cast(ops.arange(half), "float32") / ops.cast(half, "float32"))
        angles = ops.cast(positions, "float32")[..., None, None] * frequencies  # (b, t, 1, d/2)
        cos, sin = ops.cast(ops.cos(angles), x.dtype), ops.cast(ops.sin(angles), x.dtype)
        x1, x2 = x[..., :half], x[..., half:]
        return ops.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)

    def get_config(self):
        return {**super().get_config(), "max_wavelength": self.max_wavelength}
