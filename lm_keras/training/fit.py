"""Compile and fit a language model with Keras `fit()` and standard callbacks."""

import dataclasses
import math

import keras
import numpy as np

from lm_keras.config import TrainConfig
from lm_keras.data.pipeline import check_length, lm_dataset, window_starts
from lm_keras.errors import TrainingError
from lm_keras.evaluation.metrics import Perplexity
from lm_keras.training.callbacks import HistoryBackup, ThroughputAndLearningRate, resumed_epoch
from lm_keras.training.optimizers import build_optimizer


def compile_language_model(model, config=None, total_steps=None, **overrides):
    """Compile with the optimizer of a `TrainConfig`, cross-entropy on logits and perplexity.

    Args:
        config: a `TrainConfig` (default `TrainConfig()`: Adam, lr 2e-3, clip norm 1).
        total_steps: steps the schedule decays over (default: `config.steps`).
        overrides: `TrainConfig` fields to change, e.g. `learning_rate=1e-3, optimizer="adamw"`.
    """
    config = dataclasses.replace(config or TrainConfig(), **overrides)
    model.compile(
        optimizer=build_optimizer(model, config, total_steps or config.steps),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[Perplexity()],
        jit_compile=config.jit_compile,
    )
    return model


def planned_epochs(config, num_train_tokens):
    """(Keras epochs, steps per epoch) for a `TrainConfig` and a training split of that many tokens."""
    if config.epochs:
        windows = len(window_starts(num_train_tokens, config.context_length))
        return config.epochs, max(1, windows // config.batch_size)
    return math.ceil(config.steps / config.eval_interval), config.eval_interval


def training_datasets(train_ids, validation_ids, config, skip_batches=0):
    """(train, validation) datasets for `TrainConfig` `config`.

    Training data repeats forever (fit is driven by steps); validation is the first
    `eval_batches` batches of non-overlapping windows of the validation split, in order.
    """
    check_length(train_ids, config.context_length, "train")
    check_length(validation_ids, config.context_length, "validation")
    train = lm_dataset(train_ids, config.context_length, config.batch_size, sampling=config.sampling,
                       seed=config.seed, repeat=True, skip_batches=skip_batches)
    validation = lm_dataset(validation_ids, config.context_length, config.batch_size,
                            sampling="sequential", shuffle=False, drop_remainder=False)
    return train, validation.take(config.eval_batches)


def fit_language_model(model, train_ids, validation_ids, config, callbacks=(), verbose="auto", backup_dir=None,
                       tensorboard_dir=None):
    """Train for `config.steps` steps (rounded up to whole `eval_interval`s), validating between.

    Each Keras epoch is `eval_interval` steps, or with `config.epochs` one pass over the
    training windows. Any `keras.callbacks.Callback` can be passed.

    Args:
        backup_dir: checkpoint the weights, optimizer and history there after every
            epoch (`keras.callbacks.BackupAndRestore`); if a killed run left a checkpoint
            there, training resumes after its last complete epoch, on the same batches an
            uninterrupted run would see next, and ends with the same weights. The
            directory is deleted when training ends.
        tensorboard_dir: write TensorBoard logs (loss, perplexity, learning rate,
            tokens/s per evaluation interval).

    Raises:
        TrainingError: the loss became NaN (training stops at once through
            `keras.callbacks.TerminateOnNaN`).
    """
    keras.utils.set_random_seed(config.seed)
    epochs, steps_per_epoch = planned_epochs(config, len(train_ids))
    initial_epoch = resumed_epoch(backup_dir) if backup_dir else 0
    train, validation = training_datasets(train_ids, validation_ids, config,
                                          skip_batches=initial_epoch * steps_per_epoch)
    monitors = [keras.callbacks.TerminateOnNaN(),
                ThroughputAndLearningRate(config.batch_size * config.context_length)]
    earlier = {}
    if backup_dir:
        history_backup = HistoryBackup(backup_dir)
        earlier = history_backup.previous(initial_epoch)  # read now: the directory is deleted when fit ends
        monitors += [history_backup, keras.callbacks.BackupAndRestore(str(backup_dir), save_freq="epoch")]
    if tensorboard_dir:
        monitors.append(keras.callbacks.TensorBoard(str(tensorboard_dir), update_freq="epoch"))
    if config.early_stopping_patience:
        monitors.append(keras.callbacks.EarlyStopping("val_loss", patience=config.early_stopping_patience,
                                                      restore_best_weights=True))
    history = model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch,
        shuffle=False,  # the dataset is already shuffled with the run's seed
        callbacks=[*monitors, *callbacks],
        verbose=verbose,
    )
    if earlier:
        history.history = {k: earlier.get(k, []) + v for k, v in history.history.items()}
    losses = history.history.get("loss", [])
    if not losses or not np.all(np.isfinite(losses)):
        raise TrainingError(
            f"Training stopped: the loss became NaN or infinite in epoch {len(losses)} "
            f"(learning_rate={config.learning_rate}). Nothing was saved; try a lower "
            f"learning rate or a smaller clip norm."
        )
    return history
