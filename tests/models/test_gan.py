"""The latent-space GAN: gradient penalty, losses, training on real codes, Keras conventions."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.evaluation.latent import posterior
from lm_keras.evaluation.text_quality import frechet_distance
from lm_keras.generation import LatentGenerator
from lm_keras.models import LatentGAN


def test_gradient_penalty_equals_a_hand_computation_on_a_tiny_critic():
    gan = LatentGAN(latent_dim=2, noise_dim=2, hidden_dim=2, num_layers=1, gradient_penalty=10.0)
    gan.build()
    w1, b1 = np.array([[1.0, -2.0], [0.5, 1.5]]), np.array([0.1, -0.3])
    w2, b2 = np.array([[2.0], [-1.0]]), np.array([0.2])
    gan.critic.set_weights([w1, b1, w2, b2])
    real, fake = np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([[0.0, 0.0], [3.0, -1.0]])
    alpha = np.array([[0.25], [0.6]])
    mixed = alpha * real + (1 - alpha) * fake
    # D(x) = w2ᵀ leaky_relu(w1ᵀ x + b1) + b2, so ∇D(x) = w1 · diag(leaky_relu'(w1ᵀ x + b1)) · w2
    slope = np.where(mixed @ w1 + b1 > 0, 1.0, 0.2)  # keras leaky_relu's default negative slope is 0.2
    gradients = np.stack([w1 @ (slope[i] * w2[:, 0]) for i in range(2)])
    by_hand = 10.0 * np.mean((np.linalg.norm(gradients, axis=1) - 1.0) ** 2)
    penalty = gan.gradient_penalty(tf.constant(real, tf.float32), tf.constant(fake, tf.float32),
                                   tf.constant(alpha, tf.float32))
    assert float(penalty) == pytest.approx(by_hand, rel=1e-5)


@pytest.mark.parametrize("field, value", [("n_critic", 0), ("gradient_penalty", -1.0), ("loss", "hinge"),
                                          ("noise_dim", 0)])
def test_invalid_settings_raise_value_errors_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"LatentGANConfig.{field} = "):
        LatentGAN(**{field: value})


@pytest.fixture(scope="module")
def codes(trained_vae, quatrains):
    """Posterior means of the training and test quatrains under the trained VAE."""
    return {split: posterior(trained_vae, quatrains["rows"][split])[0] for split in ("train", "test")}


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["wgan_gp", "non_saturating"])
def test_frechet_distance_to_real_codes_falls_while_training(codes, loss):
    keras.utils.set_random_seed(0)
    gan = LatentGAN(latent_dim=codes["train"].shape[1], noise_dim=16, hidden_dim=64, loss=loss, n_critic=2, seed=0)
    gan.build()
    gan.compile(keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9), keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9))
    before = frechet_distance(codes["test"], gan.sample_codes(1000, seed=1))
    dataset = tf.data.Dataset.from_tensor_slices(codes["train"]).shuffle(20000, seed=0).repeat().batch(128)
    history = gan.fit(dataset, steps_per_epoch=150, epochs=2, verbose=0).history
    after = frechet_distance(codes["test"], gan.sample_codes(1000, seed=1))
    print(loss, "Fréchet distance to the test codes: before", before, "after", after, history)
    assert after < 0.5 * before
    assert set(history) >= {"critic_loss", "generator_loss"}
    if loss == "wgan_gp":
        assert history["gradient_penalty"][-1] >= 0 and np.isfinite(history["wasserstein"]).all()


def test_keras_round_trip_and_decoding_generated_codes(codes, trained_vae, quatrains, tmp_path):
    gan = LatentGAN(latent_dim=codes["train"].shape[1], noise_dim=8, hidden_dim=32, n_critic=1, seed=0)
    gan.build()
    gan.compile()
    gan.fit(codes["train"][:256], batch_size=64, epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    np.testing.assert_array_equal(loaded.sample_codes(4, seed=3), gan.sample_codes(4, seed=3))
    assert isinstance(loaded.critic_optimizer, keras.optimizers.Adam)
    texts = LatentGenerator(trained_vae, quatrains["tokenizer"]).decode(gan.sample_codes(3, seed=3))
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)


# --- the sequence GAN ------------------------------------------------------------------------

from lm_keras.models import RNNLanguageModel, SequenceGAN  # noqa: E402

A, B = 4, 5  # two ordinary token ids of a 20-token vocabulary (0-3 are reserved)


def _toy_gan(**options):
    keras.utils.set_random_seed(0)
    generator = RNNLanguageModel(20, embedding_dim=16, hidden_dim=32)
    gan = SequenceGAN(generator, max_length=8, discriminator_dim=32, seed=0, **options)
    gan.build()
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-2))
    return gan


def _real_rows(n=256):
    return np.tile(np.array([[2, A, B, A, B, A, B, 3, 0]], np.int32), (n, 1))


@pytest.mark.parametrize("field, value", [("discount", 1.5), ("baseline_decay", 1.0), ("entropy_weight", -1.0),
                                          ("max_length", 0)])
def test_sequence_gan_invalid_settings_name_the_field(field, value):
    with pytest.raises(ValueError, match=f"SequenceGANConfig.{field} = "):
        SequenceGAN(RNNLanguageModel(20), **{field: value})


def test_discounted_returns_equal_a_hand_computation():
    gan = _toy_gan(discount=0.5)
    rewards = tf.constant([[1.0, 2.0, 3.0, 4.0]])
    mask = tf.constant([[True, True, True, False]])
    # R_0 = 1 + .5·2 + .25·3, R_1 = 2 + .5·3, R_2 = 3, R_3 = 0 (masked rewards count as 0)
    np.testing.assert_allclose(gan.returns(rewards, mask).numpy(), [[2.75, 3.5, 3.0, 0.0]])


def _share_of_a_and_b(gan, seed):
    ids = gan.sample(256, seed).numpy()[:, 1:]
    ids = ids[(ids != 0) & (ids != 3)]
    return np.isin(ids, [A, B]).mean()


@pytest.mark.slow
def test_policy_gradient_moves_the_generator_towards_what_the_discriminator_calls_real():
    gan = _toy_gan(entropy_weight=0.01)
    before = _share_of_a_and_b(gan, seed=7)
    history = gan.fit(_real_rows(), batch_size=64, epochs=40, verbose=0).history
    after = _share_of_a_and_b(gan, seed=7)
    print("share of a/b tokens before", before, "after", after, "realness", history["fake_realness"][::10])
    assert before < 0.25 and after > 2 * before
    assert np.isfinite(history["generator_loss"]).all() and float(gan.steps_seen) == 160


@pytest.mark.slow
def test_sequence_gan_round_trips_through_a_keras_file(tmp_path):
    gan = _toy_gan(dense_rewards=False, mle_weight=0.5)
    gan.fit(_real_rows(64), batch_size=32, epochs=1, verbose=0)
    gan.save(tmp_path / "seqgan.keras")
    loaded = keras.saving.load_model(tmp_path / "seqgan.keras")
    np.testing.assert_array_equal(loaded.sample(4, 3).numpy(), gan.sample(4, 3).numpy())
    assert loaded.config == gan.config and isinstance(loaded.generator, RNNLanguageModel)
    np.testing.assert_allclose(loaded.baseline.numpy(), gan.baseline.numpy())


# --- divergence ------------------------------------------------------------------------------

from lm_keras.config import TrainConfig  # noqa: E402
from lm_keras.errors import TrainingError  # noqa: E402
from lm_keras.training import fit_gan  # noqa: E402
from lm_keras.training.callbacks import resumed_epoch  # noqa: E402


class _BreakCriticInThirdInterval(keras.callbacks.Callback):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def on_epoch_begin(self, epoch, logs=None):
        self.active = epoch == 2

    def on_train_batch_begin(self, batch, logs=None):
        if self.active:
            for w in self.model.critic.trainable_weights:
                w.assign(w * self.factor)


@pytest.mark.parametrize("factor, message", [(np.nan, "critic_loss"), (1e4, r"critic_loss \(\|.*\| > 10000\)")])
def test_diverging_gan_training_stops_clearly_and_keeps_the_last_good_checkpoint(tmp_path, factor, message):
    gan = LatentGAN(latent_dim=4, noise_dim=4, hidden_dim=16, n_critic=1, seed=0)
    gan.build()
    gan.compile()
    codes = np.random.default_rng(0).normal(size=(512, 4)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(codes).repeat().batch(64)
    config = TrainConfig(steps=8, eval_interval=2, seed=0)
    with pytest.raises(TrainingError, match=f"{message}.*generator learning_rate=.*critic learning_rate=.*"
                                            f"last good checkpoint \\(after evaluation interval 2\\)"):
        fit_gan(gan, dataset, config, callbacks=[_BreakCriticInThirdInterval(factor)], verbose=0,
                backup_dir=tmp_path / "backup")
    assert resumed_epoch(tmp_path / "backup") == 2
