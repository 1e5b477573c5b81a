"""Preference pairs: two completions of one prompt, labelled by a noisy "human".

The human is the judge seen through the Bradley–Terry model with a temperature T:

    P(a ≻ b) = σ((s_a − s_b) / T)

so a pair whose judge scores differ by T is labelled the judge's way 73% of the time,
by 2T 88%, and a tie is a coin flip: labels are imperfect, as people's are.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from lm_keras.alignment.sequences import generate_completions, pack_rows, prompt_ids
from lm_keras.config import PreferenceConfig
from lm_keras.errors import ConfigError
from lm_keras.utils.atomic import atomic_file

COLUMNS = ["prompt", "chosen", "rejected", "judge_chosen", "judge_rejected", "p_chosen", "judge_agrees"]


def sample_pairs(model, tokenizer, prompts, max_new_tokens, seed=0, temperature=1.0):
    """Two sampled completions for every prompt -> DataFrame (prompt, a, b)."""
    prompts = list(prompts)
    if not prompts:
        raise ConfigError("prompts is empty: preference pairs need at least one prompt")
    texts, _, _ = generate_completions(model, tokenizer, prompts * 2, max_new_tokens, seed=seed,
                                       temperature=temperature)
    return pd.DataFrame({"prompt": prompts, "a": texts[:len(prompts)], "b": texts[len(prompts):]})


def label_pairs(pairs, judge, config=None, seed=0):
    """Label pairs (prompt, a, b) with noisy Bradley–Terry preferences of `judge` -> the preference table.

    Columns: prompt, chosen, rejected, the judge's totals of both, `p_chosen` (the
    probability the human had of choosing the chosen one) and `judge_agrees` (the
    judge's total of the chosen one is higher; False for ties).
    """
    config = config or PreferenceConfig()
    score_a = judge.score_many(pairs["a"])["total"].to_numpy(float)
    score_b = judge.score_many(pairs["b"])["total"].to_numpy(float)
    p_a = 1.0 / (1.0 + np.exp(-(score_a - score_b) / config.temperature))
    a_wins = np.random.default_rng(seed).random(len(pairs)) < p_a
    chosen = np.where(a_wins, pairs["a"], pairs["b"])
    rejected = np.where(a_wins, pairs["b"], pairs["a"])
    judge_chosen, judge_rejected = np.where(a_wins, score_a, score_b), np.where(a_wins, score_b, score_a)
    return pd.DataFrame({"prompt": pairs["prompt"].to_numpy(), "chosen": chosen, "rejected": rejected,
                         "judge_chosen": judge_chosen, "judge_rejected": judge_rejected,
                         "p_chosen": np.where(a_wins, p_a, 1 - p_a), "judge_agrees": judge_chosen > judge_rejected})


def check_preferences(table):
    """Raise `ConfigError` for an empty table or missing columns; return it."""
    if table is None or len(table) == 0:
        raise ConfigError("the preference set is empty: sample and label pairs first (sample_pairs, label_pairs)")
    missing = [c for c in ("prompt", "chosen", "rejected") if c not in table.columns]
    if missing:
        raise ConfigError(f"the preference table has no column(s) {missing}; it needs prompt, chosen, rejected")
    return table


def preference_rows(table, tokenizer, context_length, max_new_tokens):
    """The table -> (chosen rows, rejected rows, prompt lengths), rows (n, width) as `pack_rows` makes them."""
    check_preferences(table)
    prompts = prompt_ids(tokenizer, list(table["prompt"]), context_length, max_new_tokens)
    width = min(context_length, max(map(len, prompts)) + max_new_tokens)

    def completions(column):
        return [ids + [tokenizer.eos_id] for ids in tokenizer.encode(list(table[column])).to_list()]

    chosen, lengths = pack_rows(prompts, completions("chosen"), width)
    rejected, _ = pack_rows(prompts, completions("rejected"), width)
    return chosen, rejected, lengths


def save_preferences(table, path):
    """Write the table as Parquet (or TSV for a `.tsv` path), atomically."""
    path = Path(path)
    with atomic_file(path, "wb") as f:
        if path.suffix == ".tsv":
            f.write(table.to_csv(sep="\t", index=False).encode("utf-8"))
        else:
            table.to_parquet(f, index=False)
    return path


def load_preferences(path):
    """Read a table written by `save_preferences`, checked by `check_preferences`."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"no preference table at {path}")
    table = pd.read_csv(path, sep="\t") if path.suffix == ".tsv" else pd.read_parquet(path)
    return check_preferences(table)
