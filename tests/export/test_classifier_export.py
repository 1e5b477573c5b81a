"""A classifier's SavedModel: a text in, a label and probabilities out, as in memory, loadable without lm_keras."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from lm_keras.data.classification import encode_texts
from lm_keras.export import ExportedClassifier, export_saved_model, load, read_export_info
from lm_keras.models.classifier import LSTMClassifier, NaiveBayesClassifier, TransformerClassifier
from lm_keras.models.transformer_lm import TransformerLanguageModel
from lm_keras.tokenizers import create_tokenizer

LABELS = ["poem", "english", "emoji"]
TRAIN = {
    "poem": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。", "白日依山盡，黃河入海流。", "欲窮千里目，更上一層樓。",
             "春眠不覺曉，處處聞啼鳥。", "夜來風雨聲，花落知多少。"],
    "english": ["the cat sat on the mat", "to be or not to be", "a quick brown fox jumps", "hello world, hello",
                "where is the station?", "the rain in spain stays"],
    "emoji": ["😀😀🎉", "🎉🎉🎉 👍", "👍😀", "😀 🎉 😀", "🐱🐶", "👍👍🎉😀"],
}
MAX_LENGTH = 32
LONG = "白日依山盡，黃河入海流。" * 10  # 120 characters: far beyond MAX_LENGTH tokens
TEXTS = ["", "床前明月光", "the fox and the cat", "😀🎉👍", "春眠 mixed with english 🐱", "完全沒見過的字：龘靐齉",
         LONG, "  spaces  ", "tab\tand\x01control"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    texts = [t for label in LABELS for t in TRAIN[label]]
    targets = np.array([LABELS.index(label) for label in LABELS for _ in TRAIN[label]])
    tokenizer = create_tokenizer("char", texts)
    rows = encode_texts(texts, tokenizer, MAX_LENGTH)
    naive_bayes = NaiveBayesClassifier(tokenizer.vocabulary_size, 3, alpha=0.5).fit(rows, targets)
    keras.utils.set_random_seed(0)
    lstm = LSTMClassifier(tokenizer.vocabulary_size, 3, embedding_dim=8, hidden_dim=16, dense_dim=8, pooling="mean")
    lstm(rows[:2])  # random weights: a model that answers something, not the same for every text
    base = tmp_path_factory.mktemp("classifier_export")
    paths = {name: export_saved_model(model, tokenizer, base / name, labels=LABELS, max_length=MAX_LENGTH)
             for name, model in (("naive_bayes", naive_bayes), ("lstm", lstm))}
    return {"models": {"naive_bayes": naive_bayes, "lstm": lstm}, "tokenizer": tokenizer, "paths": paths}


def _in_memory(model, tokenizer, texts):
    probabilities = model.predict_probabilities(encode_texts(texts, tokenizer, MAX_LENGTH))
    return [LABELS[i] for i in probabilities.argmax(axis=1)], probabilities


SCRIPT = r"""
import json, sys
import tensorflow as tf
texts = json.loads(sys.argv[1])
out = {}
for path in sys.argv[2:]:
    model = tf.saved_model.load(path)
    results = {"classify": model.signatures["classify"](text=tf.constant(texts)),
               "serving_default": model.signatures["serving_default"](text=tf.constant(texts)),
               "function": model.classify(tf.constant(texts))}
    out[path] = {name: {"label": [t.decode("utf-8") for t in r["label"].numpy()],
                        "class_id": r["class_id"].numpy().tolist(),
                        "probabilities": r["probabilities"].numpy().tolist(),
                        "dtypes": [r[k].dtype.name for k in ("label", "class_id", "probabilities")]}
                 for name, r in results.items()}
