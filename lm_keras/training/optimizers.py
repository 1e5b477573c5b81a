"""Optimizers and learning-rate schedules: Adam, AdamW without decay on norms/biases/embeddings,
warm-up followed by constant, cosine or linear decay."""

import math

import keras
from keras import ops

from lm_keras.layers import PositionEmbedding


@keras.saving.register_keras_serializable(package="lm_keras")
class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to `peak` over `warmup_steps`, then decay to `final` at `total_steps`.

        step < warmup:   lr = peak · (step + 1) / (warmup + 1)
        after:           progress p = (step - warmup) / (total - warmup), clipped to [0, 1]
            constant     lr = peak
            cosine       lr = final + (peak - final) · ½ (1 + cos(π p))
            linear       lr = final + (peak - final) · (1 - p)
    """

    def __init__(self, peak, total_steps, warmup_steps=0, final=None, shape="cosine"):
        self.peak, self.total_steps, self.warmup_steps = peak, total_steps, warmup_steps
        self.final = peak / 10 if final is None else final
        self.shape = shape

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = float(self.warmup_steps)
        progress = ops.clip((step - warmup) / max(1.0, self.total_steps - warmup), 0.0, 1.0)
        if self.shape == "cosine":
            decayed = self.final + (self.peak - self.final) * 0.5 * (1.0 + ops.cos(math.pi * progress))
        elif self.shape == "linear":
            decayed = self.final + (self.peak - self.final) * (1.0 - progress)
        else:
            decayed = ops.convert_to_tensor(self.peak, "float32")
        return ops.where(step < warmup, self.peak * (step + 1.0) / (warmup + 1.0), decayed)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_steps": self.warmup_steps,
                "final": self.final, "shape": self.shape}


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
    if config.optimizer == "adam":
        return keras.optimizers.Adam(**common)
    optimizer = keras.optimizers.AdamW(weight_decay=config.weight_decay, **common)
    if not model.built:
        model(ops.zeros((1, 1), "int32"))
    optimizer.exclude_from_weight_decay(var_list=no_weight_decay_variables(model))
    return optimizer
