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

`SequenceGAN` (SeqGAN / ScratchGAN style) trains a language model itself against a
discriminator of prefixes; the argmax (sampling) between them has no gradient, so the
generator follows the policy gradient (REINFORCE) of the discriminator's reward.
"""

import keras
import tensorflow as tf
from keras import ops

from lm_keras.config import LatentGANConfig, SequenceGANConfig
from lm_keras.generation.generator import model_decode_loop
from lm_keras.models.tracking import TrackedModel
from lm_keras.tokenizers.base import BOS_ID, EOS_ID, PAD_ID, banned_mask


def _mlp(width, depth, out, activation, name):
    layers = [keras.layers.Dense(width, activation=activation) for _ in range(depth)]
    return keras.Sequential([*layers, keras.layers.Dense(out)], name=name)


class _TwoOptimizerModel(TrackedModel):
    """What both GANs share: the generator's optimizer is Keras's `optimizer`, the opponent's
    (`<opponent>_optimizer`) is the second one; both are in the compile config. `build()`
    needs no shape."""

    opponent = "critic"

    def get_compile_config(self):
        return {f"{self.opponent}_optimizer": keras.optimizers.serialize(getattr(self, f"{self.opponent}_optimizer")),
                "generator_optimizer": keras.optimizers.serialize(self.optimizer)}

    def compile_from_config(self, config):
        self.compile(keras.optimizers.deserialize(config[f"{self.opponent}_optimizer"]),
                     keras.optimizers.deserialize(config["generator_optimizer"]))

    def build_slots(self):
        """Both optimizers' moments now (so that a saved optimizer state loads, and the first traced
        step, which would otherwise create them, is traced once, not twice)."""
        if not self.built:
            self.build()
        getattr(self, f"{self.opponent}_optimizer").build(getattr(self, self.opponent).trainable_weights)
        self.optimizer.build(self.generator.trainable_weights)

    def get_build_config(self):
        return {"built": True}  # an empty build config would not be built on load

    def build_from_config(self, config):
        self.build()


@keras.saving.register_keras_serializable(package="lm_keras")
class LatentGAN(_TwoOptimizerModel):
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
        wgan_terms = ("gradient_penalty", "wasserstein") if c.loss == "wgan_gp" else ()
        self.track("critic_loss", "generator_loss", *wgan_terms)

    def build(self, input_shape=None):
        self.generator.build((None, self.config.noise_dim))
        self.critic.build((None, self.config.latent_dim))
        self.built = True

    def compile(self, critic_optimizer=None, generator_optimizer=None, **kwargs):
        """Two optimizers (default Adam 1e-4, β = (0.5, 0.9), the WGAN-GP paper's); Keras's `optimizer` is the generator's."""
        self.critic_optimizer = critic_optimizer or keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
        generator_optimizer = generator_optimizer or keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
        super().compile(optimizer=generator_optimizer, **kwargs)
        self.build_slots()

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
        return self.report({"critic_loss": critic_loss, "generator_loss": generator_loss,
                            "gradient_penalty": penalty, "wasserstein": wasserstein})

    def get_config(self):
        return {**super().get_config(), **self.config.to_dict(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="lm_keras")
class SequenceDiscriminator(keras.Model):
    """How real does each prefix look? ids (b, t) -> logits (b, t); logit t judges x_≤t (padding masked)."""

    def __init__(self, vocabulary_size, hidden_dim=128, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size, self.hidden_dim = vocabulary_size, hidden_dim
        self.embedding = keras.layers.Embedding(vocabulary_size, hidden_dim, name="embedding")
        self.rnn = keras.layers.GRU(hidden_dim, return_sequences=True, name="gru")
        self.head = keras.layers.Dense(1, name="realness")

    def build(self, input_shape):
        self.embedding.build(input_shape)
        self.rnn.build((input_shape[0], input_shape[1], self.hidden_dim))
        self.head.build((input_shape[0], input_shape[1], self.hidden_dim))
        self.built = True

    def call(self, token_ids, training=None):
        hidden = self.rnn(self.embedding(token_ids), mask=ops.not_equal(token_ids, PAD_ID), training=training)
        return ops.cast(ops.squeeze(self.head(hidden), -1), "float32")

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size, "hidden_dim": self.hidden_dim}


def _masked_mean(values, mask):
    mask = tf.cast(mask, values.dtype)
    return tf.reduce_sum(values * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


@keras.saving.register_keras_serializable(package="lm_keras")
class SequenceGAN(_TwoOptimizerModel):
    """A language model trained against a discriminator with REINFORCE.

    Args:
        generator: any lm_keras language model (`prefill`, `step`, `call`), ideally
            MLE-pretrained; its samples are drawn with the project's `decode_loop`.
        discriminator: a `SequenceDiscriminator` (default: one of `discriminator_dim`).
        other args: see `lm_keras.config.SequenceGANConfig`; `seed` seeds the samples.

    `fit(rows)` takes batches of real rows `[BOS] text [EOS] [PAD]...` (`encode_rows`).
    Per step: sample a batch, update the discriminator (cross-entropy on every prefix of
    real and generated texts), then the generator with
        L_G = −mean_t[(R_t − b) log p(x_t | x_<t)] − entropy_weight · H + mle_weight · NLL(real),
    R_t = Σ_{s≥t} discount^{s−t} r_s, with r_s the discriminator's log-odds
    log D(x_≤s) − log(1 − D(x_≤s)) (dense) or that of the whole text (sparse), and b a
    moving average of R_t per position. Log-odds are positive for texts that look real and
    negative otherwise; with log D alone every reward is negative and the generator learns
    that the shortest text (an immediate [EOS]) is the best one.
    """

    opponent = "discriminator"

    def __init__(self, generator, discriminator=None, max_length=33, discriminator_dim=128, dense_rewards=True,
                 discount=0.95, baseline_decay=0.95, entropy_weight=0.0, mle_weight=0.0, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.config = SequenceGANConfig(max_length, discriminator_dim, dense_rewards, discount, baseline_decay,
                                        entropy_weight, mle_weight)
        if isinstance(generator, dict):
            generator = keras.saving.deserialize_keras_object(generator)
        if isinstance(discriminator, dict):
            discriminator = keras.saving.deserialize_keras_object(discriminator)
        self.generator = generator
        self.discriminator = discriminator or SequenceDiscriminator(generator.vocabulary_size, discriminator_dim,
                                                                    name="discriminator")
        self.seed = seed
        self._banned = banned_mask(generator.vocabulary_size)
        self.baseline = self.add_weight(shape=(max_length,), initializer="zeros", trainable=False, name="baseline")
        self.steps_seen = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False,
                                          name="steps_seen")
        self.track("generator_loss", "discriminator_loss", "reward", "fake_realness", "entropy")

    def build(self, input_shape=None):
        shape = (None, self.config.max_length + 1)
        for model in (self.generator, self.discriminator):
            if not model.built:  # deserialised sub-models come built
                model.build(shape)
        self.built = True

    def compile(self, discriminator_optimizer=None, generator_optimizer=None, **kwargs):
        """Two optimizers (default Adam 1e-4 for the discriminator, 1e-5 for the pretrained generator)."""
        self.discriminator_optimizer = discriminator_optimizer or keras.optimizers.Adam(1e-4)
        super().compile(optimizer=generator_optimizer or keras.optimizers.Adam(1e-5), **kwargs)
        self.build_slots()

    def sample(self, batch_size, seed, temperature=1.0):
        """Texts from the generator: ids (batch, max_length + 1) starting with [BOS], 0 after [EOS]."""
        bos = tf.fill([batch_size, 1], BOS_ID)
        logits, cache = self.generator.prefill(bos)
        length = self.config.max_length
        new = model_decode_loop(self.generator, logits, cache, self._banned, length, tf.constant(length),
                                tf.cast(seed, tf.int32), tf.constant(float(temperature)), tf.constant(0),
                                tf.constant(1.0), tf.constant(EOS_ID))
        return tf.concat([bos, new], axis=1)

    def returns(self, rewards, mask):
        """Discounted returns R_t = Σ_{s≥t} γ^{s−t} r_s over the valid positions: (b, L) -> (b, L)."""
        length = tf.shape(rewards)[1]
        offsets = tf.range(length)[None, :] - tf.range(length)[:, None]  # s − t
        weights = tf.where(offsets >= 0, tf.pow(self.config.discount, tf.cast(offsets, tf.float32)), 0.0)
        return tf.matmul(rewards * tf.cast(mask, tf.float32), weights, transpose_b=True)

    def call(self, token_ids, training=None):
        """Rows (b, t) -> the discriminator's logits for every prefix (b, t)."""
        return self.discriminator(token_ids, training=training)

    def train_step(self, data):
        real = tf.cast(data[0] if isinstance(data, (tuple, list)) else data, tf.int32)
        batch = tf.shape(real)[0]
        fake = self.sample(batch, self.steps_seen + 1_000_003 * self.seed)
        real_mask, fake_mask = real[:, 1:] != PAD_ID, fake[:, 1:] != PAD_ID  # the prefix [BOS] alone is not judged
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)[:, 1:]
            fake_logits = self.discriminator(fake, training=True)[:, 1:]
            discriminator_loss = (_masked_mean(tf.nn.softplus(-real_logits), real_mask)
                                  + _masked_mean(tf.nn.softplus(fake_logits), fake_mask))
        gradients = tape.gradient(discriminator_loss, self.discriminator.trainable_weights)
        self.discriminator_optimizer.apply(gradients, self.discriminator.trainable_weights)

        log_odds = self.discriminator(fake, training=False)[:, 1:]  # log D(x_≤t) − log(1 − D(x_≤t))
        if not self.config.dense_rewards:  # every token gets the score of the whole text (its last prefix)
            last = tf.maximum(tf.reduce_sum(tf.cast(fake_mask, tf.int32), axis=1) - 1, 0)
            log_odds = tf.gather(log_odds, last, batch_dims=1)[:, None] * tf.ones_like(log_odds)
        returns = self.returns(log_odds, fake_mask)
        advantages = tf.stop_gradient(returns - self.baseline)
        valid = tf.cast(fake_mask, tf.float32)
        counts = tf.reduce_sum(valid, axis=0)
        position_means = tf.reduce_sum(returns * valid, axis=0) / tf.maximum(counts, 1.0)
        decay = self.config.baseline_decay
        self.baseline.assign(tf.where(counts > 0, decay * self.baseline + (1 - decay) * position_means, self.baseline))

        targets = fake[:, 1:]
        with tf.GradientTape() as tape:
            log_probs = tf.nn.log_softmax(tf.cast(self.generator(fake[:, :-1], training=True), tf.float32))
            token_log_probs = tf.gather(log_probs, targets, batch_dims=2)
            entropy = _masked_mean(-tf.reduce_sum(tf.exp(log_probs) * log_probs, axis=-1), fake_mask)
            generator_loss = -_masked_mean(advantages * token_log_probs, fake_mask) - self.config.entropy_weight * entropy
            if self.config.mle_weight > 0:
                real_log_probs = tf.nn.log_softmax(tf.cast(self.generator(real[:, :-1], training=True), tf.float32))
                nll = -_masked_mean(tf.gather(real_log_probs, real[:, 1:], batch_dims=2), real_mask)
                generator_loss += self.config.mle_weight * nll
        gradients = tape.gradient(generator_loss, self.generator.trainable_weights)
        self.optimizer.apply(gradients, self.generator.trainable_weights)
        self.steps_seen.assign_add(1)
        return self.report({"generator_loss": generator_loss, "discriminator_loss": discriminator_loss,
                            "reward": _masked_mean(log_odds, fake_mask),
                            "fake_realness": _masked_mean(tf.sigmoid(log_odds), fake_mask), "entropy": entropy})

    def get_config(self):
        return {**super().get_config(), **self.config.to_dict(), "seed": self.seed,
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator)}
