"""Preference pairs: completions of one prompt, the best and the worst as a noisy "human" ranks them.

The human is the judge seen through the Bradley–Terry model with a temperature T:

    P(a ≻ b) = σ((s_a − s_b) / T)

so a pair whose judge scores differ by T is labelled the judge's way 73% of the time,
by 2T 88%, and a tie is a coin flip: labels are imperfect, as people's are. The same
person ranks k > 2 candidates by adding Gumbel noise of scale T to each score (the
Plackett–Luce model, whose every pair follows the σ above) and keeps the top and the bottom
one, as UltraFeedback-style preference sets do: a pair of two extremes of four teaches more
than two random draws, most of which differ by a repeated character only.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from lm_keras.alignment.sequences import generate_completions, pack_rows, prompt_ids
from lm_keras.config import PreferenceConfig
from lm_keras.errors import ConfigError
from lm_keras.utils.atomic import atomic_file

CANDIDATE_COLUMNS = "abcdefghijklmnop"   # sample_pairs's columns: a, b, ... one per candidate


def sample_pairs(model, tokenizer, prompts, max_new_tokens, seed=0, temperature=1.0, candidates=2):
    """`candidates` sampled completions for every prompt -> DataFrame (prompt, a, b, ...), one column each."""
    prompts = list(prompts)
    if not prompts:
        raise ConfigError("prompts is empty: preference pairs need at least one prompt")
    if not isinstance(candidates, int) or not 2 <= candidates <= len(CANDIDATE_COLUMNS):
        raise ConfigError(f"candidates = {candidates!r} is invalid: must be an int from 2 (a preference needs two "
                          f"completions) to {len(CANDIDATE_COLUMNS)}")
    texts, _, _ = generate_completions(model, tokenizer, prompts * candidates, max_new_tokens, seed=seed,
                                       temperature=temperature)
    n = len(prompts)
    return pd.DataFrame({"prompt": prompts, **{CANDIDATE_COLUMNS[i]: texts[i * n:(i + 1) * n]
                                               for i in range(candidates)}})


def label_pairs(pairs, judge, config=None, seed=0):
    """Label candidates (prompt, a, b, ...) by a noisy person's ranking of `judge`'s totals -> the preference table.

    The person's utility of each candidate is its judge total plus Gumbel noise of scale T
    (`config.temperature`); the chosen is the top one, the rejected the bottom one. With two
    candidates this is the Bradley–Terry label, chosen with probability σ((s_a − s_b) / T).
    Columns: prompt, chosen, rejected, the judge's totals of both, `p_chosen` (the
    Bradley–Terry probability of preferring the chosen one to the rejected one) and
    `judge_agrees` (the judge's total of the chosen one is higher; False for ties).
    """
    config = config or PreferenceConfig()
    columns = [c for c in CANDIDATE_COLUMNS if c in pairs.columns]
    if len(columns) < 2:
        raise ConfigError(f"the pairs have candidate columns {columns}; label_pairs needs at least 'a' and 'b'")
    texts = np.stack([pairs[c].to_numpy(object) for c in columns], axis=1)             # (n, k)
    scores = np.stack([judge.score_many(pairs[c])["total"].to_numpy(float) for c in columns], axis=1)
    utility = scores + config.temperature * np.random.default_rng(seed).gumbel(size=scores.shape)
    rows, best, worst = np.arange(len(pairs)), utility.argmax(axis=1), utility.argmin(axis=1)
    judge_chosen, judge_rejected = scores[rows, best], scores[rows, worst]
    return pd.DataFrame({"prompt": pairs["prompt"].to_numpy(), "chosen": texts[rows, best],
                         "rejected": texts[rows, worst], "judge_chosen": judge_chosen,
                         "judge_rejected": judge_rejected,
                         "p_chosen": 1.0 / (1.0 + np.exp(-(judge_chosen - judge_rejected) / config.temperature)),
                         "judge_agrees": judge_chosen > judge_rejected})


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
