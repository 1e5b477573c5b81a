"""Callbacks for monitoring long runs: learning rate and throughput, samples, resumable history."""

import json
import time
from pathlib import Path

import keras
import numpy as np


class ThroughputAndLearningRate(keras.callbacks.Callback):
    """Adds `learning_rate` and `tokens_per_second` (training steps only) to each epoch's logs.

    Put it before `TensorBoard` / `CSVLogger` in the callback list so that they record both.
    """

    def __init__(self, tokens_per_step):
        super().__init__()
        self.tokens_per_step = tokens_per_step

    def on_epoch_begin(self, epoch, logs=None):
        self._seconds, self._steps = 0.0, 0

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._seconds += time.perf_counter() - self._start
        self._steps += 1

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        optimizer = self.model.optimizer
        rate = optimizer.learning_rate  # a schedule's current value, or the constant
        logs["learning_rate"] = float(np.asarray(rate))
        logs["tokens_per_second"] = self.tokens_per_step * self._steps / max(self._seconds, 1e-9)


class FitPhases(keras.callbacks.Callback):
    """Splits `fit`'s wall clock over a `lm_keras.utils.timing.Stopwatch`: its setup, the first
    training step (tracing and XLA compilation), the other steps (with the loop's own work between
    them), the first validation (tracing the evaluation step), the later ones, and the work between
    intervals (checkpoints, other callbacks' epoch-end work). Each hook charges the time since the
    previous lap to the phase it belonged to, so the callback's place in the list does not matter.
    """

    SETUP, FIRST_STEP, STEPS = "fit setup (datasets, Keras)", "first training step (trace + compile)", "training steps"
    FIRST_VALIDATION, VALIDATION = "first validation (trace + compile)", "validations"
    BETWEEN = "between intervals (checkpoints, callbacks)"

    def __init__(self, watch):
        super().__init__()
        self.watch = watch

    def on_train_begin(self, logs=None):
        self.watch.lap(self.SETUP)
        self._steps = self._validations = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.watch.lap(self.BETWEEN)

    def on_train_batch_begin(self, batch, logs=None):
        self.watch.lap(self.STEPS)

    def on_train_batch_end(self, batch, logs=None):
        self.watch.lap(self.STEPS if self._steps else self.FIRST_STEP)
        self._steps += 1

    def on_test_begin(self, logs=None):
        self.watch.lap(self.STEPS)

    def on_test_end(self, logs=None):
        self.watch.lap(self.VALIDATION if self._validations else self.FIRST_VALIDATION)
        self._validations += 1

    def on_epoch_end(self, epoch, logs=None):
        self.watch.lap(self.BETWEEN)

    def on_train_end(self, logs=None):
        self.watch.lap(self.BETWEEN)


class GenerateSamples(keras.callbacks.Callback):
    """Print a generated sample every `every` training steps of this `fit` call (and at its end).

    Args:
        generator: a `lm_keras.generation.Generator` around the model being trained.
        prompt: the prompt ("" starts a new document).
        printer: where the text goes (default `print`).
    """

    def __init__(self, generator, prompt="", every=500, max_new_tokens=200, temperature=0.8, seed=0, printer=print):
        super().__init__()
        self.generator, self.prompt, self.every = generator, prompt, every
        self.kwargs = dict(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
        self.printer = printer
        self.samples = []

    def _sample(self, step):
        text = self.generator(self.prompt, **self.kwargs)
        self.samples.append((step, text))
        self.printer(f"\n--- sample at step {step} ---\n{text}\n")

    def on_train_begin(self, logs=None):
        self._step = 0

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every == 0:
            self._sample(self._step)

    def on_train_end(self, logs=None):
        if self._step % self.every:
            self._sample(self._step)


class HistoryBackup(keras.callbacks.Callback):
    """Append each epoch's logs to `history.jsonl` in the backup directory, so that a resumed
    run can report its whole history (Keras's `History` only sees the epochs after resuming)."""

    def __init__(self, backup_dir):
        super().__init__()
        self.path = Path(backup_dir) / "history.jsonl"

    def on_epoch_end(self, epoch, logs=None):
        if _not_finite(logs):
            return  # a diverged epoch is never resumed from
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}) + "\n")

    def previous(self, before_epoch):
        """{metric: [values]} of the epochs before `before_epoch` recorded by an earlier, interrupted run."""
        rows = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                if row["epoch"] < before_epoch:
                    rows[row["epoch"]] = row
        history = {}
        for epoch in sorted(rows):
            for key, value in rows[epoch].items():
                if key != "epoch":
                    history.setdefault(key, []).append(value)
        return history


def _not_finite(logs):
    return any(not np.isfinite(float(v)) for v in (logs or {}).values() if np.ndim(v) == 0)


class TerminateOnDivergence(keras.callbacks.Callback):
    """Stop training when any logged value (every loss of a GAN, not only `loss`) is NaN or
    infinite, or when a monitored one exceeds its limit (`limits={"critic_loss": 1e4}`);
    `reason` says which."""

    def __init__(self, limits=None):
        super().__init__()
        self.limits = dict(limits or {})
        self.reason = None

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        bad = [k for k, v in logs.items() if np.ndim(v) == 0 and not np.isfinite(float(v))]
        bad += [f"{k} (|{float(logs[k]):.3g}| > {limit:g})" for k, limit in self.limits.items()
                if k in logs and np.isfinite(float(logs[k])) and abs(float(logs[k])) > limit]
        if bad and self.reason is None:
            self.reason = ", ".join(bad)
            self.model.stop_training = True


class FiniteBackupAndRestore(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that never checkpoints diverged weights: once a logged value is not
    finite, or `divergence` (a `TerminateOnDivergence`) has fired, it stops saving and keeps
    the last good checkpoint (instead of deleting it at the end)."""

    def __init__(self, backup_dir, divergence=None):
        super().__init__(str(backup_dir), save_freq="epoch")
        self.divergence = divergence
        self.diverged = False

    def _check(self, logs):
        if _not_finite(logs) or (self.divergence is not None and self.divergence.reason):
            self.diverged = True

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs)
        super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs)
        if not self.diverged:
            super().on_epoch_end(epoch, logs)

    def on_train_end(self, logs=None):
        if not self.diverged:
            super().on_train_end(logs)


def resumed_epoch(backup_dir):
    """The epoch a `BackupAndRestore` checkpoint in `backup_dir` resumes at (0 when there is none)."""
    metadata = Path(backup_dir) / "training_metadata.json"
    if not metadata.is_file():
        return 0
    return int(json.loads(metadata.read_text(encoding="utf-8")).get("epoch", 0))
