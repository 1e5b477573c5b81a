"""Training: compile + fit helpers and the end-to-end run used by the CLI and the notebooks."""

from lm_keras.training.fit import compile_language_model, fit_language_model, training_datasets
from lm_keras.training.run import train_run

__all__ = ["compile_language_model", "fit_language_model", "train_run", "training_datasets"]
