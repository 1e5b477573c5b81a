"""Command line: `python -m lm_keras train | generate | evaluate | export | download`.

Thin: parses arguments, calls the Python API, prints results. `train`'s options are the
fields of the config dataclasses (help, flag and choices in their `option` metadata), so the
command line knows nothing the library does not: `run_config_from_args` makes the
`RunConfig` that `train_run` trains, and `train_command` writes one back as a command line.
The library's own errors (a missing corpus, an invalid value) print one line and exit with
status 2; anything else is a bug and keeps its traceback.
"""

import argparse
import dataclasses
import json
import os
import re
import shlex
import sys
import types
from pathlib import Path

from lm_keras.config import RNN_CELLS, TOKENIZER_KINDS, RunConfig, TokenizerConfig, TrainConfig
from lm_keras.errors import ConfigError
from lm_keras.families import FAMILIES

EXAMPLES = """examples:
  python -m lm_keras train --corpus tiny_shakespeare --steps 2000 --out saved_models/shakespeare
  python -m lm_keras train --corpus tang_poems --tokenizer char --model gru --hidden-dim 512
  python -m lm_keras train --model transformer --layers 4 --heads 4 --d-model 128 --context 64
  python -m lm_keras train --corpus notes/*.txt --tokenizer word --epochs 5
  python -m lm_keras generate saved_models/shakespeare --prompt "ROMEO:" --temperature 0.8
  python -m lm_keras evaluate saved_models/shakespeare --split validation --ngram 3 5
  python -m lm_keras evaluate --corpus tiny_shakespeare --tokenizer word --ngram 1 2 3
  python -m lm_keras export saved_models/shakespeare --out saved_models/shakespeare_export
  python -m lm_keras train --corpus tang_quatrains --model vae --steps 3000 --out saved_models/vae
  python -m lm_keras train --corpus my_poems.txt --documents lines --model vae --out saved_models/my_vae
  python -m lm_keras generate saved_models/vae --interpolate "白日依山盡，…" "床前明月光，…"
"""

# --model names a family, or for the RNN family its cell.
MODEL_CHOICES = (*RNN_CELLS, *(name for name in FAMILIES if name != "rnn"))
# TrainConfig fields shown in the "data" group rather than "training".
DATA_FIELDS = ("validation_fraction", "test_fraction")
SCALE_FIELDS = ("precision", "distribution", "gradient_accumulation_steps", "deterministic", "early_stopping_patience")


def _family_of(model_choice):
    return FAMILIES["rnn" if model_choice in RNN_CELLS else model_choice]


def _flag(f):
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _optional(f):
    return isinstance(f.type, types.UnionType) and type(None) in f.type.__args__


def _base_type(f):
    kinds = [t for t in getattr(f.type, "__args__", (f.type,)) if t is not type(None)]
    return kinds[0] if len(kinds) == 1 else str   # bool | str (jit_compile) is read as a choice


def _parser_of(f):
    """The argparse `type` of a field: its base type, and 'none' for None where None is allowed."""
    base = _base_type(f)
    if f.metadata.get("choices") == (True, False, "auto"):
        return _on_off_auto

    def parse(text):
        if _optional(f) and text.lower() == "none":
            return None
        return base(text)
    parse.__name__ = base.__name__  # argparse names the type in its error message
    return parse


def _on_off_auto(text):
    values = {"on": True, "off": False, "auto": "auto"}
    if text not in values:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from on, off, auto)")
    return values[text]


def _shown(value):
    if value is None:
        return "none"
    return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value


