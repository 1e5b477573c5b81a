"""Pretrain, then fine-tune: `finetune_language_model` goes on training a pretrained LM on new texts with its
tokenizer, as the alignment recipe's SFT does (every Tang poem, then the titled quatrains)."""

import random

import pytest

from lm_keras.config import RunConfig, TrainConfig
from lm_keras.errors import CorpusError
from lm_keras.evaluation import evaluate
from lm_keras.training import finetune_language_model, pretrain_language_model

SPRING, AUTUMN = "春花月夜江水", "秋風霜葉寒山"


def texts(chars, n, seed):
    rng = random.Random(seed)
    return ["".join(rng.choice(chars) for _ in range(rng.randint(6, 12))) for _ in range(n)]


def train_config(steps):
    return TrainConfig(context_length=16, batch_size=16, steps=steps, eval_interval=steps, eval_batches=2,
                       learning_rate=1e-2, seed=0)


def test_fine_tuning_moves_a_pretrained_model_to_the_new_texts():
    mixed = [t for pair in zip(texts(SPRING, 150, 0), texts(AUTUMN, 150, 1)) for t in pair]
    config = RunConfig(corpus="seasons", model_type="transformer", model={"num_layers": 1, "num_heads": 2, "d_model": 16},
                       train=train_config(60))
    run = pretrain_language_model(mixed, config, verbose=0, notice=lambda *_: None)
    autumn, spring = texts(AUTUMN, 40, 2), texts(SPRING, 40, 3)

    def nll(documents):
        return evaluate(run.model, run.tokenizer, documents, line_level=True)["loss"]

    before = {"autumn": nll(autumn), "spring": nll(spring)}
    history = finetune_language_model(run.model, run.tokenizer, texts(AUTUMN, 300, 4), texts(AUTUMN, 40, 5),
                                      train_config(40), verbose=0)
    after = {"autumn": nll(autumn), "spring": nll(spring)}
    # Pretrained on both seasons, the model cannot know a text's season before its first character; fine-tuned on
    # autumn only, it expects autumn: autumn texts cost less than before, spring texts more.
    assert after["autumn"] < before["autumn"] - 0.1 and after["spring"] > before["spring"] + 0.3
    assert "val_loss" in history.history and len(history.history["loss"]) == 1
    with pytest.raises(CorpusError, match="newline"):
        finetune_language_model(run.model, run.tokenizer, ["秋風\n霜葉"], autumn, train_config(1), verbose=0)
