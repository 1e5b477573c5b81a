"""Optimizers: Adam, or AdamW without decay on biases and norms (nanoGPT's rule), with a `WarmupDecay` schedule."""

import keras
from keras import ops

from lm_keras.schedules import WarmupDecay


def build_slots(model, variables=None):
    """Create the optimizer's moments for `variables` (default: the model's trainable ones) now, under the
    current distribution strategy. Without a strategy Keras leaves this to the first traced step, and
    TensorFlow traces a `tf.function` that creates variables twice: a second trace and XLA compilation.
    A model not built yet (its variables unknown), with no `variables` given, is left to Keras."""
    if variables is not None or model.built:
        model.optimizer.build(model.trainable_variables if variables is None else variables)
    return model


def no_weight_decay_variables(model):
    """The trainable variables that AdamW does not decay: every bias and LayerNorm scale/offset.

    This is nanoGPT's rule (`configure_optimizers`): "all weight tensors in matmuls +
    embeddings decay, all biases and layernorms don't", i.e. a parameter is decayed iff
    it has 2 or more dimensions, so kernels AND token/position embeddings are decayed.
    (minGPT additionally excludes the embeddings; we follow nanoGPT.) A variable named
    `bias` is excluded whatever its shape: Keras' per-head attention biases (EinsumDense,
    e.g. KerasHub GPT-2's query/key/value) are (heads, head_dim), one 1-D bias in PyTorch.
    Norms and biases are not "capacity": pulling them towards 0 only distorts the model.
    """
    return [v for v in model.trainable_variables if len(v.shape) < 2 or v.name == "bias"]


def build_optimizer(model, config, total_steps):
    """The optimizer described by a `TrainConfig`, for a run of `total_steps` steps (fields left unset:
    the generic defaults; `compile_language_model` first fills them with the model family's recipe)."""
    config = config.resolved()
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