def _add_field(group, f, default_text, help_text=None):
    """One option for dataclass field `f`. Left out, it is absent from the parsed arguments: the dataclass or
    the model family decides (so 'none', where a field allows None, is a value like any other)."""
    help_text = f"{help_text or f.metadata['help']} (default: {f.metadata.get('default_text') or default_text})"
    if f.type is bool:  # a switch: --name / --no-name
        group.add_argument(_flag(f), dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                           help=help_text)
        return
    choices = f.metadata.get("choices")
    if choices == (True, False, "auto"):
        choices, metavar = None, "{on,off,auto}"
    else:
        metavar = None if choices else _flag(f)[2:].upper().replace("-", "_")
    group.add_argument(_flag(f), dest=f.name, type=_parser_of(f), default=argparse.SUPPRESS, metavar=metavar,
                       choices=choices, help=help_text)


def _per_family(values):
    """One value when every family has the same, else "family value, ..."."""
    if len(set(map(str, values.values()))) == 1:
        return str(next(iter(values.values())))
    return ", ".join(f"{family} {value}" for family, value in values.items())


def _field_defaults(name):
    """How the default of a TrainConfig field reads in --help: one value, or one per model family."""
    if name not in next(iter(FAMILIES.values())).train_defaults:
        return _shown(next(f for f in dataclasses.fields(TrainConfig) if f.name == name).default)
    return _per_family({spec.name: _shown(spec.train_defaults[name]) for spec in FAMILIES.values()})


def _model_fields():
    """{field name: (field, [families that have it])} over every family's CLI options."""
    found = {}
    for spec in FAMILIES.values():
        for f in spec.option_fields():
            if f.metadata.get("cli", True):
                found.setdefault(f.name, (f, []))[1].append(spec)
    return found


def _train_parser(sub):
    p = sub.add_parser(
        "train", help="train a language model on a corpus and save it",
        description="Train a language model on a corpus, print validation loss, perplexity and a sample, and "
                    "save the run (config, tokenizer, model.keras, metrics) to --out. Every option left out "
                    "takes its default; where it differs by model family, --help names each.")
    data = p.add_argument_group("data")
    data.add_argument("--corpus", default="default",
                      help="named corpus (tiny_shakespeare, tang_poems, tang_quatrains, tang300, python_docs), a "
                           ".txt file, a folder or glob of .txt files, or a .csv/.tsv/.parquet table; 'default' is "
                           "tiny_shakespeare, or python_docs when it cannot be had offline (default: default)")
    data.add_argument("--column", help="text column of a table corpus")
    data.add_argument("--label-column", help="label column of a table corpus (a classifier's; --corpus may also "
                                             "be a poet task: li_du, ten_poets)")
    data.add_argument("--documents", choices=("text", "lines"), default="text",
                      help="read .txt files as one continuous text, or as one document per line (a text VAE "
                           "needs documents; tables and the poem corpora are always by line) (default: text)")
    groups = {"data": data, "tokenizer": p.add_argument_group("tokenizer"),
              "model": p.add_argument_group("model"), "training": p.add_argument_group("training"),
              "scale": p.add_argument_group("scale and monitoring")}
    for f in dataclasses.fields(TokenizerConfig):
        _add_field(groups["tokenizer"], f, _shown(f.default))
    groups["model"].add_argument("--model", choices=MODEL_CHOICES, default="lstm",
                                 help="; ".join(f"{name}: {spec.summary}" for name, spec in FAMILIES.items())
                                 + " (default: lstm)")
    for name, (f, families) in _model_fields().items():
        fields = {spec.name: next(g for g in spec.option_fields() if g.name == name) for spec in families}
        text = _per_family({k: _shown(g.default) for k, g in fields.items()})
        _add_field(groups["model"], f, text + ("" if len(families) == len(FAMILIES)
                                               else "; " + ", ".join(spec.name for spec in families) + " only"),
                   _per_family({k: g.metadata["help"] for k, g in fields.items()}))
    for f in dataclasses.fields(TrainConfig):
        group = "data" if f.name in DATA_FIELDS else "scale" if f.name in SCALE_FIELDS else "training"
        _add_field(groups[group], f, _field_defaults(f.name))
    scale = groups["scale"]
    scale.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs to DIR")
    scale.add_argument("--sample-every", type=int, metavar="N", help="print a sample every N steps")
    scale.add_argument("--no-backup", action="store_true",
                       help="do not checkpoint into <out>.backup (a killed run then cannot resume)")
    out = p.add_argument_group("output")
    out.add_argument("--out", help="run directory (default: saved_models/<corpus>_<model>_<tokenizer>)")
    out.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    out.add_argument("--quiet", action="store_true", help="one line per evaluation instead of a progress bar "
                                                          "(the default when the output is not a terminal)")
    p.set_defaults(func=cmd_train)


