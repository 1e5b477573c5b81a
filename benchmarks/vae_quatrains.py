"""Posterior collapse, measured: a plain LM, a vanilla text VAE and each anti-collapse option on Tang quatrains.

    python benchmarks/vae_quatrains.py                       # the table of the VAE issue (CPU: ~35 min)
    python benchmarks/vae_quatrains.py --steps 100 --eval-rows 100 --samples 10   # a quick look

Every configuration has the same encoder (BiGRU 128), latent size (32), decoder (LSTM 256,
embedding 128), data (the fixed 80/10/10 split of `tang_quatrains`, char tokens, vocabulary
3,000), batch (64), optimizer (Adam 2e-3, clip 1) and number of steps. The test split
gives: reconstruction, KL and ELBO per poem, active units (Var_x E_q[z_d] > 0.01), mutual
information, and the importance-weighted NLL bound with k = `--samples` (100), per poem
and per token. The plain LM is the same decoder with `conditioning="none"` (it never sees
z, so its reconstruction term is its exact NLL). Prints ms/step and the whole table.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import StepTimer, device_name  # noqa: E402
from lm_keras.config import TrainConfig  # noqa: E402
from lm_keras.data import load_corpus, split_corpus  # noqa: E402
from lm_keras.data.pipeline import document_dataset, encode_rows  # noqa: E402
from lm_keras.evaluation import evaluate_vae  # noqa: E402
from lm_keras.models import TextVAE  # noqa: E402
from lm_keras.tokenizers import create_tokenizer  # noqa: E402
from lm_keras.training import compile_language_model  # noqa: E402

CONFIGS = {
    "plain LM (no z)": dict(conditioning="none"),
    "vanilla VAE": dict(),
    "KL annealing, linear": dict(kl_annealing="linear"),
    "KL annealing, cyclical": dict(kl_annealing="cyclical"),
    "word dropout 0.3": dict(word_dropout=0.3),
    "free bits 0.25/dim": dict(free_bits=0.25),
    "BN-VAE γ=0.6": dict(batch_norm_gamma=0.6),
    "BN-VAE γ=0.6 + cyclical": dict(batch_norm_gamma=0.6, kl_annealing="cyclical"),
}
VANILLA = dict(kl_annealing="none", word_dropout=0.0, free_bits=0.0, batch_norm_gamma=None,
               conditioning="input_and_state")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--samples", type=int, default=100, help="importance samples k")
    parser.add_argument("--eval-rows", type=int, default=500, help="test poems for the IW bound (all for the rest)")
    parser.add_argument("--only", nargs="*", help="run only these configurations (names as in the table)")
    parser.add_argument("--json", help="write the rows there as they finish")
    args = parser.parse_args()

    splits = split_corpus(load_corpus("tang_quatrains"), 0.1, 0.1, seed=0)
    tokenizer = create_tokenizer("char", splits["train"], max_vocabulary_size=3000)
    rows = {name: encode_rows(docs, tokenizer, 64) for name, docs in splits.items()}
    print(f"{device_name()}; {len(rows['train']):,} / {len(rows['validation']):,} / {len(rows['test']):,} "
          f"quatrains, vocabulary {tokenizer.vocabulary_size:,}, {args.steps} steps of {args.batch_size}")
    train_config = TrainConfig(batch_size=args.batch_size, steps=args.steps, learning_rate=2e-3, clip_norm=1.0)
    table = []
    for name, options in CONFIGS.items():
        if args.only and name not in args.only:
            continue
        keras.utils.set_random_seed(0)
        vae = TextVAE(tokenizer.vocabulary_size, latent_dim=32, embedding_dim=128, encoder_dim=128, decoder="lstm",
                      decoder_dim=256, annealing_steps=max(1, args.steps // 4), seed=0, **{**VANILLA, **options})
        vae(tf.zeros((1, 2), tf.int32))
        compile_language_model(vae, train_config)
        timer = StepTimer()
        start = time.perf_counter()
        vae.fit(document_dataset(rows["train"], args.batch_size, seed=0, repeat=True), epochs=1,
                steps_per_epoch=args.steps, callbacks=[timer], verbose=0)
        train_seconds = time.perf_counter() - start
        full = evaluate_vae(vae, rows["test"])
        iw = evaluate_vae(vae, rows["test"][:args.eval_rows], num_importance_samples=args.samples)
        row = {"configuration": name, "ms/step": 1000 * timer.median(skip=5), "train s": train_seconds,
               "reconstruction": full["reconstruction"], "KL": full["kl"], "-ELBO": -full["elbo"],
               "active units": f"{full['active_units']}/{vae.latent_dim}", "MI": full["mutual_information"],
               f"IW-NLL k={args.samples}": iw["nll_iw"], "IW-NLL/token": iw["nll_iw_per_token"],
               "-ELBO (IW rows)": -iw["elbo"]}
        table.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"device": device_name(), "steps": args.steps, "rows": table}, f, indent=2, ensure_ascii=False)
    frame = pd.DataFrame(table).set_index("configuration")
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.float_format", "{:.2f}".format):
        print(frame)
    print("Per poem in nats on the test split (IW-NLL on its first", args.eval_rows, "poems); "
          "the plain LM's IW-NLL is its exact NLL.")


if __name__ == "__main__":
    main()
