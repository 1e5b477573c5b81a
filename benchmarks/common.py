"""Helpers shared by the benchmark scripts (not part of the library)."""

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


def device_name():
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return f"CPU ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
