"""Shared fixtures. Corpora come through `load_corpus`: from the cache (`$LM_KERAS_DATA_DIR`, else
the checkout's data/), downloaded when missing. `make data` fills the cache from ../shared/data
where that folder exists; nothing here writes into the repository."""

import pytest


def corpus(name):
    """`load_corpus(name)`, or a one-line failure that names the file and how to provide it."""
    from lm_keras.data import load_corpus
    from lm_keras.errors import CorpusError

    try:
        return load_corpus(name)
    except CorpusError as e:
        message = str(e)
    pytest.fail(message, pytrace=False)  # outside `except`: no chained tracebacks


@pytest.fixture(scope="session")
def shakespeare():
    return corpus("tiny_shakespeare")


@pytest.fixture(scope="session")
def tang_poems():
    return corpus("tang_poems")


@pytest.fixture(scope="session")
def quatrains():
    """Tang quatrains split 80/10/10 with a char tokenizer, as rows of [BOS] poem [EOS]."""
    from lm_keras.data import split_corpus
    from lm_keras.data.pipeline import encode_rows
    from lm_keras.tokenizers import create_tokenizer

    splits = split_corpus(corpus("tang_quatrains"), 0.1, 0.1, seed=0)
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that stops on a corpus the machine cannot get reports that in one line."""
    from lm_keras.errors import CorpusError

    report = yield
    if report.failed and call.excinfo is not None and call.excinfo.errisinstance(CorpusError):
        if "is not cached and could not be downloaded" in str(call.excinfo.value):
            report.longrepr = str(call.excinfo.value)
    return report
