"""Compile and fit a language model with Keras `fit()` and standard callbacks."""

import dataclasses
import math
import shutil

import keras
import numpy as np
import tensorflow as tf

from lm_keras.config import TrainConfig
from lm_keras.data.pipeline import check_length, document_dataset, lm_dataset, window_starts
from lm_keras.errors import TrainingError
from lm_keras.evaluation.metrics import Perplexity
from lm_keras.families import training_defaults
from lm_keras.training.callbacks import (FiniteBackupAndRestore, HistoryBackup, TerminateOnDivergence,
                                        ThroughputAndLearningRate, resumed_epoch)
from lm_keras.training.optimizers import build_optimizer, build_slots


def compile_language_model(model, config=None, total_steps=None, **overrides):
    """Compile with the optimizer of a `TrainConfig`, cross-entropy on logits and perplexity.

    A model with its own objective (`own_loss = True`, the VAE) gets only the optimizer.

    Args:
        config: a `TrainConfig` (default `TrainConfig()`); optimisation fields it leaves unset take
            the recipe of the model's family (`lm_keras.families`: nanoGPT's for a Transformer).
        total_steps: steps the schedule decays over (default: `config.steps`).
        overrides: `TrainConfig` fields to change, e.g. `learning_rate=1e-3, optimizer="adamw"`.
    """
    config = dataclasses.replace(config or TrainConfig(), **overrides).resolved(training_defaults(model))
    if config.jit_compile is True and _replicated_off_tpu():
        # TensorFlow cannot XLA-compile a step whose variables are mirrored over several devices
        # (tensorflow.org/xla/known_issues); a TPU compiles the whole step anyway.
        config = dataclasses.replace(config, jit_compile=False)
    optimizer = build_optimizer(model, config, total_steps or config.steps)
    if getattr(model, "own_loss", False):  # the VAE computes its objective in its own train_step
        model.compile(optimizer=optimizer, jit_compile=config.jit_compile)
        return build_slots(model)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[Perplexity()],
        jit_compile=config.jit_compile,
    )
    return build_slots(model)


def _replicated_off_tpu():
    strategy = tf.distribute.get_strategy()
    return strategy.num_replicas_in_sync > 1 and not isinstance(strategy, tf.distribute.TPUStrategy)


def planned_epochs(config, batches_per_pass):
    """(Keras epochs, steps per epoch) of a `TrainConfig`: with `config.epochs`, that many passes of
    `batches_per_pass` batches; else `config.steps` steps in epochs of `eval_interval` steps (an
    interval longer than the run is the whole run). The one place a run's length is planned:
    its schedule decays over epochs × steps per epoch."""
    if config.epochs:
        return config.epochs, max(1, batches_per_pass)
    interval = min(config.eval_interval, config.steps)
    return math.ceil(config.steps / interval), interval


