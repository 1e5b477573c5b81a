"""Small language models of each kind, trained for a few seconds so that their predictions are peaked."""

import keras
import numpy as np
import pytest

from lm_keras.generation import Generator
from lm_keras.models import build_model
from lm_keras.tokenizers import CharTokenizer

TEXT = "the quick brown fox jumps over the lazy dog. " * 3

MODELS = {
    "rnn": dict(cell_type="lstm", embedding_dim=8, hidden_dim=32),
    "transformer": dict(context_length=24, num_layers=2, num_heads=2, d_model=32),
}


def _train(model_type, tokenizer):
    keras.utils.set_random_seed(0)
    model = build_model(model_type, vocabulary_size=tokenizer.vocabulary_size, **MODELS[model_type])
    ids = tokenizer.encode_to_numpy(TEXT * 4)
    starts = np.arange(0, len(ids) - 21, 3)
    x = np.stack([ids[s : s + 20] for s in starts])
    y = np.stack([ids[s + 1 : s + 21] for s in starts])
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    return model


@pytest.fixture(scope="session", params=list(MODELS))
def generator(request):
    tokenizer = CharTokenizer.train(TEXT)
    return Generator(_train(request.param, tokenizer), tokenizer)
