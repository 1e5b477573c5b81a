"""Command line: `python -m lm_keras train | generate | evaluate | export | download`.

Thin: parses arguments, calls the Python API, prints results. Errors in the input
(a missing corpus, an invalid value) print one line and exit with status 2.
"""

import argparse
import json
import re
import sys
from pathlib import Path

from lm_keras.config import (DECODERS, DISTRIBUTIONS, KL_ANNEALING, LATENT_CONDITIONING, OPTIMIZERS,
                             POSITION_ENCODINGS, PRECISIONS, RNN_CELLS, SAMPLING_MODES, SCHEDULES, TOKENIZER_KINDS)

# Defaults that depend on the model family (nanoGPT's for the Transformer).
FAMILY_DEFAULTS = {
    "rnn": dict(learning_rate=2e-3, optimizer="adam", weight_decay=0.0, schedule="constant", warmup_steps=0,
                beta_2=0.999, jit_compile=False),
    "transformer": dict(learning_rate=1e-3, optimizer="adamw", weight_decay=0.1, schedule="cosine",
                        warmup_steps=100, beta_2=0.99, jit_compile=True),
}
FAMILY_DEFAULTS["vae"] = FAMILY_DEFAULTS["rnn"]

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
  python -m lm_keras generate --model saved_models/vae --interpolate "白日依山盡，…" "床前明月光，…"
