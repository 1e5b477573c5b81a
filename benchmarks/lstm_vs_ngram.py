"""The neural models of tutorials 03 and 04 at their full size against the counted n-grams of tutorial 02.

    python benchmarks/lstm_vs_ngram.py                      # both models, the tutorials' full settings
    python benchmarks/lstm_vs_ngram.py --models lstm --json lstm_vs_ngram.json
    python benchmarks/lstm_vs_ngram.py --gpu-transformer    # nanoGPT's GPU config for the Transformer

Trains each model with `train_run` on Tiny Shakespeare (tutorial 03's full LSTM: 2 layers of 512,
dropout 0.2, context 100, 3,000 steps of 64; tutorial 04's full Transformer: nanoGPT's CPU config,
2,000 steps), then counts the char unigram to 5-gram (Kneser-Ney) on the same run's training split
and tokenizer, and prints every model's validation bits per character, with whether each neural
model beats the 5-gram. `--steps N` cuts every training to N steps (a quick look, not the result).
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lm_keras.config import RunConfig, TokenizerConfig, TrainConfig  # noqa: E402
from lm_keras.data import load_corpus  # noqa: E402
from lm_keras.evaluation import evaluate_ngrams  # noqa: E402
from lm_keras.training import prepare_data, train_run  # noqa: E402

MODELS = {
    "lstm": (dict(cell_type="lstm", embedding_dim=64, hidden_dim=512, num_layers=2, dropout=0.2),
             dict(context_length=100, batch_size=64, steps=3000, eval_interval=250, eval_batches=20,
                  learning_rate=2e-3), "rnn"),
    "transformer": (dict(num_layers=4, num_heads=4, d_model=128, dropout=0.0, use_bias=False),
                    dict(context_length=64, batch_size=12, steps=2000, eval_interval=250, eval_batches=20),
                    "transformer"),
}
GPU_TRANSFORMER = (dict(num_layers=6, num_heads=6, d_model=384, dropout=0.2, use_bias=False),
                   dict(context_length=256, batch_size=64, steps=5000, eval_interval=250, eval_batches=20),
                   "transformer")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    parser.add_argument("--gpu-transformer", action="store_true", help="nanoGPT's GPU configuration instead")
    parser.add_argument("--steps", type=int, help="cut every training to this many steps")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    corpus = load_corpus("tiny_shakespeare")
    rows, ngram_bits = [], None
    for name in args.models:
        model, train, model_type = GPU_TRANSFORMER if name == "transformer" and args.gpu_transformer else MODELS[name]
        if args.steps:
            train = {**train, "steps": args.steps, "eval_interval": min(train["eval_interval"], args.steps)}
        config = RunConfig(corpus="tiny_shakespeare", tokenizer=TokenizerConfig("char"), model_type=model_type,
                           model=model, train=TrainConfig(**train))
        start = time.perf_counter()
        run = train_run(config, corpus=corpus, verbose=2)
        rows.append({"model": name, "steps": train["steps"], "bits_per_character": run.evaluation["bits_per_character"],
                     "seconds": time.perf_counter() - start})
        if ngram_bits is None:   # every char run shares the split and the vocabulary
            _, splits, _, _ = prepare_data(corpus, run.config, tokenizer=run.tokenizer)
            ngram_bits = {n: r["bits_per_character"] for n, r in evaluate_ngrams(range(1, 6), run.tokenizer, splits).items()}
    print("\nvalidation bits per character, Tiny Shakespeare")
    for n, bits in ngram_bits.items():
        print(f"  char {n}-gram, Kneser-Ney           {bits:.3f}")
    for row in rows:
        verdict = "beats" if row["bits_per_character"] < ngram_bits[5] else "does not beat"
        print(f"  {row['model']:<12} {row['steps']:>5} steps    {row['bits_per_character']:.3f}  ({verdict} the 5-gram; "
              f"{row['seconds']:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ngram_bits_per_character": ngram_bits, "models": rows}, f, indent=1)


if __name__ == "__main__":
    main()
