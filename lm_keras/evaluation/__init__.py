"""Metrics and held-out evaluation shared by every model."""

from lm_keras.evaluation.baselines import unigram_entropy
from lm_keras.evaluation.compare import evaluate
from lm_keras.evaluation.metrics import Perplexity
from lm_keras.evaluation.perplexity import evaluate_language_model
from lm_keras.evaluation.scoring import score_texts

__all__ = ["Perplexity", "evaluate", "evaluate_language_model", "score_texts", "unigram_entropy"]
