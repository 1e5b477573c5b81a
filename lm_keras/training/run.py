"""The whole road for one run: corpus -> tokenizer -> dataset -> model -> fit -> evaluate -> samples -> save."""

import contextlib
import dataclasses
import hashlib
import json
from pathlib import Path

import keras
import tensorflow as tf

from lm_keras.config import RunConfig, TokenizerConfig
from lm_keras.data import NAMED_CORPORA, encode_documents, load_corpus, load_default_corpus, split_corpus
from lm_keras.data.classification import encode_texts
from lm_keras.data.pipeline import encode_rows
from lm_keras.evaluation import evaluate_classifier, evaluate_language_model, evaluate_vae, evaluation_batch_size
from lm_keras.generation import Generator, LatentGenerator
from lm_keras.families import family
from lm_keras.runs import TIMINGS_FILE, Run, write_run
from lm_keras.tokenizers import create_tokenizer
from lm_keras.errors import ConfigError, CorpusError, OutputExistsError
from lm_keras.training.callbacks import FitPhases, GenerateSamples, resumed_epoch
from lm_keras.training.classifier import compile_classifier, fit_classifier
from lm_keras.training.devices import (check_global_batch, precision_policy, resolve_precision, resolve_strategy,
                                       strategy_name)
from lm_keras.training.fit import (compile_language_model, fit_documents, fit_language_model, planned_epochs,
                                  window_batches)
from lm_keras.utils.atomic import atomic_directory
from lm_keras.utils.timing import Stopwatch

DEFAULT = "default"


def run_tokenizer(config, texts):
    """A run's tokenizer: the pretrained model's when its family brings one (GPT-2's BPE, a backbone
    run's), else one trained on `texts` as `config.tokenizer` says."""
    pretrained = family(config.model_type).tokenizer(**model_options(config))
    if pretrained is not None:
        return pretrained
    tok = config.tokenizer
    return create_tokenizer(tok.kind, texts, tok.max_vocabulary_size, tok.min_frequency, tok.lowercase)


def prepare_data(corpus, config, tokenizer=None):
    """Split `corpus`, get the run's tokenizer (`run_tokenizer`, trained on the training split) unless
    one is given, encode every split.

    Returns (tokenizer, documents per split, ids per split, characters per split).
    """
    train = config.train
    splits = split_corpus(corpus, train.validation_fraction, train.test_fraction, train.seed)
    tokenizer = tokenizer or run_tokenizer(config, splits["train"])
    ids = {name: encode_documents(docs, tokenizer, add_special_tokens=corpus.line_level)
           for name, docs in splits.items()}
    # Line-level documents end in [EOS], which stands for the newline of the text.
    chars = {name: sum(len(d) + corpus.line_level for d in docs) for name, docs in splits.items()}
    return tokenizer, splits, ids, chars


def model_options(config):
    """The model fields of a `RunConfig`; a model's context defaults to the training windows' (its
    family's `context_from_training`)."""
    spec = family(config.model_type)
    options = dict(config.model)
    if spec.documents:
        options.setdefault("seed", config.train.seed)
    if spec.context_from_training:
        options.setdefault("context_length", config.train.context_length)
        if options["context_length"] < config.train.context_length:
            raise ConfigError(f"{spec.config_class.__name__}.context_length = {options['context_length']} is "
                              f"invalid: must be >= TrainConfig.context_length = {config.train.context_length} "
                              f"(the training windows)")
    return options


# Valid stand-ins for the config fields the data sets, to check the others before any data is read.
DATA_PLACEHOLDERS = {"vocabulary_size": 8, "num_classes": 2}


def check_model_options(config):
    """Check a `RunConfig`'s model options against its family's config class (a `ConfigError` naming the
    first wrong one), before any data or weights are loaded."""
    spec = family(config.model_type)
    names = {f.name for f in spec.option_fields()}
    unknown = sorted(set(config.model) - names)
    if unknown:
        raise ConfigError(f"RunConfig.model has options that {spec.config_class.__name__} does not: "
                          f"{', '.join(unknown)} (it has {', '.join(sorted(names))})")
    options = {k: v for k, v in model_options(config).items() if k in names}
    spec.pretrained_source(**options)
    from_data = {f.name: DATA_PLACEHOLDERS[f.name] for f in dataclasses.fields(spec.config_class) if f.name not in names}
    spec.config_class(**spec.options(**options, **from_data))


def build_run_model(config, vocabulary_size, **data_options):
    """The model of a `RunConfig` for a vocabulary of that size (built by its family); `data_options`: what
    else the data decides (a classifier's `num_classes`)."""
    return family(config.model_type).build(vocabulary_size=vocabulary_size, **data_options, **model_options(config))


