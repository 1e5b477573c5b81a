"""LoRA fine-tuning of the tiny GPT-2 through the project's own trainer (`compile_language_model` +
`fit_language_model`): the loss falls, only the LoRA-enabled weights move, and a stopped run resumes."""

import dataclasses

import keras
import numpy as np
import pytest

from lm_keras.config import GENERIC_TRAINING, TrainConfig
from lm_keras.data.pipeline import encode_documents
from lm_keras.evaluation import evaluate_language_model
from lm_keras.pretrained import build_tiny_gpt2, count_trainable, enable_lora, from_keras_hub
from lm_keras.training import compile_language_model, fit_language_model

PRETRAINING = ["the quick brown fox jumps over the lazy dog", "a stitch in time saves nine",
               "all that glitters is not gold", "the early bird catches the worm"] * 6
DOCUMENTS = ["the cat sat on the mat and the dog ran in the house", "she sells sea shells on the sea shore"] * 8
# Adam at a constant rate (the generic recipe, not GPT-2's warm-up of 50 steps): a few steps must move the loss.
CONFIG = TrainConfig(**{**GENERIC_TRAINING, "learning_rate": 3e-2}, context_length=32, batch_size=4, steps=24,
                     eval_interval=8, eval_batches=2, seed=0)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """Weights of the tiny GPT-2 after all of it trained briefly on other sentences: LoRA adapts a pretrained
    model (at random initialisation the frozen output embedding is too small for the logits to move)."""
    model, tokenizer = from_keras_hub(build_tiny_gpt2())
    ids = encode_documents(PRETRAINING, tokenizer, add_special_tokens=True)
    config = dataclasses.replace(CONFIG, batch_size=8, steps=40, eval_interval=40, eval_batches=1, learning_rate=1e-2)
    compile_language_model(model, config)
    fit_language_model(model, ids, ids, config, verbose=0)
    path = tmp_path_factory.mktemp("pretrained") / "tiny_gpt2.weights.h5"
    model.causal_lm.save_weights(path)
    return path


def lora_gpt2(weights, rank=4):
    """The pretrained tiny GPT-2 with rank-`rank` LoRA, and DOCUMENTS as `<|endoftext|> doc <|endoftext|>` ids."""
    model, tokenizer = from_keras_hub(build_tiny_gpt2())
    model.causal_lm.load_weights(weights)
    keras.utils.set_random_seed(1)  # the same LoRA factors every time
    before, after = enable_lora(model, rank)
    assert after == count_trainable(model) < before / 10
    return model, encode_documents(DOCUMENTS, tokenizer, add_special_tokens=True)


def test_lora_trains_only_the_factors_and_the_loss_falls(pretrained):
    model, ids = lora_gpt2(pretrained)
    trainable = {w.path for w in model.trainable_weights}
    assert trainable and all(w.path.endswith(("lora_kernel_a", "lora_kernel_b", "query/bias", "value/bias"))
                             for w in model.trainable_weights)
    before = {w.path: w.numpy().copy() for w in model.weights}
    loss_before = evaluate_language_model(model, ids, CONFIG.context_length)["loss"]
    compile_language_model(model, CONFIG)
    history = fit_language_model(model, ids, ids, CONFIG, verbose=0)
    loss_after = evaluate_language_model(model, ids, CONFIG.context_length)["loss"]
    assert len(history.history["loss"]) == 3 and loss_after < loss_before - 0.3
    changed = {path for path, value in before.items()
               if not np.array_equal(value, next(w for w in model.weights if w.path == path).numpy())}
    assert {p for p in changed if "lora_kernel" in p} and changed <= trainable


class StopAfterFirstEpoch(keras.callbacks.Callback):
    """Stands in for a killed process: raises once the first epoch's checkpoint is written."""

    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


@pytest.mark.slow
def test_a_stopped_fine_tuning_resumes_and_ends_with_the_same_weights(pretrained, tmp_path):
    """The checkpoint keeps the LoRA factors unmerged and the dropout seeds, so the resumed run is the same run."""
    expected, ids = lora_gpt2(pretrained)
    compile_language_model(expected, CONFIG)
    fit_language_model(expected, ids, ids, CONFIG, verbose=0)

    stopped, _ = lora_gpt2(pretrained)
    compile_language_model(stopped, CONFIG)
    with pytest.raises(KeyboardInterrupt):
        fit_language_model(stopped, ids, ids, CONFIG, callbacks=[StopAfterFirstEpoch()], verbose=0,
                           backup_dir=tmp_path / "backup")
    resumed, _ = lora_gpt2(pretrained)
    compile_language_model(resumed, CONFIG)
    history = fit_language_model(resumed, ids, ids, CONFIG, verbose=0, backup_dir=tmp_path / "backup")
    assert len(history.history["loss"]) == 3  # the first epoch's log from the checkpoint, two run now
    assert len(expected.weights) == len(resumed.weights)
    for a, b in zip(expected.weights, resumed.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6, err_msg=a.path)
