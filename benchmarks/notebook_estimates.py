"""How long each tutorial takes in full mode on a Colab T4 GPU and on a Colab TPU: an estimate.

    python benchmarks/notebook_estimates.py --capped-log nbfull.log --json benchmarks/results/notebook_estimates.json \
        --update .     # and write them into the notebooks' "How long" lines, README.md and docs/benchmarks.md

where `nbfull.log` is the output of `make test-notebooks-full` (pytest `--durations=0`): every
notebook run in full mode with each training cut to 2 steps, on this machine's CPU. No T4 or
TPU was measured; the estimate is

    (the capped run's seconds: everything that is not a training step, at this CPU's speed)
  + Σ over the notebook's trainings of  steps × max(FLOPs per step / achieved rate, floor per step)
  + sequentially decoded tokens (sampling inside a training step) × floor per decoded token

FLOPs per trained token are nanoGPT's estimate, 6 N (+ 12 · layers · d_model · context for
attention) with N the weights a token passes through (embeddings excluded); a frozen
backbone costs 2 N, LoRA 4 N (no weight gradients). Evaluation during training (a few
percent of the steps' FLOPs) is left out. The achieved rate is 10 % of the device's peak:
nanoGPT's README trains its 10.7 M-parameter Shakespeare model for 5,000 iterations of
64 × 256 tokens in about 3 minutes on one A100, 5.8e15 FLOPs at ~32 TFLOP/s, 10 % of the
A100's 312. The floors (the least a step or a decoded token costs, whatever its size) are
assumptions, printed with the results. The trainings below are read off the notebooks'
full settings (steps, batch shapes, model sizes) by hand: inputs of an estimate, to be
updated with the notebooks (tutorial 10's come from `lm_keras.alignment.recipe`, which it
runs). `tests/test_notebook_estimates.py` checks the FLOP counts against the library's models.
"""

import argparse
import dataclasses
import json
import math
import re

A100_SHAKESPEARE = {"parameters": 10.65e6, "iterations": 5000, "tokens": 64 * 256, "seconds": 180}


@dataclasses.dataclass(frozen=True)
class Device:
    name: str
    peak_flops: float      # dense float16/bfloat16, per chip or TPU board
    step_floor_s: float    # assumption: the least one optimizer step costs
    token_floor_s: float   # assumption: the least one sequentially decoded token costs
    utilisation: float = 0.10

    @property
    def rate(self):
        return self.utilisation * self.peak_flops


DEVICES = (Device("Colab T4 (mixed_float16)", 65e12, step_floor_s=0.010, token_floor_s=0.0005),
           Device("Colab TPU v2-8 (mixed_bfloat16, 8 cores)", 180e12, step_floor_s=0.020, token_floor_s=0.001))


@dataclasses.dataclass(frozen=True)
class Training:
    what: str
    steps: int
    tokens_per_step: int
    flops_per_token: float
    decoded_tokens_per_step: int = 0   # tokens sampled one after another inside each step (GANs, RL)

    def seconds(self, device):
        step = max(self.tokens_per_step * self.flops_per_token / device.rate, device.step_floor_s)
        return self.steps * (step + self.decoded_tokens_per_step * device.token_floor_s)

    @property
    def flops(self):
        return self.steps * self.tokens_per_step * self.flops_per_token


def rnn_flops(vocabulary, embedding, hidden, layers=1, gates=4, output=True):
    """6 N per token; N: the recurrent layers (gates · h · (in + h + 1)) and the output projection."""
    n, inputs = 0, embedding
    for _ in range(layers):
        n += gates * hidden * (inputs + hidden + 1)
        inputs = hidden
    return 6 * (n + (hidden * vocabulary if output else 0))


def transformer_flops(vocabulary, layers, d_model, context, backward=True):
    """nanoGPT: 6 N + 12 · layers · d_model · context, N = 12 · layers · d² + d · vocabulary (tied head)."""
    n = 12 * layers * d_model ** 2 + d_model * vocabulary
    return (6 if backward else 2) * n + (12 if backward else 4) * layers * d_model * context


