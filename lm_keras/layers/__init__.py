"""Layers the models are built from: attention, positions, Transformer blocks."""

from lm_keras.layers.attention import MultiHeadSelfAttention, ScaledDotProductAttention, causal_mask
from lm_keras.layers.decoder_block import TransformerDecoderBlock
from lm_keras.layers.positions import PositionEmbedding, RotaryEmbedding, SinusoidalPositionEncoding

__all__ = ["MultiHeadSelfAttention", "PositionEmbedding", "RotaryEmbedding", "ScaledDotProductAttention",
           "SinusoidalPositionEncoding", "TransformerDecoderBlock", "causal_mask"]
