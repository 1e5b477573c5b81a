"""Compile and fit a text classifier with the language models' machinery (optimizer, `fit()`, NaN handling)."""

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from lm_keras.config import TrainConfig
from lm_keras.data.corpus import Corpus
from lm_keras.errors import ConfigError, CorpusError
from lm_keras.training.fit import _fit, planned_epochs
from lm_keras.training.optimizers import build_optimizer, build_slots


def classifier_schedule(config, num_train):
    """(Keras epochs, steps per epoch): `config.epochs` passes over `num_train` rows (the last batch
    may be short), or `config.steps` steps validated every `eval_interval`."""
    return planned_epochs(config, math.ceil(num_train / config.batch_size))


def compile_classifier(model, config=None, num_train=None, **overrides):
    """Compile with the optimizer of a `TrainConfig` (schedule over the planned steps),
    sparse cross-entropy on logits and accuracy.

    Args:
        num_train: training rows, to count the steps of `config.epochs` epochs.
        overrides: `TrainConfig` fields to change, e.g. `learning_rate=1e-4`.
    """
    config = dataclasses.replace(config or TrainConfig(), **overrides).resolved()
    epochs, steps_per_epoch = classifier_schedule(config, num_train or config.batch_size)
    model.compile(optimizer=build_optimizer(model, config, epochs * steps_per_epoch),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                  jit_compile=config.jit_compile)
    return build_slots(model)


def length_buckets(width):
    """Bucket boundaries for rows of `width` tokens: 16, 32, 48, 64, 96, 128, 192, ... below it, then width + 1."""
    steps = (16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
    return [b for b in steps if b < width] + [width + 1]


def classification_dataset(rows, targets, batch_size, shuffle=True, seed=0, repeat=False, skip_batches=0,
                           class_weight=None, bucket_by_length=True):
    """Batches of (rows (b, t), class ids (b,)[, sample weights (b,)]) from `class_weight` {class: weight}.

    With `bucket_by_length`, rows of similar length are batched together and padded to
    their bucket's boundary (`length_buckets`), not to the longest row of the set: most
    poems are far shorter than the longest, and an LSTM or a Transformer costs time per
    position. A handful of batch shapes, so a compiled step is traced a handful of times.
    """
    rows, targets = np.asarray(rows, np.int32), np.asarray(targets, np.int32)
    if len(rows) != len(targets) or not len(rows):
        raise CorpusError(f"{len(rows)} rows and {len(targets)} targets: they must pair up and not be empty")
    tensors = (rows, targets)
    if class_weight is not None:
        weights = np.array([class_weight.get(c, 1.0) for c in range(int(targets.max()) + 1)], np.float32)
        tensors = (rows, targets, weights[targets])
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        dataset = dataset.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    if bucket_by_length:
        boundaries = length_buckets(rows.shape[1])
        dataset = dataset.map(lambda row, *rest: (row[:tf.math.count_nonzero(row, dtype=tf.int32)], *rest))
        dataset = dataset.bucket_by_sequence_length(lambda row, *rest: tf.shape(row)[0], boundaries,
                                                    [batch_size] * (len(boundaries) + 1), pad_to_bucket_boundary=True)
        if not repeat:  # bucketing hides the number of batches; Keras needs it to run a finite set quietly
            buckets = np.bincount(np.searchsorted(boundaries, np.count_nonzero(rows, axis=1), side="right"))
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(int(np.ceil(buckets / batch_size).sum())))
    else:
        dataset = dataset.batch(batch_size)
    if skip_batches:
        dataset = dataset.skip(skip_batches)
    return dataset.prefetch(tf.data.AUTOTUNE)


def fit_classifier(model, train_rows, train_targets, validation_rows, validation_targets, config,
                   class_weight=None, callbacks=(), verbose=0, backup_dir=None, tensorboard_dir=None):
    """Train a compiled classifier: `config.epochs` passes over the training rows (or
    `config.steps` steps), validated on every validation row after each epoch; `tensorboard_dir`: write
    TensorBoard logs there.

    Shuffling and the weights follow `config.seed`; `config.early_stopping_patience` stops
    on the validation loss and keeps the best weights; `class_weight` {class: weight}
    weighs each example's loss (e.g. `TextClassificationData.class_weights()`). Resume
    (`backup_dir`), callbacks and NaN handling are those of `fit_language_model`.

    Returns:
        The Keras `History`.
    """
    epochs, steps_per_epoch = classifier_schedule(config, len(train_rows))
    validation = classification_dataset(validation_rows, validation_targets, 256, shuffle=False)

    def datasets(skip):
        return classification_dataset(train_rows, train_targets, config.batch_size, seed=config.seed, repeat=True,
                                      skip_batches=skip, class_weight=class_weight), validation

    return _fit(model, datasets, epochs, steps_per_epoch, config.batch_size * np.shape(train_rows)[1], config,
                callbacks, verbose, backup_dir, tensorboard_dir)


