"""Training speed by number format and XLA: float32, mixed_float16, mixed_bfloat16, each with and without XLA.

    python benchmarks/precision_xla.py                 # nanoGPT's GPU-size Transformer and a comparable LSTM
    python benchmarks/precision_xla.py --small         # a tiny model, to try the script on a CPU
    python benchmarks/precision_xla.py --peak-tflops 989 --json out.json

For each combination: ms/step and tokens/s (median of `--steps` steps after `--warmup`), and
the model FLOP utilisation (MFU) of the fastest run, with nanoGPT's FLOP estimate
(6 · parameters + 12 · layers · d_model · context FLOPs per token) for the Transformer and
6 · parameters per token for the LSTM, against `--peak-tflops` (H100 SXM dense bf16: 989).
Uses the same `compile_language_model` / `fit` path as training.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import StepTimer, device_name, transformer_flops_per_token, write_json  # noqa: E402
from lm_keras.config import TrainConfig  # noqa: E402
from lm_keras.data import lm_dataset  # noqa: E402
from lm_keras.models import build_model  # noqa: E402
from lm_keras.training import compile_language_model, precision_policy  # noqa: E402

SIZES = {
    "full": {
        "transformer": (dict(context_length=256, num_layers=6, num_heads=6, d_model=384, dropout=0.2, use_bias=False),
                        256, 64),
        "lstm": (dict(cell_type="lstm", embedding_dim=384, hidden_dim=1024, num_layers=2), 256, 64),
    },
    "small": {
        "transformer": (dict(context_length=64, num_layers=2, num_heads=2, d_model=64), 64, 8),
        "lstm": (dict(cell_type="lstm", embedding_dim=32, hidden_dim=128), 64, 8),
    },
}
MODEL_TYPES = {"transformer": "transformer", "lstm": "rnn"}
VOCAB = 65


def flops_per_token(model, name):
    return transformer_flops_per_token(model) if name == "transformer" else 6 * model.count_params()


def measure(name, options, context, batch, precision, jit, args):
    keras.utils.set_random_seed(0)
    with precision_policy(precision):
        model = build_model(MODEL_TYPES[name], vocabulary_size=VOCAB, **options)
        model(np.zeros((1, 1), np.int32))
        config = TrainConfig(context_length=context, batch_size=batch, steps=args.warmup + args.steps,
                             learning_rate=1e-3, optimizer="adamw", weight_decay=0.1, jit_compile=jit,
                             precision=precision)
        compile_language_model(model, config)
    ids = np.random.default_rng(0).integers(4, VOCAB, 200_000).astype(np.int32)
    timer = StepTimer()
    model.fit(lm_dataset(ids, context, batch, sampling="random", seed=0), steps_per_epoch=args.warmup + args.steps,
              epochs=1, callbacks=[timer], verbose=0)
    median = timer.median(args.warmup)
    tokens_per_s = batch * context / median
    return {"model": name, "precision": precision, "xla": jit, "params": model.count_params(),
            "ms_per_step": 1000 * median, "tokens_per_s": tokens_per_s,
            "flops_per_s": flops_per_token(model, name) * tokens_per_s}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="tiny models (for a CPU)")
    parser.add_argument("--models", nargs="+", default=["transformer", "lstm"], choices=list(MODEL_TYPES))
    parser.add_argument("--precisions", nargs="+", default=["float32", "mixed_float16", "mixed_bfloat16"])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    sizes = SIZES["small" if args.small else "full"]
    rows = []
    for name in args.models:
        options, context, batch = sizes[name]
        for precision in args.precisions:
            for jit in (False, True):
                rows.append(measure(name, options, context, batch, precision, jit, args))
                r = rows[-1]
                print(f"{name:<12}{precision:<16}XLA {'on ' if jit else 'off'}  {r['ms_per_step']:8.1f} ms/step "
                      f"{r['tokens_per_s']:>12,.0f} tokens/s", flush=True)
    print(f"\n{device_name()}; TensorFlow {tf.__version__}, Keras {keras.__version__}; median of {args.steps} "
          f"steps after {args.warmup}")
    for name in args.models:
        mine = [r for r in rows if r["model"] == name]
        base = next(r for r in mine if r["precision"] == "float32" and not r["xla"])
        best = max(mine, key=lambda r: r["tokens_per_s"])
        print(f"{name}: {best['params']:,} parameters; best {best['precision']} XLA {best['xla']}: "
              f"{best['tokens_per_s'] / base['tokens_per_s']:.2f}x float32 without XLA; MFU "
              f"{100 * best['flops_per_s'] / (args.peak_tflops * 1e12):.2f}% of {args.peak_tflops} TFLOP/s")
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
