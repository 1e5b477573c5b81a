"""lm_keras: language models from N-grams to Transformers, in Keras 3 / TensorFlow."""

__version__ = "0.1.0"
