"""The programmatic quatrain judge: rhyme groups, the format/rhyme/repetition rules, the corpus rate."""

import numpy as np
import pytest

from lm_keras.alignment.rewards import (
    FINAL_TO_GROUP, RHYME_GROUPS, JudgeScore, QuatrainJudge, rhyme_group, success_rate,
)

JINGYESI_OLD = "牀前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。"  # the corpus's form, traditional
JINGYESI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
DENG_GUAN_QUE_LOU = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
CHUN_XIAO = "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。"
LIANGZHOU_CI = "黄河远上白云间，一片孤城万仞山。羌笛何须怨杨柳，春风不度玉门关。"
ZAO_FA_BAIDI = "朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
SHAN_XING = "远上寒山石径斜，白云生处有人家。停车坐爱枫林晚，霜叶红于二月花。"

judge = QuatrainJudge()


@pytest.mark.parametrize("chars, group", [
    ("光霜鄉乡", "江阳"), ("流楼樓留", "油求"), ("晓曉鸟鳥少", "遥条"), ("间間山关", "言前"),
    ("水回杯", "灰堆"), ("春軍", "人辰"), ("女是日思兒", "一七"), ("月雪斜", "乜斜"),
    ("遠", "言前"), ("家花", "发花"), ("多歌", "梭波"), ("來", "怀来"), ("故", "姑苏"), ("聲窮", "中东"),
])
def test_rhyme_groups_of_simplified_and_traditional_characters(chars, group):
    assert [rhyme_group(c) for c in chars] == [group] * len(chars)


def test_characters_without_a_reading_have_no_group():
    assert [rhyme_group(c) for c in "a1 ，\ufffd"] == [None] * 5
    with pytest.raises(TypeError):
        rhyme_group(3)
    with pytest.raises(ValueError):
        rhyme_group("光霜")


def test_the_table_covers_strict_and_written_finals_and_thirteen_groups():
    assert len(RHYME_GROUPS) == 13
    for strict, written in [("iou", "iu"), ("uei", "ui"), ("uen", "un"), ("ve", "ue")]:
        assert FINAL_TO_GROUP[strict] == FINAL_TO_GROUP[written]
    assert FINAL_TO_GROUP["van"] == "言前" and FINAL_TO_GROUP["vn"] == "人辰" and FINAL_TO_GROUP["v"] == "一七"


@pytest.mark.parametrize("poem, group", [
    (JINGYESI_OLD, "江阳"), (JINGYESI, "江阳"), (DENG_GUAN_QUE_LOU, "油求"), (CHUN_XIAO, "遥条"),
    (LIANGZHOU_CI, "言前"),
])
def test_known_quatrains_are_well_formed_and_rhyme(poem, group):
    s = judge.score(poem)
    assert (s.format, s.rhyme) == (1.0, 1.0) and s.success
    assert s.rhyme_groups[1] == s.rhyme_groups[3] == group
    assert len(s.lines) == 4 and "".join(s.lines) == poem
    assert s.repetition < 0.2 and s.total > 1.8


def test_jingyesi_scores_in_detail():
    s = judge.score(JINGYESI)  # 明, 月, 头 repeat: 3 of 20 characters
    assert s == JudgeScore(1.0, 1.0, 0.15, 1.85, tuple(["床前明月光，", "疑是地上霜。", "举头望明月，", "低头思故乡。"]),
                           ("江阳", "江阳", "乜斜", "江阳"))


def test_polyphones_take_pypinyins_reading_so_some_real_rhymes_are_missed():
    s = judge.score(ZAO_FA_BAIDI)  # 還 read hái (怀来), not the poem's huán
    assert s.format == 1.0 and s.rhyme == 0.0 and s.rhyme_groups[1] == "怀来"


def test_first_line_requires_line_one_to_rhyme():
    strict = QuatrainJudge(first_line=True)
    assert strict.score(LIANGZHOU_CI).rhyme == 1.0  # 间/山/关
    assert judge.score(DENG_GUAN_QUE_LOU).rhyme == 1.0 and strict.score(DENG_GUAN_QUE_LOU).rhyme == 0.0  # 尽
    assert judge.score(SHAN_XING).rhyme == 1.0 and strict.score(SHAN_XING).rhyme == 0.0  # 斜 xié: a Tang rhyme lost