def _given(args, fields):
    """{field: value} for the options given on the command line."""
    return {f.name: getattr(args, f.name) for f in fields if hasattr(args, f.name)}


def run_config_from_args(args):
    """The `RunConfig` a `train` command line describes (what `train_run` then trains)."""
    spec = _family_of(args.model)
    model = _given(args, [f for f, _ in _model_fields().values()])
    foreign = sorted(set(model) - {f.name for f in spec.option_fields()})
    if foreign:
        flags = ", ".join(_flag(_model_fields()[name][0]) for name in foreign)
        raise ConfigError(f"{flags} do(es) not apply to --model {args.model} (a {spec.name} model; "
                          f"see python -m lm_keras train --help)")
    if spec.name == "rnn":
        model["cell_type"] = args.model
    return RunConfig(corpus=args.corpus, column=args.column, label_column=args.label_column,
                     line_level=args.documents == "lines",
                     tokenizer=TokenizerConfig(**_given(args, dataclasses.fields(TokenizerConfig))),
                     model=model, model_type=spec.name,
                     train=TrainConfig(**_given(args, dataclasses.fields(TrainConfig))))


def train_command(config, out=None):
    """The `python -m lm_keras train` command line that trains `config` (a `RunConfig`): every field that
    differs from its default, so that `run_config_from_args` of it gives `config` back."""
    spec = FAMILIES[config.model_type]
    model = dict(config.model)
    words = ["--corpus", config.corpus] + (["--column", config.column] if config.column else [])
    words += ["--label-column", config.label_column] if config.label_column else []
    if config.line_level:  # a no-op for tables and the poem corpora, needed for a .txt
        words += ["--documents", "lines"]
    words += ["--model", model.pop("cell_type", "lstm") if spec.name == "rnn" else spec.name]

    def changed(fields, values, defaults):
        for f in fields:
            if f.name in values and values[f.name] != defaults.get(f.name, f.default) and f.metadata.get("cli", True):
                value = values[f.name]
                if f.type is bool:
                    words.append(_flag(f) if value else "--no-" + _flag(f)[2:])
                else:
                    words.extend([_flag(f), "none" if value is None else str(_shown(value))])

    changed(dataclasses.fields(TokenizerConfig), dataclasses.asdict(config.tokenizer), {})
    changed(spec.option_fields(), model, {})
    resolved_defaults = dataclasses.asdict(TrainConfig().resolved(spec.train_defaults))
    changed(dataclasses.fields(TrainConfig), dataclasses.asdict(config.train), resolved_defaults)
    words += ["--out", str(out)] if out else []
    return "python -m lm_keras train " + " ".join(shlex.quote(str(w)) for w in words)


