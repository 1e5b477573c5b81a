"""Text classifiers: read a whole text, answer one class per text.

Every classifier takes rows of token ids (b, t), `[BOS] text [EOS]` right-padded with
[PAD] (`lm_keras.data.classification.encode_texts`), and returns logits (b, num_classes),
float32; `predict_probabilities` applies the softmax.

* `LSTMClassifier`: the documents' Embedding -> LSTM -> Dense -> Dense model, corrected.
  The documents' version sets `return_sequences=True` and puts the Dense layers on top,
  so it outputs one prediction per time step, (b, t, 2), for a label that belongs to the
  whole text. Here the LSTM gives one vector per text: its state after the last real
  token (`pooling="last"`), or a masked mean / max over `return_sequences` (padding,
  [PAD] = id 0, is masked through `Embedding(mask_zero=True)`).
* `NaiveBayesClassifier`: multinomial naive Bayes over 1- and 2-grams, counted in NumPy
  with integer gram ids (the n-gram model's trick: a bigram's id is first · V + second).
* `TransformerClassifier`: a pooled head on the project's `TransformerLanguageModel`,
  which is usually pretrained as a language model first; its backbone can be frozen.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from lm_keras.config import LSTMClassifierConfig, NaiveBayesConfig, TransformerClassifierConfig
from lm_keras.models.transformer_lm import TransformerLanguageModel
from lm_keras.tokenizers.base import PAD_ID


def _masked_mean(states, mask):
    """states (b, t, d), mask (b, t) bool -> (b, d), the mean over the positions where mask is True."""
    weights = ops.expand_dims(ops.cast(mask, states.dtype), -1)
    return ops.sum(states * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)


def _masked_max(states, mask):
    filled = ops.where(ops.expand_dims(mask, -1), states, ops.full_like(states, -1e9))
    return ops.max(filled, axis=1)


def last_real_state(states, mask):
    """states (b, t, d) -> (b, d), the state at each row's last True position of `mask`."""
    last = ops.maximum(ops.sum(ops.cast(mask, "int32"), axis=1) - 1, 0)
    return ops.take_along_axis(states, ops.reshape(last, (-1, 1, 1)), axis=1)[:, 0]


class Classifier(keras.Model):
    """Base class: `num_classes` and `predict_probabilities`."""

    @property
    def num_classes(self):
        return self.config.num_classes

    def predict_probabilities(self, rows, batch_size=256):
        """Rows (n, t) -> float32 (n, num_classes), each row summing to 1."""
        logits = self.predict(np.asarray(rows, np.int32), batch_size=batch_size, verbose=0)
        logits = logits - logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return (probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), **self.config.to_dict()}


@keras.saving.register_keras_serializable(package="lm_keras")
class LSTMClassifier(Classifier):
    """Char-level LSTM text classifier. Args: see `lm_keras.config.LSTMClassifierConfig`.

        ids (b, t) -> Embedding(mask_zero=True) (b, t, embedding_dim)
                   -> LSTM: last state (b, hidden_dim), or all states (b, t, hidden_dim) pooled with the mask
                   -> Dropout -> Dense(dense_dim, relu) -> Dropout -> Dense(num_classes)   logits (b, num_classes)
    """

    def __init__(self, vocabulary_size, num_classes, embedding_dim=64, hidden_dim=128, dense_dim=64, dropout=0.0,
                 pooling="last", **kwargs):
        super().__init__(**kwargs)
        self.config = c = LSTMClassifierConfig(vocabulary_size, num_classes, embedding_dim, hidden_dim, dense_dim,
                                               dropout, pooling)
        self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")
        self.lstm = keras.layers.LSTM(hidden_dim, return_sequences=c.pooling != "last", name="lstm")
        self.dropout = keras.layers.Dropout(dropout)
        self.dense = keras.layers.Dense(dense_dim, activation="relu", name="dense")
        self.logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")

    def build(self, input_shape):
        c = self.config
        self.embedding.build(input_shape)
        self.lstm.build((input_shape[0], input_shape[1], c.embedding_dim))
        self.dense.build((input_shape[0], c.hidden_dim))
        self.logits.build((input_shape[0], c.dense_dim))
        self.built = True

    def call(self, token_ids, training=None):
        mask = ops.not_equal(token_ids, PAD_ID)
        states = self.lstm(self.embedding(token_ids), mask=mask, training=training)
        if self.config.pooling == "mean":
            states = _masked_mean(states, mask)
        elif self.config.pooling == "max":
            states = _masked_max(states, mask)
        x = self.dense(self.dropout(states, training=training))
        return self.logits(self.dropout(x, training=training))


