"""Compile and fit a language model with Keras `fit()` and standard callbacks."""

import math

import keras
import numpy as np

from lm_keras.data.pipeline import check_length, lm_dataset, window_starts
from lm_keras.errors import TrainingError
from lm_keras.evaluation.metrics import Perplexity


def compile_language_model(model, learning_rate=2e-3, clip_norm=1.0, jit_compile=False):
    """Adam, `sparse_categorical_crossentropy(from_logits=True)` and a perplexity metric.

    `clip_norm` clips the global gradient norm (RNNs need it against exploding gradients).
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=clip_norm),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[Perplexity()],
        jit_compile=jit_compile,
    )
    return model


def training_datasets(train_ids, validation_ids, config):
    """(train, validation) datasets for `TrainConfig` `config`.

    Training data repeats forever (fit is driven by steps); validation is the first
    `eval_batches` batches of non-overlapping windows of the validation split, in order.
    """
    check_length(train_ids, config.context_length, "train")
    check_length(validation_ids, config.context_length, "validation")
    train = lm_dataset(train_ids, config.context_length, config.batch_size, sampling=config.sampling,
                       seed=config.seed, repeat=True)
    validation = lm_dataset(validation_ids, config.context_length, config.batch_size,
                            sampling="sequential", shuffle=False, drop_remainder=False)
    return train, validation.take(config.eval_batches)


def fit_language_model(model, train_ids, validation_ids, config, callbacks=(), verbose="auto"):
    """Train for `config.steps` steps (rounded up to whole `eval_interval`s), validating between.

    Each Keras epoch is `eval_interval` steps, or with `config.epochs` one pass over the
    training windows. Any `keras.callbacks.Callback` can be passed. Raises `TrainingError` if the loss becomes NaN
    (training stops at once through `keras.callbacks.TerminateOnNaN`).
    """
    keras.utils.set_random_seed(config.seed)
    train, validation = training_datasets(train_ids, validation_ids, config)
    if config.epochs:
        epochs = config.epochs
        steps_per_epoch = max(1, len(window_starts(len(train_ids), config.context_length)) // config.batch_size)
    else:
        epochs = math.ceil(config.steps / config.eval_interval)
        steps_per_epoch = config.eval_interval
    history = model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        shuffle=False,  # the dataset is already shuffled with the run's seed
        callbacks=[keras.callbacks.TerminateOnNaN(), *callbacks],
        verbose=verbose,
    )
    losses = history.history.get("loss", [])
    if not losses or not np.all(np.isfinite(losses)):
        raise TrainingError(
            f"Training stopped: the loss became NaN or infinite in epoch {len(losses)} "
            f"(learning_rate={config.learning_rate}). Nothing was saved; try a lower "
            f"learning rate or a smaller clip norm."
        )
    return history
