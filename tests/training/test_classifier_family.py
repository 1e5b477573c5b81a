"""A classifier on the road every family takes: `train_run(RunConfig(model_type="lstm_classifier"))` reads a
table's text and label columns, splits them stratified, trains, and saves a run whose labels, model and
export answer the same; wrong tables are clear errors."""

import csv
import dataclasses
import random

import numpy as np
import pytest

from lm_keras.config import RunConfig, TrainConfig
from lm_keras.data.classification import encode_texts
from lm_keras.errors import ConfigError, CorpusError
from lm_keras.export import export_run, load
from lm_keras.runs import load_run
from lm_keras.training import train_run
from lm_keras.training.run import labelled_data

SPRING, AUTUMN = "春花月夜江水", "秋風霜葉寒山"


def write_table(path, rows, header=("poem", "season")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def seasons(n=200, seed=0):
    """Texts made only of one season's characters: a classifier must learn which set a text uses."""
    rng = random.Random(seed)
    return [("".join(rng.choice(chars) for _ in range(rng.randint(6, 16))), label)
            for i in range(n) for chars, label in [((SPRING, "spring"), (AUTUMN, "autumn"))[i % 2]]]


def config_for(table, **train):
    return RunConfig(corpus=str(table), column="poem", label_column="season", model_type="lstm_classifier",
                     model={"embedding_dim": 8, "hidden_dim": 16, "dense_dim": 8},
                     train=TrainConfig(**{"context_length": 20, "batch_size": 16, "epochs": 10, "test_fraction": 0.2,
                                          **train}))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    directory = tmp_path_factory.mktemp("classifier")
    table = write_table(directory / "seasons.csv", seasons())
    run = train_run(config_for(table), out=directory / "run", verbose=0, notice=lambda *_: None)
    return run, directory


def test_the_data_are_split_stratified_and_the_classifier_learns_them(trained):
    run, _ = trained
    data = labelled_data(run.config)
    assert run.labels == data.labels == ["autumn", "spring"]   # equal counts: by name
    assert {split: len(texts) for split, texts in data.texts.items()} == {"train": 140, "validation": 20, "test": 40}
    for split in ("train", "validation", "test"):
        assert np.bincount(data.targets[split]).tolist() == [len(data.texts[split]) // 2] * 2
    assert run.evaluation["n"] == 20 and run.evaluation["majority_baseline"] == 0.5
    assert run.evaluation["accuracy"] >= 0.9   # the two character sets do not overlap


def test_the_run_directory_and_its_export_give_the_same_answers(trained, tmp_path):
    run, directory = trained
    texts = ["春花江水", "寒山秋葉", "月夜", "霜風"]
    rows = encode_texts(texts, run.tokenizer, run.config.train.context_length)
    expected = run.model.predict_probabilities(rows)
    loaded = load_run(directory / "run")
    assert loaded.labels == run.labels and loaded.config.label_column == "season"
    np.testing.assert_allclose(loaded.model.predict_probabilities(rows), expected, atol=1e-6)
    exported = load(export_run(directory / "run", tmp_path / "export"))
    assert exported(texts) == [run.labels[i] for i in expected.argmax(axis=1)]


def test_a_table_without_labels_or_with_one_class_is_a_clear_error(tmp_path):
    table = write_table(tmp_path / "seasons.csv", seasons(20))
    with pytest.raises(ConfigError, match="no label column 'stars'; its columns are \\['poem', 'season'\\]"):
        labelled_data(RunConfig(corpus=str(table), column="poem", label_column="stars", model_type="lstm_classifier"))
    with pytest.raises(ConfigError, match="needs a poet task .* without a label column"):
        labelled_data(RunConfig(corpus=str(table), column="poem", model_type="lstm_classifier"))
    one_class = write_table(tmp_path / "spring.csv", [(text, "spring") for text, _ in seasons(20)])
    with pytest.raises(CorpusError, match="1 class"):
        train_run(config_for(one_class), verbose=0, notice=lambda *_: None)
    repeats = write_table(tmp_path / "repeats.csv", [("春花", "spring"), ("秋風", "autumn")] * 30)
    with pytest.raises(CorpusError, match="the validation split is empty \\(2 distinct texts"):
        train_run(config_for(repeats), verbose=0, notice=lambda *_: None)
    empty_text = write_table(tmp_path / "gap.csv", [*seasons(10), ("", "spring")])
    with pytest.raises(CorpusError, match="gap.csv data row 11"):
        train_run(config_for(empty_text), verbose=0, notice=lambda *_: None)


@pytest.fixture(scope="module")
def backbone(trained):
    """A small Transformer LM trained on the texts (one a line), and an RNN LM (not a possible backbone)."""
    _, directory = trained
    (directory / "texts.txt").write_text("\n".join(text for text, _ in seasons()) + "\n", encoding="utf-8")
    runs = {}
    for name, model in (("transformer", {"num_layers": 1, "num_heads": 2, "d_model": 16}), ("rnn", {"hidden_dim": 8})):
        runs[name] = directory / f"{name}_lm"
        train_run(RunConfig(corpus=str(directory / "texts.txt"), line_level=True, model_type=name, model=model,
                            train=TrainConfig(context_length=24, batch_size=16, steps=20, eval_interval=20,
                                              eval_batches=1)),
                  out=runs[name], verbose=0, notice=lambda *_: None)
    return runs


@pytest.mark.slow
def test_a_frozen_pretrained_backbone_keeps_its_weights_and_tokenizer(trained, backbone, tmp_path):
    _, directory = trained
    lm = load_run(backbone["transformer"])
    config = RunConfig(corpus=str(directory / "seasons.csv"), column="poem", label_column="season",
                       model_type="transformer_classifier",
                       model={"backbone_run": str(backbone["transformer"]), "freeze_backbone": True},
                       train=TrainConfig(context_length=24, batch_size=16, epochs=2, learning_rate=1e-3))
    run = train_run(config, out=tmp_path / "classifier", verbose=0, notice=lambda *_: None)
    assert run.tokenizer.vocabulary == lm.tokenizer.vocabulary
    for before, after in zip(lm.model.weights, run.model.backbone.weights):
        np.testing.assert_array_equal(before.numpy(), after.numpy())
    assert {w.path.split("/")[-2] for w in run.model.trainable_weights} == {"logits"}
    loaded = load_run(tmp_path / "classifier")
    assert loaded.config.model["freeze_backbone"] and not loaded.model.backbone.trainable
    assert [w.path for w in loaded.model.trainable_weights] == [w.path for w in run.model.trainable_weights]
    rows = encode_texts(["春花江水", "寒山秋葉"], run.tokenizer, 24)
    np.testing.assert_allclose(loaded.model.predict_probabilities(rows), run.model.predict_probabilities(rows),
                               atol=1e-6)
    for bad, message in (({"backbone_run": str(backbone["rnn"])}, "RNNLanguageModel, not a Transformer LM"),
                         ({}, "backbone_run is missing")):
        with pytest.raises(ConfigError, match=message):
            train_run(dataclasses.replace(config, model=bad), verbose=0, notice=lambda *_: None)
    with pytest.raises(ConfigError, match="the backbone reads at most 24 tokens"):
        train_run(dataclasses.replace(config, train=TrainConfig(context_length=40)), verbose=0,
                  notice=lambda *_: None)
