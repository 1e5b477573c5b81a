"""Shared fixtures: a corpus cache seeded from ../shared/data (CI has no internet)."""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "data"


def seed_cache():
    """Copy ../shared/data/* into the project's corpus cache when present (never committed)."""
    if SHARED_DATA.is_dir():
        CACHE.mkdir(exist_ok=True)
        for f in SHARED_DATA.iterdir():
            if f.suffix in (".txt", ".tsv") and not (CACHE / f.name).exists():
                shutil.copy(f, CACHE / f.name)


seed_cache()
os.environ.setdefault("LM_KERAS_DATA_DIR", str(CACHE))


def _cached(name):
    from lm_keras.data.named import is_cached

    return is_cached(name, CACHE)


@pytest.fixture(scope="session")
def shakespeare():
    if not _cached("tiny_shakespeare"):
        pytest.fail(f"tinyshakespeare.txt is not in {CACHE}; copy it from ../shared/data (see data/README.md)")
    from lm_keras.data import load_corpus

    return load_corpus("tiny_shakespeare")


@pytest.fixture(scope="session")
def tang_poems():
    if not _cached("tang_poems"):
        pytest.fail(f"tang_poems.txt/.tsv are not in {CACHE}; copy them from ../shared/data")
    from lm_keras.data import load_corpus

    return load_corpus("tang_poems")


@pytest.fixture(scope="session")
def quatrains():
    """Tang quatrains split 80/10/10 with a char tokenizer, as rows of [BOS] poem [EOS]."""
    if not _cached("tang_poems"):
        pytest.fail(f"tang_poems.txt/.tsv are not in {CACHE}; copy them from ../shared/data")
    from lm_keras.data import load_corpus, split_corpus
    from lm_keras.data.pipeline import encode_rows
    from lm_keras.tokenizers import create_tokenizer

    splits = split_corpus(load_corpus("tang_quatrains"), 0.1, 0.1, seed=0)
    tokenizer = create_tokenizer("char", splits["train"], max_vocabulary_size=2000)
    rows = {name: encode_rows(docs, tokenizer, 64) for name, docs in splits.items()}
    return {"splits": splits, "tokenizer": tokenizer, "rows": rows}


def train_small_vae(quatrains, steps=150, **options):
    """A small VAE fitted for `steps` batches of 64 quatrains (seeded)."""
    import keras
    import tensorflow as tf

    from lm_keras.data.pipeline import document_dataset
    from lm_keras.models import TextVAE

    keras.utils.set_random_seed(0)
    settings = dict(latent_dim=16, embedding_dim=64, encoder_dim=64, decoder_dim=128, seed=0,
                    kl_annealing="none", batch_norm_gamma=None)  # the vanilla VAE unless options say otherwise
    vae = TextVAE(quatrains["tokenizer"].vocabulary_size, **{**settings, **options})
    vae(tf.zeros((1, 2), tf.int32))
    vae.compile(optimizer=keras.optimizers.Adam(3e-3, global_clipnorm=1.0))
    history = vae.fit(document_dataset(quatrains["rows"]["train"], 64, seed=0, repeat=True),
                      steps_per_epoch=steps, epochs=1, verbose=0)
    return vae, history


@pytest.fixture(scope="session")
def trained_vae(quatrains):
    """A VAE that uses z (free bits 0.25 per dimension, word dropout 0.3), 150 steps."""
    return train_small_vae(quatrains, free_bits=0.25, word_dropout=0.3)[0]


@pytest.fixture(scope="session")
def make_vae(quatrains):
    """`make_vae(steps=150, **TextVAE options)` -> (vae, history), trained on the quatrains."""
    return lambda **options: train_small_vae(quatrains, **options)
