"""Training: compile + fit helpers and the end-to-end run used by the CLI and the notebooks."""

from lm_keras.training.fit import compile_language_model, fit_language_model, planned_epochs, training_datasets
from lm_keras.training.optimizers import WarmupDecay, build_optimizer, no_weight_decay_variables
from lm_keras.training.run import train_run

__all__ = ["WarmupDecay", "build_optimizer", "compile_language_model", "fit_language_model", "no_weight_decay_variables",
           "planned_epochs", "train_run", "training_datasets"]
