"""Generation speed of a pretrained GPT-2 through the project's own `Generator` (KerasHub weights, the
project's cached decode loop and samplers).

    python benchmarks/gpt2_generation.py                          # gpt2_base_en (cached or downloaded once)
    python benchmarks/gpt2_generation.py --preset path/to/preset  # a local preset directory
    python benchmarks/gpt2_generation.py --tiny                   # a tiny random GPT-2, offline

Prints new tokens/s at each batch size, with and without XLA, for `--new-tokens` tokens after a
short prompt and no early stop, so every row generates the same number of tokens. The key/value
cache holds `--context` tokens. The first call (tracing, compiling) is timed separately as the warm-up.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import device_name, timed  # noqa: E402
from lm_keras.errors import ModelLoadError  # noqa: E402
from lm_keras.generation import Generator  # noqa: E402
from lm_keras.pretrained import build_tiny_gpt2, from_keras_hub, load_gpt2  # noqa: E402

PROMPT = "The meaning of life is"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="gpt2_base_en", help="preset name or local preset directory")
    parser.add_argument("--tiny", action="store_true", help="a tiny random GPT-2 instead (no download)")
    parser.add_argument("--dtype", default=None, help="dtype policy, e.g. float32, bfloat16, mixed_bfloat16, auto")
    parser.add_argument("--new-tokens", type=int, default=100, help="new tokens per row")
    parser.add_argument("--context", type=int, default=256, help="key/value cache slots (<= max_sequence_length)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--top-k", type=int, default=50, help="top-k sampling (0: plain sampling)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls after the warm-up (median)")
    args = parser.parse_args()

    try:
        causal_lm = build_tiny_gpt2(max_sequence_length=args.context) if args.tiny else load_gpt2(args.preset,
                                                                                                   args.dtype)
    except ModelLoadError as e:
        raise SystemExit(f"{e}\n(or run with --tiny to time a tiny random GPT-2 offline)") from None
    model, tokenizer = from_keras_hub(causal_lm, context_length=args.context)
    name = "tiny GPT-2" if args.tiny else args.preset
    print(f"{name}: {causal_lm.count_params():,} parameters, dtype {causal_lm.dtype_policy.name}, top-k "
          f"{args.top_k}; {args.new_tokens} new tokens after a {len(tokenizer.encode_to_numpy(PROMPT))}-token "
          f"prompt, {args.context} cache slots; {device_name()}\n")
    header = f"{'batch':>5}  {'loop':<14}{'warm-up s':>10}{'seconds':>9}{'tokens/s':>11}"
    print(header + "\n" + "-" * len(header))
    for jit in (False, True):
        generator = Generator(model, tokenizer, jit_compile=jit)
        for batch in args.batch:
            run = lambda: generator([PROMPT] * batch, max_new_tokens=args.new_tokens, top_k=args.top_k,  # noqa: E731
                                    seed=0, stop_at_eos=False)
            _, warm_up = timed(run)
            seconds = float(np.median([timed(run)[1] for _ in range(args.repeats)]))
            loop = "XLA" if jit else "tf.function"
            print(f"{batch:>5}  {loop:<14}{warm_up:>10.1f}{seconds:>9.2f}{batch * args.new_tokens / seconds:>11,.0f}")
    print(f"\nTensorFlow {tf.__version__}, Keras {keras.__version__}")


if __name__ == "__main__":
    main()
