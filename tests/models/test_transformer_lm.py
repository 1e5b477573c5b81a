import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.errors import ConfigError
from lm_keras.models import TransformerLanguageModel, build_model

VOCAB = 40


def _model(**kwargs):
    keras.utils.set_random_seed(0)
    options = dict(context_length=16, num_layers=2, num_heads=2, d_model=16)
    model = TransformerLanguageModel(VOCAB, **{**options, **kwargs})
    model(np.zeros((1, 4), np.int32))
    return model


def _ids(batch=3, time=12, seed=0):
    return np.random.default_rng(seed).integers(4, VOCAB, (batch, time)).astype("int32")


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal", "rotary"])
def test_cached_steps_give_the_same_logits_as_a_full_forward_pass(position_encoding):
    model = _model(position_encoding=position_encoding)
    ids = _ids()
    full = model(ids).numpy()
    logits, cache = model.prefill(ids[:, :5])
    np.testing.assert_allclose(logits, full[:, 4], atol=1e-5)
    for t in range(5, ids.shape[1]):
        logits, cache = model.step(tf.constant(ids[:, t]), cache)
        np.testing.assert_allclose(logits, full[:, t], atol=1e-5)


def test_left_padded_prompts_give_the_same_logits_as_unpadded_ones():
    model = _model()
    ids = _ids(batch=1, time=6)
    alone, _ = model.prefill(ids)
    padded = np.concatenate([np.zeros((1, 3), np.int32), ids], axis=1)
    mask = np.arange(9)[None] >= 3
    together, cache = model.prefill(padded, mask)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    step_alone, _ = model.step(tf.constant([7]), model.prefill(ids)[1])
    step_together, _ = model.step(tf.constant([7]), cache)
    np.testing.assert_allclose(step_together, step_alone, atol=1e-5)


def test_a_full_cache_slides_to_the_last_half_of_the_context():
    model = _model(context_length=8)
    ids = _ids(batch=2, time=12, seed=1)
    _, cache = model.prefill(ids[:, :8])
    logits, cache = model.step(tf.constant(ids[:, 8]), cache)
    # after the slide the model has read the last 4 kept tokens + the new one, from position 0
    np.testing.assert_allclose(logits, model(ids[:, 4:9]).numpy()[:, -1], atol=1e-5)
    assert int(cache["index"]) == 5


@pytest.mark.parametrize("options", [{}, {"tie_weights": False, "use_bias": False, "position_encoding": "rotary",
                                          "dropout": 0.1}])
def test_keras_round_trip_gives_identical_logits(tmp_path, options):
    model = _model(**options)
    ids = _ids()
    path = tmp_path / "gpt.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, TransformerLanguageModel)
    np.testing.assert_array_equal(loaded(ids).numpy(), model(ids).numpy())
    assert loaded.get_config() == model.get_config()


def test_weight_tying_shares_the_embedding():
    tied, untied = _model(), _model(tie_weights=False)
    assert untied.count_params() - tied.count_params() == 16 * VOCAB


def test_logits_are_causal():
    model = _model()
    ids = _ids()
    changed = ids.copy()
    changed[:, 8] = (changed[:, 8] + 1) % VOCAB
    np.testing.assert_allclose(model(ids).numpy()[:, :8], model(changed).numpy()[:, :8], atol=1e-6)


@pytest.mark.parametrize("field, value, message", [
    ("d_model", 30, "TransformerConfig.d_model = 30 is invalid: must be divisible by num_heads = 4"),
    ("context_length", 0, "TransformerConfig.context_length = 0 is invalid: must be >= 1"),
    ("vocabulary_size", 1, "TransformerConfig.vocabulary_size = 1 is invalid: must be >= 2"),
    ("position_encoding", "alibi", "TransformerConfig.position_encoding = 'alibi' is invalid"),
    ("dropout", 1.0, r"TransformerConfig.dropout = 1.0 is invalid: must be in \[0.0, 1.0\)"),
])
def test_invalid_config_names_the_field(field, value, message):
    options = dict(vocabulary_size=50, num_heads=4, d_model=32)
    options[field] = value
    with pytest.raises(ConfigError, match=message):
        build_model("transformer", **options)
    assert issubclass(ConfigError, ValueError)


def test_inputs_longer_than_the_context_are_refused():
    with pytest.raises(ValueError, match="longer than context_length=16"):
        _model()(np.zeros((1, 17), np.int32))


def test_attention_scores_are_returned_per_layer():
    logits, scores = _model()(_ids(), return_attention_scores=True)
    assert len(scores) == 2 and tuple(scores[0].shape) == (3, 2, 12, 12)
    np.testing.assert_allclose(scores[1].numpy().sum(-1), 1.0, atol=1e-5)