def _sampling_args(p):
    p.add_argument("--max-new-tokens", type=int, default=300, help="tokens to generate per prompt")
    p.add_argument("--temperature", type=float, help="<= 0 means greedy (default: 0.8; VAE codes: greedy)")
    p.add_argument("--top-k", type=int, default=0, help="sample among the k most likely tokens (0: all)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling mass in (0, 1] (1: all)")
    p.add_argument("--seed", type=int, help="same seed, same text (default: random)")
    p.add_argument("--no-stop", action="store_true", help="do not stop at the end-of-document token")
    p.add_argument("--beams", type=int, help="beam search with this many beams instead of sampling")
    p.add_argument("--length-penalty", type=float, default=1.0,
                   help="beam search: rank finished beams by score / length^penalty")
    p.add_argument("--jit-compile", action="store_true", help="compile the decode loop with XLA")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m lm_keras", description="Train, sample from and evaluate Keras language models.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help=f"show the traceback of every error (or {DEBUG_ENV}=1)")
    parser.add_argument("--verbose", action="store_true", help="let TensorFlow print its start-up log lines")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,generate,evaluate,export,download}")
    _train_parser(sub)

    g = _command(sub, "generate", cmd_generate, "generate text from a trained run",
                 "Generate text from a run directory written by `train`.")
    g.add_argument("run", help="run directory, e.g. saved_models/shakespeare")
    g.add_argument("--prompt", action="append", help="prompt text; repeat for several (default: empty prompt)")
    latent = g.add_argument_group("text VAE runs (default: --sample 3)")
    latent.add_argument("--interpolate", nargs=2, metavar=("A", "B"), help="decode codes on the line from A to B")
    latent.add_argument("--steps", type=int, default=5, help="codes on the interpolation line, ends included")
    latent.add_argument("--reconstruct", action="append", metavar="TEXT", help="encode TEXT and decode its code")
    latent.add_argument("--sample", type=int, metavar="N", help="decode N codes drawn from the prior")
    _sampling_args(g)

    e = _command(sub, "evaluate", cmd_evaluate, "held-out loss, perplexity and bits per character",
                 "Evaluate a run on a split of its corpus (or another corpus), and/or n-gram baselines counted "
                 "on the training split with the same tokenizer.")
    e.add_argument("run", nargs="?", help="run directory (optional with --ngram)")
    e.add_argument("--ngram", type=int, nargs="+", metavar="N",
                   help="also evaluate n-gram models of these orders (1-5)")
    e.add_argument("--smoothing", choices=("kneser_ney", "add_k"), default="kneser_ney", help="n-gram smoothing")
    e.add_argument("--k", type=float, default=1.0, help="pseudo-count of add-k smoothing")
    e.add_argument("--tokenizer", choices=TOKENIZER_KINDS, default="char",
                   help="tokenizer of the n-grams when no run is given")
    e.add_argument("--seed", type=int, default=0, help="split seed when no run is given")
    e.add_argument("--corpus", help="corpus to evaluate on (default: the run's own, same split)")
    e.add_argument("--column", help="text column of a table corpus")
    e.add_argument("--split", choices=("train", "validation", "test"), default="validation")
    e.add_argument("--batch-size", type=int, default=64)
    e.add_argument("--iw-samples", type=int, default=0, metavar="K",
                   help="VAE runs: importance-weighted NLL bound with K samples per document (e.g. 100)")
    e.add_argument("--json", action="store_true", help="print the result as JSON")

    x = _command(sub, "export", cmd_export, "export a run as a SavedModel that serves strings",
                 "Export a run directory as a TensorFlow SavedModel with `generate` and `score` signatures "
                 "(tokenizer and decode loop inside; load it with tf.saved_model.load, no lm_keras needed).")
    x.add_argument("run", help="run directory")
    x.add_argument("--out", help="export directory (default: <run>_saved_model)")
    x.add_argument("--overwrite", action="store_true", help="replace an existing export directory")
    x.add_argument("--max-new-tokens-limit", type=int, default=1024,
                   help="the most new tokens one generate call may ask for")
    x.add_argument("--no-xla", action="store_true", help="do not XLA-compile the decode loop")

    d = _command(sub, "download", cmd_download, "download named corpora into the cache (then work offline)",
                 "Download, convert and hash-check named corpora into the corpus cache ($LM_KERAS_DATA_DIR, else "
                 "the checkout's data/, else ~/.cache/lm_keras/data). Sources: $LM_KERAS_SHAKESPEARE_URL and "
                 "$LM_KERAS_CHINESE_POETRY_URL override the public ones (a file:// mirror works).")
    d.add_argument("corpora", nargs="+", help="named corpora, e.g. tiny_shakespeare tang_poems tang300")
    return parser


