"""Alignment at tutorial scale: a checkable judge, preference pairs, a reward model, RL (RLOO / PPO) and DPO.

    SFT model ─► sample pairs ─► noisy Bradley–Terry labels from the judge ─► reward model ─► RLOO / PPO
                                                                 └──────────────────────────────► DPO
"""

from lm_keras.alignment.data import prompts_of, sft_texts, split_titled, titled_quatrains
from lm_keras.alignment.dpo import DPOTrainer
from lm_keras.alignment.evaluation import JudgeMonitor, JudgeReward, evaluate_policy, heldout_nll, kl_to_reference
from lm_keras.alignment.policy_gradient import PolicyGradientTrainer, rloo_advantages, surrogate_objective
from lm_keras.alignment.preferences import (check_preferences, label_pairs, load_preferences, preference_rows,
                                            sample_pairs, save_preferences)
from lm_keras.alignment.rewards import QuatrainJudge, rhyme_group
from lm_keras.alignment.sequences import generate_completions, prompt_for
from lm_keras.alignment.training import (copy_model, save_model, train_dpo, train_policy_gradient,
                                         train_reward_model)

__all__ = ["DPOTrainer", "JudgeMonitor", "JudgeReward", "PolicyGradientTrainer", "QuatrainJudge", "check_preferences", "copy_model",
           "evaluate_policy", "generate_completions", "heldout_nll", "kl_to_reference", "label_pairs",
           "load_preferences", "preference_rows", "prompt_for", "prompts_of", "rhyme_group", "rloo_advantages",
           "sample_pairs", "save_model", "save_preferences", "sft_texts", "split_titled", "surrogate_objective",
           "titled_quatrains", "train_dpo", "train_policy_gradient", "train_reward_model"]