@pytest.mark.parametrize("text", [
    "床前明月光，疑是地上霜。举头望明月。",  # three lines
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。低头思故乡。",  # five lines
    "床前明月光，疑是地上霜了。举头望明月，低头思故乡。",  # a line of 6
    "床前明月光，疑是地上霜。举头望明月光光，低头思故乡。",  # 5 and 7 mixed
    "床前明月光，疑是地上sh。举头望明月，低头思故乡。",  # Latin letters
    "床前明月光，疑是地上\ufffd。举头望明月，低头思故乡。",  # [UNK]
    "床前明月光，疑是地上 。举头望明月，低头思故乡。",  # a space
    "床前明月1，疑是地上霜。举头望明月，低头思故乡。",  # a digit
    "床前明月光。疑是地上霜。举头望明月。低头思故乡。",  # 。 where ， belongs
    "床前明月光，疑是地上霜，举头望明月，低头思故乡。",  # ， where 。 belongs
    "床前明月光，疑是地上霜。举头望明月，低头思故乡",  # no final punctuation
])
def test_broken_texts_fail_the_format_and_the_rhyme(text):
    s = judge.score(text)
    assert (s.format, s.rhyme) == (0.0, 0.0) and not s.success and s.total <= 0.0


def test_a_well_formed_poem_whose_line_ends_do_not_rhyme():
    s = judge.score("床前明月光，疑是地上雪。举头望明月，低头思故乡。")  # 雪 乜斜, 乡 江阳
    assert (s.format, s.rhyme) == (1.0, 0.0) and s.rhyme_groups[1] != s.rhyme_groups[3]


def test_the_same_character_at_both_ends_is_not_a_rhyme():
    s = judge.score("床前明月光，疑是地上霜。举头望明月，低头思上霜。")
    assert s.format == 1.0 and s.rhyme == 0.0 and s.rhyme_groups[1] == s.rhyme_groups[3]


def test_one_line_four_times_is_heavily_penalized():
    s = judge.score("床前明月光，床前明月光。床前明月光，床前明月光。")
    assert s.format == 1.0 and s.rhyme == 0.0
    assert s.repetition == pytest.approx(0.75 + 3)  # 15 of 20 characters repeat; 3 repeated lines
    assert s.total == pytest.approx(1.0 - 3.75)
    assert s.total < judge.score("床前明月光，疑是地上雪。举头望明月，低头思故乡。").total


def test_total_is_format_plus_rhyme_minus_weighted_repetition():
    for weight in (0.0, 1.0, 2.5):
        j = QuatrainJudge(repetition_weight=weight)
        for text in (JINGYESI, CHUN_XIAO, "床前明月光，床前明月光。", "abc", ""):
            s = j.score(text)
            assert s.total == pytest.approx(s.format + s.rhyme - weight * s.repetition)


def test_empty_text_scores_zero_and_non_strings_raise():
    for text in ("", "  \n"):
        s = judge.score(text)
        assert (s.format, s.rhyme, s.repetition, s.total) == (0.0, 0.0, 0.0, 0.0)
        assert s.lines == () and s.rhyme_groups == ()
    for bad in (None, 5, ["床前明月光，"], b"abc"):
        with pytest.raises(TypeError):
            judge.score(bad)
    with pytest.raises(TypeError):
        judge.score_many(JINGYESI)  # one str, not a list
    with pytest.raises(TypeError):
        judge.score_many([JINGYESI, None])


def test_score_many_and_success_rate():
    texts = [JINGYESI, ZAO_FA_BAIDI, "床前明月光", ""]
    frame = judge.score_many(texts)
    assert list(frame.columns) == ["text", "format", "rhyme", "repetition", "total", "success"]
    assert frame["text"].tolist() == texts
    assert frame["success"].tolist() == [True, False, False, False]
    assert frame["format"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert success_rate(texts, judge) == 0.25
    assert success_rate(texts) == 0.25
    with pytest.raises(ValueError):
        success_rate([], judge)


def test_most_but_not_all_real_tang_quatrains_rhyme_under_modern_finals(tang_poems):
    from lm_keras.data import load_corpus

    poems = load_corpus("tang_quatrains").text.splitlines()
    poems = [poems[i] for i in np.random.default_rng(0).choice(len(poems), 3000, replace=False)]  # 83.6% of all
    frame = judge.score_many(poems)
    rate = float(frame["success"].mean())
    print(f"\ntang_quatrains ({len(poems)} poems): success {rate:.4f}, format {frame['format'].mean():.4f}, "
          f"rhyme {frame['rhyme'].mean():.4f}, mean repetition {frame['repetition'].mean():.4f}")
    assert frame["format"].mean() > 0.99
    assert 0.3 < rate < 0.95
