"""nanoGPT's character-level Tiny Shakespeare run, in lm_keras.

    python benchmarks/nanogpt_shakespeare_char.py                 # CPU config, XLA off and on
    python benchmarks/nanogpt_shakespeare_char.py --jit on        # one run
    python benchmarks/nanogpt_shakespeare_char.py --gpu           # nanoGPT's GPU config (bf16 + XLA)

CPU config (nanoGPT README): 4 layers, 4 heads, d_model 128, context 64, batch 12,
dropout 0, no biases, tied embeddings, AdamW lr 1e-3 (beta_2 0.99, weight decay 0.1),
100 warm-up steps, cosine decay to 1e-4 at step 2000, gradient clipping 1.0.
nanoGPT reaches a validation loss of about 1.88 with it.

GPU config: 6 layers, 6 heads, d_model 384, context 256, batch 64, dropout 0.2, 5000
steps (cosine to 1e-4 at 5000); nanoGPT reaches about 1.47.

Prints: ms/step and tokens/s (median after the first 20 steps), total wall time,
validation loss every 250 steps (the first 20 batches of the validation split, as
nanoGPT estimates it from 20 batches) and the loss on the whole validation split at the end.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import StepTimer, device_name, transformer_flops_per_token, write_json  # noqa: E402
from lm_keras.config import TrainConfig  # noqa: E402
from lm_keras.data import load_corpus, split_corpus  # noqa: E402
from lm_keras.evaluation import evaluate_language_model  # noqa: E402
from lm_keras.models import TransformerLanguageModel  # noqa: E402
from lm_keras.tokenizers import CharTokenizer  # noqa: E402
from lm_keras.training import compile_language_model, fit_language_model  # noqa: E402

CONFIGS = {
    "cpu": dict(model=dict(num_layers=4, num_heads=4, d_model=128, dropout=0.0),
                context=64, batch=12, steps=2000),
    "gpu": dict(model=dict(num_layers=6, num_heads=6, d_model=384, dropout=0.2),
                context=256, batch=64, steps=5000),
}
WARMUP_STEPS_UNTIMED = 20


def run(name, jit, steps, ids, vocab, validation_chars, seed=1337):
    spec = CONFIGS[name]
    train = TrainConfig(context_length=spec["context"], batch_size=spec["batch"], steps=steps, eval_interval=250,
                        eval_batches=20, learning_rate=1e-3, optimizer="adamw", weight_decay=0.1, beta_2=0.99,
                        schedule="cosine", warmup_steps=100, min_learning_rate=1e-4, clip_norm=1.0,
                        jit_compile=jit, seed=seed)
    keras.utils.set_random_seed(train.seed)
    model = TransformerLanguageModel(vocab, context_length=spec["context"], use_bias=False, tie_weights=True,
                                     **spec["model"])
    compile_language_model(model, train)
    timer = StepTimer()
    start = time.perf_counter()
    history = fit_language_model(model, ids["train"], ids["validation"], train, callbacks=[timer], verbose=0)
    wall = time.perf_counter() - start
    full = evaluate_language_model(model, ids["validation"], spec["context"], 64, validation_chars)
    median = timer.median(WARMUP_STEPS_UNTIMED)
    tokens_per_step = spec["batch"] * spec["context"]
    return {
        "config": name, "xla": jit, "seed": seed, "params": model.count_params(), "steps": steps,
        "ms_per_step": 1000 * median, "tokens_per_s": tokens_per_step / median, "wall_s": wall,
        "val_loss_every_250": [round(v, 4) for v in history.history["val_loss"]],
        "val_loss_full_split": full["loss"],
        "flops_per_s": transformer_flops_per_token(model) * tokens_per_step / median,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpu", action="store_true", help="nanoGPT's GPU configuration, in mixed bfloat16")
    parser.add_argument("--jit", choices=["off", "on", "both"], default="both")
    parser.add_argument("--steps", type=int, help="override the number of steps (for a quick look)")
    parser.add_argument("--peak-tflops", type=float, default=989.0,
                        help="accelerator peak for the model FLOP utilisation (H100 SXM dense bf16: 989)")
    parser.add_argument("--seed", type=int, default=1337, help="weights and batch order")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    name = "gpu" if args.gpu else "cpu"
    if args.gpu:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")

    corpus = load_corpus("tiny_shakespeare")
    splits = split_corpus(corpus)
    tokenizer = CharTokenizer.train(splits["train"][0])
    ids = {k: tokenizer.encode_to_numpy(v[0]) for k, v in splits.items() if v}
    steps = args.steps or CONFIGS[name]["steps"]
    jits = {"off": [False], "on": [True], "both": [False, True]}[args.jit]
    rows = [run(name, jit, steps, ids, tokenizer.vocabulary_size, len(splits["validation"][0]), args.seed)
            for jit in jits]

    print(f"\nnanoGPT {name} config on {device_name()}; TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"policy {keras.mixed_precision.global_policy().name}; {rows[0]['params']:,} parameters\n")
    for r in rows:
        print(f"XLA {'on ' if r['xla'] else 'off'}: {r['ms_per_step']:.1f} ms/step, {r['tokens_per_s']:,.0f} tokens/s, "
              f"wall {r['wall_s']:.0f} s for {r['steps']} steps")
        print(f"  validation loss every 250 steps: {r['val_loss_every_250']}")
        print(f"  validation loss on the whole split at the end: {r['val_loss_full_split']:.4f}")
        if args.gpu:
            print(f"  model FLOP utilisation: {100 * r['flops_per_s'] / (args.peak_tflops * 1e12):.1f}% "
                  f"of {args.peak_tflops} TFLOP/s")
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
