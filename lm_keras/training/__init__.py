"""Training: compile + fit helpers and the end-to-end run used by the CLI and the notebooks."""

from lm_keras.training.callbacks import (FiniteBackupAndRestore, GenerateSamples, HistoryBackup,
                                        TerminateOnDivergence, ThroughputAndLearningRate)
from lm_keras.training.devices import (check_global_batch, describe_devices, find_tpu, precision_policy,
                                       resolve_precision, resolve_strategy, strategy_name)
from lm_keras.training.classifier import (classification_dataset, compile_classifier, fit_classifier,
                                         finetune_language_model, pretrain_language_model)
from lm_keras.training.fit import (compile_language_model, document_datasets, fit_documents, fit_gan,
                                  fit_language_model, fit_steps, planned_epochs, training_datasets)
from lm_keras.schedules import WarmupDecay
from lm_keras.training.optimizers import build_optimizer, no_weight_decay_variables
from lm_keras.training.plots import plot_history
from lm_keras.training.run import backup_dir_for, build_run_model, prepare_data, train_run

__all__ = [
    "FiniteBackupAndRestore", "GenerateSamples", "HistoryBackup", "TerminateOnDivergence", "ThroughputAndLearningRate",
    "WarmupDecay", "backup_dir_for", "build_run_model", "prepare_data", "strategy_name", "build_optimizer", "check_global_batch", "classification_dataset",
    "compile_classifier", "compile_language_model", "describe_devices", "finetune_language_model", "fit_classifier", "pretrain_language_model",
    "document_datasets", "find_tpu", "fit_documents", "fit_gan", "fit_language_model", "fit_steps", "no_weight_decay_variables",
    "planned_epochs", "plot_history", "precision_policy", "resolve_precision", "resolve_strategy", "train_run",
    "training_datasets",
]
