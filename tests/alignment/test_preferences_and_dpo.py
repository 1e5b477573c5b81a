"""Noisy Bradley–Terry labels, the preference table, the reward model and DPO."""

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from lm_keras.alignment import (DPOTrainer, QuatrainJudge, check_preferences, label_pairs, load_preferences,
                                preference_rows, save_preferences, train_dpo, train_reward_model)
from lm_keras.alignment.sequences import completion_log_prob
from lm_keras.alignment.training import copy_model, save_model
from lm_keras.config import DPOConfig, PreferenceConfig, TrainConfig
from lm_keras.errors import ConfigError
from lm_keras.models import RewardModel

from alignment_helpers import POEMS, tiny_transformer


class TableJudge:
    """Stub judge: the total of a text is looked up in a dict."""

    def __init__(self, totals):
        self.totals = totals

    def score_many(self, texts):
        return pd.DataFrame({"total": [self.totals[t] for t in texts]})


def test_labels_follow_the_bradley_terry_probability():
    n = 6000
    pairs = pd.DataFrame({"prompt": ["p"] * n, "a": ["good"] * n, "b": ["bad"] * n})
    for gap, temperature in ((1.0, 1.0), (1.0, 0.5), (0.0, 0.5)):
        table = label_pairs(pairs, TableJudge({"good": gap, "bad": 0.0}), PreferenceConfig(temperature), seed=1)
        share = float((table["chosen"] == "good").mean())
        expected = 1 / (1 + np.exp(-gap / temperature))  # 0.731, 0.881, 0.5
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / n), (gap, temperature, share)
        np.testing.assert_allclose(table.loc[table["chosen"] == "good", "p_chosen"], expected)
    assert not table["judge_agrees"].any()  # ties never agree


def test_a_person_ranking_four_candidates_picks_the_best_by_softmax_and_keeps_the_extremes():
    n, temperature = 8000, 0.5
    totals = {"w": 1.0, "x": 0.5, "y": 0.0, "z": -0.5}
    pairs = pd.DataFrame({"prompt": ["p"] * n, **{column: [text] * n for column, text in zip("abcd", totals)}})
    table = label_pairs(pairs, TableJudge(totals), PreferenceConfig(temperature), seed=2)
    # Gumbel-max: the top of s + T·g is candidate i with probability exp(s_i / T) / Σ_j exp(s_j / T).
    weights = {text: np.exp(total / temperature) for text, total in totals.items()}
    for text, weight in weights.items():
        expected = weight / sum(weights.values())
        share = float((table["chosen"] == text).mean())
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / n), (text, share, expected)
    assert (table["chosen"] != table["rejected"]).all()
    gap = table["judge_chosen"] - table["judge_rejected"]
    np.testing.assert_allclose(table["p_chosen"], 1 / (1 + np.exp(-gap / temperature)))
    # A nearly noiseless person keeps the judge's best and worst of the four.
    sharp = label_pairs(pairs.head(50), TableJudge(totals), PreferenceConfig(1e-3), seed=3)
    assert (sharp["chosen"] == "w").all() and (sharp["rejected"] == "z").all() and sharp["judge_agrees"].all()


def test_labelling_needs_two_candidates_and_sampling_at_most_sixteen():
    from lm_keras.alignment import sample_pairs

    with pytest.raises(ConfigError, match=r"candidate columns \['a'\]"):
        label_pairs(pd.DataFrame({"prompt": ["p"], "a": ["x"]}), TableJudge({"x": 0.0}))
    for bad in (1, 17, 2.0):
        with pytest.raises(ConfigError, match="candidates = .* is invalid"):
            sample_pairs(None, None, ["p"], 4, candidates=bad)


def test_the_table_round_trips_through_parquet_and_tsv(tmp_path):
    table = label_pairs(pd.DataFrame({"prompt": ["春曉：", "靜夜思："], "a": ["甲", "乙"], "b": ["丙", "丁"]}),
                        TableJudge({"甲": 1.0, "乙": 0.0, "丙": 0.0, "丁": 2.0}), seed=0)
    for name in ("pairs.parquet", "pairs.tsv"):
        pd.testing.assert_frame_equal(load_preferences(save_preferences(table, tmp_path / name)), table,
                                      check_dtype=False)


