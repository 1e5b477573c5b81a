"""Language GANs against the language model they must beat: the quality–diversity plane on Tang quatrains.

    python benchmarks/gan_quatrains.py                 # the table and plot of the GAN issue (a GPU; hours on a CPU)
    python benchmarks/gan_quatrains.py --size medium   # smaller models and fewer steps
    python benchmarks/gan_quatrains.py --size small    # fewer steps again, reverse LM of 128 units (~25 min)
    python benchmarks/gan_quatrains.py --quick         # tiny sizes, to try the script (~4 min)

Steps (fixed 80/10/10 split of `tang_quatrains`, char tokens, vocabulary 3,000):
1. a judge LM (LSTM, trained on the training split only, never on generations);
2. the MLE LM (LSTM), sampled at temperatures 0.5 … 1.5: the curve a GAN must beat;
3. the latent GAN: a text VAE (the library's defaults), a WGAN-GP on the codes μ of the
   training poems, generated codes decoded by the VAE's decoder (ARAE), greedily and sampled
   at temperatures 0.7 and 1.0 (its own small sweep);
4. the sequence GAN: the MLE LM trained on against a prefix discriminator with REINFORCE,
   sampled at temperatures 0.85 and 1.0.
Every set of generated poems gets: quality = NLL per token under the judge (lower is
better); diversity = NLL per token of the real test poems under a reverse LM trained only
on the generated poems (lower is better), Self-BLEU (lower is more diverse) and
distinct-2; the latent GAN also the Fréchet distance of its codes to the test poems' codes.
Prints the table, writes it as JSON and the plot as PNG.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from common import device_name  # noqa: E402
from lm_keras.config import TrainConfig  # noqa: E402
from lm_keras.data import encode_documents, load_corpus, split_corpus  # noqa: E402
from lm_keras.data.pipeline import document_dataset, encode_rows  # noqa: E402
from lm_keras.evaluation.latent import posterior  # noqa: E402
from lm_keras.evaluation.text_quality import frechet_distance  # noqa: E402
from lm_keras.training.text_quality import score_generations  # noqa: E402
from lm_keras.generation import Generator, LatentGenerator  # noqa: E402
from lm_keras.models import LatentGAN, RNNLanguageModel, SequenceGAN, TextVAE  # noqa: E402
from lm_keras.training import compile_language_model, fit_documents, fit_gan, fit_language_model  # noqa: E402

TEMPERATURES = (0.5, 0.7, 0.85, 1.0, 1.2, 1.5)
LATENT_TEMPERATURES = (0.0, 0.7, 1.0)  # 0: greedy
SEQGAN_TEMPERATURES = (0.85, 1.0)
SIZES = {
    "full": dict(judge=512, lm=256, lm_steps=2000, judge_steps=2000, vae_steps=2000, gan_steps=3000, seqgan_steps=300,
                 reverse_steps=600, samples=1000, self_bleu=300),
    "medium": dict(judge=256, lm=256, lm_steps=1000, judge_steps=1000, vae_steps=1500, gan_steps=2000,
                   seqgan_steps=150, reverse_steps=400, samples=500, self_bleu=200),
    "small": dict(judge=256, lm=256, lm_steps=500, judge_steps=500, vae_steps=600, gan_steps=1500, seqgan_steps=80,
                  reverse_steps=150, reverse_hidden=128, samples=300, self_bleu=150),
    "quick": dict(judge=64, lm=64, lm_steps=60, judge_steps=60, vae_steps=60, gan_steps=100, seqgan_steps=10,
                  reverse_steps=40, samples=64, self_bleu=32),
}


def train_lm(ids_train, ids_val, vocabulary, hidden, steps, seed):
    keras.utils.set_random_seed(seed)
    model = RNNLanguageModel(vocabulary, embedding_dim=128, hidden_dim=hidden)
    config = TrainConfig(context_length=64, batch_size=64, steps=steps, eval_interval=max(1, steps // 4),
                         eval_batches=5, learning_rate=2e-3, seed=seed)
    compile_language_model(model, config)
    fit_language_model(model, ids_train, ids_val, config, verbose=0)
    return model


def measure(name, texts, judge, tokenizer, test_docs, size, extra=None):
    reverse = TrainConfig(context_length=64, batch_size=64, steps=size["reverse_steps"],
                          eval_interval=size["reverse_steps"], eval_batches=1, seed=0)
    row = {"model": name, **score_generations(texts, judge, tokenizer, test_docs, reverse, size["self_bleu"],
                                              expected=size["samples"], embedding_dim=128,
                                              hidden_dim=size.get("reverse_hidden", size["lm"])),
           **(extra or {})}
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full",
                        help="full: the issue's run (for a GPU; hours on 2 CPU cores); medium; small (~25 min on 2 CPU cores); "
                             "quick: ~4 min, to try the script")
    parser.add_argument("--quick", action="store_true", help="same as --size quick")
    parser.add_argument("--out", default="gan_quatrains", help="prefix of the JSON and PNG written")
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else args.size]
    splits = split_corpus(load_corpus("tang_quatrains"), 0.1, 0.1, seed=0)
    from lm_keras.tokenizers import create_tokenizer

    tokenizer = create_tokenizer("char", splits["train"], max_vocabulary_size=3000)
    ids = {k: encode_documents(v, tokenizer, add_special_tokens=True) for k, v in splits.items()}
    rows = {k: encode_rows(v, tokenizer, 40) for k, v in splits.items()}
    vocabulary, n = tokenizer.vocabulary_size, size["samples"]
    print(f"{device_name()}; {len(splits['train']):,} training quatrains; {n} samples per model")
    start = time.perf_counter()

    def phase(name):
        print(f"[{time.perf_counter() - start:6.0f} s] {name}", flush=True)

    phase("training the judge and the MLE LM")
    judge = train_lm(ids["train"], ids["validation"], vocabulary, size["judge"], size["judge_steps"], seed=1)
    lm = train_lm(ids["train"], ids["validation"], vocabulary, size["lm"], size["lm_steps"], seed=2)
    table = [measure("real test poems", splits["test"][:n], judge, tokenizer, splits["test"], size)]
    generator = Generator(lm, tokenizer, allow_eos=True, allow_unknown=False)
    for t in TEMPERATURES:
        texts = generator([""] * n, max_new_tokens=40, temperature=t, seed=0)
        table.append(measure(f"MLE LM, T={t}", texts, judge, tokenizer, splits["test"], size, {"temperature": t}))

    # latent GAN (ARAE): codes of the VAE, a WGAN-GP on them, decoded by the VAE's decoder
    phase("training the VAE")
    keras.utils.set_random_seed(0)
    vae = TextVAE(vocabulary, context_length=40, decoder_dim=size["lm"], seed=0)
    vae(tf.zeros((1, 2), tf.int32))
    vae_config = TrainConfig(batch_size=64, steps=size["vae_steps"], eval_interval=max(1, size["vae_steps"] // 4),
                             eval_batches=5, seed=0)
    compile_language_model(vae, vae_config)
    fit_documents(vae, rows["train"], rows["validation"], vae_config, verbose=0)
    phase("training the latent GAN")
    codes = {k: posterior(vae, rows[k])[0] for k in ("train", "test")}
    gan = LatentGAN(latent_dim=vae.latent_dim, seed=0)
    gan.build()
    gan.compile()
    dataset = tf.data.Dataset.from_tensor_slices(codes["train"]).shuffle(len(codes["train"]), seed=0).repeat().batch(64)
    fit_gan(gan, dataset, TrainConfig(steps=size["gan_steps"], eval_interval=max(1, size["gan_steps"] // 4)), verbose=0)
    fake_codes = gan.sample_codes(n, seed=0)
    latent = LatentGenerator(vae, tokenizer)
    fake_frechet = {"Fréchet (codes)": frechet_distance(codes["test"], fake_codes)}
    for t in LATENT_TEMPERATURES:
        label = "greedy" if t == 0 else f"T={t}"
        table.append(measure(f"latent GAN (WGAN-GP on VAE codes), {label}", latent.decode(fake_codes, t, seed=0),
                             judge, tokenizer, splits["test"], size, {**fake_frechet, "gan temperature": t}))
    prior_codes = np.random.default_rng(0).standard_normal(fake_codes.shape)
    table.append(measure("VAE prior samples, greedy (reference)", latent.decode(prior_codes), judge, tokenizer,
                         splits["test"], size, {"Fréchet (codes)": frechet_distance(codes["test"], prior_codes)}))

    # sequence GAN: the MLE LM trained on against a discriminator
    phase("training the sequence GAN")
    keras.utils.set_random_seed(0)
    policy = RNNLanguageModel.from_config(lm.get_config())
    policy(tf.zeros((1, 2), tf.int32))
    policy.set_weights(lm.get_weights())
    seqgan = SequenceGAN(policy, max_length=33, entropy_weight=0.01, mle_weight=0.1, seed=0)
    seqgan.build()
    seqgan.compile()
    fit_gan(seqgan, document_dataset(rows["train"], 64, seed=0, repeat=True),
            TrainConfig(steps=size["seqgan_steps"], eval_interval=max(1, size["seqgan_steps"] // 4)), verbose=0)
    policy_generator = Generator(policy, tokenizer, allow_eos=True, allow_unknown=False)
    for t in SEQGAN_TEMPERATURES:
        texts = policy_generator([""] * n, max_new_tokens=40, temperature=t, seed=0)
        table.append(measure(f"sequence GAN (REINFORCE), T={t}", texts, judge, tokenizer, splits["test"], size,
                             {"gan temperature": t}))
    phase("done")

    frame = pd.DataFrame(table).set_index("model")
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(frame)
    print(f"total {time.perf_counter() - start:.0f} s")
    with open(f"{args.out}.json", "w") as f:
        json.dump({"device": device_name(), "size": size, "rows": table}, f, indent=2, ensure_ascii=False)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    sweep = frame[frame["temperature"].notna()] if "temperature" in frame else frame.iloc[0:0]
    ax.plot(sweep["quality: judge NLL/token"], sweep["diversity: reverse-LM NLL/token"], "o-", label="MLE LM, T sweep")
    for t, row in sweep.iterrows():
        ax.annotate(t.split("=")[-1], (row["quality: judge NLL/token"], row["diversity: reverse-LM NLL/token"]))
    others = frame[frame["temperature"].isna()]
    for family, marker in (("latent GAN", "s-"), ("sequence GAN", "^-")):
        rows = others[others.index.str.startswith(family)]
        if len(rows):
            ax.plot(rows["quality: judge NLL/token"], rows["diversity: reverse-LM NLL/token"], marker,
                    label=f"{family} (decoding temperatures)")
            for name, row in rows.iterrows():
                ax.annotate(name.split(", ")[-1], (row["quality: judge NLL/token"], row["diversity: reverse-LM NLL/token"]))
    for name, row in others[~others.index.str.contains("GAN")].iterrows():
        ax.plot(row["quality: judge NLL/token"], row["diversity: reverse-LM NLL/token"], "x", ms=9, label=name)
    ax.set_xlabel("quality: NLL per token under the judge (lower is better)")
    ax.set_ylabel("diversity: test NLL per token under the reverse LM (lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{args.out}.png", dpi=120)
    print(f"wrote {args.out}.json and {args.out}.png")


if __name__ == "__main__":
    main()