assert "lm_keras" not in sys.modules
print(json.dumps(out))
"""


@pytest.mark.slow
def test_a_fresh_process_without_lm_keras_gets_the_same_labels_and_probabilities(exported):
    paths = [str(p) for p in exported["paths"].values()]
    result = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(TEXTS), *paths], capture_output=True, text=True,
                            timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-3000:]
    served = json.loads(result.stdout.strip().splitlines()[-1])
    for name, path in exported["paths"].items():
        labels, probabilities = _in_memory(exported["models"][name], exported["tokenizer"], TEXTS)
        for signature, got in served[str(path)].items():
            assert got["dtypes"] == ["string", "int32", "float32"], signature
            assert got["label"] == labels, (name, signature)
            assert got["class_id"] == [LABELS.index(label) for label in labels]
            np.testing.assert_allclose(got["probabilities"], probabilities, rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(np.sum(got["probabilities"], axis=1), 1.0, rtol=1e-5)
        assert len(set(np.round(probabilities[:, 0], 4))) > 3, f"{name}: the probabilities depend on the text"
    assert served[str(exported["paths"]["naive_bayes"])]["classify"]["label"][1:4] == ["poem", "english", "emoji"]


def test_load_gives_a_callable_with_the_in_memory_labels(exported):
    for name, path in exported["paths"].items():
        classifier = load(path)
        assert isinstance(classifier, ExportedClassifier) and classifier.labels == LABELS
        labels, probabilities = _in_memory(exported["models"][name], exported["tokenizer"], TEXTS)
        assert classifier(TEXTS) == labels
        assert [classifier(text) for text in TEXTS] == labels  # a str in, a str out
        result = classifier.classify(TEXTS)
        assert result["label"] == labels and result["class_id"].tolist() == [LABELS.index(x) for x in labels]
        np.testing.assert_allclose(result["probabilities"], probabilities, rtol=1e-5, atol=1e-7)
        info = read_export_info(path)
        assert info["labels"] == LABELS and info["max_length"] == MAX_LENGTH
        assert info["model_class"] == type(exported["models"][name]).__name__


def test_a_long_text_is_read_up_to_max_length(exported):
    # [BOS] + the first MAX_LENGTH - 1 characters are read; whatever follows is not
    kept = LONG[:MAX_LENGTH - 1]
    for name, path in exported["paths"].items():
        classifier = load(path)
        same = classifier.classify([LONG, kept + "the cat sat on the mat 😀😀😀", kept + "!"])["probabilities"]
        np.testing.assert_allclose(same[1], same[0], rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(same[2], same[0], rtol=1e-6, err_msg=name)
    # (the LSTM's probabilities are not saturated: a difference shows) the characters up to the limit are read
    lstm = load(exported["paths"]["lstm"])
    shorter = lstm.classify([LONG[:MAX_LENGTH - 3], LONG])["probabilities"]
    assert np.abs(shorter[0] - shorter[1]).max() > 1e-6


def test_bad_labels_or_max_length_are_value_errors_and_nothing_is_written(exported, tmp_path):
    model, tokenizer = exported["models"]["naive_bayes"], exported["tokenizer"]
    with pytest.raises(ValueError, match="needs labels, a list of 3 class names"):
        export_saved_model(model, tokenizer, tmp_path / "none")
    with pytest.raises(ValueError, match="labels=.* is invalid"):
        export_saved_model(model, tokenizer, tmp_path / "two", labels=["a", "b"])
    with pytest.raises(ValueError, match="labels=.* is invalid"):
        export_saved_model(model, tokenizer, tmp_path / "four", labels=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="max_length=1 is invalid"):
        export_saved_model(model, tokenizer, tmp_path / "short", labels=LABELS, max_length=1)
    backbone = TransformerLanguageModel(vocabulary_size=tokenizer.vocabulary_size, context_length=16, num_layers=1,
                                        num_heads=2, d_model=16)
    transformer = TransformerClassifier(backbone, 3)
    transformer(np.ones((1, 4), np.int32))
    with pytest.raises(ValueError, match=r"max_length=17 is invalid: must be in \[2, the model's context length\]"):
        export_saved_model(transformer, tokenizer, tmp_path / "long", labels=LABELS, max_length=17)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_an_existing_export_is_not_overwritten_unless_asked(exported, tmp_path):
    model, tokenizer = exported["models"]["naive_bayes"], exported["tokenizer"]
    target = tmp_path / "x"
    export_saved_model(model, tokenizer, target, labels=["p", "e", "m"], max_length=MAX_LENGTH)
    before = sorted(p.name for p in target.iterdir())
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_saved_model(model, tokenizer, target, labels=LABELS, max_length=MAX_LENGTH)
    assert sorted(p.name for p in target.iterdir()) == before
    assert load(target).labels == ["p", "e", "m"], "the first export is untouched"
    export_saved_model(model, tokenizer, target, labels=LABELS, max_length=MAX_LENGTH, overwrite=True)
    assert load(target)("床前明月光") == "poem"
