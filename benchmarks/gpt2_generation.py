"""Generation speed of a pretrained GPT-2 through KerasHub (`GPT2CausalLM.generate`, cached decode loop).

    python benchmarks/gpt2_generation.py                          # gpt2_base_en (cached or downloaded once)
    python benchmarks/gpt2_generation.py --preset path/to/preset  # a local preset directory
    python benchmarks/gpt2_generation.py --tiny                   # a tiny random GPT-2, offline

Prints new tokens/s at each batch size, with and without XLA, for `--max-length` tokens
(prompt included) and no early stop, so every row generates the same number of tokens.
The first call (tracing, compiling) is timed separately as the warm-up.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import device_name, timed  # noqa: E402
from lm_keras.errors import ModelLoadError  # noqa: E402
from lm_keras.pretrained import build_tiny_gpt2, load_gpt2, make_sampler  # noqa: E402

PROMPT = "The meaning of life is"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="gpt2_base_en", help="preset name or local preset directory")
    parser.add_argument("--tiny", action="store_true", help="a tiny random GPT-2 instead (no download)")
    parser.add_argument("--dtype", default=None, help="dtype policy, e.g. float32, bfloat16, mixed_bfloat16, auto")
    parser.add_argument("--max-length", type=int, default=128, help="tokens per row, prompt included")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--sampler", default="top_k", choices=["greedy", "top_k", "top_p", "random"])
    parser.add_argument("--repeats", type=int, default=3, help="timed calls after the warm-up (median)")
    args = parser.parse_args()

    try:
        causal_lm = build_tiny_gpt2(max_sequence_length=args.max_length) if args.tiny else load_gpt2(args.preset,
                                                                                                       args.dtype)
    except ModelLoadError as e:
        raise SystemExit(f"{e}\n(or run with --tiny to time a tiny random GPT-2 offline)") from None
    prompt_tokens = 1 + len(np.asarray(causal_lm.preprocessor.tokenizer(PROMPT)))  # <|endoftext|> + prompt
    new_tokens = args.max_length - prompt_tokens
    name = "tiny GPT-2" if args.tiny else args.preset
    print(f"{name}: {causal_lm.count_params():,} parameters, dtype {causal_lm.dtype_policy.name}, sampler "
          f"{args.sampler}; {new_tokens} new tokens after a {prompt_tokens}-token prompt; {device_name()}\n")
    header = f"{'batch':>5}  {'loop':<14}{'warm-up s':>10}{'seconds':>9}{'tokens/s':>11}"
    print(header + "\n" + "-" * len(header))
    for batch in args.batch:
        for jit in (False, True):
            causal_lm.compile(sampler=make_sampler(args.sampler, seed=0), jit_compile=jit)
            run = lambda: causal_lm.generate([PROMPT] * batch, max_length=args.max_length,  # noqa: E731
                                             stop_token_ids=None)
            _, warm_up = timed(run)
            seconds = float(np.median([timed(run)[1] for _ in range(args.repeats)]))
            loop = "XLA" if jit else "tf.function"
            print(f"{batch:>5}  {loop:<14}{warm_up:>10.1f}{seconds:>9.2f}{batch * new_tokens / seconds:>11,.0f}")
    print(f"\nTensorFlow {tf.__version__}, Keras {keras.__version__}")


if __name__ == "__main__":
    main()
