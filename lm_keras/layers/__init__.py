"""Layers the models are built from: attention, positions, Transformer blocks, the VAE's latent sampling."""

from lm_keras.layers.attention import MultiHeadSelfAttention, ScaledDotProductAttention, causal_mask
from lm_keras.layers.decoder_block import TransformerDecoderBlock
from lm_keras.layers.latent import LatentSampling, gaussian_kl, gaussian_log_density
from lm_keras.layers.positions import PositionEmbedding, RotaryEmbedding, SinusoidalPositionEncoding

__all__ = ["LatentSampling", "MultiHeadSelfAttention", "PositionEmbedding", "RotaryEmbedding", "ScaledDotProductAttention",
           "SinusoidalPositionEncoding", "TransformerDecoderBlock", "causal_mask", "gaussian_kl",
           "gaussian_log_density"]
