"""How an aligned policy stands: the true judge, the KL it paid, the alignment tax, diversity."""

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from lm_keras.alignment.sequences import (PROMPT_SEPARATOR, completion_log_prob, completion_mask, generate_completions,
                                          pack_rows, prompt_ids)
from lm_keras.evaluation.classification import mean_interval
from lm_keras.evaluation.text_quality import distinct_n
from lm_keras.tokenizers.base import PAD_ID


def _batched(function, *arrays, batch_size=128):
    return np.concatenate([function(*(a[i:i + batch_size] for a in arrays)).numpy()
                           for i in range(0, len(arrays[0]), batch_size)])


def kl_to_reference(policy, reference, rows, prompt_lengths):
    """Monte-Carlo KL(π‖π_ref) per sample: Σ_t log π(y_t) − log π_ref(y_t) on samples y ~ π -> (n,)."""
    def kl(r, lengths):
        return completion_log_prob(policy, r, lengths) - completion_log_prob(reference, r, lengths)
    return _batched(kl, rows, prompt_lengths)


def heldout_nll(model, tokenizer, prompts, bodies, max_new_tokens=34):
    """NLL per token (nats) of real poems (body and [EOS]) after their prompts: the "alignment tax" measure."""
    ids = prompt_ids(tokenizer, prompts, model.context_length, max_new_tokens)
    completions = [c + [tokenizer.eos_id] for c in tokenizer.encode(list(bodies)).to_list()]
    rows, lengths = pack_rows(ids, completions, max(map(len, ids)) + max_new_tokens)
    log_probs = _batched(lambda r, n: completion_log_prob(model, r, n), rows, lengths)
    tokens = tf.reduce_sum(tf.cast(completion_mask(tf.constant(rows), tf.constant(lengths)), tf.float32)).numpy()
    return float(-log_probs.sum() / tokens)


def evaluate_policy(model, tokenizer, prompts, judge, reference=None, reward_model=None, heldout=None,
                    max_new_tokens=34, temperature=1.0, seed=0):
    """Sample one completion per prompt and measure it -> (figures dict, samples DataFrame).

    Figures: the true judge's mean total, format / rhyme / success rates and the 95% bootstrap
    interval of the success rate over the prompts (`success_low`, `success_high`); with `reference`
    the mean KL(π‖π_ref) estimate; with `reward_model` its mean score; with `heldout`
    (prompts, bodies) the held-out NLL per token; distinct-2 of the completions.
    """
    completions, rows, lengths = generate_completions(model, tokenizer, list(prompts), max_new_tokens, seed=seed,
                                                      temperature=temperature)
    scores = judge.score_many(completions)
    samples = pd.concat([pd.DataFrame({"prompt": list(prompts)}), scores], axis=1)
    figures = {"judge_total": float(scores["total"].mean()), "format": float(scores["format"].mean()),
               "rhyme": float(scores["rhyme"].mean()), "success": float(scores["success"].mean()),
               "distinct_2": distinct_n(completions, 2)}
    figures["success_low"], figures["success_high"] = mean_interval(scores["success"].to_numpy(float), seed=seed)
    if reference is not None:
        kl = kl_to_reference(model, reference, rows, lengths)
        figures["kl"] = float(kl.mean())
        samples["kl"] = kl
    if reward_model is not None:
        reward = _batched(reward_model.reward, rows)
        figures["reward_model"] = float(reward.mean())
        samples["reward_model"] = reward
    if heldout is not None:
        figures["heldout_nll"] = heldout_nll(model, tokenizer, *heldout, max_new_tokens=max_new_tokens)
    return figures, samples


class JudgeMonitor(keras.callbacks.Callback):
    """Adds the true judge's view of the policy to the logs after every epoch (evaluation interval).

    The trainer optimises the reward model's score (`reward`); `judge_total` and
    `judge_success` on fixed prompts show whether the true preference follows it, or
    whether the policy found what the reward model wrongly likes (reward hacking).
    """

    def __init__(self, tokenizer, prompts, judge, max_new_tokens=34, seed=0):
        super().__init__()
        self.tokenizer, self.prompts, self.judge = tokenizer, list(prompts), judge
        self.max_new_tokens, self.seed = max_new_tokens, seed

    def on_epoch_end(self, epoch, logs=None):
        texts, _, _ = generate_completions(self.model.policy, self.tokenizer, self.prompts, self.max_new_tokens,
                                           seed=self.seed)
        scores = self.judge.score_many(texts)
        if logs is not None:
            logs["judge_total"] = float(scores["total"].mean())
            logs["judge_success"] = float(scores["success"].mean())


class JudgeReward:
    """The true judge as the reward of RL (in place of a reward model): the ceiling a learned reward model is measured against.

    `reward(rows)` decodes each row, keeps the text after the first `：` (titles never
    contain it) and returns the judge's total, through `tf.py_function` so that it runs
    inside a compiled `train_step`. A person cannot be queried like this; the judge can.
    """

    trainable = False
    built = True

    def __init__(self, judge, tokenizer):
        self.judge, self.tokenizer = judge, tokenizer

    def _totals(self, rows):
        decoded = self.tokenizer.decode(tf.ragged.boolean_mask(rows, rows != PAD_ID)).numpy()  # one batch
        texts = [text.decode("utf-8").split(PROMPT_SEPARATOR, 1)[-1] for text in decoded]
        return np.asarray(self.judge.score_many(texts)["total"], np.float32)

    def reward(self, rows, training=False):
        totals = tf.py_function(self._totals, [rows], tf.float32)
        return tf.reshape(totals, [tf.shape(rows)[0]])
