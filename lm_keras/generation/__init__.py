"""Samplers and the cached decode loop, shared by every model. Models never sample."""

from lm_keras.generation.generator import Generator, generate
from lm_keras.generation.latent import LatentGenerator
from lm_keras.generation.samplers import (check_sampling_args, sample_next_token, top_k_filter,
                                          top_p_filter)

__all__ = ["Generator", "LatentGenerator", "check_sampling_args", "generate", "sample_next_token", "top_k_filter", "top_p_filter"]