def window_batches(num_train_tokens, config):
    """Batches in one pass over the non-overlapping training windows of `num_train_tokens` tokens."""
    return len(window_starts(num_train_tokens, config.context_length)) // config.batch_size


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
            directory is deleted when training ends well, and kept (with the last good
            weights) when the loss became NaN.
        tensorboard_dir: write TensorBoard logs (loss, perplexity, learning rate,
            tokens/s per evaluation interval).

    Raises:
        TrainingError: the loss became NaN (training stops at once through
            `keras.callbacks.TerminateOnNaN`).
    """
    epochs, steps_per_epoch = planned_epochs(config, window_batches(len(train_ids), config))
    return _fit(model, lambda skip: training_datasets(train_ids, validation_ids, config, skip_batches=skip),
                epochs, steps_per_epoch, config.batch_size * config.context_length, config, callbacks, verbose,
                backup_dir, tensorboard_dir)


def document_datasets(train_rows, validation_rows, config, skip_batches=0):
    """(train, validation) datasets of whole documents (rows of `encode_rows`) for `TrainConfig` `config`."""
    train = document_dataset(train_rows, config.batch_size, seed=config.seed, repeat=True, skip_batches=skip_batches)
    validation = document_dataset(validation_rows, config.batch_size, shuffle=False, drop_remainder=False)
    return train, validation.take(config.eval_batches)


def fit_documents(model, train_rows, validation_rows, config, callbacks=(), verbose="auto", backup_dir=None,
                  tensorboard_dir=None):
    """`fit_language_model` for models that read one whole document per example (the VAE).

    An epoch is `eval_interval` batches of rows, or with `config.epochs` one pass over the
    training rows; resume, NaN handling and callbacks are those of `fit_language_model`.
    """
    epochs, steps_per_epoch = planned_epochs(config, len(train_rows) // config.batch_size)
    return _fit(model, lambda skip: document_datasets(train_rows, validation_rows, config, skip_batches=skip),
                epochs, steps_per_epoch, config.batch_size * np.shape(train_rows)[1], config, callbacks, verbose,
                backup_dir, tensorboard_dir)


def fit_gan(model, dataset, config, callbacks=(), verbose="auto", backup_dir=None, divergence_limit=1e4):
    """Train a GAN (`LatentGAN`, `SequenceGAN`) for `config.steps` batches of `dataset` (repeated, in a fixed order).

    An epoch is `config.eval_interval` steps (there is no validation). Resume, callbacks and
    the last good checkpoint are those of `fit_language_model`; training also stops when any
    loss is NaN or infinite, or when the critic's / discriminator's loss exceeds
    `divergence_limit` in absolute value, with a `TrainingError` that says which.
    """
    limits = {"critic_loss": divergence_limit, "discriminator_loss": divergence_limit}
    return fit_steps(model, dataset, config, callbacks=callbacks, verbose=verbose, backup_dir=backup_dir,
                     limits=limits)


def fit_steps(model, dataset, config, validation=None, callbacks=(), verbose="auto", backup_dir=None, limits=None):
    """Train a model with its own `train_step` for `config.steps` batches of `dataset` (repeated, in a fixed order).

    An epoch is `config.eval_interval` steps, validated on `validation` (a finite dataset)
    if given. Resume, callbacks, NaN handling and the last good checkpoint are those of
    `fit_language_model`; `limits` {metric: bound} also stops training when a metric's
    absolute value exceeds its bound. Used by the GANs and the alignment trainers.
    """
    epochs, steps_per_epoch = planned_epochs(dataclasses.replace(config, epochs=None), 0)
    return _fit(model, lambda skip: (dataset.skip(skip), validation), epochs, steps_per_epoch, 0, config, callbacks,
                verbose, backup_dir, None, limits)


# The training iterator lives for the whole fit; deleting it joins tf.data's autotuning thread, which kept `fit`
# from returning for 27-35 s after 7 of 18 CLI runs of 2,000 steps. The pipelines here need no tuning.
WITHOUT_AUTOTUNE = tf.data.Options()
WITHOUT_AUTOTUNE.autotune.enabled = False


def _fit(model, make_datasets, epochs, steps_per_epoch, tokens_per_step, config, callbacks, verbose, backup_dir,
         tensorboard_dir, limits=None):
    keras.utils.set_random_seed(config.seed)
    initial_epoch = resumed_epoch(backup_dir) if backup_dir else 0
    train, validation = make_datasets(initial_epoch * steps_per_epoch)
    train = train.with_options(WITHOUT_AUTOTUNE)
    divergence = TerminateOnDivergence(limits)
    monitors = [divergence]
    if tokens_per_step:
        monitors.append(ThroughputAndLearningRate(tokens_per_step))
    earlier = {}
    if backup_dir:
        history_backup = HistoryBackup(backup_dir)
        earlier = history_backup.previous(initial_epoch)  # read now: the directory is deleted when fit ends
        monitors += [history_backup, FiniteBackupAndRestore(backup_dir, divergence)]
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
    epochs_run = len(next(iter(history.history.values()), []))
    if divergence.reason or not epochs_run:
        kept = resumed_epoch(backup_dir) if backup_dir else 0
        if backup_dir and not kept:
            shutil.rmtree(backup_dir, ignore_errors=True)  # no good checkpoint in it: leave nothing behind
        where = (f" The last good checkpoint (after evaluation interval {kept}) is kept in {backup_dir}: the same "
                 f"command resumes from it." if kept else " Nothing was saved.")
        what = (f"{divergence.reason} became NaN, infinite or too large in epoch {max(epochs_run, 1)}"
                if divergence.reason else "no epoch ran")
        raise TrainingError(f"Training stopped: {what} ({_learning_rates(model)}).{where} "
                            f"Try a lower learning rate or a smaller clip norm.")
    return history


def _learning_rates(model):
    """The step sizes in force, for the divergence message: the optimizer's, or each optimizer of a GAN."""
    opponent = getattr(model, "opponent", None)  # GANs are compiled with their own two optimizers
    optimizers = {"": model.optimizer} if opponent is None else {
        "generator ": model.optimizer, f"{opponent} ": getattr(model, f"{opponent}_optimizer")}
    return ", ".join(f"{name}learning_rate={float(keras.ops.convert_to_numpy(optimizer.learning_rate)):.3g}"
                     for name, optimizer in optimizers.items())
