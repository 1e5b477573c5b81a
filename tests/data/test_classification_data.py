"""Text classification data: the poet tasks, their splits, deduplication, and labelled CSV/TSV tables."""

import collections
import csv

import numpy as np
import pytest

from lm_keras.data.classification import (LI_DU, SPLITS, deduplicate, is_anonymous, load_classification_table,
                                          poet_task, pretraining_poems)


@pytest.fixture(scope="module")
def ten(tang_poems):
    return poet_task("ten_poets", tang_poems)


@pytest.fixture(scope="module")
def li_du(tang_poems):
    return poet_task("li_du", tang_poems)


def _by_split(data, keep=None):
    """{split: set of texts}, optionally only those whose label is in `keep`."""
    return {split: {text for text, y in zip(data.texts[split], data.targets[split])
                    if keep is None or data.labels[y] in keep} for split in SPLITS}


def test_ten_poets_are_the_ten_most_prolific_named_poets(ten, tang_poems):
    assert ten.num_classes == 10 and len(set(ten.labels)) == 10
    assert not any(is_anonymous(label) for label in ten.labels)
    totals = ten.counts()["total"]
    assert list(totals.index) == ten.labels
    assert all(np.diff(totals.to_numpy()) <= 0), "classes are listed by decreasing size"
    # the same choice by hand: distinct bodies (editors' notes removed) claimed by exactly one author, anonymous
    # ones left out
    frame = tang_poems.frame.assign(body=tang_poems.frame["body"].str.replace(r"（[^（）]*）", "", regex=True).str.strip())
    owners = frame.groupby("body")["author"].agg(lambda authors: set(authors))
    single = owners[owners.map(len) == 1].map(lambda authors: next(iter(authors)))
    named = single[~single.map(is_anonymous)].value_counts()
    top = named.sort_index().sort_values(ascending=False, kind="stable").head(10)
    assert set(ten.labels) == set(top.index)
    assert {label: int(totals[label]) for label in ten.labels} == {label: int(n) for label, n in top.items()}


def test_is_anonymous_recognises_placeholders_but_not_poets():
    for label in ("不詳", "無名氏", "佚名", "缺名", "失撰人名", "無名僧", "南唐失名僧", "", "  "):
        assert is_anonymous(label), label
    for label in ("李白", "杜甫", "白居易", "無可"):  # 無可 is a monk poet, not 無名
        assert not is_anonymous(label), label


def test_the_split_is_deterministic_stratified_and_disjoint(ten, tang_poems):
    again = poet_task("ten_poets", tang_poems)
    assert again.labels == ten.labels
    for split in SPLITS:
        assert again.texts[split] == ten.texts[split]
        np.testing.assert_array_equal(again.targets[split], ten.targets[split])
        assert len(ten.texts[split]) == len(ten.targets[split])
    counts = ten.counts()
    for label, row in counts.iterrows():
        assert abs(row["test"] - 0.1 * row["total"]) <= 0.5, label
        assert abs(row["validation"] - 0.1 * row["total"]) <= 0.5, label
        assert row["train"] == row["total"] - row["test"] - row["validation"]
    texts = _by_split(ten)
    assert sum(map(len, texts.values())) == counts["total"].sum(), "no text twice within a split"
    assert not texts["train"] & texts["validation"]
    assert not texts["train"] & texts["test"]
    assert not texts["validation"] & texts["test"]
    assert poet_task("ten_poets", tang_poems, seed=1).texts["test"] != ten.texts["test"], "the seed matters"


def test_li_du_split_is_the_ten_poet_split_restricted_to_li_and_du(ten, li_du):
    assert li_du.labels == list(LI_DU) and set(LI_DU) <= set(ten.labels)
    assert _by_split(li_du) == _by_split(ten, keep=LI_DU)
    for split in SPLITS:
        assert sorted(collections.Counter(li_du.labels[y] for y in li_du.targets[split]).items()) == sorted(
            collections.Counter(ten.labels[y] for y in ten.targets[split] if ten.labels[y] in LI_DU).items())


def test_majority_baseline_and_class_weights_by_hand(ten, li_du):
    for data in (ten, li_du):
        train = collections.Counter(data.labels[y] for y in data.targets["train"])
        majority = max(train, key=lambda label: train[label])
        assert data.labels[data.majority_class()] == majority
        for split in ("validation", "test"):
            by_hand = sum(data.labels[y] == majority for y in data.targets[split]) / len(data.targets[split])
            assert data.majority_baseline(split) == pytest.approx(by_hand)
        assert 0 < data.majority_baseline() < 1
        weights = data.class_weights()
        assert sorted(weights) == list(range(data.num_classes))
        per_class = [weights[c] * train[data.labels[c]] for c in range(data.num_classes)]
        np.testing.assert_allclose(per_class, len(data.targets["train"]) / data.num_classes, rtol=1e-12)
    assert li_du.labels[li_du.majority_class()] == "杜甫"


def test_pretraining_text_holds_no_validation_or_test_poem_but_the_training_ones(ten, li_du, tang_poems):
    poems = pretraining_poems(ten, li_du, corpus=tang_poems)
    assert len(poems) == len(set(poems)), "each body once"
    pretraining = set(poems)
    for data in (ten, li_du):
        for split in ("validation", "test"):
            leaked = pretraining & set(data.texts[split])
            assert not leaked, f"{len(leaked)} {data.name} {split} poems are in the pretraining text"
        assert set(data.texts["train"]) <= pretraining
    # anonymous and other poets' poems are pretraining text too
    assert len(pretraining) > sum(len(ten.texts[split]) for split in SPLITS)
    assert all(p == p.strip() and p for p in poems)
    # without tasks: every distinct body, so exactly the held-out poems were removed
    everything = set(pretraining_poems(corpus=tang_poems))
    held_out = {t for data in (ten, li_du) for split in ("validation", "test") for t in data.texts[split]}
    assert everything - pretraining == held_out


