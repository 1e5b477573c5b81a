"""The text VAE: the latent layer, the objective and its anti-collapse options, Keras conventions, generation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.config import VAEConfig
from lm_keras.errors import ConfigError
from lm_keras.generation import Generator
from lm_keras.layers import LatentSampling, gaussian_kl, gaussian_log_density
from lm_keras.models import TextVAE


def test_closed_form_kl_equals_a_monte_carlo_estimate():
    rng = np.random.default_rng(0)
    z_mean = rng.normal(0, 1.5, (3, 4)).astype(np.float32)
    z_log_var = rng.normal(0, 1.0, (3, 4)).astype(np.float32)
    closed = tf.reduce_sum(gaussian_kl(z_mean, z_log_var), axis=1).numpy()
    samples = 200_000
    eps = rng.standard_normal((samples, 3, 4)).astype(np.float32)
    z = z_mean + np.exp(0.5 * z_log_var) * eps
    monte_carlo = np.mean(gaussian_log_density(z, z_mean, z_log_var) - gaussian_log_density(z, 0.0, 0.0), axis=0)
    print("closed form", closed, "Monte Carlo", monte_carlo)
    np.testing.assert_allclose(monte_carlo, closed, rtol=0.02, atol=0.02)


def test_reparameterised_samples_have_the_posterior_moments_and_are_seeded():
    z_mean = tf.fill((50_000, 2), 0.5)
    z_log_var = tf.fill((50_000, 2), np.log(0.25).astype(np.float32))  # σ = 0.5
    z = LatentSampling(seed=3)(z_mean, z_log_var).numpy()
    np.testing.assert_allclose(z.mean(axis=0), 0.5, atol=0.01)
    np.testing.assert_allclose(z.std(axis=0), 0.5, atol=0.01)
    np.testing.assert_array_equal(z, LatentSampling(seed=3)(z_mean, z_log_var).numpy())
    np.testing.assert_array_equal(LatentSampling(mode="mean")(z_mean, z_log_var).numpy(), z_mean.numpy())
    # z = μ + exp(½·log σ²)·ε: the gradient reaches μ and log σ².
    with tf.GradientTape() as tape:
        m, v = tf.Variable([[0.0]]), tf.Variable([[0.0]])
        out = LatentSampling(seed=1)(m, v)
    assert all(g is not None for g in tape.gradient(out, [m, v]))


@pytest.mark.parametrize("field, value", [("beta", -1.0), ("free_bits", -0.1), ("word_dropout", 1.0),
                                          ("word_dropout", -0.2), ("kl_annealing", "sigmoid"), ("latent_dim", 0),
                                          ("batch_norm_gamma", 0.0), ("decoder", "cnn")])
def test_invalid_settings_raise_value_errors_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"VAEConfig.{field} = "):
        TextVAE(100, **{field: value})
    assert issubclass(ConfigError, ValueError)


def test_state_conditioning_needs_an_rnn_decoder():
    with pytest.raises(ConfigError, match="conditioning.*RNN decoder"):
        VAEConfig(100, decoder="transformer", conditioning="state")


def test_the_defaults_are_the_benchmarks_best_configuration():
    config = TextVAE(50).config
    assert (config.batch_norm_gamma, config.kl_annealing, config.free_bits, config.word_dropout) == (0.6, "cyclical",
                                                                                                        0.0, 0.0)


def test_kl_annealing_schedules():
    linear = TextVAE(50, beta=2.0, kl_annealing="linear", annealing_steps=100)
    cyclical = TextVAE(50, kl_annealing="cyclical", annealing_steps=100)
    for step, want_linear, want_cyclical in [(0, 0.0, 0.0), (25, 0.5, 0.5), (50, 1.0, 1.0), (100, 2.0, 0.0),
                                             (125, 2.0, 0.5), (180, 2.0, 1.0)]:
        linear.steps_seen.assign(step)
        cyclical.steps_seen.assign(step)
        assert float(linear.kl_weight()) == pytest.approx(want_linear)
        assert float(cyclical.kl_weight()) == pytest.approx(want_cyclical)
    assert float(TextVAE(50, beta=0.5, kl_annealing="none").kl_weight()) == 0.5


def test_free_bits_floor_each_dimensions_batch_mean_kl():
    kl = tf.constant([[0.0, 1.0, 0.2], [0.2, 3.0, 0.2]])  # batch means 0.1, 2.0, 0.2
    assert float(TextVAE(50).kl_term(kl)) == pytest.approx(2.3)
    assert float(TextVAE(50, free_bits=0.5).kl_term(kl)) == pytest.approx(0.5 + 2.0 + 0.5)


def test_word_dropout_replaces_inputs_with_unk_but_keeps_bos_and_padding():
    vae = TextVAE(50, word_dropout=0.4, seed=0)
    rows = np.concatenate([np.full((400, 1), 2), np.random.default_rng(0).integers(4, 50, (400, 30)),
                           np.zeros((400, 5))], axis=1).astype(np.int32)
    dropped = vae._drop_words(tf.constant(rows)).numpy()
    assert (dropped[:, 0] == 2).all() and (dropped[:, -5:] == 0).all()
    changed = dropped[:, 1:31] != rows[:, 1:31]
    assert (dropped[:, 1:31][changed] == 1).all()
    assert changed.mean() == pytest.approx(0.4, abs=0.02)


def test_bn_vae_normalises_the_posterior_means_to_the_fixed_scale(quatrains):
    vae = TextVAE(quatrains["tokenizer"].vocabulary_size, latent_dim=8, batch_norm_gamma=0.6)
    z_mean, _ = vae.encode(tf.constant(quatrains["rows"]["train"][:512]), training=True)
    np.testing.assert_allclose(np.std(z_mean.numpy(), axis=0), 0.6, rtol=0.02)
    assert [w.name for w in vae.z_mean_norm.trainable_weights] == ["beta"]  # γ is fixed, the shift is learned


@pytest.mark.slow
@pytest.mark.parametrize("decoder", ["lstm", "transformer"])
def test_fit_lowers_reconstruction_and_tracks_each_term(make_vae, decoder):
    vae, history = make_vae(steps=60, decoder=decoder, kl_annealing="linear", annealing_steps=60)
    h = history.history
    assert set(h) >= {"loss", "reconstruction", "kl", "elbo", "kl_weight"}
    first = vae.compute_terms(tf.constant(np.zeros((1, 2), np.int32)))  # runs on a trivial row
    assert np.isfinite(float(first[0]))
    # the per-epoch means of a fresh model would be ~ 34 · log V ≈ 250 nats per poem
    assert h["reconstruction"][-1] < 0.9 * 34 * np.log(vae.vocabulary_size)
    assert h["elbo"][-1] == pytest.approx(-(h["reconstruction"][-1] + h["kl"][-1]), rel=1e-5)
    assert 0 < h["kl_weight"][-1] <= 1.0


def test_keras_round_trip_gives_identical_means_and_text(trained_vae, quatrains, tmp_path):
    rows = tf.constant(quatrains["rows"]["validation"][:8])
    trained_vae.save(tmp_path / "vae.keras")
    loaded = keras.saving.load_model(tmp_path / "vae.keras")
    np.testing.assert_array_equal(loaded.encode(rows)[0].numpy(), trained_vae.encode(rows)[0].numpy())
    np.testing.assert_array_equal(loaded(rows).numpy(), trained_vae(rows).numpy())
    assert float(loaded.steps_seen) == float(trained_vae.steps_seen) == 150
    z = tf.random.stateless_normal((2, trained_vae.latent_dim), seed=[1, 2])
    tokenizer = quatrains["tokenizer"]
    assert Generator(loaded, tokenizer)(["", ""], 30, seed=4, condition=z) == \
        Generator(trained_vae, tokenizer)(["", ""], 30, seed=4, condition=z)


def test_generation_goes_through_the_projects_generator_and_depends_on_z(trained_vae, quatrains):
    generator = Generator(trained_vae, quatrains["tokenizer"])
    z = tf.random.stateless_normal((4, trained_vae.latent_dim), seed=[0, 1]) * 2.0
    greedy = generator([""] * 4, 40, temperature=0.0, condition=z)
    assert len(set(greedy)) > 1  # the same [BOS] prompt, different z: different poems
    assert greedy == generator([""] * 4, 40, temperature=0.0, condition=z)
    beams = generator([""] * 4, 40, num_beams=3, condition=z)
    assert all(isinstance(text, str) and text for text in beams)
    # the cached loop gives what teacher forcing scores as the most likely next token
    ids = quatrains["tokenizer"].encode(greedy[0]).numpy().tolist()
    row = tf.constant([[quatrains["tokenizer"].bos_id, *ids[:10]]])
    logits = trained_vae.decode(tf.pad(row, [[0, 0], [0, 1]]), z[:1])
    np.testing.assert_array_equal(np.argmax(logits.numpy()[0, 1:11], axis=-1)[:-1], ids[1:10])