def _command(sub, name, func, summary, description):
    """A subcommand whose --help shows every default."""
    parser = sub.add_parser(name, help=summary, description=description,
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.set_defaults(func=func)
    return parser


def cmd_train(args):
    from lm_keras.training import train_run
    from lm_keras.training.run import check_model_options

    config = run_config_from_args(args)
    check_model_options(config)  # before loading any data
    out = args.out
    if out is None:
        from lm_keras.utils.paths import saved_models_dir

        name = re.sub(r"[^\w.-]+", "_", Path(args.corpus).stem).strip("_") or "corpus"
        out = saved_models_dir() / f"{name}_{args.model}_{config.tokenizer.kind}"
    quiet = args.quiet or not sys.stdout.isatty()   # a log file gets one line per evaluation, not a progress bar
    run = train_run(config, out=out, overwrite=args.overwrite, verbose=2 if quiet else "auto",
                    backup=not args.no_backup, tensorboard_dir=args.tensorboard, sample_every=args.sample_every)
    if FAMILIES[config.model_type].documents:
        print("\nDecoded from codes drawn from the prior (greedy):\n" + "\n".join(run.samples) + "\n")
    elif not FAMILIES[config.model_type].labels:
        print(f"\nSample (temperature 0.8):\n{run.samples[0]}\n")
    print(f"Saved to {run.path}")
    return 0


def cmd_generate(args):
    from lm_keras.runs import load_run

    run = load_run(args.run)
    if FAMILIES[run.config.model_type].documents:
        return _generate_from_codes(run, args)
    if FAMILIES[run.config.model_type].labels:
        return _classify(run, args)
    if args.interpolate or args.reconstruct or args.sample:
        raise ConfigError(f"--interpolate, --reconstruct and --sample need a text VAE run; "
                         f"{run.path} is a {run.config.model_type} language model")
    prompts = args.prompt or [""]
    texts = run.generator(jit_compile=args.jit_compile)(
        prompts, max_new_tokens=args.max_new_tokens,
        temperature=0.8 if args.temperature is None else args.temperature, top_k=args.top_k,
        top_p=args.top_p, seed=args.seed, stop_at_eos=not args.no_stop, num_beams=args.beams,
        length_penalty=args.length_penalty)
    print("\n\n---\n\n".join(texts))
    return 0


def _classify(run, args):
    """`generate` for a classifier run: the class of each --prompt, with its probability."""
    from lm_keras.data.classification import encode_texts

    if not args.prompt:
        raise ConfigError(f"{run.path} is a classifier: give the texts to classify with --prompt TEXT")
    probabilities = run.model.predict_probabilities(encode_texts(args.prompt, run.tokenizer,
                                                                 run.config.train.context_length))
    for text, p in zip(args.prompt, probabilities):
        print(f"{run.labels[int(p.argmax())]}\t{p.max():.3f}\t{text}")
    return 0


def _generate_from_codes(run, args):
    """`generate` for a VAE run: interpolate, reconstruct or sample from the prior (greedy unless --temperature)."""
    from lm_keras.generation import LatentGenerator

    codes = LatentGenerator(run.model, run.tokenizer, jit_compile=args.jit_compile)
    temperature = args.temperature or 0.0
    if args.interpolate:
        for t, text in codes.interpolate(*args.interpolate, steps=args.steps, temperature=temperature):
            print(f"{t:.2f}  {text}")
    if args.reconstruct:
        for source, text in zip(args.reconstruct, codes.reconstruct(args.reconstruct, temperature, args.seed)):
            print(f"{source}\n  -> {text}")
    if args.sample or not (args.interpolate or args.reconstruct):
        print("\n".join(codes.sample(args.sample or 3, seed=args.seed, temperature=temperature)))
    return 0


def cmd_evaluate(args):
    from lm_keras.config import TokenizerConfig, TrainConfig
    from lm_keras.data import load_corpus, split_corpus
    from lm_keras.evaluation import evaluate, evaluate_ngrams
    from lm_keras.runs import load_run
    from lm_keras.tokenizers import create_tokenizer

    if not args.run and not args.ngram:
        raise ConfigError("give a run directory, --ngram ORDER, or both")
    run = load_run(args.run) if args.run else None
    if run and FAMILIES[run.config.model_type].labels:
        return _evaluate_classifier(run, args)
    train = run.config.train if run else TrainConfig(seed=args.seed)
    corpus_name = args.corpus or (run.config.corpus if run else "default")
    if corpus_name == "default":
        from lm_keras.data import load_default_corpus

        corpus = load_default_corpus(notice=lambda *_: None)
    else:
        same = run and not args.corpus
        corpus = load_corpus(corpus_name, column=args.column or (run.config.column if same else None),
                             lines=bool(same and run.config.line_level))
    splits = split_corpus(corpus, train.validation_fraction, train.test_fraction, train.seed)
    docs = splits[args.split]
    if not docs:
        raise ConfigError(f"The {args.split} split of {corpus.name} is empty (test_fraction={train.test_fraction}).")
    if run and FAMILIES[run.config.model_type].documents:
        return _evaluate_vae(run, corpus, docs, args)
    results = []
    if run:
        model_name = run.config.model_type + (f" {run.config.model.get('cell_type')}"
                                              if run.config.model_type == "rnn" else "")
        result = evaluate(run.model, run.tokenizer, docs, corpus.line_level, train.context_length, args.batch_size)
        results.append({"model": model_name, "tokenizer": run.tokenizer.kind, **result})
    if args.ngram:
        if run:
            tokenizer = run.tokenizer
        else:
            options = TokenizerConfig(args.tokenizer)
            tokenizer = create_tokenizer(options.kind, splits["train"], options.max_vocabulary_size)
        ngrams = evaluate_ngrams(args.ngram, tokenizer, splits, corpus.line_level, args.split, args.smoothing, args.k)
        results += [{"model": f"{order}-gram {args.smoothing}", "tokenizer": tokenizer.kind, **result}
                    for order, result in ngrams.items()]
    results = [{"corpus": corpus.name, "split": args.split, **r} for r in results]
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
    else:
        import pandas as pd

        table = pd.DataFrame(results)[["model", "tokenizer", "loss", "perplexity", "bits_per_character",
                                       "num_tokens"]]
        print(f"{corpus.name}, {args.split} split")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def _evaluate_classifier(run, args):
    """`evaluate` for a classifier run: accuracy, macro-F1 (bootstrap intervals) and per-class figures on a
    split of its own labelled data."""
    from lm_keras.data.classification import encode_texts
    from lm_keras.evaluation import evaluate_classifier
    from lm_keras.training.run import labelled_data

    if args.ngram or args.corpus:
        raise ConfigError("a classifier run is evaluated on a split of its own labelled data (no --ngram, --corpus)")
    data = labelled_data(run.config)
    if not data.texts[args.split]:
        raise ConfigError(f"The {args.split} split of {data.name} is empty "
                          f"(test_fraction={run.config.train.test_fraction}).")
    rows = encode_texts(data.texts[args.split], run.tokenizer, run.config.train.context_length)
    report = evaluate_classifier(run.model, rows, data.targets[args.split], run.labels, seed=run.config.train.seed)
    result = {"data": data.name, "split": args.split, "n": report["n"], "accuracy": report["accuracy"],
              "accuracy_ci": report["accuracy_ci"], "macro_f1": report["macro_f1"],
              "macro_f1_ci": report["macro_f1_ci"], "majority_baseline": data.majority_baseline(args.split),
              "per_class": report["per_class"]}
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        import pandas as pd

        print(f"{data.name}, {args.split} split, {result['n']:,} texts: accuracy {result['accuracy']:.3f} "
              f"[{result['accuracy_ci'][0]:.3f}, {result['accuracy_ci'][1]:.3f}], macro-F1 {result['macro_f1']:.3f}; "
              f"majority class {result['majority_baseline']:.3f}")
        print(pd.DataFrame(result["per_class"]).T.astype({"support": int}).to_string(float_format=lambda v: f"{v:.3f}"))
    return 0


def _evaluate_vae(run, corpus, docs, args):
    """`evaluate` for a VAE run: ELBO terms, active units, mutual information, IW-NLL with --iw-samples."""
    from lm_keras.data.pipeline import encode_rows
    from lm_keras.evaluation import evaluate_vae

    if args.ngram:
        raise ConfigError("--ngram compares language models; a VAE run is evaluated on its own (see --iw-samples)")
    rows = encode_rows(docs, run.tokenizer, run.model.context_length)
    result = {"corpus": corpus.name, "split": args.split,
              **evaluate_vae(run.model, rows, num_importance_samples=args.iw_samples, seed=run.config.train.seed)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{corpus.name}, {args.split} split, {result['num_rows']:,} documents (nats per document)")
        for key, value in result.items():
            if key not in ("corpus", "split"):
                print(f"  {key:26s} {value:.4f}" if isinstance(value, float) else f"  {key:26s} {value}")
    return 0


def cmd_export(args):
    from lm_keras.export import export_run

    out = args.out or f"{str(args.run).rstrip('/')}_saved_model"
    path = export_run(args.run, out, overwrite=args.overwrite, max_new_tokens_limit=args.max_new_tokens_limit,
                      jit_compile=not args.no_xla)
    from lm_keras.export import read_export_info

    names = ", ".join(read_export_info(path)["signatures"])
    print(f"Exported to {path}\n  signatures: {names}\n  try: saved_model_cli show --dir {path} --all")
    return 0


def cmd_download(args):
    from lm_keras.data import NAMED_CORPORA, load_corpus
    from lm_keras.errors import CorpusError

    for name in args.corpora:
        if name not in NAMED_CORPORA:
            raise CorpusError(f"{name!r} is not a named corpus: use one of {', '.join(NAMED_CORPORA)}.")
        corpus = load_corpus(name)
        print(f"{name}: {len(corpus.documents) if corpus.line_level else len(corpus.text):,} "
              f"{'documents' if corpus.line_level else 'characters'} in {', '.join(corpus.files)}")
    return 0


DEBUG_ENV = "LM_KERAS_DEBUG"


def main(argv=None):
    """Run one command. The library's own errors (`LMKerasError`: a bad option, a missing corpus, an
    existing output) print one `error:` line and exit with status 2; anything else is a bug and keeps
    its traceback. `--debug` (or LM_KERAS_DEBUG=1) shows the traceback of the library's errors too."""
    args = build_parser().parse_args(argv)
    quiet_tensorflow(args.verbose)
    from lm_keras.errors import LMKerasError

    try:
        return args.func(args)
    except LMKerasError as e:
        if args.debug or os.environ.get(DEBUG_ENV) == "1":
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2


def quiet_tensorflow(verbose=False):
    """Keep TensorFlow's C++ start-up lines (CUDA probing on a CPU machine, XLA service, CPU features) out of
    the output unless `verbose`. TensorFlow writes them to the process's stderr before its log level applies,
    so it is imported, and its devices listed, with stderr pointed at /dev/null; later C++ lines are
    filtered by TF_CPP_MIN_LOG_LEVEL (errors the library raises are Python exceptions, never hidden)."""
    if verbose or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


if __name__ == "__main__":
    sys.exit(main())
