"""Training throughput of the language models: ms/step and tokens/s on the present device.

    python benchmarks/train_throughput.py                      # char LSTM, default size
    python benchmarks/train_throughput.py --cell gru --jit     # other cell, XLA-compiled step
    python benchmarks/train_throughput.py --json out.json

Measures `model.fit` steps on Tiny Shakespeare windows (the same path the CLI trains with):
the median step time after `--warmup` steps, and tokens/s = batch * context / median.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from lm_keras.data import load_default_corpus, split_corpus  # noqa: E402
from lm_keras.models import RNNLanguageModel  # noqa: E402
from lm_keras.tokenizers import CharTokenizer  # noqa: E402
from lm_keras.training import compile_language_model  # noqa: E402
from lm_keras.data import lm_dataset  # noqa: E402
from common import StepTimer, device_name, write_json  # noqa: E402


def measure(cell, jit, args, ids, vocab):
    keras.utils.set_random_seed(0)
    model = RNNLanguageModel(vocab, cell_type=cell, embedding_dim=args.embedding_dim,
                             hidden_dim=args.hidden_dim, num_layers=args.layers)
    compile_language_model(model, jit_compile=jit)
    data = lm_dataset(ids, args.context, args.batch_size, sampling="random", seed=0)
    timer = StepTimer()
    history = model.fit(data, steps_per_epoch=args.warmup + args.steps, epochs=1, callbacks=[timer],
                        shuffle=False, verbose=0)
    median = timer.median(args.warmup)
    return {
        "model": f"char {cell} x{args.layers}", "embedding": args.embedding_dim, "hidden": args.hidden_dim,
        "batch": args.batch_size, "context": args.context, "xla": jit,
        "params": model.count_params(), "ms_per_step": 1000 * median,
        "tokens_per_s": args.batch_size * args.context / median, "final_loss": history.history["loss"][-1],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cell", nargs="+", default=["lstm"], choices=["lstm", "gru", "simple_rnn"])
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--embedding-dim", type=int, default=64)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--context", type=int, default=100)
    parser.add_argument("--steps", type=int, default=50, help="timed steps")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first (tracing, compilation)")
    parser.add_argument("--jit", choices=["off", "on", "both"], default="both", help="XLA-compile the train step")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args()

    corpus = load_default_corpus()
    text = split_corpus(corpus)["train"][0]
    tokenizer = CharTokenizer.train(text)
    ids = tokenizer.encode_to_numpy(text)
    jits = {"off": [False], "on": [True], "both": [False, True]}[args.jit]
    rows = [measure(cell, jit, args, ids, tokenizer.vocabulary_size) for cell in args.cell for jit in jits]

    print(f"\nDevice: {device_name()}; TensorFlow {tf.__version__}, Keras {keras.__version__}; "
          f"corpus {corpus.name}; median of {args.steps} steps after {args.warmup} warm-up steps\n")
    header = f"{'model':<20}{'params':>10}{'batch x ctx':>13}{'XLA':>6}{'ms/step':>10}{'tokens/s':>11}"
    print(header + "\n" + "-" * len(header))
    for r in rows:
        print(f"{r['model']:<20}{r['params']:>10,}{r['batch']:>7} x {r['context']:<3}{str(r['xla']):>6}"
              f"{r['ms_per_step']:>10.1f}{r['tokens_per_s']:>11,.0f}")
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
