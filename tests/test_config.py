import pytest

from lm_keras.config import RNNConfig, RunConfig, TokenizerConfig, TrainConfig
from lm_keras.errors import ConfigError


@pytest.mark.parametrize("cls,kwargs,field", [
    (TrainConfig, {"batch_size": 0}, "batch_size"),
    (TrainConfig, {"context_length": -5}, "context_length"),
    (TrainConfig, {"learning_rate": 0.0}, "learning_rate"),
    (TrainConfig, {"learning_rate": float("nan")}, "learning_rate"),
    (TrainConfig, {"sampling": "sideways"}, "sampling"),
    (TrainConfig, {"validation_fraction": 0.9}, "validation_fraction"),
    (TrainConfig, {"steps": 2.5}, "steps"),
    (RNNConfig, {"vocabulary_size": 1}, "vocabulary_size"),
    (RNNConfig, {"vocabulary_size": 10, "cell_type": "transformer"}, "cell_type"),
    (RNNConfig, {"vocabulary_size": 10, "dropout": 1.0}, "dropout"),
    (RNNConfig, {"vocabulary_size": 10, "num_layers": True}, "num_layers"),
    (TokenizerConfig, {"kind": "bpe"}, "kind"),
    (TokenizerConfig, {"max_vocabulary_size": 3}, "max_vocabulary_size"),
])
def test_invalid_values_name_the_field_and_value(cls, kwargs, field):
    with pytest.raises(ConfigError) as info:
        cls(**kwargs)
    message = str(info.value)
    assert f"{cls.__name__}.{field}" in message
    assert repr(list(kwargs.values())[-1]) in message


def test_run_config_round_trips_through_a_dict():
    config = RunConfig(corpus="tiny_shakespeare", tokenizer=TokenizerConfig("word", 5000),
                       model={"cell_type": "gru"}, train=TrainConfig(steps=10, eval_interval=5))
    again = RunConfig.from_dict(config.to_dict())
    assert again == config
    with pytest.raises(ConfigError, match="no field"):
        TrainConfig.from_dict({"stepz": 3})


def test_epochs_default_to_sequential_windows():
    assert TrainConfig(epochs=2).sampling == "sequential"   # what it keeps as given: tests/test_cli.py
