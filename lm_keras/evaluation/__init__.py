"""Metrics and held-out evaluation shared by every model."""

from lm_keras.evaluation.baselines import unigram_entropy
from lm_keras.evaluation.classification import (accuracy, bootstrap_interval, classification_report,
                                                confusion_matrix, evaluate_classifier, macro_f1, mean_interval)
from lm_keras.evaluation.compare import evaluate, evaluate_ngrams
from lm_keras.evaluation.latent import (active_units, evaluate_vae, importance_weighted_log_likelihood,
                                        mutual_information)
from lm_keras.evaluation.metrics import Perplexity
from lm_keras.evaluation.perplexity import evaluate_language_model, evaluation_batch_size
from lm_keras.evaluation.scoring import score_texts

__all__ = ["Perplexity", "accuracy", "active_units", "bootstrap_interval", "classification_report", "confusion_matrix",
           "evaluate", "evaluate_classifier", "evaluate_language_model", "evaluate_ngrams", "evaluate_vae",
           "evaluation_batch_size",
           "importance_weighted_log_likelihood", "macro_f1", "mean_interval", "mutual_information", "score_texts",
           "unigram_entropy"]
