"""RLHF at tutorial scale: policy-gradient fine-tuning against a reward model, with a KL leash.

The documents' update rule is gradient *ascent* on an objective J(θ), the expected reward
of the policy π_θ (they call J a loss; it is maximised):

    θ ← θ + α ∇θ J(θ),    J(θ) = E_{x, y ~ π_θ(·|x)} [R(x, y)],
    R(x, y) = r_φ(x, y) − β · (log π_θ(y|x) − log π_ref(y|x))     (reward model − KL penalty)

∇J cannot be written down (the sum runs over every possible poem), but the REINFORCE
identity ∇J = E[(R − b) ∇ log π_θ(y|x)] can be estimated from samples, with any baseline
b that does not depend on y. RLOO (Ahmadian et al. 2024) draws k samples per prompt and
uses the mean of the *other* k − 1 returns as each one's baseline: unbiased, no value
network. PPO's clipped surrogate (Schulman et al. 2017) reuses one batch of samples for
several steps, clipping the probability ratio π_θ/π_old so no step goes far.
"""

import keras
import tensorflow as tf

from lm_keras.alignment.sequences import completion_mask, sample_completions, token_log_probs
from lm_keras.config import PolicyGradientConfig
from lm_keras.models.tracking import TrackedModel
from lm_keras.tokenizers.base import EOS_ID, PAD_ID, banned_mask


def rloo_advantages(returns, samples_per_prompt):
    """Leave-one-out advantages: returns (b·k,) grouped by prompt -> R_i − mean_{j≠i} R_j (b·k,)."""
    k = samples_per_prompt
    grouped = tf.reshape(returns, (-1, k))
    others = (tf.reduce_sum(grouped, axis=1, keepdims=True) - grouped) / (k - 1)
    return tf.reshape(grouped - others, (-1,))


def surrogate_objective(log_probs, old_log_probs, mask, advantages, algorithm="rloo", clip_ratio=0.2):
    """The sampled objective whose gradient estimates ∇J (to be *maximised*).

    Args:
        log_probs: (b, t) log π_θ of the sampled tokens (with gradient).
        old_log_probs: (b, t) the same under the policy that sampled them (no gradient).
        mask: (b, t) float, 1 on completion tokens.
        advantages: (b,) R − baseline, constants.

    "rloo" (REINFORCE): mean_i A_i Σ_t log π_θ(y_it).
    "ppo": mean_i Σ_t min(ρ_it A_i, clip(ρ_it, 1 − ε, 1 + ε) A_i), ρ = π_θ / π_old. At
    θ = θ_old (ρ = 1) its gradient is REINFORCE's, since ∇ρ = ∇ log π there.
    """
    advantages = tf.stop_gradient(advantages)[:, None]
    if algorithm == "rloo":
        return tf.reduce_mean(tf.reduce_sum(advantages * log_probs * mask, axis=1))
    ratio = tf.exp(log_probs - tf.stop_gradient(old_log_probs))
    clipped = tf.clip_by_value(ratio, 1.0 - clip_ratio, 1.0 + clip_ratio)
    return tf.reduce_mean(tf.reduce_sum(tf.minimum(ratio * advantages, clipped * advantages) * mask, axis=1))


@keras.saving.register_keras_serializable(package="lm_keras")
class PolicyGradientTrainer(TrackedModel):
    """Fine-tune `policy` to maximise `reward_model` − β·KL(π‖`reference`), with `fit(prompt_rows)`.

    Args:
        policy: a `TransformerLanguageModel` (the SFT model; it is trained).
        reference: the SFT model π_ref (a copy of the policy before training); only read.
        reward_model: a trained `RewardModel`; only read.
        config: a `PolicyGradientConfig` (or its fields as keyword arguments).
        seed: seeds the samples (step i samples with seed + i).

    `fit` takes batches of left-padded prompt rows `[BOS] title ：` (b, p) (padding 0). Each
    step samples `samples_per_prompt` completions per prompt and logs the reward model's
    score (`reward`), the KL estimate Σ_t log π/π_ref per sample (`kl`), R (`return`), the
    objective, the completion length, and for PPO the share of clipped ratios.
    """

    def __init__(self, policy, reference, reward_model, config=None, seed=0, **kwargs):
        fields = {k: kwargs.pop(k) for k in list(kwargs) if k in PolicyGradientConfig.__dataclass_fields__}
        super().__init__(**kwargs)
        self.config = config if isinstance(config, PolicyGradientConfig) else PolicyGradientConfig(**fields)
        deserialize = keras.saving.deserialize_keras_object
        self.policy, self.reference, self.reward_model = (deserialize(m) if isinstance(m, dict) else m
                                                          for m in (policy, reference, reward_model))
        self.seed = seed
        self._banned = banned_mask(self.policy.vocabulary_size)
        self.steps_seen = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False,
                                          name="steps_seen")
        self.track("objective", "reward", "kl", "return", "length", "clipped")

    def build(self, input_shape=None):
        shape = (None, self.policy.context_length)
        for model in (self.policy, self.reference, self.reward_model):
            if not model.built:
                model.build(shape)
        self.built = True

    def call(self, token_ids, training=None):
        return self.policy(token_ids, training=training)

    def sample(self, prompts, seed):
        """Left-padded prompts (b, p) -> (rows (b·k, p + max_new_tokens), prompt lengths (b·k,)), k per prompt."""
        prompts = tf.repeat(tf.cast(prompts, tf.int32), self.config.samples_per_prompt, axis=0)
        return sample_completions(self.policy, prompts, prompts != PAD_ID, self._banned, self.config.max_new_tokens,
                                  seed, self.config.temperature, EOS_ID)

    def train_step(self, data):
        config = self.config
        prompts = data[0] if isinstance(data, (tuple, list)) else data
        rows, lengths = self.sample(prompts, self.steps_seen + 1_000_003 * self.seed)
        mask = tf.cast(completion_mask(rows, lengths), tf.float32)
        old_log_probs = tf.stop_gradient(token_log_probs(self.policy, rows))
        kl = tf.reduce_sum((old_log_probs - token_log_probs(self.reference, rows)) * mask, axis=1)
        score = self.reward_model.reward(rows)
        returns = score - config.beta * kl
        advantages = rloo_advantages(returns, config.samples_per_prompt)

        weights = self.policy.trainable_weights
        updates = config.ppo_epochs if config.algorithm == "ppo" else 1
        for _ in range(updates):
            with tf.GradientTape() as tape:
                # Dropout off (training=False): ρ and the KL are those of the policy that sampled.
                log_probs = token_log_probs(self.policy, rows)
                objective = surrogate_objective(log_probs, old_log_probs, mask, advantages, config.algorithm,
                                                config.clip_ratio)
            gradients = tape.gradient(objective, weights)
            # θ ← θ + α ∇J. Keras optimizers step against the gradient they are given, so give them −∇J.
            self.optimizer.apply([-g for g in gradients], weights)
        ratio = tf.exp(log_probs - old_log_probs)
        clipped = tf.cast(tf.abs(ratio - 1.0) > config.clip_ratio, tf.float32)
        self.steps_seen.assign_add(1)
        values = {"objective": objective, "reward": tf.reduce_mean(score), "kl": tf.reduce_mean(kl),
                  "return": tf.reduce_mean(returns), "length": tf.reduce_mean(tf.reduce_sum(mask, axis=1)),
                  "clipped": tf.reduce_sum(clipped * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)}
        return self.report(values)

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {**super().get_config(), **self.config.to_dict(), "seed": self.seed,
                "policy": serialize(self.policy), "reference": serialize(self.reference),
                "reward_model": serialize(self.reward_model)}
