"""The three training stages after SFT: reward model, RL (RLOO / PPO) and DPO, each with `fit_steps`.

Every stage takes a `TrainConfig` (steps, batch size, learning rate, eval interval,
seed) and an optional `backup_dir`: a killed stage resumes there, on the same batches,
and a diverging one stops with the last good weights kept (see `fit_steps`).
"""

import os
from pathlib import Path

import tensorflow as tf

from lm_keras.alignment.dpo import DPOTrainer
from lm_keras.alignment.policy_gradient import PolicyGradientTrainer
from lm_keras.alignment.preferences import preference_rows
from lm_keras.alignment.sequences import prompt_ids
from lm_keras.config import PolicyGradientConfig
from lm_keras.errors import ConfigError
from lm_keras.generation.generator import left_pad
from lm_keras.models.reward_model import RewardModel
from lm_keras.training.fit import fit_steps
from lm_keras.training.optimizers import build_optimizer, build_slots


def copy_model(model):
    """A new, trainable model of the same config with the same weights (π_ref, a reward model's backbone)."""
    clone = type(model).from_config({**model.get_config(), "trainable": True})
    clone.build((None, model.context_length))
    clone.set_weights(model.get_weights())
    return clone


def pair_dataset(chosen, rejected, prompt_lengths, batch_size, seed=0, repeat=True):
    """(chosen rows, rejected rows, prompt lengths) batches; shuffled and repeated for training."""
    dataset = tf.data.Dataset.from_tensor_slices((chosen, rejected, prompt_lengths))
    if repeat:
        dataset = dataset.shuffle(len(chosen), seed=seed, reshuffle_each_iteration=True).repeat()
        return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return dataset.batch(batch_size)


def prompt_dataset(tokenizer, prompts, context_length, max_new_tokens, batch_size, seed=0):
    """Left-padded `[BOS] prompt` rows (batch, width), shuffled and repeated; padding is 0."""
    if not prompts:
        raise ConfigError("prompts is empty: RL needs at least one prompt")
    rows, _ = left_pad(tf.ragged.constant(prompt_ids(tokenizer, prompts, context_length, max_new_tokens),
                                          dtype=tf.int32))
    dataset = tf.data.Dataset.from_tensor_slices(rows).shuffle(len(prompts), seed=seed).repeat()
    return dataset.batch(batch_size, drop_remainder=True)


def _compile(model, variables_of, train_config):
    model.compile(optimizer=build_optimizer(variables_of, train_config, train_config.steps))
    build_slots(model, variables_of.trainable_variables)


def train_reward_model(sft_model, tokenizer, preferences, train_config, validation=None, max_new_tokens=34,
                       backup_dir=None, verbose="auto", callbacks=()):
    """Bradley–Terry reward model on a copy of the SFT model -> (RewardModel, History).

    `preferences` / `validation`: tables of `label_pairs` (prompt, chosen, rejected).
    """
    reward_model = RewardModel(copy_model(sft_model), name="reward_model")
    chosen, rejected, lengths = preference_rows(preferences, tokenizer, sft_model.context_length, max_new_tokens)
    reward_model.build((None, chosen.shape[1]))
    _compile(reward_model, reward_model, train_config)
    valid = None
    if validation is not None:
        v = preference_rows(validation, tokenizer, sft_model.context_length, max_new_tokens)
        valid = tf.data.Dataset.from_tensor_slices((v[0], v[1])).batch(train_config.batch_size)
    train = tf.data.Dataset.from_tensor_slices((chosen, rejected))
    train = train.shuffle(len(chosen), seed=train_config.seed).repeat().batch(train_config.batch_size,
                                                                               drop_remainder=True)
    history = fit_steps(reward_model, train, train_config, validation=valid, callbacks=callbacks, verbose=verbose,
                        backup_dir=backup_dir)
    return reward_model, history


def train_policy_gradient(policy, reward_model, tokenizer, prompts, config, train_config, reference=None,
                          backup_dir=None, verbose="auto", callbacks=(), kl_limit=1e3):
    """RL fine-tuning of `policy` in place (RLOO or PPO) -> (trainer, History).

    `reference` defaults to a copy of `policy` taken before training. `train_config.batch_size`
    counts prompts; each step samples `config.samples_per_prompt` completions of each.
    Training stops (`TrainingError`, last good weights kept) when the KL estimate exceeds `kl_limit`.
    """
    config = config if isinstance(config, PolicyGradientConfig) else PolicyGradientConfig(**(config or {}))
    reference = reference or copy_model(policy)
    trainer = PolicyGradientTrainer(policy, reference, reward_model, config, seed=train_config.seed)
    trainer.build()
    _compile(trainer, policy, train_config)
    data = prompt_dataset(tokenizer, list(prompts), policy.context_length, config.max_new_tokens,
                          train_config.batch_size, train_config.seed)
    history = fit_steps(trainer, data, train_config, callbacks=callbacks, verbose=verbose, backup_dir=backup_dir,
                        limits={"kl": kl_limit})
    return trainer, history


def train_dpo(policy, tokenizer, preferences, train_config, beta=0.1, validation=None, reference=None,
              max_new_tokens=34, backup_dir=None, verbose="auto", callbacks=()):
    """DPO fine-tuning of `policy` in place on the preference table -> (trainer, History)."""
    reference = reference or copy_model(policy)
    trainer = DPOTrainer(policy, reference, beta=beta)
    trainer.build()
    _compile(trainer, policy, train_config)
    chosen, rejected, lengths = preference_rows(preferences, tokenizer, policy.context_length, max_new_tokens)
    train = pair_dataset(chosen, rejected, lengths, train_config.batch_size, train_config.seed)
    valid = None
    if validation is not None:
        valid = pair_dataset(*preference_rows(validation, tokenizer, policy.context_length, max_new_tokens),
                             train_config.batch_size, repeat=False)
    history = fit_steps(trainer, train, train_config, validation=valid, callbacks=callbacks, verbose=verbose,
                        backup_dir=backup_dir)
    return trainer, history


def save_model(model, path):
    """Save a stage's model as `.keras` atomically: written beside `path`, then renamed over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    try:
        model.save(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
