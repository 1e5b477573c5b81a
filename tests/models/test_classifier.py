"""Text classifiers: one answer per text, padding never counts, naive Bayes by the formula, training learns."""

import collections
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from lm_keras.config import LSTMClassifierConfig, NaiveBayesConfig, TrainConfig, TransformerClassifierConfig
from lm_keras.data.classification import encode_texts, poet_task
from lm_keras.errors import ConfigError
from lm_keras.evaluation.classification import evaluate_classifier
from lm_keras.models.classifier import LSTMClassifier, NaiveBayesClassifier, TransformerClassifier
from lm_keras.models.transformer_lm import TransformerLanguageModel
from lm_keras.tokenizers import create_tokenizer
from lm_keras.training.classifier import compile_classifier, fit_classifier


def _rows(batch=4, width=12, vocabulary_size=30, seed=0, min_length=3):
    """Random right-padded rows of different lengths (every row has at least `min_length` real tokens)."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((batch, width), np.int32)
    for i, length in enumerate(rng.integers(min_length, width + 1, size=batch)):
        rows[i, :length] = rng.integers(1, vocabulary_size, size=length)
    rows[0, :] = rng.integers(1, vocabulary_size, size=width)  # one row without padding
    return rows


def _pad(rows, extra):
    return np.concatenate([rows, np.zeros((len(rows), extra), np.int32)], axis=1)


# --- the documents' bug -------------------------------------------------------------------------------------------

def test_the_documents_model_answers_per_time_step_and_the_classifier_per_text():
    rows = _rows(batch=3, width=10)
    keras.utils.set_random_seed(0)
    documents = keras.Sequential([keras.layers.Embedding(30, 8), keras.layers.LSTM(16, return_sequences=True),
                                  keras.layers.Dense(8, activation="relu"),
                                  keras.layers.Dense(2, activation="softmax")])
    assert tuple(documents(rows).shape) == (3, 10, 2), "one prediction per time step, for a label of the whole text"
    for pooling in ("last", "mean", "max"):
        model = LSTMClassifier(30, 2, embedding_dim=8, hidden_dim=16, dense_dim=8, pooling=pooling)
        logits = model(rows)
        assert tuple(logits.shape) == (3, 2) and logits.dtype == tf.float32
        probabilities = model.predict_probabilities(rows)
        assert probabilities.shape == (3, 2)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
        np.testing.assert_allclose(probabilities, tf.nn.softmax(logits).numpy(), rtol=1e-5, atol=1e-7)


# --- LSTM classifier ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_lstm_classifier_ignores_extra_padding(pooling):
    keras.utils.set_random_seed(1)
    model = LSTMClassifier(30, 3, embedding_dim=8, hidden_dim=16, dense_dim=8, pooling=pooling)
    rows = _rows(batch=5, width=12, seed=2)
    assert (rows == 0).any(axis=1).sum() >= 3, "most rows are padded already"
    logits = model(rows).numpy()
    for extra in (1, 7):
        np.testing.assert_allclose(model(_pad(rows, extra)).numpy(), logits, atol=1e-5, rtol=1e-5)
    # each row alone (no padding beyond its own length) gives the same answer as in the padded batch
    for i, row in enumerate(rows):
        alone = row[row != 0][None]
        np.testing.assert_allclose(model(alone).numpy()[0], logits[i], atol=1e-5, rtol=1e-5)
    # ... and the model does read the text: changing a real token changes the logits
    changed = rows.copy()
    changed[:, 1] = changed[:, 1] % 29 + 1
    assert np.abs(model(changed).numpy() - logits).max() > 1e-4


def test_lstm_classifier_keras_round_trip(tmp_path):
    keras.utils.set_random_seed(2)
    model = LSTMClassifier(30, 3, embedding_dim=8, hidden_dim=16, dense_dim=8, dropout=0.2, pooling="max")
    rows = _rows(batch=4, width=9, seed=3)
    logits = model(rows).numpy()
    model.save(tmp_path / "lstm.keras")
    loaded = keras.saving.load_model(tmp_path / "lstm.keras")
    assert isinstance(loaded, LSTMClassifier) and loaded.config == model.config
    np.testing.assert_array_equal(loaded(rows).numpy(), logits)


# --- naive Bayes --------------------------------------------------------------------------------------------------

def _naive_bayes_by_hand(train_rows, train_targets, rows, vocabulary_size, num_classes, alpha, class_weight=None):
    """The documented formula with Python counters: log P(c) + Σ_g count_g(x) · log P(g | c)."""
    unigrams = [collections.Counter() for _ in range(num_classes)]
    bigrams = [collections.Counter() for _ in range(num_classes)]
    for row, c in zip(train_rows, train_targets):
        tokens = [int(t) for t in row]
        unigrams[c].update(t for t in tokens if t)
        bigrams[c].update((a, b) for a, b in zip(tokens, tokens[1:]) if a and b)
    seen = set().union(*bigrams)
    grams = vocabulary_size + len(seen)
    documents = np.array([sum(1 for y in train_targets if y == c) for c in range(num_classes)], np.float64)
    if class_weight:
        documents *= [class_weight[c] for c in range(num_classes)]
    logits = np.zeros((len(rows), num_classes))
    for i, row in enumerate(rows):
        tokens = [int(t) for t in row]
        for c in range(num_classes):
            total = sum(unigrams[c].values()) + sum(bigrams[c].values())
            score = math.log(documents[c] / documents.sum())
            for t in tokens:
                if t:
                    score += math.log((unigrams[c][t] + alpha) / (total + alpha * grams))
            for pair in zip(tokens, tokens[1:]):
                if pair[0] and pair[1] and pair in seen:
                    score += math.log((bigrams[c][pair] + alpha) / (total + alpha * grams))
            logits[i, c] = score
    return logits


def test_naive_bayes_logits_equal_the_formula_on_a_tiny_example():
    # ids: 1 [BOS], 2 [EOS], 3 4 5 words, 0 padding
    x = np.array([[1, 3, 3, 2, 0], [1, 3, 4, 2, 0], [1, 5, 4, 2, 0], [1, 5, 5, 5, 2]], np.int32)
    y = np.array([0, 0, 1, 1])
    model = NaiveBayesClassifier(6, 2, alpha=0.5).fit(x, y)
    # bigrams seen: (1,3) (3,3) (3,2) (3,4) (4,2) (1,5) (5,4) (5,5) (5,2) -> G = 6 + 9 = 15
    assert model.config.num_bigrams == 9
    # class 0: unigrams 1:2 3:3 2:2 4:1 (8), bigrams (1,3):2 (3,3) (3,2) (3,4) (4,2) (6) -> N_0 = 14
    # class 1: unigrams 1:2 5:4 4:1 2:2 (9), bigrams (1,5):2 (5,4) (4,2) (5,5):2 (5,2) (7) -> N_1 = 16
    # x = [BOS] 3 5 4 [EOS]: unigrams 1 3 5 4 2; bigrams (1,3) (5,4) (4,2) seen, (3,5) unseen -> ignored
    def log_p(count, total):
        return math.log((count + 0.5) / (total + 0.5 * 15))

    by_hand = [
        math.log(1 / 2) + log_p(2, 14) + log_p(3, 14) + log_p(0, 14) + log_p(1, 14) + log_p(2, 14)
        + log_p(2, 14) + log_p(0, 14) + log_p(1, 14),
        math.log(1 / 2) + log_p(2, 16) + log_p(0, 16) + log_p(4, 16) + log_p(1, 16) + log_p(2, 16)
        + log_p(0, 16) + log_p(1, 16) + log_p(1, 16),
    ]
    query = np.array([[1, 3, 5, 4, 2, 0, 0]], np.int32)
    np.testing.assert_allclose(model(query).numpy()[0], by_hand, rtol=1e-5)
    np.testing.assert_allclose(model(query).numpy(), _naive_bayes_by_hand(x, y, query, 6, 2, 0.5), rtol=1e-5)
    # padding never counts: the same text without the padding columns
    np.testing.assert_allclose(model(query[:, :5]).numpy(), model(query).numpy(), rtol=1e-6)


def test_naive_bayes_in_tensorflow_equals_the_numpy_reference():
    rng = np.random.default_rng(0)
    train = _rows(batch=60, width=15, vocabulary_size=20, seed=3, min_length=2)
    targets = rng.integers(0, 3, size=60)
    train[targets == 2, 1] = 19  # some signal, so the classes differ
    test = np.concatenate([_rows(batch=20, width=15, vocabulary_size=20, seed=4), np.zeros((20, 3), np.int32)], 1)
    weights = {0: 0.5, 1: 1.0, 2: 3.0}
    model = NaiveBayesClassifier(20, 3, alpha=0.1).fit(train, targets, class_weight=weights)
    reference = _naive_bayes_by_hand(train, targets, test, 20, 3, 0.1, class_weight=weights)
    np.testing.assert_allclose(model(test).numpy(), reference, rtol=1e-5)
    np.testing.assert_allclose(model.predict(test, verbose=0), reference, rtol=1e-5)  # traced as a tf.function
    graph = tf.function(lambda rows: model(rows), input_signature=[tf.TensorSpec([None, None], tf.int32)])
    np.testing.assert_allclose(graph(test).numpy(), reference, rtol=1e-5)
    assert model.trainable_weights == [], "naive Bayes is counted, not trained by gradient"


def test_naive_bayes_fit_errors():
    x, y = np.array([[1, 2, 0]]), np.array([0])
    with pytest.raises(ValueError, match="class ids outside"):
        NaiveBayesClassifier(5, 2).fit(x, np.array([2]))
    with pytest.raises(ValueError, match="token ids outside"):
        NaiveBayesClassifier(2, 2).fit(x, y)
    with pytest.raises(ValueError, match=r"x must be rows \(n, t\)"):
        NaiveBayesClassifier(5, 2).fit(x, np.array([0, 1]))


def test_naive_bayes_keras_round_trip(tmp_path):
    train = _rows(batch=40, width=10, vocabulary_size=25, seed=5)
    model = NaiveBayesClassifier(25, 2, alpha=0.3).fit(train, np.arange(40) % 2)
    test = _rows(batch=6, width=12, vocabulary_size=25, seed=6)
    model.save(tmp_path / "nb.keras")
    loaded = keras.saving.load_model(tmp_path / "nb.keras")
    assert isinstance(loaded, NaiveBayesClassifier)
    assert loaded.config == model.config and loaded.config.num_bigrams > 0
    np.testing.assert_array_equal(loaded(test).numpy(), model(test).numpy())


# --- Transformer classifier ---------------------------------------------------------------------------------------

def _transformer_classifier(pooling, head_dim=16, seed=0):
    keras.utils.set_random_seed(seed)
    backbone = TransformerLanguageModel(vocabulary_size=50, context_length=32, num_layers=1, num_heads=2, d_model=32)
    model = TransformerClassifier(backbone, 3, pooling=pooling, head_dim=head_dim)
    model(np.ones((1, 4), np.int32))
    return model


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_transformer_classifier_ignores_right_padding(pooling):
    model = _transformer_classifier(pooling)
    rows = _rows(batch=5, width=20, vocabulary_size=50, seed=7)
    logits = model(rows).numpy()
    assert logits.shape == (5, 3)
    np.testing.assert_allclose(model(_pad(rows, 12)).numpy(), logits, atol=1e-5, rtol=1e-5)  # up to the context
    for i, row in enumerate(rows):
        np.testing.assert_allclose(model(row[row != 0][None]).numpy()[0], logits[i], atol=1e-5, rtol=1e-5)
    # the pooled token matters: the last real token for "last", any real token for "mean"
    changed = rows.copy()
    lengths = (rows != 0).sum(axis=1)
    changed[np.arange(5), lengths - 1] = changed[np.arange(5), lengths - 1] % 49 + 1
    assert (np.abs(model(changed).numpy() - logits).max(axis=1) > 1e-4).all()
    assert model.context_length == 32


def test_freeze_backbone_trains_only_the_head():
    model = _transformer_classifier("mean", head_dim=16)
    head = {id(w) for layer in (model.head_hidden, model.logits) for w in layer.weights}
    everything = {id(w) for w in model.weights}
    assert {id(w) for w in model.trainable_weights} == everything
    model.freeze_backbone()
    assert {id(w) for w in model.trainable_weights} == head and len(head) == 4
    assert {id(w) for w in model.non_trainable_weights} == everything - head
    backbone_before = [w.numpy().copy() for w in model.backbone.weights]
    head_before = [w.numpy().copy() for w in model.logits.weights]
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rows = _rows(batch=8, width=10, vocabulary_size=50, seed=8)
    model.train_on_batch(rows, np.arange(8) % 3)
    for before, w in zip(backbone_before, model.backbone.weights):
        np.testing.assert_array_equal(w.numpy(), before)
    assert any(not np.array_equal(w.numpy(), before) for before, w in zip(head_before, model.logits.weights))
    model.freeze_backbone(False)
    assert {id(w) for w in model.trainable_weights} == everything


def test_transformer_classifier_keras_round_trip(tmp_path):
    model = _transformer_classifier("last", head_dim=None, seed=3)
    rows = _rows(batch=4, width=16, vocabulary_size=50, seed=9)
    model.save(tmp_path / "tc.keras")
    loaded = keras.saving.load_model(tmp_path / "tc.keras")
    assert isinstance(loaded, TransformerClassifier) and isinstance(loaded.backbone, TransformerLanguageModel)
    assert loaded.config == model.config and loaded.backbone.config == model.backbone.config
    np.testing.assert_array_equal(loaded(rows).numpy(), model(rows).numpy())
    np.testing.assert_array_equal(loaded.backbone(rows).numpy(), model.backbone(rows).numpy())  # the LM head too


def test_transformer_classifier_needs_a_transformer_backbone():
    with pytest.raises(TypeError, match="backbone must be a TransformerLanguageModel"):
        TransformerClassifier(LSTMClassifier(10, 2), 2)


# --- configuration ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, field", [
    (lambda: LSTMClassifierConfig(50, num_classes=1), "num_classes"),
    (lambda: LSTMClassifierConfig(50, 2, pooling="foo"), "pooling"),
    (lambda: LSTMClassifierConfig(50, 2, dropout=1.0), "dropout"),
    (lambda: LSTMClassifierConfig(1, 2), "vocabulary_size"),
    (lambda: LSTMClassifier(50, 1), "num_classes"),
    (lambda: LSTMClassifier(50, 2, pooling="foo"), "pooling"),
    (lambda: LSTMClassifier(50, 2, dropout=1.0), "dropout"),
    (lambda: NaiveBayesConfig(50, num_classes=1), "num_classes"),
    (lambda: NaiveBayesConfig(50, 2, alpha=0.0), "alpha"),
    (lambda: NaiveBayesConfig(50_000, 2), "vocabulary_size"),
    (lambda: NaiveBayesClassifier(50, 1), "num_classes"),
    (lambda: TransformerClassifierConfig(num_classes=1), "num_classes"),
    (lambda: TransformerClassifierConfig(2, pooling="max"), "pooling"),
    (lambda: TransformerClassifierConfig(2, dropout=1.0), "dropout"),
    (lambda: TransformerClassifierConfig(2, head_dim=0), "head_dim"),
])
def test_invalid_configurations_name_the_field(make, field):
    with pytest.raises(ConfigError, match=rf"\.{field} = .* is invalid") as error:
        make()
    assert isinstance(error.value, ValueError)


# --- training on the real task: 李白 or 杜甫? -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def li_du(tang_poems):
    data = poet_task("li_du", tang_poems)
    tokenizer = create_tokenizer("char", data.texts["train"], max_vocabulary_size=3000)
    rows = {split: encode_texts(texts, tokenizer, 64) for split, texts in data.texts.items()}
    return data, tokenizer, rows


def test_naive_bayes_beats_the_majority_baseline(li_du):
    data, tokenizer, rows = li_du
    model = NaiveBayesClassifier(tokenizer.vocabulary_size, data.num_classes).fit(rows["train"], data.targets["train"])
    report = evaluate_classifier(model, rows["test"], data.targets["test"], data.labels, num_samples=500)
    baseline = data.majority_baseline("test")
    print(f"naive Bayes test accuracy {report['accuracy']:.3f} {report['accuracy_ci']}, majority {baseline:.3f}")
    assert report["accuracy"] > baseline + 0.10
    assert report["accuracy_ci"][0] > baseline, "better than the baseline beyond the sampling noise"
    assert report["predictions"].shape == (len(rows["test"]),)
    assert report["accuracy"] == pytest.approx(np.mean(report["predictions"] == data.targets["test"]))


@pytest.mark.slow
def test_a_small_lstm_learns_who_wrote_the_poem(li_du):
    data, tokenizer, rows = li_du
    config = TrainConfig(batch_size=64, epochs=2, learning_rate=3e-3, seed=0)
    keras.utils.set_random_seed(0)
    model = LSTMClassifier(tokenizer.vocabulary_size, data.num_classes, embedding_dim=32, hidden_dim=64,
                           dense_dim=32)
    compile_classifier(model, config, len(rows["train"]))
    untrained = model.evaluate(rows["validation"], data.targets["validation"], batch_size=256, verbose=0,
                               return_dict=True)["loss"]
    assert untrained == pytest.approx(math.log(2), abs=0.1)
    history = fit_classifier(model, rows["train"], data.targets["train"], rows["validation"],
                             data.targets["validation"], config)
    losses = history.history["val_loss"]
    steps_per_epoch = math.ceil(len(rows["train"]) / 64)
    assert int(model.optimizer.iterations.numpy()) == 2 * steps_per_epoch, "two full passes over the training set"
    accuracy = float(np.mean(model.predict_probabilities(rows["test"]).argmax(axis=1) == data.targets["test"]))
    baseline = data.majority_baseline("test")
    print(f"validation loss {untrained:.3f} -> {losses}, test accuracy {accuracy:.3f}, majority {baseline:.3f}")
    assert len(losses) == 2 and losses[1] < losses[0] < untrained
    assert accuracy > baseline