def _one_line_texts(texts):
    texts = [t.strip() for t in texts if t.strip()]
    if not texts:
        raise CorpusError("no texts to train on")
    if any("\n" in t for t in texts):
        raise CorpusError("a text contains a newline; each text must be one line (one document)")
    return texts


def pretrain_language_model(texts, config, out=None, name="pretraining texts", **run_options):
    """Pretrain a language model on `texts` (one document each) with `train_run` -> the `Run`.

    The texts are read as a line-level corpus ([BOS] text [EOS] each), split by
    `config.train`'s fractions, and the tokenizer is built from its training part: pass
    only texts a later classifier may see (`lm_keras.data.classification.pretraining_poems`
    leaves out every validation and test text of the classification tasks).

    Args:
        texts: list of str, no newlines inside a text.
        config: a `RunConfig` (`model_type="transformer"` for `TransformerClassifier`).
        out: run directory to save to (None: do not save).
        run_options: passed to `train_run` (`overwrite`, `verbose`, `notice`, ...).
    """
    texts = _one_line_texts(texts)
    from lm_keras.training.run import train_run

    corpus = Corpus(name=name, text="\n".join(texts), line_level=True, source=name)
    return train_run(config, out=out, corpus=corpus, **run_options)


def finetune_language_model(model, tokenizer, texts, validation_texts, config, **fit_options):
    """Go on training a (pretrained) language model on `texts` with its own tokenizer -> the `History`.

    Each text is one document, `[BOS] text [EOS]` as `pretrain_language_model` reads them; the
    model is compiled afresh with `config` (a `TrainConfig`: a new optimizer and schedule) and
    trained by `fit_language_model`, validated on `validation_texts` (held-out documents).
    `fit_options`: `callbacks`, `verbose`, `backup_dir`.
    """
    from lm_keras.data.pipeline import encode_documents
    from lm_keras.training.fit import compile_language_model, fit_language_model

    train_ids = encode_documents(_one_line_texts(texts), tokenizer, add_special_tokens=True)
    validation_ids = encode_documents(_one_line_texts(validation_texts), tokenizer, add_special_tokens=True)
    compile_language_model(model, config)
    return fit_language_model(model, train_ids, validation_ids, config, **fit_options)


def classifier_from_run(backbone_run, num_classes, vocabulary_size=None, **options):
    """A `TransformerClassifier` on the Transformer LM of a run directory (`train_run`'s), built.

    Args:
        backbone_run: the run directory; its tokenizer is the classifier's (`load_tokenizer(backbone_run)`).
        vocabulary_size: when given, must be the run's.
        options: `TransformerClassifierConfig` fields (`pooling`, `head_dim`, `dropout`, `freeze_backbone`).

    Raises:
        ModelLoadError: no run there; ConfigError: the run's model is not a Transformer LM, or another vocabulary.
    """
    from lm_keras.models import TransformerClassifier, TransformerLanguageModel
    from lm_keras.runs import load_run

    run = load_run(backbone_run)
    if not isinstance(run.model, TransformerLanguageModel):
        raise ConfigError(f"backbone_run = {str(backbone_run)!r} is invalid: its model is a "
                          f"{type(run.model).__name__}, not a Transformer LM (train one with --model transformer)")
    if vocabulary_size is not None and vocabulary_size != run.tokenizer.vocabulary_size:
        raise ConfigError(f"vocabulary_size = {vocabulary_size} is invalid: the backbone's tokenizer has "
                          f"{run.tokenizer.vocabulary_size} tokens")
    classifier = TransformerClassifier(run.model, num_classes, backbone_run=str(backbone_run), **options)
    classifier(tf.zeros((1, 2), tf.int32))
    return classifier