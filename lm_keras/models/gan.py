"""GANs for text.

`LatentGAN` (ARAE style, Zhao et al. 2018): text is discrete, so instead of generating
tokens the generator learns the distribution of an autoencoder's continuous codes, and
the autoencoder's decoder (with the project's samplers) turns generated codes into text:

    noise u ~ N(0, I) (b, noise_dim) -> generator MLP -> code c̃ (b, latent_dim)
    real code c = μ(x) of the text VAE's encoder                     (b, latent_dim)
    critic MLP: code -> score (b, 1)

    WGAN-GP:          L_D = E[D(c̃)] − E[D(c)] + λ E[(‖∇_ĉ D(ĉ)‖₂ − 1)²],  ĉ = α c + (1 − α) c̃
                      L_G = −E[D(c̃)]
    non-saturating:   L_D = −E[log σ(D(c))] − E[log(1 − σ(D(c̃)))],  L_G = −E[log σ(D(c̃))]

The training step has the shape of the keras.io WGAN-GP example: two optimizers,
`n_critic` critic updates per generator update, and a metric for each loss.
"""

import keras
import tensorflow as tf
from keras import ops

from lm_keras.config import LatentGANConfig


def _mlp(width, depth, out, activation, name):
    layers = [keras.layers.Dense(width, activation=activation) for _ in range(depth)]
    return keras.Sequential([*layers, keras.layers.Dense(out)], name=name)


@keras.saving.register_keras_serializable(package="lm_keras")
class LatentGAN(keras.Model):
    """Args: see `lm_keras.config.LatentGANConfig`; `seed` seeds the noise.

    `fit(codes)` trains on batches of real codes (b, latent_dim); `call(noise)` and
    `sample_codes(count)` generate codes. Compile with `compile(critic_optimizer,
    generator_optimizer)`.
    """

    def __init__(self, latent_dim=32, noise_dim=32, hidden_dim=256, num_layers=2, loss="wgan_gp",
                 gradient_penalty=10.0, n_critic=5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.config = c = LatentGANConfig(latent_dim, noise_dim, hidden_dim, num_layers, loss, gradient_penalty,
                                          n_critic)
        self.seed = seed
        self.generator = _mlp(hidden_dim, num_layers, latent_dim, "relu", "generator")
        # no normalisation in the critic: the gradient penalty is per example
        self.critic = _mlp(hidden_dim, num_layers, 1, keras.activations.leaky_relu, "critic")
        self.noise_seed = keras.random.SeedGenerator(seed)
        names = ["critic_loss", "generator_loss"] + (["gradient_penalty", "wasserstein"] if c.loss == "wgan_gp" else [])
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def build(self, input_shape=None):
        self.generator.build((None, self.config.noise_dim))
        self.critic.build((None, self.config.latent_dim))
        self.built = True

    def compile(self, critic_optimizer=None, generator_optimizer=None, **kwargs):
        """Two optimizers (default Adam 1e-4, β = (0.5, 0.9), the WGAN-GP paper's); Keras's `optimizer` is the generator's."""
        self.critic_optimizer = critic_optimizer or keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
        generator_optimizer = generator_optimizer or keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
        super().compile(optimizer=generator_optimizer, **kwargs)

    def get_compile_config(self):
        return {"critic_optimizer": keras.optimizers.serialize(self.critic_optimizer),
                "generator_optimizer": keras.optimizers.serialize(self.optimizer)}

    def compile_from_config(self, config):
        self.compile(keras.optimizers.deserialize(config["critic_optimizer"]),
                     keras.optimizers.deserialize(config["generator_optimizer"]))

    def call(self, noise, training=None):
        """noise (b, noise_dim) -> codes (b, latent_dim)."""
        return self.generator(noise, training=training)

    def noise(self, count, seed=None):
        """(count, noise_dim) standard normal noise, from `seed` (an int) or the model's seed generator."""
        shape = (count, self.config.noise_dim)
        if seed is not None:
            return tf.random.stateless_normal(shape, seed=[int(seed), 1])
        return keras.random.normal(shape, seed=self.noise_seed)

    def sample_codes(self, count, seed=None):
        """`count` generated codes (count, latent_dim), NumPy."""
        return ops.convert_to_numpy(self.generator(self.noise(count, seed), training=False))

    def gradient_penalty(self, real, fake, alpha):
        """λ · mean over the batch of (‖∇_ĉ D(ĉ)‖₂ − 1)² at ĉ = α real + (1 − α) fake; alpha (b, 1)."""
        mixed = alpha * real + (1.0 - alpha) * fake
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            scores = self.critic(mixed, training=True)
        gradients = tape.gradient(scores, mixed)
        norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=1) + 1e-12)
        return self.config.gradient_penalty * tf.reduce_mean(tf.square(norms - 1.0))

    def _critic_step(self, real):
        batch = tf.shape(real)[0]
        fake = self.generator(self.noise(batch), training=True)
        with tf.GradientTape() as tape:
            real_scores = self.critic(real, training=True)
            fake_scores = self.critic(fake, training=True)
            if self.config.loss == "wgan_gp":
                alpha = keras.random.uniform((batch, 1), seed=self.noise_seed)
                penalty = self.gradient_penalty(real, fake, alpha)
                wasserstein = tf.reduce_mean(real_scores) - tf.reduce_mean(fake_scores)
                loss = -wasserstein + penalty
            else:
                penalty = wasserstein = None
                loss = tf.reduce_mean(tf.nn.softplus(-real_scores)) + tf.reduce_mean(tf.nn.softplus(fake_scores))
        gradients = tape.gradient(loss, self.critic.trainable_weights)
        self.critic_optimizer.apply(gradients, self.critic.trainable_weights)
        return loss, penalty, wasserstein

    def train_step(self, data):
        real = tf.cast(data[0] if isinstance(data, (tuple, list)) else data, "float32")
        for _ in range(self.config.n_critic):
            critic_loss, penalty, wasserstein = self._critic_step(real)
        with tf.GradientTape() as tape:
            fake_scores = self.critic(self.generator(self.noise(tf.shape(real)[0]), training=True), training=True)
            if self.config.loss == "wgan_gp":
                generator_loss = -tf.reduce_mean(fake_scores)
            else:
                generator_loss = tf.reduce_mean(tf.nn.softplus(-fake_scores))
        gradients = tape.gradient(generator_loss, self.generator.trainable_weights)
        self.optimizer.apply(gradients, self.generator.trainable_weights)
        values = {"critic_loss": critic_loss, "generator_loss": generator_loss, "gradient_penalty": penalty,
                  "wasserstein": wasserstein}
        for name, tracker in self.trackers.items():
            tracker.update_state(values[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def get_config(self):
        return {**super().get_config(), **self.config.to_dict(), "seed": self.seed}
