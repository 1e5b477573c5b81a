"""Language models. Each answers `call`, `step`/`prefill` (with a cache) and `score` (the VAE: `call`,
`prefill` given z, `step`)."""

import lm_keras.schedules  # noqa: F401  (registers the schedules that compiled .keras files refer to)
from lm_keras.models.base import LanguageModel
from lm_keras.models.classifier import Classifier, LSTMClassifier, NaiveBayesClassifier, TransformerClassifier
from lm_keras.models.gan import LatentGAN, SequenceDiscriminator, SequenceGAN
from lm_keras.models.ngram import NGramLanguageModel
from lm_keras.models.reward_model import RewardModel
from lm_keras.models.rnn_lm import RNNLanguageModel
from lm_keras.models.tracking import TrackedModel
from lm_keras.models.transformer_lm import TransformerLanguageModel
from lm_keras.models.vae import TextVAE



def build_model(model_type, **config):
    """Build a model of the family `model_type` ("rnn", "transformer", "vae", ...; `lm_keras.families`)
    from its config fields."""
    from lm_keras.families import family

    return family(model_type).build(**config)


__all__ = ["Classifier", "LSTMClassifier", "LanguageModel", "NaiveBayesClassifier",
           "TransformerClassifier", "LatentGAN", "SequenceDiscriminator", "SequenceGAN", "NGramLanguageModel", "RNNLanguageModel", "RewardModel", "TextVAE", "TrackedModel",
           "TransformerLanguageModel",
           "build_model"]
