"""Generation speed: the documents' loop (`model.predict` on the growing sequence) against
the cached, compiled decode loop of `lm_keras.generation.Generator`.

    python benchmarks/generation_speed.py                       # nanoGPT CPU-size Transformer
    python benchmarks/generation_speed.py --run saved_models/x  # a trained run instead
    python benchmarks/generation_speed.py --model lstm

Prints tokens/s for 500 new tokens from a one-line prompt at batch 1 and batch 16:
(a) naive: every new token runs the whole sequence so far (cropped to the context)
through `model.predict`; (b) cached: prefill once, then one cached position per token
in a `tf.function`, with and without XLA (compilation is timed separately, once).
Speed does not depend on the weights, so by default an untrained model is timed.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import device_name, timed  # noqa: E402
from lm_keras.data import load_default_corpus, split_corpus  # noqa: E402
from lm_keras.generation import Generator  # noqa: E402
from lm_keras.generation.naive import naive_generate_ids  # noqa: E402
from lm_keras.models import build_model  # noqa: E402
from lm_keras.runs import load_run  # noqa: E402
from lm_keras.tokenizers import CharTokenizer  # noqa: E402

MODELS = {
    "transformer": ("transformer", dict(context_length=64, num_layers=4, num_heads=4, d_model=128, use_bias=False)),
    "lstm": ("rnn", dict(cell_type="lstm", embedding_dim=64, hidden_dim=256)),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="a trained run directory (default: an untrained model)")
    parser.add_argument("--model", choices=list(MODELS), default="transformer")
    parser.add_argument("--context", type=int, help="Transformer context length (default 64)")
    parser.add_argument("--new-tokens", type=int, default=500)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()

    corpus = load_default_corpus()
    validation = split_corpus(corpus)["validation"][0]
    prompt = next(line for line in validation.split("\n") if len(line) > 20)
    if args.run:
        run = load_run(args.run)
        model, tokenizer = run.model, run.tokenizer
    else:
        tokenizer = CharTokenizer.train(split_corpus(corpus)["train"][0])
        model_type, options = MODELS[args.model]
        if args.context and model_type == "transformer":
            options = {**options, "context_length": args.context}
        keras.utils.set_random_seed(0)
        model = build_model(model_type, vocabulary_size=tokenizer.vocabulary_size, **options)
        model(np.zeros((1, 1), np.int32))
    n = args.new_tokens
    print(f"{type(model).__name__}, {model.count_params():,} parameters, context "
          f"{getattr(model, 'context_length', 'unbounded')}; prompt {prompt!r}; {n} new tokens; {device_name()}\n")
    header = f"{'batch':>5}  {'loop':<28}{'seconds':>9}{'tokens/s':>11}{'vs naive':>10}"
    print(header + "\n" + "-" * len(header))
    for batch in args.batch:
        rows = Generator(model, tokenizer).prompt_ids([prompt] * batch)
        naive_rate = None
        if not args.skip_naive:
            _, seconds = timed(lambda: naive_generate_ids(model, rows, n, temperature=1.0, seed=0, use_predict=True))
            naive_rate = batch * n / seconds
            print(f"{batch:>5}  {'(a) naive model.predict':<28}{seconds:>9.2f}{naive_rate:>11,.0f}{'1.0x':>10}")
        for jit in (False, True):
            generator = Generator(model, tokenizer, jit_compile=jit)
            kwargs = dict(max_new_tokens=n, temperature=1.0, seed=0, stop_at_eos=False)
            _, compile_seconds = timed(lambda: generator.generate_ids(rows, **kwargs))
            _, seconds = timed(lambda: generator.generate_ids(rows, **kwargs))
            rate = batch * n / seconds
            speedup = f"{rate / naive_rate:.1f}x" if naive_rate else "-"
            name = f"(b) cached, {'XLA' if jit else 'tf.function'}"
            print(f"{batch:>5}  {name:<28}{seconds:>9.2f}{rate:>11,.0f}{speedup:>10}"
                  f"   (first call incl. tracing/compiling: {compile_seconds:.1f} s)")
    print(f"\nTensorFlow {tf.__version__}, Keras {keras.__version__}")


if __name__ == "__main__":
    main()
