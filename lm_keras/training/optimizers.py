"""Optimizers: Adam, or AdamW without decay on norms, biases and embeddings, with a `WarmupDecay` schedule."""

import keras
from keras import ops

from lm_keras.layers import PositionEmbedding
from lm_keras.schedules import WarmupDecay


def no_weight_decay_variables(model):
    """LayerNorm scales and offsets, every bias, and the token/position embeddings.

    Decaying them towards 0 only hurts: norms and biases are not "capacity", and an
    embedding row of a rare token would shrink every time any batch is seen.
    """
    excluded = []
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, (keras.layers.LayerNormalization, keras.layers.Embedding, PositionEmbedding)):
            excluded.extend(layer.trainable_weights)
        elif getattr(layer, "bias", None) is not None and isinstance(layer.bias, keras.Variable):
            excluded.append(layer.bias)
    return excluded


def build_optimizer(model, config, total_steps):
    """The optimizer described by a `TrainConfig`, for a run of `total_steps` steps."""
    learning_rate = config.learning_rate
    if config.warmup_steps or config.schedule != "constant":
        learning_rate = WarmupDecay(config.learning_rate, total_steps, config.warmup_steps,
                                    config.min_learning_rate, config.schedule)
    common = dict(learning_rate=learning_rate, beta_2=config.beta_2, global_clipnorm=config.clip_norm)
    if config.gradient_accumulation_steps > 1:
        common["gradient_accumulation_steps"] = config.gradient_accumulation_steps
    if config.optimizer == "adam":
        return keras.optimizers.Adam(**common)
    optimizer = keras.optimizers.AdamW(weight_decay=config.weight_decay, **common)
    if not model.built:
        model(ops.zeros((1, 2), "int32"))
    optimizer.exclude_from_weight_decay(var_list=no_weight_decay_variables(model))
    return optimizer
