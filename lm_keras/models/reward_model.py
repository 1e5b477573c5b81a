"""A reward model: a language-model backbone and a scalar head, trained on preference pairs.

    rows (b, t) -> backbone.hidden_states -> the last real token's state -> Dense(1) -> r_φ(x, y) (b,)

Bradley–Terry loss on a pair (chosen y_w, rejected y_l of one prompt x):

    L(φ) = −log σ(r_φ(x, y_w) − r_φ(x, y_l))

Only differences of rewards are learned, so a reward's zero is arbitrary.
"""

import keras
import tensorflow as tf
from keras import ops

from lm_keras.models.classifier import last_real_state
from lm_keras.models.tracking import TrackedModel
from lm_keras.models.transformer_lm import TransformerLanguageModel
from lm_keras.tokenizers.base import PAD_ID


@keras.saving.register_keras_serializable(package="lm_keras")
class RewardModel(TrackedModel):
    """A scalar head on a `TransformerLanguageModel`, read at the last real token; `fit((chosen, rejected))`.

    Args:
        backbone: a `TransformerLanguageModel` (a copy of the SFT model: the reward model trains it).
        dropout: on the pooled state.
    """

    def __init__(self, backbone, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        if not isinstance(backbone, TransformerLanguageModel):
            raise TypeError(f"backbone must be a TransformerLanguageModel, got {type(backbone).__name__}")
        self.backbone, self.dropout = backbone, dropout
        self.head_dropout = keras.layers.Dropout(dropout)
        self.head = keras.layers.Dense(1, dtype="float32", name="reward")
        self.track("loss", "accuracy", "margin")

    @property
    def context_length(self):
        return self.backbone.context_length

    def build(self, input_shape):
        if not self.backbone.built:
            self.backbone.build(input_shape)
        self.head.build((input_shape[0], self.backbone.config.d_model))
        self.built = True

    def call(self, token_ids, training=None):
        """rows (b, t) -> (b, 1) float32."""
        states = self.backbone.hidden_states(token_ids, training=training)
        pooled = last_real_state(states, ops.not_equal(token_ids, PAD_ID))
        return self.head(self.head_dropout(ops.cast(pooled, "float32"), training=training))

    def reward(self, rows, training=False):
        """rows (b, t) right-padded `[BOS] prompt completion [EOS]` -> r_φ (b,) float32."""
        return tf.squeeze(tf.cast(self(rows, training=training), tf.float32), -1)

    def _pair_step(self, data, training):
        chosen, rejected = data[0], data[1]
        margin = self.reward(chosen, training) - self.reward(rejected, training)
        loss = tf.reduce_mean(tf.nn.softplus(-margin))  # −log σ(margin)
        return loss, margin

    def _update(self, loss, margin):
        values = {"loss": loss, "accuracy": tf.reduce_mean(tf.cast(margin > 0, tf.float32)),
                  "margin": tf.reduce_mean(margin)}
        return self.report(values)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, margin = self._pair_step(data, True)
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._update(loss, margin)

    def test_step(self, data):
        return self._update(*self._pair_step(data, False))

    def get_config(self):
        return {**super().get_config(), "backbone": keras.saving.serialize_keras_object(self.backbone),
                "dropout": self.dropout}
