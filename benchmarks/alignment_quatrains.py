"""Alignment on Tang quatrains: SFT, preferences, reward model, RLOO / PPO and DPO, measured by the true judge.

    python benchmarks/alignment_quatrains.py --json docs/results/alignment_small.json
                                                              # the figures the docs quote (~45 min on 2 CPU cores)
    python benchmarks/alignment_quatrains.py --size quick     # tiny sizes, to try the script (minutes)

The sizes and the SFT recipe are `lm_keras.alignment.recipe`'s, the same as tutorial 10's.

Stages (each saved under --out and reused when the script runs again, so a killed run resumes):
1. SFT: a Transformer LM pretrained on every titled Tang poem except the validation and test
   quatrains, then fine-tuned on `title：body` lines of the training quatrains (`finetune_language_model`);
2. preferences: four samples of the SFT model per training title, ranked by a noisy person (the
   judge through Bradley–Terry / Plackett–Luce with temperature 0.5), the best and the worst kept;
   held-out pairs come from the validation titles;
3. reward model: the SFT backbone + a scalar head, Bradley–Terry loss, stopped early on the
   held-out pairs' accuracy; its accuracy against the noisy labels and against the true judge,
   on the held-out pairs and on random pairs (two samples per validation title, unranked);
4. RL (RLOO on the reward model at two β: the working setting and a small-β one where it is
   hacked; PPO at the working β; RLOO on the true judge, the ceiling) and DPO at two β;
5. every policy on the test titles, sampled at temperature 1 as in training: judge success
   (format and rhyme) with its bootstrap interval, judge total, the reward model's score,
   KL(π‖π_SFT), held-out NLL of the real test poems, distinct-2; the true-judge policy also on
   its training titles (the gap between training reward and held-out success).
Prints the table, writes every figure as JSON (`results.json` in --out; with --json, the summary
the docs quote) and the frontier plot as PNG.
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
from lm_keras.alignment import (JudgeMonitor, JudgeReward, QuatrainJudge, evaluate_policy, label_pairs,  # noqa: E402
                                load_preferences, preference_rows, prompts_of, sample_pairs, save_model,
                                save_preferences, sft_texts, split_titled, titled_quatrains, train_dpo,
                                train_policy_gradient, train_reward_model)
from lm_keras.alignment.recipe import (LABEL_TEMPERATURE, MAX_NEW_TOKENS, PAIR_CANDIDATES, SIZES,  # noqa: E402
                                       rl_config, stage_config, train_sft, training_prompts)
from lm_keras.alignment.training import copy_model  # noqa: E402
from lm_keras.config import PreferenceConfig  # noqa: E402
from lm_keras.evaluation import mean_interval  # noqa: E402
from lm_keras.utils.atomic import atomic_file  # noqa: E402

GOALS = {"sft_format": (">=", 0.85), "rm_judge_accuracy": (">=", 0.75), "rloo_rm_success": (">=", 0.30),
         "rloo_rm_kl": ("<=", 15.0), "rloo_rm_nll_increase": ("<=", 0.10), "rloo_judge_success": (">=", 0.50),
         "dpo_kl": ("<=", 10.0)}


def preferences(model, tokenizer, prompts, path, seed, candidates=PAIR_CANDIDATES):
    if path.exists():
        return load_preferences(path)
    pairs = sample_pairs(model, tokenizer, prompts, MAX_NEW_TOKENS, seed=seed, candidates=candidates)
    table = label_pairs(pairs, QuatrainJudge(), PreferenceConfig(temperature=LABEL_TEMPERATURE), seed=seed)
    save_preferences(table, path)
    return table


def rm_accuracy(reward_model, tokenizer, table, judge):
    """Held-out pairwise accuracy against the noisy labels and, on the pairs the judge decides, against it:
    all of them, those where format or rhyme differs, and those where only rhyme does (both well-formed)."""
    chosen, rejected, _ = preference_rows(table, tokenizer, reward_model.context_length, MAX_NEW_TOKENS)
    margin = (reward_model.predict(chosen, verbose=0) - reward_model.predict(rejected, verbose=0))[:, 0]
    difference = (table["judge_chosen"] - table["judge_rejected"]).to_numpy()
    scores = [judge.score_many(table[column]) for column in ("chosen", "rejected")]
    rhyme_only = ((scores[0]["format"] == 1) & (scores[1]["format"] == 1)
                  & (scores[0]["rhyme"] != scores[1]["rhyme"])).to_numpy()
    decided, large = difference != 0, np.abs(difference) >= 0.5   # large: format or rhyme differs, not repetition only
    right = (margin > 0) == (difference > 0)
    return {"vs_labels": float(np.mean(margin > 0)), "vs_judge": float(np.mean(right[decided])),
            "vs_judge_format_or_rhyme": float(np.mean(right[large])),
            "vs_judge_rhyme_only": float(np.mean(right[rhyme_only])), "pairs": len(table),
            "decided_pairs": int(decided.sum()), "format_or_rhyme_pairs": int(large.sum()),
            "rhyme_only_pairs": int(rhyme_only.sum()), "labels_vs_judge": float(np.mean((difference > 0)[decided]))}


def goals(summary):
    met = {}
    for key, (sign, bound) in GOALS.items():
        met[key] = bool(summary[key] >= bound if sign == ">=" else summary[key] <= bound)
    met["rloo_rm_success_3x_sft"] = bool(summary["rloo_rm_success"] >= 3 * summary["sft_success"] > 0)
    met["dpo_success_above_sft"] = bool(summary["dpo_success_difference_interval"][0] > 0)
    return met


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--quick", action="store_const", const="quick", dest="size")
    parser.add_argument("--out", default="saved_models/alignment_benchmark")
    parser.add_argument("--json", help="also write the summary (the figures the docs quote) there")
    args = parser.parse_args()
    size, out = SIZES[args.size], Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    seconds = {}

    def log(message):
        seconds[message] = time.perf_counter() - start
        print(f"[{seconds[message]:6.0f} s] {message}", flush=True)

    train, validation, test = split_titled(titled_quatrains(), seed=0)
    test = test.head(size["test_prompts"])
    print(f"{device_name()}; {len(train):,} training quatrains with titles; {len(test)} test titles", flush=True)
    judge = QuatrainJudge()
    real = judge.score_many(test["body"])
    print(f"real test quatrains under the judge: format {real['format'].mean():.3f}, "
          f"success {real['success'].mean():.3f}", flush=True)
    log("SFT")
    sft, tokenizer = train_sft(train, validation, test, size, out / "sft")
    log("SFT trained")
    heldout = (prompts_of(test), list(test["body"]))
    test_prompts = prompts_of(test)
    reward_model = None
    samples = {}

    def evaluate(name, model, extra=None, prompts=test_prompts):
        figures, samples[name] = evaluate_policy(model, tokenizer, prompts, judge, reference=sft,
                                                 reward_model=reward_model, max_new_tokens=MAX_NEW_TOKENS, seed=1,
                                                 heldout=heldout if prompts is test_prompts else None)
        row = {"policy": name, **figures, **(extra or {})}
        samples[name].to_csv(out / f"samples_{name}.tsv", sep="\t", index=False)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        return row

    log("preference pairs")
    train_prompts = training_prompts(train, size["pairs"])
    table = preferences(sft, tokenizer, train_prompts, out / "preferences.parquet", seed=0)
    held_prompts = prompts_of(validation.head(max(32, size["pairs"] // 8)))
    held_pairs = preferences(sft, tokenizer, held_prompts, out / "preferences_validation.parquet", seed=1)
    decided = table["judge_chosen"] != table["judge_rejected"]
    print(f"{len(table):,} training pairs, {len(held_pairs):,} held out (validation titles); labels agree with "
          f"the judge on {table['judge_agrees'][decided].mean():.3f} of decided pairs; ties {1 - decided.mean():.3f}",
          flush=True)

    log("reward model")
    rm_path = out / "reward_model.keras"
    if rm_path.exists():
        reward_model = keras.saving.load_model(rm_path)
    else:
        stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=3, restore_best_weights=True)
        reward_model, rm_history = train_reward_model(sft, tokenizer, table, stage_config(size, "rm"), validation=held_pairs,
                                                      max_new_tokens=MAX_NEW_TOKENS, verbose=0, callbacks=[stop])
        print("reward model validation accuracy per interval:",
              [round(v, 3) for v in rm_history.history["val_accuracy"]], flush=True)
        save_model(reward_model, rm_path)
    accuracy = rm_accuracy(reward_model, tokenizer, held_pairs, judge)
    random_pairs = preferences(sft, tokenizer, held_prompts, out / "preferences_validation_random.parquet", seed=2,
                               candidates=2)
    accuracy["random_pairs"] = rm_accuracy(reward_model, tokenizer, random_pairs, judge)
    print("reward model held-out:", json.dumps(accuracy), flush=True)

    log("SFT evaluated")
    rows = [evaluate("sft", sft, {"beta": None})]
    monitor_prompts = test_prompts[:64]
    histories = {}
    runs = [("rloo", size["rl_beta"], size["rl_steps"]), ("rloo", size["hack_beta"], size["hack_steps"]),
            ("ppo", size["rl_beta"], size["rl_steps"]), ("rloo_judge", size["judge_beta"], size["rl_steps"])]
    for algorithm, beta, steps in runs:
        name = f"{algorithm}_beta{beta}"
        log(name)
        path = out / f"{name}.keras"
        if path.exists():
            policy = keras.saving.load_model(path)
        else:
            policy = copy_model(sft)
            reward = JudgeReward(judge, tokenizer) if algorithm.endswith("_judge") else reward_model
            _, history = train_policy_gradient(policy, reward, tokenizer, train_prompts,
                                               rl_config(algorithm.removesuffix("_judge"), beta),
                                               stage_config(size, "rl", steps),
                                               reference=sft, verbose=0,
                                               callbacks=[JudgeMonitor(tokenizer, monitor_prompts, judge)])
            histories[name] = history.history
            save_model(policy, path)
        rows.append(evaluate(name, policy, {"beta": beta, "steps": steps}))
        if algorithm == "rloo_judge":  # the same policy on titles it trained on: the training reward's view
            rows.append(evaluate(f"{name}_on_training_titles", policy,   # the held-out NLL is the row above's
                                 {"beta": beta, "steps": steps, "heldout_nll": rows[-1]["heldout_nll"]},
                                 prompts=train_prompts[:len(test_prompts)]))

    for beta in size["dpo_betas"]:
        name = f"dpo_beta{beta}"
        log(name)
        path = out / f"{name}.keras"
        if path.exists():
            policy = keras.saving.load_model(path)
        else:
            policy = copy_model(sft)
            _, history = train_dpo(policy, tokenizer, table, stage_config(size, "dpo"), beta=beta, validation=held_pairs,
                                   reference=sft, max_new_tokens=MAX_NEW_TOKENS, verbose=0)
            histories[name] = history.history
            save_model(policy, path)
        rows.append(evaluate(name, policy, {"beta": beta}))
    log("done")

    frame = pd.DataFrame(rows).set_index("policy")
    frame["nll_vs_sft"] = frame["heldout_nll"] / frame.loc["sft", "heldout_nll"] - 1
    print()
    print(frame.drop(columns=["success_low", "success_high"]).to_string(float_format=lambda v: f"{v:.3f}"))
    summary = summarise(frame, samples, accuracy, size, real, seconds)
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    report = {**summary, "size": args.size, "settings": size, "device": device_name(), "reward_model": accuracy,
              "rows": rows, "histories": histories, "seconds": seconds}
    with atomic_file(out / "results.json") as f:
        json.dump(report, f, indent=1, ensure_ascii=False, default=float)
    if args.json:
        with atomic_file(Path(args.json)) as f:
            json.dump(report, f, indent=1, ensure_ascii=False, default=float)
    plot(frame, out / "frontier.png")
    log(f"table, samples and plot in {out}")


def summarise(frame, samples, accuracy, size, real, seconds):
    """The figures the issue's goals name, the choice of the reported RLOO and DPO rows, and which goals hold."""
    rloo, judge_run = f"rloo_beta{size['rl_beta']}", f"rloo_judge_beta{size['judge_beta']}"
    dpo = max((f"dpo_beta{b}" for b in size["dpo_betas"]), key=lambda name: frame.loc[name, "success"])
    difference = samples[dpo]["success"].to_numpy(float) - samples["sft"]["success"].to_numpy(float)  # same titles
    summary = {"sft_format": frame.loc["sft", "format"], "sft_success": frame.loc["sft", "success"],
               "real_format": float(real["format"].mean()), "real_success": float(real["success"].mean()),
               "rm_judge_accuracy": accuracy["vs_judge"], "rm_label_accuracy": accuracy["vs_labels"],
               "rm_judge_accuracy_random_pairs": accuracy["random_pairs"]["vs_judge"],
               "rloo_rm_success": frame.loc[rloo, "success"], "rloo_rm_kl": frame.loc[rloo, "kl"],
               "rloo_rm_nll_increase": frame.loc[rloo, "nll_vs_sft"],
               "rloo_judge_success": frame.loc[judge_run, "success"],
               "rloo_judge_success_on_training_titles": frame.loc[f"{judge_run}_on_training_titles", "success"],
               "dpo_policy": dpo, "dpo_success": frame.loc[dpo, "success"], "dpo_kl": frame.loc[dpo, "kl"],
               "dpo_success_difference_interval": list(mean_interval(difference)),
               "minutes": seconds["done"] / 60}
    summary = {key: float(value) if isinstance(value, (np.floating, float)) else value for key, value in summary.items()}
    summary["goals_met"] = goals(summary)
    return summary