def trainings(sizes):
    """Each notebook's full-mode trainings, from `sizes` (vocabularies and dataset sizes)."""
    shakespeare, quatrains, poets, sft_vocabulary = (sizes["tiny_shakespeare_vocabulary"], 3004, 5004,
                                                     sizes["sft_vocabulary"])
    nanogpt_cpu = transformer_flops(shakespeare, 4, 128, 64)
    vae = (rnn_flops(quatrains, 128, 128, gates=3, output=False) * 2      # bidirectional GRU encoder
           + rnn_flops(quatrains, 128 + 32, 256))                        # LSTM decoder fed [token, z]
    lstm_256 = rnn_flops(quatrains, 128, 256)
    per_epoch = {task: math.ceil(n / 32) for task, n in sizes["poet_training_poems"].items()}
    classifier = rnn_flops(poets, 128, 256, output=False)
    poets_lm = transformer_flops(poets, 4, 128, 128)
    sft = transformer_flops(sft_vocabulary, 2, 128, 64)
    return {
        "01": [], "02": [],
        "03": [Training("char LSTM 2 × 512", 3000, 64 * 100, rnn_flops(shakespeare, 64, 512, layers=2)),
               *(Training(f"{cell} 256", 600, 32 * 100, rnn_flops(shakespeare, 64, 256, gates=g))
                 for cell, g in (("lstm", 4), ("gru", 3), ("simple_rnn", 1)))],
        "04": [Training("nanoGPT CPU model", 2000, 12 * 64, nanogpt_cpu)],
        "05": [Training("VAE", 1500, 64 * 40, vae)] * 7,                # 6 variants + the saved run
        "06": [Training("VAE (tutorial 05's, if missing)", 2000, 64 * 40, vae),
               Training("LSTM LM 256", 2000, 64 * 64, lstm_256),
               Training("judge LSTM 512", 2000, 64 * 64, rnn_flops(quatrains, 128, 512)),
               Training("latent WGAN-GP (5 critic steps)", 3000, 64, 6 * 5 * 2 * 256 * 256),
               Training("sequence GAN", 300, 64 * 33, 2 * lstm_256, decoded_tokens_per_step=33),
               # one per scored sample set: real poems, 4 temperatures, 2 latent-GAN decodings, the sequence GAN
               *[Training("reverse LM", 600, 64 * 64, lstm_256)] * 8],
        "07": [Training("speed table: nanoGPT Shakespeare model", 6 * 50, 64 * 256,
                        transformer_flops(shakespeare, 6, 384, 256)),
               Training("nanoGPT CPU model, 5 runs of 1,000 steps or part", 4000, 16 * 64, nanogpt_cpu)],
        "08": [Training("nanoGPT CPU model (tutorial 04's, if missing)", 1000, 12 * 64, nanogpt_cpu)],
        "09": [Training("pretraining", 1200, 32 * 128, poets_lm),
               *(Training(f"{task}: LSTM", 6 * steps, 32 * 128, classifier) for task, steps in per_epoch.items()),
               *(Training(f"{task}: frozen backbone", 4 * steps, 32 * 128,
                          transformer_flops(poets, 4, 128, 128, backward=False)) for task, steps in per_epoch.items()),
               *(Training(f"{task}: fine-tuned", 4 * steps, 32 * 128, poets_lm) for task, steps in per_epoch.items())],
        "10": alignment_trainings(sft),
        "11": [Training("GPT-2 124M, LoRA", 1000, 8 * 256, 4 * 124.4e6 + 12 * 12 * 768 * 256),
               Training("char Transformer", 3000, 32 * 128, transformer_flops(sizes["tang_vocabulary"], 4, 128, 128))],
    }


