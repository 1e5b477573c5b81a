"""Where a run's time goes (`Stopwatch`, `FitPhases`, `timings.json`) and the overhead cuts around the loop."""

import numpy as np
import pytest

from lm_keras.config import TrainConfig
from lm_keras.evaluation import evaluate_language_model
from lm_keras.models import TransformerLanguageModel
from lm_keras.training import compile_language_model, fit_language_model
from lm_keras.training.callbacks import FitPhases
from lm_keras.utils.timing import Stopwatch


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_fit_phases_charge_each_interval_to_the_phase_it_belonged_to():
    clock = FakeClock()
    watch = Stopwatch(clock)
    phases = FitPhases(watch)
    # Keras's order of hooks for two epochs of two steps, each validated; `clock.now` is when each hook runs.
    events = [(1.0, phases.on_train_begin), (1.5, phases.on_epoch_begin, 0),
              (2.0, phases.on_train_batch_begin, 0), (7.0, phases.on_train_batch_end, 0),
              (7.5, phases.on_train_batch_begin, 1), (8.5, phases.on_train_batch_end, 1),
              (9.0, phases.on_test_begin), (12.0, phases.on_test_end), (12.5, phases.on_epoch_end, 0),
              (14.0, phases.on_epoch_begin, 1),
              (14.5, phases.on_train_batch_begin, 0), (15.5, phases.on_train_batch_end, 0),
              (16.0, phases.on_train_batch_begin, 1), (17.0, phases.on_train_batch_end, 1),
              (17.5, phases.on_test_begin), (18.5, phases.on_test_end), (19.0, phases.on_epoch_end, 1),
              (21.0, phases.on_train_end)]
    for when, hook, *args in events:
        clock.now = when
        hook(*args)
    assert watch.seconds == {
        FitPhases.SETUP: 1.0,
        FitPhases.BETWEEN: 0.5 + 0.5 + 1.5 + 0.5 + 2.0,
        FitPhases.STEPS: 0.5 + 0.5 + 1.0 + 0.5 + 0.5 + 1.0 + 0.5 + 1.0 + 0.5,
        FitPhases.FIRST_STEP: 5.0,
        FitPhases.FIRST_VALIDATION: 3.0,
        FitPhases.VALIDATION: 1.0,
    }
    assert sum(watch.seconds.values()) == 21.0   # nothing counted twice or lost


@pytest.fixture(scope="module")
def small_transformer():
    model = TransformerLanguageModel(20, context_length=8, num_layers=1, num_heads=2, d_model=16)
    return model


def test_the_training_step_is_traced_once(small_transformer):
    """The optimizer's moments exist before the first step: a step that created them would be traced
    (and XLA-compiled) twice."""
    config = TrainConfig(context_length=8, batch_size=4, steps=3, eval_interval=3, eval_batches=1, seed=0)
    compile_language_model(small_transformer, config)
    assert small_transformer.optimizer.built
    traces = []
    train_step = small_transformer.train_step

    def counted(data):   # Python runs only while TensorFlow traces: one call per trace
        traces.append(1)
        return train_step(data)

    small_transformer.train_step = counted
    ids = np.random.default_rng(0).integers(1, 20, 400).astype("int32")
    fit_language_model(small_transformer, ids[:300], ids[300:], config, verbose=0)
    assert len(traces) == 1


def test_fit_trains_on_a_dataset_without_tf_data_autotuning(small_transformer, monkeypatch):
    """Deleting a long-lived iterator joins tf.data's autotuning thread, which kept `fit` from returning for
    27-35 s after 7 of 18 runs of 2,000 steps (0 of 8 without it); the training dataset turns it off."""
    config = TrainConfig(context_length=8, batch_size=4, steps=2, eval_interval=2, eval_batches=1, seed=0)
    compile_language_model(small_transformer, config)
    seen = []
    fit = small_transformer.fit

    def recorded(x, **kwargs):
        seen.append((x.options().autotune.enabled, kwargs["validation_data"].options().autotune.enabled))
        return fit(x, **kwargs)

    monkeypatch.setattr(small_transformer, "fit", recorded)   # the module's model is left as it was
    ids = np.random.default_rng(0).integers(1, 20, 400).astype("int32")
    fit_language_model(small_transformer, ids[:300], ids[300:], config, verbose=0)
    assert seen == [(False, None)]   # the training dataset's iterator was the one that held fit up


@pytest.mark.parametrize("jit_compile", [False, True])
def test_evaluation_with_a_padded_last_batch_equals_one_batch_of_everything(small_transformer, jit_compile):
    ids = np.random.default_rng(1).integers(1, 20, 8 * 11 + 1).astype("int32")   # 11 windows: batches of 4, 4, 3
    whole = evaluate_language_model(small_transformer, ids, 8, batch_size=11)
    padded = evaluate_language_model(small_transformer, ids, 8, batch_size=4, jit_compile=jit_compile)
    assert padded["num_tokens"] == whole["num_tokens"] == 88
    assert padded["loss"] == pytest.approx(whole["loss"], rel=1e-6)
    # against the model's own scores, window by window
    windows = ids[:-1].reshape(11, 8)
    windows = np.concatenate([windows, ids[8::8][:, None]], axis=1)
    reference = -np.mean([small_transformer.score(w[None]).numpy().sum() for w in windows]) / 8
    assert whole["loss"] == pytest.approx(reference, rel=1e-5)


def test_the_final_evaluation_batches_grow_only_for_small_vocabularies():
    from lm_keras.evaluation.perplexity import EVALUATION_LOGITS, evaluation_batch_size

    assert evaluation_batch_size(12, 64, 65) == EVALUATION_LOGITS // (64 * 65) == 63   # nanoGPT's char model
    assert evaluation_batch_size(8, 128, 50257) == 8      # GPT-2's vocabulary: the training batch's logits
    assert evaluation_batch_size(128, 64, 65) == 128      # never fewer windows than the training batch
