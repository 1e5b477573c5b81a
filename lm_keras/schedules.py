"""Learning-rate schedules (a top-level module so that loading a compiled model only needs `lm_keras.models`)."""

import math

import keras
from keras import ops


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