def alignment_trainings(sft_flops):
    """Tutorial 10's full-mode trainings: `lm_keras.alignment.recipe`'s "small" size, whose steps and
    batches the tutorial and `benchmarks/alignment_quatrains.py` both run. A pair or an RL sequence is at
    most a 12-character title prompt and `MAX_NEW_TOKENS`; the reward model's steps are its most (it stops
    early)."""
    from lm_keras.alignment import recipe

    size, sequence = recipe.SIZES["small"], 14 + recipe.MAX_NEW_TOKENS
    lm, rm, dpo = (recipe.lm_config(size, 1).train, recipe.stage_config(size, "rm"), recipe.stage_config(size, "dpo"))
    rl_tokens = size["rl_batch"] * recipe.SAMPLES_PER_PROMPT * sequence
    # RL: sampling and the reference's and the old policy's log-probabilities (forward passes), then the update
    rl = [Training(f"RLOO {what} (sample, then update)", steps, rl_tokens, 2 * sft_flops,
                   decoded_tokens_per_step=recipe.MAX_NEW_TOKENS)
          for what, steps in (("on the reward model", size["rl_steps"]), ("hacked", size["hack_steps"]),
                              ("on the judge", size["rl_steps"]))]
    return [Training("SFT: pretraining", size["pretrain_steps"], lm.batch_size * lm.context_length, sft_flops),
            Training("SFT: fine-tuning", size["sft_steps"], lm.batch_size * lm.context_length, sft_flops),
            Training("reward model (at most)", rm.steps, rm.batch_size * 2 * sequence, sft_flops),
            *rl,
            *[Training(f"DPO β={beta} (policy and reference)", dpo.steps, dpo.batch_size * 2 * sequence,
                       sft_flops + sft_flops / 3) for beta in size["dpo_betas"]]]


def capped_seconds(log):
    """{"04": seconds, ...} from pytest --durations lines of test_notebook_full_mode_capped."""
    pattern = re.compile(r"([\d.]+)s call\s+\S*test_notebook_full_mode_capped\[(?:tutorials/)?(\d\d)_")
    found = {m.group(2): float(m.group(1)) for m in pattern.finditer(log)}
    if not found:
        raise SystemExit("no `test_notebook_full_mode_capped` durations in the log (run pytest with --durations=0)")
    return found


def measure_sizes():
    """Vocabulary and dataset sizes the trainings depend on, from the corpora."""
    from lm_keras.alignment import sft_texts, split_titled, titled_quatrains
    from lm_keras.alignment.data import pretraining_poems
    from lm_keras.data import load_corpus
    from lm_keras.data.classification import poet_task

    corpus = load_corpus("tang_poems")
    _, validation, test = split_titled(titled_quatrains(corpus.frame), seed=0)
    # what the SFT's tokenizer is built on
    sft_tokenizer_texts = sft_texts(pretraining_poems([validation, test], corpus.frame))
    return {"tiny_shakespeare_vocabulary": len(set(load_corpus("tiny_shakespeare").text)) + 4,
            "sft_vocabulary": len(set("".join(sft_tokenizer_texts))) + 4,
            "tang_vocabulary": len(set("".join(corpus.documents))) + 4,
            "poet_training_poems": {task: len(poet_task(task, corpus=corpus).texts["train"])
                                    for task in ("li_du", "ten_poets")}}


def estimate(capped, sizes):
    rows = []
    for notebook, runs in trainings(sizes).items():
        row = {"notebook": notebook, "capped_cpu_s": capped.get(notebook),
               "training_flops": sum(t.flops for t in runs)}
        for device in DEVICES:
            training = sum(t.seconds(device) for t in runs)
            row[device.name] = {"training_s": round(training),
                                "total_min": None if row["capped_cpu_s"] is None
                                else round((row["capped_cpu_s"] + training) / 60, 1)}
        rows.append(row)
    return rows


HOW_LONG = re.compile(r"\*\*How long:\*\* full mode takes [^.]*\.")
README_ROW = re.compile(r"^(\| (\d\d) \| .* \| )(?:~\d+ / ~\d+ min|under 1 min)( \|)$", re.M)
DOCS_ROW = re.compile(r"^\| (\d\d) \| .* \|$", re.M)


def minutes(row):
    """(T4, TPU) full-mode minutes of a notebook's row, rounded as its texts say them."""
    return tuple(round(row[device.name]["total_min"]) for device in DEVICES)