def test_deduplicate_drops_conflicting_texts_and_keeps_one_of_each_repeat():
    texts = ["床前明月光", "白日依山盡", " 床前明月光 ", "白日依山盡", "春眠不覺曉", "白日依山盡\n"]
    labels = ["李白", "王之渙", "李白", "杜甫", "孟浩然", "王之渙"]
    kept, dropped = deduplicate(texts, labels)
    # 床前明月光: twice under 李白 (once with spaces) -> the first kept; 白日依山盡: 王之渙 and 杜甫 -> all dropped
    assert kept.tolist() == [0, 4]
    assert dropped == {"duplicates": 1, "conflicting": 3}


def _write(path, header, rows, delimiter):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _rows(n=10):
    """n texts of each of two classes (texts with commas and quotes, to exercise the quoting)."""
    return ([(f'good, "great" film number {i}', "pos") for i in range(n)]
            + [(f"bad film, number {i}\twith a tab" if i % 2 else f"bad film {i}", "neg") for i in range(n)])


@pytest.mark.parametrize("suffix, delimiter", [(".csv", ","), (".tsv", "\t"), (".CSV", ",")])
def test_a_table_with_custom_column_names_loads_and_splits(tmp_path, suffix, delimiter):
    rows = _rows(10)
    path = _write(tmp_path / f"reviews{suffix}", ["id", "review", "sentiment"],
                  [(i, text, label) for i, (text, label) in enumerate(rows)], delimiter)
    data = load_classification_table(path, text_column="review", label_column="sentiment")
    assert data.name == f"reviews{suffix}"
    assert sorted(data.labels) == ["neg", "pos"]
    counts = data.counts()
    assert counts.loc["pos"].tolist() == [8, 1, 1, 10] and counts.loc["neg"].tolist() == [8, 1, 1, 10]
    loaded = {(text, data.labels[y]) for split in SPLITS for text, y in zip(data.texts[split], data.targets[split])}
    assert loaded == set(rows), "every text comes back intact, with its label"


def test_a_separate_test_file_is_the_test_set_and_leaking_training_texts_are_dropped(tmp_path):
    rows = _rows(10)
    test_rows = [("a new good film", "pos"), ("a new bad film", "neg"), (rows[0][0], "pos")]
    train = _write(tmp_path / "train.tsv", ["text", "label"], rows, "\t")
    test = _write(tmp_path / "test.tsv", ["text", "label"], test_rows, "\t")
    with pytest.warns(UserWarning, match="1 training text"):
        data = load_classification_table(train, test_path=test)
    assert data.texts["test"] == [t for t, _ in test_rows]
    assert [data.labels[y] for y in data.targets["test"]] == ["pos", "neg", "pos"]
    assert rows[0][0] not in data.texts["train"] + data.texts["validation"]
    assert len(data.texts["train"]) + len(data.texts["validation"]) == 19
    assert data.dropped["in_test"] == 1


def test_table_errors_are_clear(tmp_path):
    rows = _rows(5)
    good = _write(tmp_path / "good.csv", ["text", "label"], rows, ",")
    with pytest.raises(ValueError, match=r"has no label column 'author'.*\['text', 'label'\]"):
        load_classification_table(good, label_column="author")
    with pytest.raises(ValueError, match="has no text column 'poem'"):
        load_classification_table(good, text_column="poem")
    empty = _write(tmp_path / "empty.csv", ["text", "label"], rows[:2] + [("   ", "pos")] + rows[2:], ",")
    with pytest.raises(ValueError, match=r"empty\.csv data row 3 .*text is empty"):
        load_classification_table(empty)
    one = _write(tmp_path / "one.csv", ["text", "label"], [(text, "pos") for text, _ in rows], ",")
    with pytest.raises(ValueError, match=r"1 class\(es\) \('pos'\).*at least two"):
        load_classification_table(one)
    unknown = _write(tmp_path / "unknown.csv", ["text", "label"], [("x", "pos"), ("y", "neutral")], ",")
    with pytest.raises(ValueError, match=r"test set has labels never seen in training: \['neutral'\]"):
        load_classification_table(good, test_path=unknown)
    xlsx = tmp_path / "reviews.xlsx"
    xlsx.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"must be a \.csv or \.tsv file"):
        load_classification_table(xlsx)
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_classification_table(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError, match="missing.tsv"):
        load_classification_table(good, test_path=tmp_path / "missing.tsv")


def test_editorial_notes_are_removed_before_the_split(ten):
    from lm_keras.data.classification import strip_editorial_notes

    assert strip_editorial_notes("水急客舟（一作「行」）疾，山花拂面香。") == "水急客舟疾，山花拂面香。"
    assert strip_editorial_notes("不止（京本作「正」）少功虛效力（川本、辛本作「及」）。") == "不止少功虛效力。"
    with_notes = [t for texts in ten.texts.values() for t in texts if "作「" in t and "（" in t]
    assert not with_notes, with_notes[:3]
