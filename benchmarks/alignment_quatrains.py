"""Alignment on Tang quatrains: SFT, preferences, reward model, RLOO / PPO and DPO, measured by the true judge.

    python benchmarks/alignment_quatrains.py                  # the issue's table and frontier plot (hours on 2 CPU cores)
    python benchmarks/alignment_quatrains.py --size small     # fewer steps, smaller batches (~30 min on 2 cores)
    python benchmarks/alignment_quatrains.py --size quick     # tiny sizes, to try the script (minutes)

Stages (each saved under --out and reused when the script runs again, so a killed run resumes):
1. SFT: a Transformer LM trained on `title：body` lines of the training quatrains;
2. preferences: two samples of the SFT model per training title, labelled by the judge
   through Bradley–Terry with temperature 0.5 (noisy, as people are);
3. reward model: the SFT backbone + a scalar head, Bradley–Terry loss; held-out pairwise
   accuracy against the noisy labels and against the true judge;
4. RL (RLOO, and PPO at one β) and DPO, each at several β;
5. every policy on the test titles: judge success (format and rhyme), judge total, the
   reward model's score, KL(π‖π_SFT), held-out NLL of the real test poems, distinct-2.
Prints the table, writes it as JSON and the reward–KL frontier as PNG.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from common import device_name  # noqa: E402
from lm_keras.alignment import (JudgeMonitor, JudgeReward, QuatrainJudge, evaluate_policy, label_pairs, load_preferences,  # noqa: E402
                                prompts_of, sample_pairs, save_model, save_preferences, sft_texts, split_titled,
                                titled_quatrains, train_dpo, train_policy_gradient, train_reward_model)
from lm_keras.alignment.training import copy_model  # noqa: E402
from lm_keras.config import PolicyGradientConfig, PreferenceConfig, RunConfig, TokenizerConfig, TrainConfig  # noqa: E402
from lm_keras.runs import load_run  # noqa: E402
from lm_keras.training import pretrain_language_model  # noqa: E402

MAX_NEW_TOKENS = 34  # a 7-character quatrain is 32 characters, then [EOS]
SIZES = {
    "full": dict(layers=2, d_model=128, heads=4, sft_steps=3000, sft_batch=64, pairs=3000, rm_steps=600, rl_steps=150,
                 rl_lr=1e-4, dpo_steps=300, rl_betas=(0.01, 0.05, 0.2), dpo_betas=(0.05, 0.1, 0.5), ppo_beta=0.05,
                 test_prompts=400),
    "small": dict(layers=2, d_model=128, heads=4, sft_steps=1000, sft_batch=32, pairs=1500, rm_steps=300,
                  rl_steps=100, rl_lr=3e-4, dpo_steps=150, rl_betas=(0.02, 0.1), dpo_betas=(0.1, 0.5), ppo_beta=0.02,
                  test_prompts=200),
    "quick": dict(layers=1, d_model=32, heads=2, sft_steps=60, sft_batch=32, pairs=64, rm_steps=20, rl_steps=6,
                  rl_lr=1e-4, dpo_steps=10,
                  rl_betas=(0.05,), dpo_betas=(0.1,), ppo_beta=0.05, test_prompts=32),
}


def train_sft(texts, size, out):
    if (out / "model.keras").exists():
        return load_run(out)
    config = RunConfig(corpus="sft", model_type="transformer", tokenizer=TokenizerConfig("char"),
                       model=dict(num_layers=size["layers"], num_heads=size["heads"], d_model=size["d_model"],
                                  context_length=64, dropout=0.0),
                       train=TrainConfig(context_length=64, batch_size=size["sft_batch"], steps=size["sft_steps"],
                                         eval_interval=max(1, size["sft_steps"] // 5), eval_batches=10,
                                         optimizer="adamw", learning_rate=2e-3, weight_decay=0.1, beta_2=0.99,
                                         schedule="cosine", warmup_steps=min(100, size["sft_steps"] // 10),
                                         validation_fraction=0.02, seed=0))
    return pretrain_language_model(texts, config, out=out, overwrite=True, verbose=0, name="titled quatrains (SFT)")


def preferences(run, prompts, path, seed):
    if path.exists():
        return load_preferences(path)
    pairs = sample_pairs(run.model, run.tokenizer, prompts, MAX_NEW_TOKENS, seed=seed)
    table = label_pairs(pairs, QuatrainJudge(), PreferenceConfig(temperature=0.5), seed=seed)
    save_preferences(table, path)
    return table


def rm_accuracy(reward_model, tokenizer, table):
    from lm_keras.alignment import preference_rows

    chosen, rejected, _ = preference_rows(table, tokenizer, reward_model.context_length, MAX_NEW_TOKENS)
    margin = (reward_model.predict(chosen, verbose=0) - reward_model.predict(rejected, verbose=0))[:, 0]
    decided = (table["judge_chosen"] != table["judge_rejected"]).to_numpy()
    truth = (table["judge_chosen"] > table["judge_rejected"]).to_numpy()
    return {"vs_labels": float(np.mean(margin > 0)), "vs_judge": float(np.mean((margin > 0)[decided] == truth[decided])),
            "pairs": len(table), "decided_pairs": int(decided.sum()),
            "labels_vs_judge": float(np.mean(truth[decided]))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--quick", action="store_const", const="quick", dest="size")
    parser.add_argument("--out", default="saved_models/alignment_benchmark")
    parser.add_argument("--judge-reward", action="store_true",
                        help="also run RLOO on the true judge as the reward (the ceiling for the reward model)")
    args = parser.parse_args()
    size, out = SIZES[args.size], Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - start:6.0f} s] {message}", flush=True)

    train, validation, test = split_titled(titled_quatrains(), seed=0)
    test = test.head(size["test_prompts"])
    print(f"{device_name()}; {len(train):,} training quatrains with titles; {len(test)} test titles", flush=True)
    judge = QuatrainJudge()
    print(f"real test quatrains under the judge: success {judge.score_many(test['body'])['success'].mean():.3f}")
    log("SFT")
    run = train_sft(sft_texts(train), size, out / "sft")
    sft, tokenizer = run.model, run.tokenizer
    heldout = (prompts_of(test), list(test["body"]))
    test_prompts = prompts_of(test)

    def evaluate(name, model, extra=None):
        figures, samples = evaluate_policy(model, tokenizer, test_prompts, judge, reference=sft,
                                           reward_model=reward_model, heldout=heldout, max_new_tokens=MAX_NEW_TOKENS,
                                           seed=1)
        row = {"policy": name, **figures, **(extra or {})}
        samples.to_csv(out / f"samples_{name}.tsv", sep="\t", index=False)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        return row

    log("preference pairs")
    train_prompts = prompts_of(train.sample(size["pairs"], random_state=0))
    table = preferences(run, train_prompts, out / "preferences.parquet", seed=0)
    held_pairs = preferences(run, prompts_of(validation.head(max(32, size["pairs"] // 8))),
                             out / "preferences_validation.parquet", seed=1)
    print(f"{len(table):,} training pairs; labels agree with the judge on "
          f"{table['judge_agrees'][table['judge_chosen'] != table['judge_rejected']].mean():.3f} of decided pairs; "
          f"ties {(table['judge_chosen'] == table['judge_rejected']).mean():.3f}", flush=True)

    log("reward model")
    rm_path = out / "reward_model.keras"
    if rm_path.exists():
        reward_model = keras.saving.load_model(rm_path)
    else:
        rm_config = TrainConfig(batch_size=32, steps=size["rm_steps"], eval_interval=max(1, size["rm_steps"] // 4),
                                eval_batches=8, learning_rate=3e-4, seed=0)
        reward_model, _ = train_reward_model(sft, tokenizer, table, rm_config, validation=held_pairs,
                                             max_new_tokens=MAX_NEW_TOKENS, verbose=0)
        save_model(reward_model, rm_path)
    accuracy = rm_accuracy(reward_model, tokenizer, held_pairs)
    print("reward model held-out:", json.dumps(accuracy), flush=True)

    rows = [evaluate("sft", sft, {"beta": None})]
    monitor_prompts = test_prompts[:64]
    histories = {}
    rl_config = TrainConfig(batch_size=8, steps=size["rl_steps"], eval_interval=max(1, size["rl_steps"] // 5),
                            eval_batches=1, learning_rate=size["rl_lr"], clip_norm=1.0, seed=0)
    runs = [("rloo", beta) for beta in size["rl_betas"]] + [("ppo", size["ppo_beta"])]
    if args.judge_reward:  # the ceiling: RL on the true judge instead of the learned reward model
        runs.append(("rloo_judge", size["rl_betas"][0]))
    for algorithm, beta in runs:
        name = f"{algorithm}_beta{beta}"
        log(name)
        path = out / f"{name}.keras"
        if path.exists():
            policy = keras.saving.load_model(path)
        else:
            policy = copy_model(sft)
            config = PolicyGradientConfig(algorithm=algorithm.removesuffix("_judge"), samples_per_prompt=4, beta=beta,
                                          max_new_tokens=MAX_NEW_TOKENS)
            reward = JudgeReward(judge, tokenizer) if algorithm.endswith("_judge") else reward_model
            _, history = train_policy_gradient(policy, reward, tokenizer, train_prompts, config, rl_config,
                                               reference=sft, verbose=0,
                                               callbacks=[JudgeMonitor(tokenizer, monitor_prompts, judge)])
            histories[name] = history.history
            save_model(policy, path)
        rows.append(evaluate(name, policy, {"beta": beta}))

    dpo_config = TrainConfig(batch_size=32, steps=size["dpo_steps"], eval_interval=max(1, size["dpo_steps"] // 5),
                             eval_batches=4, learning_rate=1e-4, seed=0)
    for beta in size["dpo_betas"]:
        name = f"dpo_beta{beta}"
        log(name)
        path = out / f"{name}.keras"
        if path.exists():
            policy = keras.saving.load_model(path)
        else:
            policy = copy_model(sft)
            _, history = train_dpo(policy, tokenizer, table, dpo_config, beta=beta, validation=held_pairs,
                                   reference=sft, max_new_tokens=MAX_NEW_TOKENS, verbose=0)
            histories[name] = history.history
            save_model(policy, path)
        rows.append(evaluate(name, policy, {"beta": beta}))

    frame = pd.DataFrame(rows)
    frame["nll_vs_sft"] = frame["heldout_nll"] / frame.loc[0, "heldout_nll"] - 1
    print()
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    (out / "results.json").write_text(json.dumps({"reward_model": accuracy, "rows": rows, "histories": histories},
                                                 indent=2, ensure_ascii=False, default=float))
    plot(frame, out / "frontier.png")
    log(f"done; table, samples and plot in {out}")


def plot(frame, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for family, marker in (("sft", "*"), ("rloo_beta", "o"), ("ppo", "s"), ("dpo", "^"), ("rloo_judge", "D")):
        part = frame[frame["policy"].str.startswith(family)]
        for ax, column in zip(axes, ("success", "reward_model")):
            ax.plot(part["kl"], part[column], marker, label=family.removesuffix("_beta"), markersize=9)
            for _, row in part.iterrows():
                ax.annotate(f"β={row['beta']}" if pd.notna(row["beta"]) else "SFT", (row["kl"], row[column]),
                            fontsize=7, xytext=(4, 4), textcoords="offset points")
    for ax, label in zip(axes, ("true judge: format + rhyme success", "reward model score")):
        ax.set_xlabel("KL(π ‖ π_SFT) per poem (nats)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