def how_long(row):
    """The first sentence of a notebook's "How long" line, from its estimate."""
    t4, tpu = minutes(row)
    if t4 < 1 and tpu < 1:
        return "**How long:** full mode takes under a minute on a Colab T4 GPU and on a Colab TPU runtime."
    return f"**How long:** full mode takes about {t4} minutes on a Colab T4 GPU and {tpu} on a Colab TPU runtime."


def readme_cell(row):
    """The README tutorial table's "full mode: T4 / TPU" cell of a notebook."""
    t4, tpu = minutes(row)
    return "under 1 min" if t4 < 1 and tpu < 1 else f"~{t4} / ~{tpu} min"


def docs_row(row):
    t4, tpu = (row[device.name] for device in DEVICES)
    return (f"| {row['notebook']} | {row['capped_cpu_s']:.0f} | {row['training_flops'] / 1e15:.2f} | "
            f"{t4['training_s']} | {t4['total_min']} | {tpu['training_s']} | {tpu['total_min']} |")


def update_texts(rows, root):
    """Write the estimates into each notebook's "How long" line, the README's tutorial table and
    docs/benchmarks.md's table (the only places they are quoted)."""
    import glob
    from pathlib import Path

    by_notebook = {row["notebook"]: row for row in rows}
    for path in sorted(glob.glob(str(Path(root) / "tutorials" / "[0-9][0-9]_*.ipynb"))):
        row = by_notebook[Path(path).name[:2]]
        text = Path(path).read_text(encoding="utf-8")
        Path(path).write_text(HOW_LONG.sub(lambda m: how_long(row), text, count=1), encoding="utf-8")
    readme = Path(root) / "README.md"
    readme.write_text(README_ROW.sub(lambda m: m.group(1) + readme_cell(by_notebook[m.group(2)]) + m.group(3),
                                     readme.read_text(encoding="utf-8")), encoding="utf-8")
    docs = Path(root) / "docs" / "benchmarks.md"
    docs.write_text(DOCS_ROW.sub(lambda m: docs_row(by_notebook[m.group(1)]) if m.group(1) in by_notebook
                                 else m.group(0), docs.read_text(encoding="utf-8")), encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capped-log", required=True, help="output of make test-notebooks-full")
    parser.add_argument("--json", help="write the estimates here")
    parser.add_argument("--update", metavar="ROOT", help="also write them into the notebooks, README.md and "
                                                         "docs/benchmarks.md of the checkout at ROOT")
    args = parser.parse_args()
    with open(args.capped_log) as f:
        capped = capped_seconds(f.read())
    sizes = measure_sizes()
    rows = estimate(capped, sizes)
    a100 = A100_SHAKESPEARE
    reference = (transformer_flops(65, 6, 384, 256) * a100["iterations"] * a100["tokens"] / a100["seconds"])
    print(f"reference: nanoGPT's Shakespeare run on an A100, {reference / 1e12:.0f} TFLOP/s "
          f"({100 * reference / 312e12:.0f} % of 312)")
    for device in DEVICES:
        print(f"{device.name}: {device.rate / 1e12:.1f} TFLOP/s achieved (assumed), "
              f"floors {1000 * device.step_floor_s:.0f} ms/step, {1000 * device.token_floor_s:.1f} ms/decoded token")
    print(f"{'notebook':<9}{'capped CPU s':>13}{'train PFLOP':>12}" + "".join(f"{d.name[:14]:>22}" for d in DEVICES))
    for row in rows:
        print(f"{row['notebook']:<9}{row['capped_cpu_s'] or float('nan'):>13.0f}{row['training_flops'] / 1e15:>12.2f}"
              + "".join(f"{str(row[d.name]['total_min']) + ' min':>22}" for d in DEVICES))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sizes": sizes, "devices": [dataclasses.asdict(d) for d in DEVICES], "rows": rows},
                      f, indent=2, ensure_ascii=False)
    if args.update:
        update_texts(rows, args.update)


if __name__ == "__main__":
    main()