"""


def _train_parser(sub):
    p = sub.add_parser(
        "train", help="train a language model on a corpus and save it",
        description="Train a language model on a corpus, print validation loss, perplexity and "
                    "a sample, and save the run (config, tokenizer, model.keras, metrics) to --out.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data = p.add_argument_group("data")
    data.add_argument("--corpus", default="default",
                      help="named corpus (tiny_shakespeare, tang_poems, tang300, python_docs), a .txt file, "
                           "a folder or glob of .txt files, or a .csv/.tsv/.parquet table; 'default' is "
                           "tiny_shakespeare, or python_docs when it cannot be had offline")
    data.add_argument("--column", help="text column of a table corpus")
    data.add_argument("--validation-fraction", type=float, default=0.1, help="held-out fraction (tail of the text)")
    data.add_argument("--test-fraction", type=float, default=0.0, help="test fraction after validation")
    tok = p.add_argument_group("tokenizer")
    tok.add_argument("--tokenizer", choices=TOKENIZER_KINDS, default="char", help="token unit")
    tok.add_argument("--vocab-size", type=int, help="maximum vocabulary size including 4 reserved ids "
                                                   "(subword default: 4000)")
    tok.add_argument("--min-frequency", type=int, default=1, help="drop rarer tokens")
    tok.add_argument("--lowercase", action="store_true", help="lower-case text (word and subword)")
    model = p.add_argument_group("model")
    model.add_argument("--model", choices=(*RNN_CELLS, "transformer", "vae"), default="lstm",
                       help="recurrent cell, a GPT-style Transformer, or a text VAE (one document per line)")
    model.add_argument("--layers", type=int, help="stacked recurrent layers or decoder blocks "
                                                  "(default: 1 RNN layer, 4 Transformer blocks)")
    model.add_argument("--dropout", type=float, default=0.0, help="dropout rate")
    model.add_argument("--embedding-dim", type=int, help="RNN and VAE: token embedding size (default: RNN 64, "
                                                         "VAE 128)")
    model.add_argument("--hidden-dim", type=int, default=256, help="RNN: recurrent state size; VAE: RNN decoder's")
    model.add_argument("--d-model", type=int, default=128, help="Transformer: width of the residual stream")
    model.add_argument("--heads", type=int, default=4, help="Transformer: attention heads")
    model.add_argument("--position-encoding", choices=POSITION_ENCODINGS, default="learned",
                       help="Transformer: how positions are encoded")
    model.add_argument("--no-tie-weights", action="store_true",
                       help="Transformer: separate output matrix instead of the token embedding")
    model.add_argument("--no-bias", action="store_true", help="Transformer: no biases in Dense and LayerNorm")
    vae = p.add_argument_group("text VAE (--model vae; see lm_keras.config.VAEConfig)")
    vae.add_argument("--decoder", choices=DECODERS, default="lstm",
                     help="the decoder LM (an RNN of --hidden-dim or a Transformer of --d-model)")
    vae.add_argument("--latent-dim", type=int, default=32, help="size of z")
    vae.add_argument("--encoder-dim", type=int, default=128, help="units of each direction of the GRU encoder")
    vae.add_argument("--conditioning", choices=LATENT_CONDITIONING, default="input_and_state",
                     help="where z enters the decoder")
    vae.add_argument("--beta", type=float, default=1.0, help="weight of the KL term")
    vae.add_argument("--kl-annealing", choices=KL_ANNEALING, default="cyclical", help="KL weight schedule")
    vae.add_argument("--annealing-steps", type=int, default=1000, help="length of the ramp (linear) or cycle")
    vae.add_argument("--word-dropout", type=float, default=0.0, help="decoder inputs replaced by [UNK]")
    vae.add_argument("--free-bits", type=float, default=0.0, help="per-dimension KL floor in nats")
    vae.add_argument("--batch-norm-gamma", type=float, default=0.6,
                     help="BN-VAE: batch-normalise mu with this fixed scale (0: off; the vanilla VAE is "
                          "--kl-annealing none --batch-norm-gamma 0)")
    train = p.add_argument_group("training")
    train.add_argument("--context", type=int, default=100, help="tokens per training window")
    train.add_argument("--batch-size", type=int, default=64, help="windows per step")
    train.add_argument("--steps", type=int, default=1000, help="optimizer steps")
    train.add_argument("--epochs", type=int, help="full passes over the training text (instead of --steps)")
    train.add_argument("--eval-interval", type=int, default=200, help="steps between validations")
    train.add_argument("--eval-batches", type=int, default=20, help="batches per validation")
    train.add_argument("--learning-rate", type=float, help="peak learning rate (default: RNN 2e-3, Transformer 1e-3)")
    train.add_argument("--clip-norm", type=float, default=1.0, help="clip the global gradient norm")
    train.add_argument("--optimizer", choices=OPTIMIZERS, help="default: RNN adam, Transformer adamw")
    train.add_argument("--weight-decay", type=float, help="AdamW decay of matrices and embeddings, not of norms/biases "
                                                          "(default: 0.1 with adamw)")
    train.add_argument("--schedule", choices=SCHEDULES, help="learning-rate decay after warm-up "
                                                             "(default: RNN constant, Transformer cosine)")
    train.add_argument("--warmup-steps", type=int, help="linear warm-up steps (default: RNN 0, Transformer 100)")
    train.add_argument("--beta-2", type=float, help="Adam second-moment decay (default: RNN 0.999, Transformer 0.99)")
    train.add_argument("--jit-compile", choices=("on", "off", "auto"),
                       help="compile the train step with XLA (default: RNN off, Transformer on; "
                            "auto: Keras decides, on for GPU/TPU)")
    scale = p.add_argument_group("scale and monitoring")
    scale.add_argument("--precision", choices=PRECISIONS, default="auto",
                       help="dtype policy; auto: bfloat16 on TPU and Ampere+ GPUs, float16 on older GPUs, "
                            "float32 on CPU")
    scale.add_argument("--distribution", choices=DISTRIBUTIONS, default="auto",
                       help="tf.distribute strategy; --batch-size is the global batch")
    scale.add_argument("--grad-accum", type=int, default=1, help="batches summed into one optimizer update")
    scale.add_argument("--deterministic", action="store_true", help="TensorFlow op determinism (reproducible)")
    scale.add_argument("--early-stopping", type=int, metavar="N",
                       help="stop after N evaluations without a better validation loss")
    scale.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard logs to DIR")
    scale.add_argument("--sample-every", type=int, metavar="N", help="print a sample every N steps")
    scale.add_argument("--no-backup", action="store_true",
                       help="do not checkpoint into <out>.backup (a killed run then cannot resume)")
    train.add_argument("--sampling", choices=SAMPLING_MODES, default="random",
                       help="random window offsets (nanoGPT) or sequential non-overlapping windows")
    train.add_argument("--seed", type=int, default=0, help="seed for splits, shuffling, init and samples")
    out = p.add_argument_group("output")
    out.add_argument("--out", help="run directory (default: saved_models/<corpus>_<model>_<tokenizer>)")
    out.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    out.add_argument("--quiet", action="store_true", help="one line per evaluation instead of a progress bar")
    p.set_defaults(func=cmd_train)


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
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,generate,evaluate,export}")
    _train_parser(sub)

    g = sub.add_parser("generate", help="generate text from a trained run",
                       description="Generate text from a run directory written by `train`.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g.add_argument("run", nargs="?", help="run directory, e.g. saved_models/shakespeare")
    g.add_argument("--model", dest="model_run", metavar="RUN", help="the run directory (instead of the positional)")
    g.add_argument("--prompt", action="append", help="prompt text; repeat for several (default: empty prompt)")
    latent = g.add_argument_group("text VAE runs (default: --sample 3)")
    latent.add_argument("--interpolate", nargs=2, metavar=("A", "B"), help="decode codes on the line from A to B")
    latent.add_argument("--steps", type=int, default=5, help="codes on the interpolation line, ends included")
    latent.add_argument("--reconstruct", action="append", metavar="TEXT", help="encode TEXT and decode its code")
    latent.add_argument("--sample", type=int, metavar="N", help="decode N codes drawn from the prior")
    _sampling_args(g)
    g.set_defaults(func=cmd_generate)

    e = sub.add_parser("evaluate", help="held-out loss, perplexity and bits per character",
                       description="Evaluate a run on a split of its corpus (or another corpus), and/or "
                                   "n-gram baselines counted on the training split with the same tokenizer.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
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
    e.set_defaults(func=cmd_evaluate)

    x = sub.add_parser("export", help="export a run as a SavedModel that serves strings",
                       description="Export a run directory as a TensorFlow SavedModel with `generate` and "
                                   "`score` signatures (tokenizer and decode loop inside; load it with "
                                   "tf.saved_model.load, no lm_keras needed).",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    x.add_argument("run", help="run directory")
    x.add_argument("--out", help="export directory (default: <run>_saved_model)")
    x.add_argument("--overwrite", action="store_true", help="replace an existing export directory")
    x.add_argument("--max-new-tokens-limit", type=int, default=1024,
                   help="the most new tokens one generate call may ask for")
    x.add_argument("--no-xla", action="store_true", help="do not XLA-compile the decode loop")
    x.set_defaults(func=cmd_export)

    d = sub.add_parser("download", help="download named corpora into the cache (then work offline)",
                       description="Download, convert and hash-check named corpora into the corpus cache "
                                   "($LM_KERAS_DATA_DIR, else the checkout's data/, else ~/.cache/lm_keras/data). "
                                   "Sources: $LM_KERAS_SHAKESPEARE_URL and $LM_KERAS_CHINESE_POETRY_URL override "
                                   "the public ones (a file:// mirror works).")
    d.add_argument("corpora", nargs="+", help="named corpora, e.g. tiny_shakespeare tang_poems tang300")
    d.set_defaults(func=cmd_download)
    return parser


def cmd_train(args):
    from lm_keras.config import RunConfig, TokenizerConfig, TrainConfig
    from lm_keras.training import train_run

    family = args.model if args.model in ("transformer", "vae") else "rnn"
    if family == "vae":
        transformer = args.decoder == "transformer"
        model = {"latent_dim": args.latent_dim, "embedding_dim": args.embedding_dim or 128,
                 "encoder_dim": args.encoder_dim, "decoder": args.decoder,
                 "decoder_dim": args.d_model if transformer else args.hidden_dim,
                 "decoder_layers": args.layers or (4 if transformer else 1), "num_heads": args.heads,
                 "dropout": args.dropout, "conditioning": args.conditioning, "beta": args.beta,
                 "kl_annealing": args.kl_annealing, "annealing_steps": args.annealing_steps,
                 "word_dropout": args.word_dropout, "free_bits": args.free_bits,
                 "batch_norm_gamma": args.batch_norm_gamma or None}
    elif family == "transformer":
        model = {"num_layers": args.layers or 4, "num_heads": args.heads, "d_model": args.d_model,
                 "dropout": args.dropout, "position_encoding": args.position_encoding,
                 "tie_weights": not args.no_tie_weights, "use_bias": not args.no_bias}
    else:
        model = {"cell_type": args.model, "embedding_dim": args.embedding_dim or 64, "hidden_dim": args.hidden_dim,
                 "num_layers": args.layers or 1, "dropout": args.dropout}
    if args.jit_compile is not None:
        args.jit_compile = {"on": True, "off": False, "auto": "auto"}[args.jit_compile]
    optimisation = {name: getattr(args, name) if getattr(args, name) is not None else default
                    for name, default in FAMILY_DEFAULTS[family].items()}
    if optimisation["optimizer"] == "adam" and args.weight_decay is None:
        optimisation["weight_decay"] = 0.0
    config = RunConfig(
        corpus=args.corpus,
        column=args.column,
        tokenizer=TokenizerConfig(args.tokenizer, args.vocab_size, args.min_frequency, args.lowercase),
        model=model,
        model_type=family,
        train=TrainConfig(context_length=args.context, batch_size=args.batch_size, steps=args.steps,
                          epochs=args.epochs, eval_interval=args.eval_interval, eval_batches=args.eval_batches,
                          clip_norm=args.clip_norm,
                          sampling=args.sampling, validation_fraction=args.validation_fraction,
                          test_fraction=args.test_fraction, seed=args.seed, precision=args.precision,
                          distribution=args.distribution, gradient_accumulation_steps=args.grad_accum,
                          deterministic=args.deterministic, early_stopping_patience=args.early_stopping,
                          **optimisation))
    from lm_keras.models import build_model
    from lm_keras.training.run import model_options

    build_model(family, vocabulary_size=8, **model_options(config))  # validate model fields before loading data
    out = args.out
    if out is None:
        from lm_keras.utils.paths import saved_models_dir

        name = re.sub(r"[^\w.-]+", "_", Path(args.corpus).stem).strip("_") or "corpus"
        out = saved_models_dir() / f"{name}_{args.model}_{args.tokenizer}"
    run = train_run(config, out=out, overwrite=args.overwrite, verbose=2 if args.quiet else "auto",
                    backup=not args.no_backup, tensorboard_dir=args.tensorboard, sample_every=args.sample_every)
    if config.model_type == "vae":
        print("\nDecoded from codes drawn from the prior (greedy):\n" + "\n".join(run.samples) + "\n")
    else:
        print(f"\nSample (temperature 0.8):\n{run.samples[0]}\n")
    print(f"Saved to {run.path}")
    return 0


def cmd_generate(args):
    from lm_keras.runs import load_run

    if bool(args.run) == bool(args.model_run):
        raise ValueError("give the run directory once: as the positional argument or as --model")
    run = load_run(args.run or args.model_run)
    if run.config.model_type == "vae":
        return _generate_from_codes(run, args)
    if args.interpolate or args.reconstruct or args.sample:
        raise ValueError(f"--interpolate, --reconstruct and --sample need a text VAE run; "
                         f"{run.path} is a {run.config.model_type} language model")
    prompts = args.prompt or [""]
    texts = run.generator(jit_compile=args.jit_compile)(
        prompts, max_new_tokens=args.max_new_tokens,
        temperature=0.8 if args.temperature is None else args.temperature, top_k=args.top_k,
        top_p=args.top_p, seed=args.seed, stop_at_eos=not args.no_stop, num_beams=args.beams,
        length_penalty=args.length_penalty)
    print("\n\n---\n\n".join(texts))
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
    from lm_keras.evaluation import evaluate
    from lm_keras.models import NGramLanguageModel
    from lm_keras.runs import load_run
    from lm_keras.tokenizers import create_tokenizer

    if not args.run and not args.ngram:
        raise ValueError("give a run directory, --ngram ORDER, or both")
    run = load_run(args.run) if args.run else None
    train = run.config.train if run else TrainConfig(seed=args.seed)
    corpus_name = args.corpus or (run.config.corpus if run else "default")
    if corpus_name == "default":
        from lm_keras.data import load_default_corpus

        corpus = load_default_corpus(notice=lambda *_: None)
    else:
        corpus = load_corpus(corpus_name, column=args.column or (run.config.column if run and not args.corpus else None))
    splits = split_corpus(corpus, train.validation_fraction, train.test_fraction, train.seed)
    docs = splits[args.split]
    if not docs:
        raise ValueError(f"The {args.split} split of {corpus.name} is empty (test_fraction={train.test_fraction}).")
    if run and run.config.model_type == "vae":
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
        from lm_keras.data import encode_documents

        train_ids = encode_documents(splits["train"], tokenizer, add_special_tokens=corpus.line_level)
        for order in args.ngram:
            model = NGramLanguageModel(order, tokenizer.vocabulary_size, args.smoothing, args.k).fit(train_ids)
            result = evaluate(model, tokenizer, docs, corpus.line_level)
            results.append({"model": f"{order}-gram {args.smoothing}", "tokenizer": tokenizer.kind, **result})
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


def _evaluate_vae(run, corpus, docs, args):
    """`evaluate` for a VAE run: ELBO terms, active units, mutual information, IW-NLL with --iw-samples."""
    from lm_keras.data.pipeline import encode_rows
    from lm_keras.evaluation import evaluate_vae

    if args.ngram:
        raise ValueError("--ngram compares language models; a VAE run is evaluated on its own (see --iw-samples)")
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


def main(argv=None):
    from lm_keras.errors import LMKerasError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (LMKerasError, FileExistsError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
