"""Fine-tune a KerasHub causal LM on raw texts with a `TrainConfig`: LoRA, mixed precision, XLA."""

import math

import keras
import numpy as np
import tensorflow as tf

from lm_keras.config import TrainConfig
from lm_keras.errors import ConfigError
from lm_keras.pretrained.generation import forget_compiled_generate
from lm_keras.training.devices import resolve_precision
from lm_keras.training.optimizers import build_optimizer


def count_trainable(model):
    """Number of trainable parameters (scalars) of `model`."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def enable_lora(causal_lm, rank):
    """Freeze the backbone and add rank-`rank` LoRA factors to its attention query/value projections.

    Returns:
        (trainable parameters before, trainable parameters after).
    """
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank < 1:
        raise ValueError(f"rank={rank!r} is invalid: must be an integer >= 1")
    before = count_trainable(causal_lm)
    causal_lm.backbone.enable_lora(int(rank))
    forget_compiled_generate(causal_lm)  # the new LoRA variables are not in functions traced before
    return before, count_trainable(causal_lm)


def check_precision(causal_lm, precision):
    """Raise ConfigError unless `causal_lm` was loaded with the dtype policy of `TrainConfig.precision`.

    Keras sets a layer's dtype policy when the layer is built, and has no public way to
    reach every sublayer of a built model, so the precision is chosen at load time:
    `load_gpt2(preset, dtype=config.precision)` (`"auto"` is resolved there the same way).
    """
    policy = resolve_precision(precision)
    for name, model in (("model", causal_lm), ("backbone", causal_lm.backbone)):
        if model.dtype_policy.name != policy:
            raise ConfigError(f"TrainConfig.precision = {precision!r} ({policy!r} here) is invalid for this model: "
                              f"its {name} has the dtype policy {model.dtype_policy.name!r}; load it with "
                              f"load_gpt2(preset, dtype={precision!r}), or set "
                              f"TrainConfig(precision={model.dtype_policy.name!r})")


def check_finetune_args(causal_lm, texts, config):
    """Raise ValueError / ConfigError naming the first invalid argument."""
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config={config!r} is invalid: must be a lm_keras.config.TrainConfig")
    if isinstance(texts, str) or not texts or not all(isinstance(t, str) and t for t in texts):
        raise ValueError("texts is invalid: must be a non-empty list of non-empty strings")
    limit = causal_lm.backbone.max_sequence_length
    if config.context_length > limit:
        raise ConfigError(f"TrainConfig.context_length = {config.context_length} is invalid: must be <= the "
                          f"model's max_sequence_length {limit}")
    check_precision(causal_lm, config.precision)
    if config.distribution not in ("auto", "none"):
        raise ConfigError(f"TrainConfig.distribution = {config.distribution!r} is invalid here: finetune trains "
                          f"on one device; load the model inside `strategy.scope()` and call fit() yourself")


def text_dataset(texts, batch_size, seed, repeat):
    """Raw strings -> a shuffled tf.data of string batches (batch,); KerasHub's `fit` tokenizes them."""
    ds = tf.data.Dataset.from_tensor_slices(list(texts)).shuffle(len(texts), seed=seed)
    return (ds.repeat() if repeat else ds).batch(batch_size)


def finetune(causal_lm, texts, config, lora_rank=None, validation_texts=None, callbacks=(), verbose="auto"):
    """Fine-tune `causal_lm` on `texts` (a list of strings, one example each) and return the Keras History.

    Each text is read as `<|endoftext|> text <|endoftext|>`, cut to `config.context_length`
    tokens. From the `TrainConfig`: `batch_size`, `steps` in evaluations of `eval_interval`
    steps (or `epochs` full passes), the optimizer of `build_optimizer` (learning rate,
    schedule, warm-up, clipping, AdamW decay, gradient accumulation), `precision` (the
    model must have been loaded with it, `load_gpt2(preset, dtype=config.precision)`, or
    ConfigError; logits and loss stay float32, float16 scales the loss), `jit_compile`,
    `seed` and `deterministic`. Training stops at a NaN loss
    (`TerminateOnNaN`) and, with validation texts, after `early_stopping_patience`
    evaluations without a better validation loss (the best weights are restored).

    Args:
        lora_rank: first `enable_lora(causal_lm, lora_rank)`: only the LoRA factors train.
        validation_texts: strings evaluated after every `eval_interval` steps
            (`eval_batches` batches).
    """
    check_finetune_args(causal_lm, texts, config)
    if lora_rank is not None:
        enable_lora(causal_lm, lora_rank)
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    if config.epochs is not None:
        steps_per_epoch, epochs = None, config.epochs
        total_steps = epochs * math.ceil(len(texts) / config.batch_size)
    else:
        steps_per_epoch = min(config.eval_interval, config.steps)
        epochs = math.ceil(config.steps / steps_per_epoch)
        total_steps = epochs * steps_per_epoch
    causal_lm.compile(optimizer=build_optimizer(causal_lm, config, total_steps), jit_compile=config.jit_compile)
    forget_compiled_generate(causal_lm)
    validation = None
    if validation_texts:
        validation = text_dataset(validation_texts, config.batch_size, config.seed, repeat=True)
    stop = []
    if validation is not None and config.early_stopping_patience:
        stop = [keras.callbacks.EarlyStopping(patience=config.early_stopping_patience, restore_best_weights=True)]
    preprocessor = causal_lm.preprocessor
    full_length, preprocessor.sequence_length = preprocessor.sequence_length, config.context_length
    try:
        return causal_lm.fit(text_dataset(texts, config.batch_size, config.seed, repeat=steps_per_epoch is not None),
                             steps_per_epoch=steps_per_epoch, epochs=epochs, validation_data=validation,
                             validation_steps=config.eval_batches if validation is not None else None,
                             callbacks=[keras.callbacks.TerminateOnNaN(), *stop, *callbacks], shuffle=False,
                             verbose=verbose)
    finally:
        preprocessor.sequence_length = full_length