@keras.saving.register_keras_serializable(package="lm_keras")
class NaiveBayesClassifier(Classifier):
    """Multinomial naive Bayes over the 1- and 2-grams of `[BOS] text [EOS]` (padding never counts).

    With N_{c,g} the count of gram g in the training texts of class c, N_c = Σ_g N_{c,g},
    G the number of grams seen in training (V unigrams + the bigrams seen) and add-α
    smoothing:

        P(g | c) = (N_{c,g} + α) / (N_c + α·G)
        logits_c(x) = log P(c) + Σ_{g in x} count_g(x) · log P(g | c)

    Bigrams never seen in training are ignored (scikit-learn's convention: they are not
    features). `fit` counts in NumPy (one pass, no gradient steps); `call` looks the grams
    up in TensorFlow ops, so the model exports like the others. Args: see
    `lm_keras.config.NaiveBayesConfig`.
    """

    _SENTINEL = 2**31 - 1  # after every bigram id (V <= 46,340 keeps them below it)

    def __init__(self, vocabulary_size, num_classes, alpha=0.1, num_bigrams=0, **kwargs):
        super().__init__(**kwargs)
        self.config = NaiveBayesConfig(vocabulary_size, num_classes, alpha, num_bigrams)

    def build(self, input_shape=None):
        c = self.config
        self.log_prior = self.add_weight((c.num_classes,), initializer="zeros", trainable=False, name="log_prior")
        self.unigram_log_probs = self.add_weight((c.vocabulary_size, c.num_classes), initializer="zeros",
                                                 trainable=False, name="unigram_log_probs")
        # sorted bigram ids, then the sentinel, whose row of log-probabilities is 0
        self.bigram_ids = self.add_weight((c.num_bigrams + 1,), initializer="zeros", dtype="int32", trainable=False,
                                          name="bigram_ids")
        self.bigram_log_probs = self.add_weight((c.num_bigrams + 1, c.num_classes), initializer="zeros",
                                                trainable=False, name="bigram_log_probs")
        self.built = True

    def _bigrams(self, rows):
        """rows (n, t) -> (bigram ids (n, t - 1), valid (n, t - 1)): both tokens are not padding."""
        valid = (rows[:, :-1] != PAD_ID) & (rows[:, 1:] != PAD_ID)
        return rows[:, :-1] * self.config.vocabulary_size + rows[:, 1:], valid

    def fit(self, x, y, class_weight=None, **unused):
        """Count the grams of rows `x` (n, t) with class ids `y` (n,). Returns self.

        `class_weight` {class: weight} scales the prior: P(c) ∝ n_c · weight_c
        (`TextClassificationData.class_weights()` makes it uniform).
        """
        c = self.config
        rows, y = np.asarray(x, np.int64), np.asarray(y, np.int64)
        if rows.ndim != 2 or len(rows) != len(y) or not len(y):
            raise ValueError(f"x must be rows (n, t) and y (n,) class ids, got {rows.shape} and {y.shape}")
        if y.min() < 0 or y.max() >= c.num_classes:
            raise ValueError(f"y has class ids outside [0, {c.num_classes})")
        if rows.min() < 0 or rows.max() >= c.vocabulary_size:
            raise ValueError(f"x has token ids outside [0, {c.vocabulary_size})")
        k = c.num_classes
        per_token_class = np.broadcast_to(y[:, None], rows.shape)
        present = rows != PAD_ID
        unigrams = np.bincount(rows[present] * k + per_token_class[present],
                               minlength=c.vocabulary_size * k).reshape(c.vocabulary_size, k)
        ids, valid = self._bigrams(rows)
        table, inverse = np.unique(ids[valid], return_inverse=True)
        bigrams = np.bincount(inverse.reshape(-1) * k + per_token_class[:, 1:][valid],
                              minlength=len(table) * k).reshape(len(table), k)
        if self.built and len(table) != c.num_bigrams:
            raise ValueError(f"this NaiveBayesClassifier was built for {c.num_bigrams} bigrams; fit a new one")
        c.num_bigrams = len(table)
        if not self.built:
            self.build()
        grams = c.vocabulary_size + len(table)
        totals = unigrams.sum(axis=0) + bigrams.sum(axis=0)  # N_c
        denominator = np.log(totals + c.alpha * grams)
        documents = np.bincount(y, minlength=k).astype(np.float64)
        if class_weight is not None:
            documents = documents * np.array([class_weight.get(i, 1.0) for i in range(k)])
        prior = np.log(np.maximum(documents, 1e-12) / documents.sum())
        self.log_prior.assign(prior.astype(np.float32))
        self.unigram_log_probs.assign((np.log(unigrams + c.alpha) - denominator).astype(np.float32))
        self.bigram_ids.assign(np.append(table, self._SENTINEL).astype(np.int32))
        self.bigram_log_probs.assign(np.vstack([np.log(bigrams + c.alpha) - denominator,
                                                np.zeros((1, k))]).astype(np.float32))
        return self

    def call(self, token_ids, training=None):
        token_ids = ops.cast(token_ids, "int32")
        present = ops.expand_dims(ops.cast(ops.not_equal(token_ids, PAD_ID), "float32"), -1)
        logits = ops.sum(ops.take(self.unigram_log_probs, token_ids, axis=0) * present, axis=1)
        ids, valid = self._bigrams(token_ids)
        flat = ops.reshape(ids, (-1,))
        # tf.searchsorted: Keras 3.10's ops.searchsorted takes len() of its argument, which fails in a graph.
        where = ops.minimum(tf.searchsorted(tf.convert_to_tensor(self.bigram_ids), flat), self.config.num_bigrams)
        found = ops.logical_and(ops.equal(ops.take(self.bigram_ids, where), flat), ops.reshape(valid, (-1,)))
        scores = ops.take(self.bigram_log_probs, where, axis=0) * ops.expand_dims(ops.cast(found, "float32"), -1)
        scores = ops.reshape(scores, (ops.shape(ids)[0], -1, self.config.num_classes))
        return logits + ops.sum(scores, axis=1) + self.log_prior