def plot(frame, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = frame[~frame.index.str.endswith("_on_training_titles")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    families = (("sft", "*", "SFT"), ("rloo_beta", "o", "RLOO (reward model)"), ("ppo", "s", "PPO (reward model)"),
                ("dpo", "^", "DPO"), ("rloo_judge", "D", "RLOO (true judge)"))
    for prefix, marker, label in families:
        part = frame[frame.index.str.startswith(prefix)]
        errors = np.vstack([part["success"] - part["success_low"], part["success_high"] - part["success"]])
        axes[0].errorbar(part["kl"], part["success"], yerr=errors, fmt=marker, label=label, markersize=8, capsize=3)
        axes[1].plot(part["kl"], part["reward_model"], marker, label=label, markersize=8)
        for ax, column in zip(axes, ("success", "reward_model")):
            for name, row in part.iterrows():
                ax.annotate("SFT" if pd.isna(row["beta"]) else f"β={row['beta']}", (row["kl"], row[column]),
                            fontsize=7, xytext=(4, 4), textcoords="offset points")
    for ax, label in zip(axes, ("judge success (95% interval)", "reward model score")):
        ax.set_xscale("symlog", linthresh=1.0)   # linear below 1 nat, logarithmic above: the hacked run is far out
        ax.set_xlabel("KL(π ‖ π_SFT) per poem (nats, symmetric log scale)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