def test_an_empty_or_incomplete_preference_set_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="preference set is empty"):
        check_preferences(pd.DataFrame(columns=["prompt", "chosen", "rejected"]))
    with pytest.raises(ConfigError, match=r"no column\(s\) \['rejected'\]"):
        check_preferences(pd.DataFrame({"prompt": ["a"], "chosen": ["b"]}))
    with pytest.raises(ConfigError, match="no preference table"):
        load_preferences(tmp_path / "missing.parquet")


@pytest.mark.parametrize("make", [lambda: DPOConfig(beta=0.0), lambda: DPOConfig(beta=-0.1),
                                  lambda: PreferenceConfig(temperature=0.0)])
def test_invalid_beta_or_temperature_names_the_field(make):
    with pytest.raises(ConfigError, match=r"(beta|temperature) = .* is invalid"):
        make()


def test_preference_rows_hold_prompt_completion_and_eos(tokenizer):
    table = pd.DataFrame({"prompt": ["春曉："], "chosen": [POEMS["春曉"]], "rejected": ["花落"]})
    chosen, rejected, lengths = preference_rows(table, tokenizer, 48, 34)
    assert lengths.tolist() == [4]
    assert tokenizer.decode_to_str(chosen[0]) == "春曉：" + POEMS["春曉"]
    assert chosen[0, 4 + len(POEMS["春曉"])] == tokenizer.eos_id
    assert rejected[0, :7].tolist()[-1] == tokenizer.eos_id and rejected[0, 7:].sum() == 0


# --- synthetic preferences a model can learn: a real quatrain beats its own characters shuffled --------------------
def _pairs(count, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        title = list(POEMS)[rng.integers(len(POEMS))]
        body = POEMS[title]
        shuffled = "".join(rng.permutation(list(body)))
        rows.append((title + "：", body, shuffled))
    pairs = pd.DataFrame(rows, columns=["prompt", "a", "b"])
    return label_pairs(pairs, QuatrainJudge(), PreferenceConfig(0.25), seed=seed)


@pytest.mark.slow
def test_the_reward_model_learns_the_preferences_and_round_trips(tokenizer, tmp_path):
    sft = tiny_transformer(tokenizer.vocabulary_size, seed=2)
    train, held_out = _pairs(256, 0), _pairs(64, 1)
    config = TrainConfig(steps=60, batch_size=16, eval_interval=30, eval_batches=4, learning_rate=3e-3, seed=0)
    chosen, rejected, _ = preference_rows(held_out, tokenizer, 48, 34)
    untrained = RewardModel(copy_model(sft))
    untrained.compile(optimizer="adam")
    before = untrained.evaluate(tf.data.Dataset.from_tensors((chosen, rejected)), verbose=0, return_dict=True)
    reward_model, history = train_reward_model(sft, tokenizer, train, config, validation=held_out, verbose=0)
    assert history.history["val_loss"][-1] < 0.3 < 0.5 < before["loss"]
    truth = held_out["judge_chosen"] > held_out["judge_rejected"]
    margins = reward_model.reward(chosen).numpy() - reward_model.reward(rejected).numpy()
    assert np.mean((margins > 0) == truth) > 0.9  # against the true judge, not only the noisy labels
    # the backbone was copied: the SFT model is untouched
    np.testing.assert_array_equal(sft.get_weights()[0], tiny_transformer(tokenizer.vocabulary_size, seed=2).get_weights()[0])
    # Bradley–Terry loss by hand, and a .keras round trip with identical rewards
    logs = reward_model.evaluate(tf.data.Dataset.from_tensors((chosen, rejected)), verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], np.mean(np.log1p(np.exp(-margins))), rtol=1e-4)
    loaded = keras.saving.load_model(save_model(reward_model, tmp_path / "reward.keras"))
    np.testing.assert_array_equal(loaded.reward(chosen).numpy(), reward_model.reward(chosen).numpy())
    padded = np.pad(chosen, ((0, 0), (0, 6)))  # right padding does not change a reward
    np.testing.assert_allclose(reward_model.reward(padded).numpy(), reward_model.reward(chosen).numpy(), atol=1e-5)


