"""The results table that tutorials carry from one to the next."""

import math

import pytest

from lm_keras.data import load_corpus
from lm_keras.evaluation.results import plot_results, record_baselines, record_result, results_table


def test_rows_are_added_replaced_and_kept_per_corpus(tmp_path):
    path = tmp_path / "results.json"
    record_result("char unigram", 4.8, source="02", path=path)
    record_result("char LSTM", 3.3, source="03, quick mode", path=path)
    record_result("poem model", 5.0, corpus="tang_poems", path=path)
    table = record_result("char unigram", 4.75, source="02", path=path)   # replaced in place, not appended
    assert list(table.index) == ["char unigram", "char LSTM"]
    assert table.loc["char unigram", "bits/char"] == 4.75 and len(table) == 2
    assert table.loc["char LSTM", "source"] == "03, quick mode"
    assert list(results_table("tang_poems", path).index) == ["poem model"]
    assert results_table("tiny_shakespeare", tmp_path / "missing.json").empty


def test_plot_has_one_bar_per_row(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    path = tmp_path / "results.json"
    for name, bits in [("a", 3.0), ("b", 2.0), ("c", 1.0)]:
        record_result(name, bits, path=path)
    ax = plot_results(path=path, highlight="b")
    assert [round(p.get_width(), 6) for p in ax.patches] == [3.0, 2.0, 1.0]


def test_baselines_are_counted_on_the_corpus(tmp_path):
    """Lines of seven "abc": the unigram costs about log2(3) bits per letter; the 5-gram knows every
    letter but cannot count to seven, so after each "c" it pays the entropy of (6/7 "a", 1/7 newline)."""
    text = "\n".join(["abcabcabcabcabcabcabc"] * 400) + "\n"
    (tmp_path / "abc.txt").write_text(text)
    corpus = load_corpus(str(tmp_path / "abc.txt"))
    table = record_baselines(corpus, source="test", path=tmp_path / "results.json")
    unigram, five = table["bits/char"]
    p = {"abc": 21 / 22, "\n": 1 / 22}   # a line is 21 letters and a newline
    entropy = -(p["abc"] * math.log2(p["abc"] / 3) + p["\n"] * math.log2(p["\n"]))
    assert unigram == pytest.approx(entropy, rel=0.02)
    h = -(1 / 7) * math.log2(1 / 7) - (6 / 7) * math.log2(6 / 7)
    assert five == pytest.approx(7 * h / 22, rel=0.1)


def test_baselines_on_a_given_split_and_vocabulary_without_the_next_bos(tmp_path):
    """Poems scored as a VAE scores them: the split and the capped vocabulary given, and each poem paying
    for its characters and its [EOS], not for the [BOS] of the next. The unigram by hand: interpolated
    Kneser-Ney at order 1 is P(w) = (max(c(w) − D, 0) + D · types / V) / N, with D = n₁ / (n₁ + 2 n₂)."""
    from lm_keras.data.corpus import Corpus
    from lm_keras.tokenizers import create_tokenizer
    from lm_keras.tokenizers.base import BOS_ID, EOS_ID, PAD_ID, UNK_ID

    splits = {"train": ["aaab", "aab", "ac"], "validation": ["ab", "c"], "test": []}
    corpus = Corpus("toy poems", "\n".join(splits["train"] + splits["validation"]), line_level=True)
    tokenizer = create_tokenizer("char", splits["train"], max_vocabulary_size=6)   # 4 reserved + "a", "b"; "c" is [UNK]
    a, b = tokenizer.encode("ab").numpy().tolist()
    assert tokenizer.vocabulary_size == 6 and tokenizer.encode("c").numpy().tolist() == [UNK_ID]
    # training stream: [BOS] a a a b [EOS] [BOS] a a b [EOS] [BOS] a [UNK] [EOS]
    counts = {PAD_ID: 0, UNK_ID: 1, BOS_ID: 3, EOS_ID: 3, a: 6, b: 2}
    N, V, types = 15, 6, 5
    D = 1 / (1 + 2 * 1)   # one count of 1 ([UNK]), one of 2 ("b")

    def bits(token):
        return -math.log2((max(counts[token] - D, 0) + D * types / V) / N)

    characters = (2 + 1) + (1 + 1)   # each poem and its end
    paid = [a, b, EOS_ID, UNK_ID, EOS_ID]   # validation: [BOS] a b [EOS] [BOS] [UNK] [EOS]
    path = tmp_path / "results.json"
    table = record_baselines(corpus, splits=splits, tokenizer=tokenizer, skip_bos=True, path=path)
    assert table.loc["char unigram", "bits/char"] == pytest.approx(sum(map(bits, paid)) / characters, rel=1e-9)
    assert table.loc["char 5-gram, Kneser-Ney", "bits/char"] > 0
    with_bos = record_baselines(corpus, splits=splits, tokenizer=tokenizer, path=path)   # the next [BOS] paid too
    assert with_bos.loc["char unigram", "bits/char"] == pytest.approx(
        (sum(map(bits, paid)) + bits(BOS_ID)) / characters, rel=1e-9)
    with pytest.raises(ValueError, match="not both"):
        record_baselines(corpus, splits=splits, text_limit=10, path=path)
