import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.errors import ConfigError
from lm_keras.models import RNNLanguageModel, build_model

CELLS = ["lstm", "gru", "simple_rnn"]


def _model(cell, layers=2, vocab=30, seed=0):
    keras.utils.set_random_seed(seed)
    model = RNNLanguageModel(vocab, cell_type=cell, embedding_dim=8, hidden_dim=16, num_layers=layers, dropout=0.1)
    model(np.zeros((1, 1), np.int32))
    return model


def _ids(batch=3, time=12, vocab=30, seed=1):
    return np.random.default_rng(seed).integers(4, vocab, size=(batch, time)).astype(np.int32)


@pytest.mark.parametrize("cell", CELLS)
def test_logits_shape_and_step_by_step_equals_the_whole_sequence(cell):
    model, ids = _model(cell), _ids()
    logits = model(ids).numpy()
    assert logits.shape == (3, 12, 30) and logits.dtype == np.float32
    cache = model.initial_cache(3)
    for t in range(ids.shape[1]):
        step_logits, cache = model.step(tf.constant(ids[:, t]), cache)
        np.testing.assert_allclose(step_logits, logits[:, t], atol=1e-5)


@pytest.mark.parametrize("cell", CELLS)
def test_left_padded_prefill_ends_in_the_unpadded_state(cell):
    model, ids = _model(cell), _ids(batch=1, time=5)
    logits, cache = model.prefill(ids)
    padded = np.concatenate([np.zeros((1, 4), np.int32), ids], axis=1)
    mask = padded != 0
    logits_padded, cache_padded = model.prefill(padded, padding_mask=mask)
    np.testing.assert_allclose(logits_padded, logits, atol=1e-5)
    for a, b in zip(tf.nest.flatten(cache_padded), tf.nest.flatten(cache)):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_score_is_the_log_probability_of_each_next_token():
    model, ids = _model("lstm"), _ids()
    scores = model.score(ids).numpy()
    assert scores.shape == (3, 11)
    log_probs = tf.nn.log_softmax(model(ids[:, :-1])).numpy()
    expected = np.take_along_axis(log_probs, ids[:, 1:, None], axis=-1)[..., 0]
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    assert np.all(scores < 0)


@pytest.mark.parametrize("cell", CELLS)
def test_keras_file_round_trip_gives_identical_logits(cell, tmp_path):
    model, ids = _model(cell), _ids()
    path = tmp_path / "model.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    assert isinstance(again, RNNLanguageModel) and again.config == model.config
    np.testing.assert_array_equal(again(ids).numpy(), model(ids).numpy())


def test_invalid_config_names_the_field():
    with pytest.raises(ConfigError, match=r"RNNConfig.hidden_dim = -1"):
        RNNLanguageModel(10, hidden_dim=-1)
    with pytest.raises(ConfigError, match="model_type = 'bert' is invalid: must be one of 'rnn', 'transformer'"):
        build_model("bert", vocabulary_size=10)


def test_dropout_only_in_training():
    model, ids = _model("lstm"), _ids()
    np.testing.assert_array_equal(model(ids, training=False), model(ids, training=False))
    assert not np.allclose(model(ids, training=True), model(ids, training=False))


def test_left_padding_is_realigned_to_the_right_padding_cudnn_accepts():
    from lm_keras.models.rnn_lm import left_to_right_padding

    ids = np.array([[0, 0, 5, 6], [7, 8, 9, 10], [0, 0, 0, 4]], np.int32)
    moved, mask = left_to_right_padding(ids, ids != 0)
    np.testing.assert_array_equal(np.where(mask, moved, 0), [[5, 6, 0, 0], [7, 8, 9, 10], [4, 0, 0, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]])