def test_dpo_starts_at_log_2_and_its_rewards_are_the_log_ratio(tokenizer):
    policy = tiny_transformer(tokenizer.vocabulary_size, seed=3)
    reference = copy_model(policy)
    trainer = DPOTrainer(policy, reference, beta=0.5)
    trainer.build()
    trainer.compile(optimizer=keras.optimizers.Adam(1e-3))
    chosen, rejected, lengths = preference_rows(_pairs(8, 2), tokenizer, 48, 34)
    logs = trainer.evaluate(tf.data.Dataset.from_tensors((chosen, rejected, lengths)), verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], np.log(2.0), rtol=1e-6)
    assert logs["margin"] == 0.0
    policy.set_weights([w * 1.01 for w in policy.get_weights()])
    expected = 0.5 * (completion_log_prob(policy, chosen, lengths) - completion_log_prob(reference, chosen, lengths))
    np.testing.assert_allclose(trainer.implicit_rewards(chosen, lengths).numpy(), expected.numpy(), rtol=1e-5)


@pytest.mark.slow
def test_dpo_moves_probability_to_the_chosen_completions(tokenizer):
    policy = tiny_transformer(tokenizer.vocabulary_size, seed=4)
    reference = copy_model(policy)
    table = _pairs(128, 3)
    config = TrainConfig(steps=24, batch_size=16, eval_interval=12, eval_batches=2, learning_rate=3e-3, seed=0)
    trainer, history = train_dpo(policy, tokenizer, table, config, beta=0.1, validation=_pairs(32, 4),
                                 reference=reference, verbose=0)
    assert history.history["val_loss"][-1] < 0.5  # from log 2 = 0.693 at the start (the test above)
    chosen, rejected, lengths = preference_rows(table, tokenizer, 48, 34)
    gain = completion_log_prob(policy, chosen, lengths) - completion_log_prob(reference, chosen, lengths)
    loss = completion_log_prob(policy, rejected, lengths) - completion_log_prob(reference, rejected, lengths)
    assert float(tf.reduce_mean(gain - loss)) > 5.0
    assert reference.get_weights()[0].tolist() == copy_model(reference).get_weights()[0].tolist()


def test_dpo_scores_the_policy_with_dropout_off(tokenizer):
    """The implicit reward is that of the policy that is sampled and evaluated: with a dropout of 0.5 in the
    policy, the training loss is still deterministic and equals the one computed in inference mode by hand."""
    from lm_keras.models import TransformerLanguageModel

    keras.utils.set_random_seed(5)
    policy = TransformerLanguageModel(tokenizer.vocabulary_size, context_length=48, num_layers=1, num_heads=2,
                                      d_model=32, dropout=0.5)
    policy.build((None, 48))
    reference = copy_model(policy)
    policy.set_weights([w * 1.02 for w in policy.get_weights()])
    trainer = DPOTrainer(policy, reference, beta=0.5)
    trainer.build()
    chosen, rejected, lengths = preference_rows(_pairs(8, 5), tokenizer, 48, 34)
    margin = 0.5 * ((completion_log_prob(policy, chosen, lengths) - completion_log_prob(reference, chosen, lengths))
                    - (completion_log_prob(policy, rejected, lengths)
                       - completion_log_prob(reference, rejected, lengths)))
    losses = [float(trainer._pair_losses((chosen, rejected, lengths))[0]) for _ in range(2)]
    np.testing.assert_allclose(losses, [np.mean(np.log1p(np.exp(-margin.numpy())))] * 2, rtol=1e-5)