def labelled_data(config, corpus=None):
    """The `TextClassificationData` of a classifier's `RunConfig`: a poet task by name (`li_du`,
    `ten_poets`), or a table's `column` (texts) and `label_column`; split by `config.train`'s fractions
    and seed (stratified, after deduplication)."""
    from lm_keras.data.classification import TASKS, classification_data, poet_task

    train = config.train
    fractions = dict(validation_fraction=train.validation_fraction, test_fraction=train.test_fraction, seed=train.seed)
    if config.corpus in TASKS:
        return poet_task(config.corpus, **fractions)
    corpus = corpus or load_corpus(config.corpus, column=config.column)
    if corpus.frame is None or not config.label_column:
        raise ConfigError(f"RunConfig.model_type = {config.model_type!r} is a classifier: it needs a poet task "
                          f"({', '.join(TASKS)}) or a table (.csv, .tsv, .parquet) with a text column and a label "
                          f"column (CLI: --column and --label-column), not {config.corpus!r}"
                          f"{'' if config.label_column else ' without a label column'}")
    if config.label_column not in corpus.frame.columns:
        raise ConfigError(f"{corpus.source} has no label column {config.label_column!r}; its columns are "
                          f"{list(corpus.frame.columns)}")
    try:
        return classification_data(corpus.frame[corpus.column].tolist(), corpus.frame[config.label_column].tolist(),
                                   name=Path(corpus.source).name, **fractions,
                                   where=lambda i: f"{corpus.source} data row {i + 1}")
    except ValueError as e:  # empty texts or labels, a single class: said by row
        raise CorpusError(str(e)) from e


def _fit_classifier(model, data, rows, config, fit_options, notice, watch):
    """Fit a classifier on labelled rows -> (history, validation figures: accuracy and macro-F1 with their
    bootstrap intervals, per class)."""
    history = fit_classifier(model, rows["train"], data.targets["train"], rows["validation"],
                             data.targets["validation"], config.train, **fit_options)
    watch.lap(FitPhases.SETUP)
    report = evaluate_classifier(model, rows["validation"], data.targets["validation"], data.labels,
                                 seed=config.train.seed)
    watch.lap(EVALUATION)
    evaluation = {k: v for k, v in report.items() if k not in ("confusion", "predictions", "probabilities")}
    evaluation["majority_baseline"] = data.majority_baseline("validation")
    notice(f"Validation: accuracy {evaluation['accuracy']:.3f} (majority class {evaluation['majority_baseline']:.3f}), "
           f"macro-F1 {evaluation['macro_f1']:.3f}, on {evaluation['n']} texts.")
    return history, evaluation


def sample_prompts(corpus, validation_docs, count=2):
    """Prompts for the samples: [BOS] (empty) for line-level corpora, else validation lines."""
    if corpus.line_level or not validation_docs:
        return [""] * count
    lines = [line for line in validation_docs[0].split("\n") if line.strip()]
    return [line[:40] for line in lines[:count]] or [""]


def _fit_vae(model, tokenizer, splits, config, fit_options, notice, watch):
    """Fit a `TextVAE` on whole documents -> (history, validation figures, samples from the prior)."""
    rows = {name: encode_rows(docs, tokenizer, model.context_length) for name, docs in splits.items() if docs}
    watch.lap(DATA)
    history = fit_documents(model, rows["train"], rows["validation"], config.train, **fit_options)
    watch.lap(FitPhases.SETUP)
    evaluation = evaluate_vae(model, rows["validation"], seed=config.train.seed)
    watch.lap(EVALUATION)
    notice(f"Validation: reconstruction {evaluation['reconstruction']:.2f}, KL {evaluation['kl']:.2f}, "
           f"-ELBO {-evaluation['elbo']:.2f} nats per document ({-evaluation['elbo_per_token']:.4f} per token); "
           f"active units {evaluation['active_units']}/{model.latent_dim}.")
    samples = LatentGenerator(model, tokenizer).sample(3, seed=config.train.seed)
    watch.lap(SAMPLES)
    return history, evaluation, samples


def backup_dir_for(out):
    """Where a run writing to `out` keeps its resumable checkpoint: `<out>.backup` beside it."""
    return Path(out).with_name(Path(out).name + ".backup")


FINGERPRINT = "run_fingerprint.json"
# Phases of `Run.timings` besides `FitPhases`'s.
DATA, MODEL, EVALUATION, SAMPLES, SAVE = ("data (corpus, tokenizer, encoding)", "model (build, compile)",
                                          "final evaluation", "samples", "save")


