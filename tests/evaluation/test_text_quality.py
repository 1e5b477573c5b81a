"""Quality and diversity measures for generated text."""

import numpy as np
import pytest

from lm_keras.config import TrainConfig
from lm_keras.evaluation.text_quality import distinct_n, frechet_distance, self_bleu
from lm_keras.training.text_quality import reverse_lm_nll, score_generations
from lm_keras.tokenizers import CharTokenizer

POEMS = ["白日依山盡，黃河入海流。欲窮千里目，更上一層樓。", "床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。",
         "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。", "紅豆生南國，春來發幾枝。願君多采擷，此物最相思。"]


def test_self_bleu_of_identical_texts_is_100_and_lower_for_different_ones():
    assert self_bleu([POEMS[0]] * 5) == pytest.approx(100.0)
    different = self_bleu(POEMS)
    print("Self-BLEU of four different poems:", different)
    assert 0 <= different < 30
    with pytest.raises(ValueError, match="at least 2"):
        self_bleu([POEMS[0], ""])


def test_distinct_n_counts_unique_character_ngrams():
    assert distinct_n(["abab"], 2) == pytest.approx(2 / 3)  # ab, ba, ab
    assert distinct_n(["aaaa", "aaaa"], 1) == pytest.approx(1 / 8)
    assert distinct_n(["a"], 2) == 0.0


def test_frechet_distance_is_zero_for_the_same_set_and_grows_with_a_shift():
    codes = np.random.default_rng(0).normal(size=(2000, 8))
    assert frechet_distance(codes, codes) == pytest.approx(0.0, abs=1e-6)
    shifted = [frechet_distance(codes, codes + shift) for shift in (0.5, 1.0, 2.0)]
    # a shift s of every one of 8 coordinates adds exactly 8 s² (the covariances are equal)
    np.testing.assert_allclose(shifted, [8 * 0.25, 8 * 1.0, 8 * 4.0], rtol=1e-6)
    scaled = frechet_distance(codes, 2 * codes)  # N(0, I) vs N(0, 4I): d (1 + 4 − 2·2) = d
    assert scaled == pytest.approx(8.0, rel=0.1)
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(codes, codes[:, :3])


@pytest.mark.slow
def test_reverse_lm_prefers_generations_that_cover_the_real_texts():
    tokenizer = CharTokenizer.train("".join(POEMS))
    config = TrainConfig(context_length=16, batch_size=8, steps=60, eval_interval=60, eval_batches=1,
                         learning_rate=1e-2, seed=0)
    options = dict(embedding_dim=16, hidden_dim=32)
    covering = reverse_lm_nll(POEMS * 20, POEMS, tokenizer, config, **options)
    repetitive = reverse_lm_nll(POEMS[:1] * 80, POEMS, tokenizer, config, **options)
    print("reverse-LM NLL: covering", covering, "one poem repeated", repetitive)
    assert covering < repetitive - 0.5


@pytest.mark.slow
def test_score_generations_gives_one_row_and_counts_empty_texts():
    tokenizer = CharTokenizer.train("".join(POEMS))
    config = TrainConfig(context_length=16, batch_size=8, steps=30, eval_interval=30, eval_batches=1,
                         learning_rate=1e-2, seed=0)
    from lm_keras.models import RNNLanguageModel

    judge = RNNLanguageModel(tokenizer.vocabulary_size, embedding_dim=8, hidden_dim=8)  # untrained: ~uniform
    repeated = score_generations([POEMS[0]] * 30 + [""] * 10, judge, tokenizer, POEMS, config,
                                 embedding_dim=16, hidden_dim=32)
    varied = score_generations(POEMS * 10, judge, tokenizer, POEMS, config, embedding_dim=16, hidden_dim=32)
    print(repeated, varied, sep="\n")
    assert repeated["empty"] == pytest.approx(0.25) and varied["empty"] == 0.0
    assert repeated["Self-BLEU"] == pytest.approx(100.0)  # (so is varied's: every poem has copies)
    assert varied["diversity: reverse-LM NLL/token"] < repeated["diversity: reverse-LM NLL/token"]
    assert abs(varied["quality: judge NLL/token"] - np.log(tokenizer.vocabulary_size)) < 0.1
    with pytest.raises(ValueError, match="non-empty"):
        score_generations(["", POEMS[0]], judge, tokenizer, POEMS, config)
