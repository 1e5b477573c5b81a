"""Metrics and held-out evaluation shared by every model."""

from lm_keras.evaluation.baselines import unigram_entropy
from lm_keras.evaluation.compare import evaluate
from lm_keras.evaluation.latent import (active_units, evaluate_vae, importance_weighted_log_likelihood,
                                        mutual_information)
from lm_keras.evaluation.metrics import Perplexity
from lm_keras.evaluation.perplexity import evaluate_language_model
from lm_keras.evaluation.scoring import score_texts

__all__ = ["Perplexity", "active_units", "evaluate", "evaluate_language_model", "evaluate_vae",
           "importance_weighted_log_likelihood", "mutual_information", "score_texts", "unigram_entropy"]
