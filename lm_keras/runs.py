"""A run directory: everything needed to use a trained model again.

    saved_models/<run-name>/
        config.json       RunConfig: corpus, tokenizer, model and training settings
        tokenizer.json    tokenizer kind, options and vocabulary
        model.keras       the Keras model (architecture + weights), for further training
        metrics.csv       loss / perplexity per evaluation interval (from the Keras History)
        evaluation.json   held-out loss, perplexity, bits per character
        samples.txt       generated samples
        labels.json       a classifier's class names, in class-id order
        timings.json      wall-clock seconds per phase of the training run (data, model, fit, ..., save),
                          written by `train_run` last

Directories are written atomically (see `lm_keras.utils.atomic.atomic_directory`).
"""

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import keras
import pandas as pd

import lm_keras
import lm_keras.evaluation.metrics  # noqa: F401  (registers Perplexity for load_model)
import lm_keras.models  # noqa: F401  (registers the model classes for load_model)
from lm_keras.config import RunConfig
from lm_keras.errors import ModelLoadError
from lm_keras.tokenizers import load_tokenizer

CONFIG_FILE, MODEL_FILE, EVALUATION_FILE, SAMPLES_FILE, METRICS_FILE, LABELS_FILE, TIMINGS_FILE = (
    "config.json", "model.keras", "evaluation.json", "samples.txt", "metrics.csv", "labels.json", "timings.json")


@dataclass
class Run:
    """A trained model with its tokenizer and configuration (and a classifier's class names, `labels`)."""

    model: object
    tokenizer: object
    config: RunConfig
    path: Path = None
    evaluation: dict = field(default_factory=dict)
    samples: list = field(default_factory=list)
    history: dict = field(default_factory=dict)
    labels: list = None
    timings: dict = field(default_factory=dict)

    def generator(self, jit_compile=False):
        from lm_keras.generation import Generator

        return Generator(self.model, self.tokenizer, jit_compile=jit_compile, allow_eos=self.config.line_level)


def write_run(directory, run):
    """Write `run` into `directory` (an empty, usually temporary, directory)."""
    directory = Path(directory)
    config = {"lm_keras_version": lm_keras.__version__, **run.config.to_dict()}
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")
    run.tokenizer.save(directory)
    run.model.save(directory / MODEL_FILE)
    (directory / EVALUATION_FILE).write_text(json.dumps(run.evaluation, indent=2), encoding="utf-8")
    (directory / SAMPLES_FILE).write_text("\n\n---\n\n".join(run.samples) + "\n", encoding="utf-8")
    if run.history:
        pd.DataFrame(run.history).rename_axis("epoch").to_csv(directory / METRICS_FILE)
    if run.labels is not None:
        (directory / LABELS_FILE).write_text(json.dumps(list(run.labels), ensure_ascii=False), encoding="utf-8")


def load_run(path):
    """Load a run directory written by `train_run` / `python -m lm_keras train`.

    Raises:
        ModelLoadError: the directory or one of its files is missing or corrupted.
    """
    path = Path(path)
    if not path.is_dir():
        raise ModelLoadError(f"No run directory at {path}. Train one with `python -m lm_keras train --out {path}`.")
    missing = [f for f in (CONFIG_FILE, "tokenizer.json", MODEL_FILE) if not (path / f).is_file()]
    if missing:
        raise ModelLoadError(f"{path} is not a complete run directory: missing {', '.join(missing)}.")
    try:
        values = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        values.pop("lm_keras_version", None)
        config = RunConfig.from_dict(values)
        tokenizer = load_tokenizer(path)
    except (ValueError, KeyError, TypeError) as e:
        raise ModelLoadError(f"{path}: cannot read config.json or tokenizer.json ({e}).") from e
    try:
        model = keras.saving.load_model(path / MODEL_FILE)
    except (zipfile.BadZipFile, ValueError, OSError, KeyError, TypeError) as e:
        raise ModelLoadError(f"{path / MODEL_FILE} is corrupted or incomplete ({type(e).__name__}: {e}).") from e
    evaluation, samples, history, labels = {}, [], {}, None
    if (path / EVALUATION_FILE).is_file():
        evaluation = json.loads((path / EVALUATION_FILE).read_text(encoding="utf-8"))
    if (path / SAMPLES_FILE).is_file():
        samples = (path / SAMPLES_FILE).read_text(encoding="utf-8").removesuffix("\n").split("\n\n---\n\n")
    if (path / METRICS_FILE).is_file():
        history = pd.read_csv(path / METRICS_FILE, index_col="epoch").to_dict(orient="list")
    if (path / LABELS_FILE).is_file():
        labels = json.loads((path / LABELS_FILE).read_text(encoding="utf-8"))
    timings = json.loads((path / TIMINGS_FILE).read_text(encoding="utf-8")) if (path / TIMINGS_FILE).is_file() else {}
    return Run(model=model, tokenizer=tokenizer, config=config, path=path, evaluation=evaluation, samples=samples,
               history=history, labels=labels, timings=timings)
