"""Helpers shared by the benchmark scripts (not part of the library)."""

import json
import os
import platform
import statistics
import time

import keras
import tensorflow as tf


class StepTimer(keras.callbacks.Callback):
    """Wall time of every training step (validation and epoch ends excluded)."""

    def __init__(self):
        super().__init__()
        self.times = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)

    def median(self, skip):
        return statistics.median(self.times[skip:])


def timed(fn):
    """(fn(), wall seconds it took)."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def device_name():
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return f"CPU ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"


def transformer_flops_per_token(model):
    """nanoGPT's estimate (PaLM appendix B): 6N + 12 · layers · d_model · context FLOPs per trained token."""
    c = model.config
    return 6 * model.count_params() + 12 * c.num_layers * c.d_model * c.context_length


def write_json(path, rows):
    """Write the measured rows, with the device, for later comparison."""
    with open(path, "w") as f:
        json.dump({"device": device_name(), "rows": rows}, f, indent=2)