@keras.saving.register_keras_serializable(package="lm_keras")
class TransformerClassifier(Classifier):
    """A classification head on a `TransformerLanguageModel` (usually pretrained as an LM).

        ids (b, t <= context_length) -> backbone.hidden_states (b, t, d_model)
            -> pool over the real tokens ("mean") or take the last real one ("last")   (b, d_model)
            -> Dropout -> [Dense(head_dim, gelu) -> Dropout] -> Dense(num_classes)     logits (b, num_classes)

    `freeze_backbone()` trains the head only (recompile after changing it); fine-tuning
    all weights usually takes a learning rate several times lower than pretraining.

    Args:
        backbone: a `TransformerLanguageModel` (or its serialized config, when loading).
        num_classes, pooling, head_dim, dropout, backbone_run, freeze_backbone: see
            `lm_keras.config.TransformerClassifierConfig` (`lm_keras.training.classifier_from_run`
            builds one from a run directory).
    """

    def __init__(self, backbone, num_classes, pooling="mean", head_dim=None, dropout=0.0, backbone_run=None,
                 freeze_backbone=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        if not isinstance(backbone, TransformerLanguageModel):
            raise TypeError(f"backbone must be a TransformerLanguageModel, got {type(backbone).__name__}")
        self.config = TransformerClassifierConfig(num_classes, pooling, head_dim, dropout, backbone_run,
                                                  freeze_backbone)
        self.backbone = backbone
        self.freeze_backbone(freeze_backbone)
        self.head_dropout = keras.layers.Dropout(dropout)
        self.head_hidden = keras.layers.Dense(head_dim, activation="gelu", name="head_hidden") if head_dim else None
        self.logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")

    @property
    def context_length(self):
        return self.backbone.context_length

    def freeze_backbone(self, frozen=True):
        """Train the head only (True) or every weight (False); compile again afterwards."""
        self.backbone.trainable = not frozen
        for variable in self.backbone.weights:   # each one too: setting a loaded backbone's flag may not reach them
            variable.trainable = not frozen
        self.config.freeze_backbone = frozen

    def build(self, input_shape):
        if not self.backbone.built:
            self.backbone.build(input_shape)
        self.freeze_backbone(self.config.freeze_backbone)   # again: a loaded backbone's variables are new
        width = self.backbone.config.d_model
        if self.head_hidden is not None:
            self.head_hidden.build((input_shape[0], width))
            width = self.config.head_dim
        self.logits.build((input_shape[0], width))
        self.built = True

    def call(self, token_ids, training=None):
        mask = ops.not_equal(token_ids, PAD_ID)
        states = self.backbone.hidden_states(token_ids, training=training)
        pooled = _masked_mean(states, mask) if self.config.pooling == "mean" else last_real_state(states, mask)
        x = self.head_dropout(ops.cast(pooled, "float32"), training=training)
        if self.head_hidden is not None:
            x = self.head_dropout(self.head_hidden(x), training=training)
        return self.logits(x)

    def get_config(self):
        backbone = keras.saving.serialize_keras_object(self.backbone)
        backbone.pop("compile_config", None)   # the classifier compiles itself; its LM optimizer is not restored
        return {**super().get_config(), "backbone": backbone}
