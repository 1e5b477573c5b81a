"""Titled Tang poems for alignment: the pretraining and SFT corpora `title：body` and the prompts `title：`."""

import numpy as np

from lm_keras.alignment.sequences import prompt_for
from lm_keras.data import load_corpus
from lm_keras.data.poems import quatrain_form

MAX_TITLE_CHARACTERS = 12


def titled_poems(frame=None):
    """Every poem of `tang_poems` with its title -> DataFrame (title, body), any form (the pretraining text).

    Bodies are deduplicated (first title kept); titles that are empty, longer than
    `MAX_TITLE_CHARACTERS`, or contain the separator `：` are dropped, so a prompt is short
    and ends where the poem begins.
    """
    if frame is None:
        frame = load_corpus("tang_poems").frame
    table = frame[["title", "body"]].astype(str).apply(lambda column: column.str.strip())
    table = table[(table["title"].str.len().between(1, MAX_TITLE_CHARACTERS)) & ~table["title"].str.contains("：")
                  & (table["body"].str.len() > 0)]
    return table.drop_duplicates("body").reset_index(drop=True)


def pretraining_poems(held_out, frame=None):
    """`titled_poems` without the bodies of the `held_out` DataFrames (validation and test quatrains)
    -> DataFrame (title, body): what the SFT model is pretrained on."""
    table = titled_poems(frame)
    return table[~table["body"].isin(set().union(*(set(part["body"]) for part in held_out)))].reset_index(drop=True)


def titled_quatrains(frame=None):
    """The regular quatrains of `titled_poems` -> DataFrame (title, body, form), form 5 or 7."""
    table = titled_poems(frame)
    table = table.assign(form=table["body"].map(quatrain_form)).dropna(subset=["form"]).reset_index(drop=True)
    return table.assign(form=table["form"].astype(int))


def split_titled(table, fractions=(0.8, 0.1, 0.1), seed=0):
    """A seeded shuffle split -> (train, validation, test) DataFrames."""
    order = np.random.default_rng(seed).permutation(len(table))
    ends = np.cumsum([int(round(f * len(table))) for f in fractions[:-1]])
    return tuple(table.iloc[part].reset_index(drop=True) for part in np.split(order, ends))


def sft_texts(table):
    """Rows -> the SFT documents `title：body` (one a line)."""
    return [prompt_for(title) + body for title, body in zip(table["title"], table["body"])]


def prompts_of(table):
    """Rows -> the prompts `title：`."""
    return [prompt_for(title) for title in table["title"]]
