"""One GPT decoder block (pre-LayerNorm, as in GPT-2 and nanoGPT):

    x = x + Dropout(MultiHeadSelfAttention(LayerNorm(x)))     causal: position i sees 0..i
    x = x + Dropout(W_2 GELU(W_1 LayerNorm(x)))                W_1: d_model -> 4·d_model
"""

import keras

from lm_keras.layers.attention import MultiHeadSelfAttention
from lm_keras.layers.positions import RotaryEmbedding


@keras.saving.register_keras_serializable(package="lm_keras")
class TransformerDecoderBlock(keras.layers.Layer):
    """Pre-LN decoder block: (b, t, d_model) -> (b, t, d_model).

    Args:
        num_heads: attention heads.
        mlp_ratio: hidden size of the MLP as a multiple of d_model.
        dropout: on the attention weights and on both residual branches.
        use_bias: biases in the Dense layers and LayerNorms.
        rotary: use rotary position embeddings inside attention.
        layer_norm_epsilon: LayerNorm epsilon.
        initializer_stddev: N(0, σ) for the kernels; the two projections that write into the
            residual stream use `output_stddev` (GPT-2 scales it by 1/√(2·num_layers)).

    Call args: see `MultiHeadSelfAttention` (attention_mask, positions, cache, cache_index,
    return_attention_scores). Returns the output, then the updated cache when one is
    given, then the attention weights when asked for.
    """

    def __init__(self, num_heads, mlp_ratio=4, dropout=0.0, use_bias=True, rotary=False,
                 layer_norm_epsilon=1e-5, initializer_stddev=0.02, output_stddev=0.02, **kwargs):
        super().__init__(**kwargs)
        self.num_heads, self.mlp_ratio, self.dropout, self.use_bias = num_heads, mlp_ratio, dropout, use_bias
        self.rotary, self.layer_norm_epsilon = rotary, layer_norm_epsilon
        self.initializer_stddev, self.output_stddev = initializer_stddev, output_stddev

    def build(self, input_shape):
        d_model = input_shape[-1]
        kernel = keras.initializers.RandomNormal(stddev=self.initializer_stddev)
        output = keras.initializers.RandomNormal(stddev=self.output_stddev)
        norm = dict(epsilon=self.layer_norm_epsilon, center=self.use_bias)
        self.attention_norm = keras.layers.LayerNormalization(**norm, name="attention_norm")
        self.attention = MultiHeadSelfAttention(
            self.num_heads, dropout=self.dropout, use_bias=self.use_bias,
            rotary=RotaryEmbedding() if self.rotary else None,
            kernel_initializer=kernel, output_initializer=output, name="self_attention")
        self.mlp_norm = keras.layers.LayerNormalization(**norm, name="mlp_norm")
        self.mlp_up = keras.layers.Dense(self.mlp_ratio * d_model, use_bias=self.use_bias,
                                         kernel_initializer=kernel, name="mlp_up")
        self.mlp_down = keras.layers.Dense(d_model, use_bias=self.use_bias, kernel_initializer=output,
                                           name="mlp_down")
        self.residual_dropout = keras.layers.Dropout(self.dropout)
        for layer in (self.attention_norm, self.attention, self.mlp_norm, self.mlp_up):
            layer.build(input_shape)
        self.mlp_down.build((*input_shape[:-1], self.mlp_ratio * d_model))
        self.built = True

    def call(self, x, attention_mask=None, positions=None, cache=None, cache_index=None, training=None,
             return_attention_scores=False):
        attended = self.attention(self.attention_norm(x), attention_mask=attention_mask, positions=positions,
                                  cache=cache, cache_index=cache_index, training=training,
                                  return_attention_scores=return_attention_scores)
        extras = ()
        if cache is not None or return_attention_scores:
            attended, *extras = attended
        x = x + self.residual_dropout(attended, training=training)
        hidden = keras.activations.gelu(self.mlp_up(self.mlp_norm(x)), approximate=False)
        x = x + self.residual_dropout(self.mlp_down(hidden), training=training)
        return (x, *extras) if extras else x

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "mlp_ratio": self.mlp_ratio,
                "dropout": self.dropout, "use_bias": self.use_bias, "rotary": self.rotary,
                "layer_norm_epsilon": self.layer_norm_epsilon, "initializer_stddev": self.initializer_stddev,
                "output_stddev": self.output_stddev}
