"""Language models. Each answers `call`, `step`/`prefill` (with a cache) and `score` (the VAE: `call`,
`prefill` given z, `step`)."""

import lm_keras.schedules  # noqa: F401  (registers the schedules that compiled .keras files refer to)
from lm_keras.models.base import LanguageModel
from lm_keras.models.classifier import Classifier, LSTMClassifier, NaiveBayesClassifier, TransformerClassifier
from lm_keras.models.gan import LatentGAN, SequenceDiscriminator, SequenceGAN
from lm_keras.models.ngram import NGramLanguageModel
from lm_keras.models.reward_model import RewardModel
from lm_keras.models.rnn_lm import RNNLanguageModel
from lm_keras.models.transformer_lm import TransformerLanguageModel
from lm_keras.models.vae import TextVAE

MODEL_TYPES = {"rnn": RNNLanguageModel, "transformer": TransformerLanguageModel, "vae": TextVAE}


def build_model(model_type, **config):
    """Build a model of `model_type` ("rnn", "transformer" or "vae") from its config fields."""
    if model_type not in MODEL_TYPES:
        raise ValueError(f"model_type={model_type!r} is invalid: must be one of {sorted(MODEL_TYPES)}")
    return MODEL_TYPES[model_type](**config)


__all__ = ["MODEL_TYPES", "Classifier", "LSTMClassifier", "LanguageModel", "NaiveBayesClassifier",
           "TransformerClassifier", "LatentGAN", "SequenceDiscriminator", "SequenceGAN", "NGramLanguageModel", "RNNLanguageModel", "RewardModel", "TextVAE", "TransformerLanguageModel",
           "build_model"]
