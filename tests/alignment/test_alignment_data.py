"""Titled quatrains for SFT and prompts; the evaluation's KL, held-out NLL and judge figures."""

import numpy as np
import pytest

from lm_keras.alignment import (QuatrainJudge, evaluate_policy, heldout_nll, prompts_of, sft_texts, split_titled,
                                titled_quatrains)
from lm_keras.alignment.training import copy_model
from lm_keras.data.poems import quatrain_form

from alignment_helpers import POEMS


@pytest.fixture(scope="module")
def titled():
    return titled_quatrains()


def test_titled_quatrains_are_regular_distinct_and_titled(titled):
    assert len(titled) > 10_000
    assert titled["body"].is_unique
    assert titled["body"].map(quatrain_form).isin([5, 7]).all()
    assert titled["title"].str.len().between(1, 12).all() and not titled["title"].str.contains("：").any()
    train, valid, test = split_titled(titled, seed=0)
    assert len(train) + len(valid) + len(test) == len(titled)
    assert not set(train["body"]) & set(test["body"]) and not set(valid["body"]) & set(test["body"])
    assert split_titled(titled, seed=0)[2].equals(test)
    assert sft_texts(test.head(1))[0] == f"{test['title'][0]}：{test['body'][0]}"
    assert prompts_of(test.head(1)) == [f"{test['title'][0]}："]


def test_evaluation_of_a_policy_against_itself(tokenizer, tiny_lm):
    prompts = [f"{title}：" for title in POEMS]
    reference = copy_model(tiny_lm)
    figures, samples = evaluate_policy(tiny_lm, tokenizer, prompts, QuatrainJudge(), reference=reference,
                                       heldout=(prompts, list(POEMS.values())), max_new_tokens=34, seed=0)
    assert figures["kl"] == pytest.approx(0.0, abs=1e-6)
    judged = QuatrainJudge().score_many(samples["text"])
    assert figures["judge_total"] == pytest.approx(judged["total"].mean())
    assert len(samples) == len(prompts)
    # held-out NLL per token from the model's own scores: body + [EOS] after each prompt
    rows = [[tokenizer.bos_id, *tokenizer.encode_to_numpy(p + b).tolist(), tokenizer.eos_id]
            for p, b in zip(prompts, POEMS.values())]
    total, count = 0.0, 0
    for row, prompt in zip(rows, prompts):
        scores = tiny_lm.score(np.array([row], np.int32)).numpy()[0]
        start = len(prompt)  # scores[i] is log p(row[i + 1]); the body starts at row[len(prompt) + 1]
        total -= scores[start:].sum()
        count += len(scores) - start
    assert heldout_nll(tiny_lm, tokenizer, prompts, list(POEMS.values())) == pytest.approx(total / count, rel=1e-5)


def test_the_judge_as_a_reward_scores_the_completion_inside_a_graph(tokenizer):
    import pandas as pd
    import tensorflow as tf

    from lm_keras.alignment import JudgeReward, preference_rows

    table = pd.DataFrame({"prompt": ["春曉：", "靜夜思："], "chosen": [POEMS["春曉"], POEMS["靜夜思"]],
                          "rejected": ["花落，花落。", "牀前看月光，疑是地上霜。舉頭望山月，低頭思故霜。"]})
    chosen, rejected, _ = preference_rows(table, tokenizer, 48, 34)
    judge = QuatrainJudge()
    reward = tf.function(JudgeReward(judge, tokenizer).reward)
    for rows, column in ((chosen, "chosen"), (rejected, "rejected")):
        np.testing.assert_allclose(reward(tf.constant(rows)).numpy(), judge.score_many(table[column])["total"],
                                   rtol=1e-6)


def test_titled_poems_keep_every_form_and_quatrains_are_their_regular_part():
    import pandas as pd

    from lm_keras.alignment.data import titled_poems

    quatrain = "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。"
    frame = pd.DataFrame({"title": ["春曉", "", "一二三四五六七八九十一二三", "題：壁", "別題", "長歌", " 春曉 "],
                          "body": [quatrain, "甲乙，丙丁。", "甲乙，丙丁。", "甲乙，丙丁。", quatrain,
                                   "白日依山盡，黃河入海流。", "戊己，庚辛。 "]})
    poems = titled_poems(frame)
    # empty, 13-character and separator titles dropped; the repeated body keeps its first title; stripped
    assert list(poems["title"]) == ["春曉", "長歌", "春曉"]
    assert list(poems["body"]) == [quatrain, "白日依山盡，黃河入海流。", "戊己，庚辛。"]
    quatrains = titled_quatrains(frame)
    assert list(quatrains["title"]) == ["春曉"] and list(quatrains["form"]) == [5]


def test_pretraining_poems_are_the_titled_poems_without_the_held_out_bodies():
    import pandas as pd

    from lm_keras.alignment.data import pretraining_poems

    frame = pd.DataFrame({"title": ["甲", "乙", "丙", "丁"], "body": ["一，二。", "三，四。", "五，六。", "七，八。"]})
    validation = pd.DataFrame({"title": ["別題"], "body": ["三，四。"]})   # matched by body, whatever the title
    test = pd.DataFrame({"title": ["丁"], "body": ["七，八。"]})
    poems = pretraining_poems([validation, test], frame)
    assert list(poems["title"]) == ["甲", "丙"] and list(poems.index) == [0, 1]
    assert list(pretraining_poems([], frame)["body"]) == list(frame["body"])


def test_training_prompts_are_a_seeded_shuffle_cycled_to_the_count():
    import pandas as pd

    from lm_keras.alignment.recipe import training_prompts

    train = pd.DataFrame({"title": list("甲乙丙丁戊"), "body": ["一，二。"] * 5})
    every = training_prompts(train, 5)
    assert sorted(every) == sorted(f"{t}：" for t in "甲乙丙丁戊") and training_prompts(train, 5) == every
    assert training_prompts(train, 3) == every[:3]          # fewer: the start of the same shuffle
    assert training_prompts(train, 12) == (every * 3)[:12]  # more: the shuffle again, in the same order
