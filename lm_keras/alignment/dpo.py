"""Direct preference optimisation (Rafailov et al. 2023): the preference pairs, no reward model, no sampling.

With the implicit reward r_θ(x, y) = β · (log π_θ(y|x) − log π_ref(y|x)), the
Bradley–Terry loss of the reward model becomes a loss on the policy itself:

    L_DPO(θ) = −E_{(x, y_w, y_l)} [ log σ( r_θ(x, y_w) − r_θ(x, y_l) ) ]

Its optimum is the policy that maximises E[r] − β·KL(π‖π_ref) for the reward the
preferences came from, which is what RLHF's objective asks for.
"""

import keras
import tensorflow as tf

from lm_keras.alignment.sequences import completion_log_prob
from lm_keras.config import DPOConfig
from lm_keras.models.tracking import TrackedModel


@keras.saving.register_keras_serializable(package="lm_keras")
class DPOTrainer(TrackedModel):
    """Train `policy` on preference pairs against the frozen `reference`, with `fit((chosen, rejected, prompt_lengths))`.

    Rows are right-padded `[BOS] prompt completion [EOS]` (`preference_rows`); both rows of
    a pair share the prompt length. Logs the loss, the implicit rewards of chosen and
    rejected completions, their margin, and `accuracy` (share of pairs with a positive margin).
    """

    def __init__(self, policy, reference, beta=0.1, **kwargs):
        super().__init__(**kwargs)
        self.config = DPOConfig(beta)
        deserialize = keras.saving.deserialize_keras_object
        self.policy, self.reference = (deserialize(m) if isinstance(m, dict) else m for m in (policy, reference))
        self.track("loss", "accuracy", "margin", "chosen_reward", "rejected_reward")

    def build(self, input_shape=None):
        for model in (self.policy, self.reference):
            if not model.built:
                model.build((None, self.policy.context_length))
        self.built = True

    def call(self, token_ids, training=None):
        return self.policy(token_ids, training=training)

    def implicit_rewards(self, rows, prompt_lengths, training=False):
        """β · (log π_θ(y|x) − log π_ref(y|x)) per row: (b, w), (b,) -> (b,)."""
        policy = completion_log_prob(self.policy, rows, prompt_lengths, training)
        reference = tf.stop_gradient(completion_log_prob(self.reference, rows, prompt_lengths))
        return self.config.beta * (policy - reference)

    def _pair_losses(self, data):
        """Dropout off in training too, as in RL: the implicit reward is the policy's own."""
        chosen, rejected, lengths = data[0], data[1], data[2]
        chosen_reward = self.implicit_rewards(chosen, lengths)
        rejected_reward = self.implicit_rewards(rejected, lengths)
        margin = chosen_reward - rejected_reward
        loss = tf.reduce_mean(tf.nn.softplus(-margin))  # −log σ(margin)
        return loss, {"loss": loss, "accuracy": tf.reduce_mean(tf.cast(margin > 0, tf.float32)),
                      "margin": tf.reduce_mean(margin), "chosen_reward": tf.reduce_mean(chosen_reward),
                      "rejected_reward": tf.reduce_mean(rejected_reward)}

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss, values = self._pair_losses(data)
        gradients = tape.gradient(loss, self.policy.trainable_weights)
        self.optimizer.apply(gradients, self.policy.trainable_weights)
        return self.report(values)

    def test_step(self, data):
        return self.report(self._pair_losses(data)[1])

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {**super().get_config(), "beta": self.config.beta, "policy": serialize(self.policy),
                "reference": serialize(self.reference)}
