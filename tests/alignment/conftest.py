"""Tiny models and texts for the alignment tests (seconds on a CPU)."""

import pytest

from alignment_helpers import POEMS, tiny_transformer
from lm_keras.tokenizers import CharTokenizer


@pytest.fixture(scope="session")
def tokenizer():
    return CharTokenizer.train([f"{title}：{body}" for title, body in POEMS.items()])


@pytest.fixture(scope="session")
def tiny_lm(tokenizer):
    return tiny_transformer(tokenizer.vocabulary_size)
