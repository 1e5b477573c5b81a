"""Generation speed of an exported SavedModel against the in-memory compiled loop.

    python benchmarks/export_speed.py                        # untrained nanoGPT CPU-size Transformer
    python benchmarks/export_speed.py --run saved_models/04_shakespeare_gpt

Exports the model (XLA decode loop inside) to a temporary directory, loads it back with
`tf.saved_model.load`, and times strings -> strings generation of `--new-tokens` tokens
at batch 1 and 16 through the SavedModel's `generate` and through
`lm_keras.generation.Generator(jit_compile=True)` (compilation excluded from both). Both
must return the same text; tokens/s counts the tokens actually generated.
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import device_name  # noqa: E402
from lm_keras.data import load_default_corpus, split_corpus  # noqa: E402
from lm_keras.export import export_saved_model  # noqa: E402
from lm_keras.generation import Generator  # noqa: E402
from lm_keras.models import build_model  # noqa: E402
from lm_keras.runs import load_run  # noqa: E402
from lm_keras.tokenizers import CharTokenizer  # noqa: E402


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="a trained run directory (default: an untrained model)")
    parser.add_argument("--new-tokens", type=int, default=500)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    corpus = load_default_corpus()
    prompt = next(line for line in split_corpus(corpus)["validation"][0].split("\n") if len(line) > 20)
    if args.run:
        run = load_run(args.run)
        model, tokenizer = run.model, run.tokenizer
    else:
        tokenizer = CharTokenizer.train(split_corpus(corpus)["train"][0])
        keras.utils.set_random_seed(0)
        model = build_model("transformer", vocabulary_size=tokenizer.vocabulary_size, context_length=64,
                            num_layers=4, num_heads=4, d_model=128, use_bias=False)
        model(np.zeros((1, 1), np.int32))
    n = args.new_tokens
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        path = export_saved_model(model, tokenizer, os.path.join(scratch, "export"), max_new_tokens_limit=n)
        export_seconds = time.perf_counter() - start
        loaded = tf.saved_model.load(str(path))
        generator = Generator(model, tokenizer, jit_compile=True, allow_eos=False)  # as the export of a stream model
        print(f"{type(model).__name__}, {model.count_params():,} parameters; prompt {prompt!r}; {n} new tokens, "
              f"temperature 1, seed 0; export took {export_seconds:.1f} s; {device_name()}\n")
        header = f"{'batch':>5}  {'loop':<32}{'seconds':>9}{'tokens/s':>11}{'vs in-memory':>14}"
        print(header + "\n" + "-" * len(header))
        for batch in args.batch:
            prompts = [prompt] * batch

            def in_memory():
                return generator(prompts, max_new_tokens=n, temperature=1.0, seed=0)

            def saved():
                out = loaded.generate(tf.constant(prompts), tf.constant(n), tf.constant(1.0), tf.constant(0),
                                      tf.constant(1.0), tf.constant(0))["text"].numpy()
                return [t.decode("utf-8") for t in out]

            expected, got = in_memory(), saved()  # first calls compile
            assert got == expected, "the SavedModel and the in-memory model disagree"
            generated = sum(len(tokenizer.encode_to_numpy(t)) for t in got) - batch * len(tokenizer.encode_to_numpy(prompt))
            reference = None
            for name, fn in (("in-memory Generator, XLA", in_memory), ("SavedModel generate", saved)):
                seconds = median_seconds(fn, args.repeats)
                rate = generated / seconds
                reference = reference or rate
                print(f"{batch:>5}  {name:<32}{seconds:>9.3f}{rate:>11,.0f}{rate / reference:>13.2f}x")
    print(f"\nTensorFlow {tf.__version__}, Keras {keras.__version__}; median of {args.repeats} calls after a "
          f"compiling one")


if __name__ == "__main__":
    main()
