"""Keras metrics for language models."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="lm_keras")
class Perplexity(keras.metrics.Metric):
    """exp(mean cross-entropy per token), accumulated over batches.

    Expects integer targets (batch, time) and logits (batch, time, vocab). Targets equal
    to `mask_id` (default: none) are ignored.
    """

    def __init__(self, name="perplexity", mask_id=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.mask_id = mask_id
        self.total = self.add_variable((), initializer="zeros", name="total", dtype="float32")
        self.count = self.add_variable((), initializer="zeros", name="count", dtype="float32")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        losses = keras.losses.sparse_categorical_crossentropy(y_true, ops.cast(y_pred, "float32"), from_logits=True)
        weights = ops.ones_like(losses) if sample_weight is None else ops.cast(sample_weight, "float32")
        if self.mask_id is not None:
            weights = weights * ops.cast(ops.not_equal(y_true, self.mask_id), "float32")
        self.total.assign_add(ops.sum(losses * weights))
        self.count.assign_add(ops.sum(weights))

    def result(self):
        return ops.exp(ops.divide_no_nan(self.total, self.count))

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "mask_id": self.mask_id}