def check_backup(backup_dir, config, tokenizer):
    """Refuse to resume from a checkpoint that another model or vocabulary wrote; record ours.

    A checkpoint holds weights only. Resumed into a model of the same shapes whose token ids
    mean other characters (the corpus or the tokenizer changed), it would load without an
    error and train on silently scrambled embeddings. The fingerprint is the model type, the
    model's fields and a hash of the vocabulary; steps and learning rates may change.
    """
    fingerprint = {"model_type": config.model_type, "model": config.model,
                   "vocabulary_sha256": hashlib.sha256("\n".join(tokenizer.vocabulary).encode("utf-8")).hexdigest()}
    path = Path(backup_dir) / FINGERPRINT
    if resumed_epoch(backup_dir) and path.is_file():
        found = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(k for k in fingerprint if found.get(k) != fingerprint[k])
        if changed:
            raise ConfigError(f"The checkpoint in {backup_dir} was written by a run with another "
                              f"{' and '.join(k.replace('_sha256', '') for k in changed)}: resuming would load "
                              f"weights that do not fit this run. Delete {backup_dir} to start afresh, or run the "
                              f"command that wrote it.")
    Path(backup_dir).mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fingerprint, indent=1, ensure_ascii=False), encoding="utf-8")


def train_run(config, out=None, overwrite=False, corpus=None, callbacks=(), verbose="auto",
              notice=print, sample_tokens=None, backup=True, tensorboard_dir=None, sample_every=None):
    """Train a model as described by `config` (a `RunConfig`) and save it under `out`.

    Args:
        out: run directory (written atomically at the end; None: do not save).
        overwrite: replace an existing `out` (otherwise an existing one is an error, before training).
        corpus: an already loaded `Corpus` (default: `load_corpus(config.corpus)`;
            `"default"` means Tiny Shakespeare, or the embedded stdlib docstrings offline).
        backup: with an `out`, checkpoint every evaluation interval into `<out>.backup`; a
            run that was killed resumes from there when started again with the same config.
        tensorboard_dir: write TensorBoard logs there.
        sample_every: print a generated sample every that many steps.

    Returns:
        A `Run` with the model, tokenizer, evaluation, samples and `timings` (wall-clock seconds per
        phase, `FitPhases`'s for the fit; saved as `timings.json`).
    """
    if out is not None and Path(out).exists() and not overwrite:
        raise OutputExistsError(f"{out} already exists; pass overwrite=True (CLI: --overwrite) to replace it.")
    spec = family(config.model_type)
    config = RunConfig.from_dict(config.to_dict())   # filled in below with what the run used; the caller's stays
    watch = Stopwatch()
    if spec.labels:
        data = labelled_data(config, corpus)
        if not data.texts["validation"]:
            raise CorpusError(f"{data.name}: the validation split is empty ({sum(map(len, data.texts.values()))} "
                              f"distinct texts, validation_fraction={config.train.validation_fraction}); a "
                              f"classifier is validated on held-out texts: give more texts or a larger fraction")
        tokenizer = run_tokenizer(config, data.texts["train"])
        rows = {name: encode_texts(texts, tokenizer, config.train.context_length)
                for name, texts in data.texts.items() if texts}
        notice(f"{data.name}: {data.num_classes} classes; train {len(data.texts['train']):,} / validation "
               f"{len(data.texts['validation']):,} / test {len(data.texts['test']):,} texts, at most "
               f"{config.train.context_length} tokens each; {tokenizer.kind} tokenizer with "
               f"{tokenizer.vocabulary_size:,} tokens.")
    else:
        if corpus is None:
            if config.corpus == DEFAULT:
                corpus = load_default_corpus(notice=notice)
            else:
                corpus = load_corpus(config.corpus, column=config.column, lines=config.line_level)
        # Record what can load the corpus again: a named corpus by name, a local one by path.
        reload_as = corpus.name if corpus.name in NAMED_CORPORA else corpus.source
        config = RunConfig.from_dict({**config.to_dict(), "corpus": reload_as, "column": corpus.column,
                                      "line_level": corpus.line_level})
        if spec.documents and not corpus.line_level:
            raise ConfigError(f"RunConfig.model_type = {spec.name!r} is invalid for {corpus.name}: it reads whole "
                              f"documents and needs a corpus of one document per line (tang_quatrains, tang_poems, "
                              f"or your own .txt with --documents lines)")
        tokenizer, splits, ids, chars = prepare_data(corpus, config)
        notice(f"Corpus {corpus.name}: {len(corpus.text):,} characters; {tokenizer.kind} tokenizer with "
               f"{tokenizer.vocabulary_size:,} tokens; train {len(ids['train']):,} / validation "
               f"{len(ids['validation']):,} tokens.")
    if spec.pretrained_tokenizer:  # recorded as what it is: no tokenizer was trained
        config.tokenizer = TokenizerConfig(kind=tokenizer.kind)
    watch.lap(DATA)

    if config.train.deterministic:
        tf.config.experimental.enable_op_determinism()
    strategy = resolve_strategy(config.train.distribution)
    per_replica = check_global_batch(config.train.batch_size, strategy)
    policy = resolve_precision(config.train.precision)
    notice(f"Precision {policy}; {strategy_name(strategy)} with {strategy.num_replicas_in_sync} replica(s), "
           f"global batch {config.train.batch_size} = {per_replica} per replica.")
    keras.utils.set_random_seed(config.train.seed)
    with precision_policy(policy), strategy.scope():
        model = build_run_model(config, tokenizer.vocabulary_size,
                                **({"num_classes": data.num_classes} if spec.labels else {}))
        model(tf.zeros((1, 2), tf.int32))
        reads = getattr(model, "context_length", None)  # a pretrained backbone reads at most this many tokens
        if spec.labels and reads and config.train.context_length > reads:
            raise ConfigError(f"TrainConfig.context_length = {config.train.context_length} is invalid: the backbone "
                              f"reads at most {reads} tokens (CLI: --context {reads})")
        if spec.labels:
            compile_classifier(model, config.train, num_train=len(rows["train"]))
        else:
            batches = (len(splits["train"]) // config.train.batch_size if spec.documents  # a pass over the documents
                       else window_batches(len(ids["train"]), config.train))
            epochs, steps_per_epoch = planned_epochs(config.train, batches)
            compile_language_model(model, config.train, total_steps=epochs * steps_per_epoch)
    options = {f.name for f in spec.option_fields()}   # not what the data set (vocabulary_size, num_classes)
    config.model = {k: v for k, v in model.config.to_dict().items() if k in options}
    if spec.documents:
        config.model["seed"] = model.seed
    watch.lap(MODEL)
    callbacks = [FitPhases(watch), *callbacks]
    if sample_every and not spec.labels:
        prompt = sample_prompts(corpus, splits["validation"])[0]
        callbacks.append(GenerateSamples(Generator(model, tokenizer, allow_eos=corpus.line_level), prompt,
                                         every=sample_every, printer=notice))
    backup_dir = backup_dir_for(out) if out and backup else None
    if backup_dir:
        check_backup(backup_dir, config, tokenizer)
        if resumed_epoch(backup_dir):
            notice(f"Resuming from the checkpoint in {backup_dir} (evaluation interval {resumed_epoch(backup_dir)}).")

    with atomic_directory(out, overwrite=overwrite) if out else contextlib.nullcontext() as directory:
        fit_options = dict(callbacks=callbacks, verbose=verbose, backup_dir=backup_dir,
                           tensorboard_dir=tensorboard_dir)
        if spec.labels:
            history, evaluation = _fit_classifier(model, data, rows, config, fit_options, notice, watch)
            samples = []
        elif spec.documents:
            history, evaluation, samples = _fit_vae(model, tokenizer, splits, config, fit_options, notice, watch)
        else:
            history = fit_language_model(model, ids["train"], ids["validation"], config.train, **fit_options)
            watch.lap(FitPhases.SETUP)
            context = config.train.context_length
            evaluation = evaluate_language_model(
                model, ids["validation"], context,
                evaluation_batch_size(config.train.batch_size, context, tokenizer.vocabulary_size),
                chars["validation"], model.jit_compile)
            watch.lap(EVALUATION)
            notice(f"Validation: loss {evaluation['loss']:.4f} nats/token, perplexity "
                   f"{evaluation['perplexity']:.2f}, {evaluation['bits_per_character']:.3f} bits/char.")
            generator = Generator(model, tokenizer, allow_eos=corpus.line_level)  # one call: XLA would not repay
            max_new = sample_tokens or (300 if config.tokenizer.kind == "char" else 80)
            samples = generator(sample_prompts(corpus, splits["validation"]), max_new_tokens=max_new,
                                temperature=0.8, seed=config.train.seed)
            watch.lap(SAMPLES)
        run = Run(model=model, tokenizer=tokenizer, config=config, evaluation=evaluation, samples=samples,
                  history=history.history, labels=data.labels if spec.labels else None, timings=watch.seconds)
        if directory:
            write_run(directory, run)
            watch.lap(SAVE)
            (directory / TIMINGS_FILE).write_text(json.dumps(watch.seconds, indent=1), encoding="utf-8")
    run.path = Path(out) if out else None
    return run

