"""The alignment pipeline's settings, written once for tutorial 10 and `benchmarks/alignment_quatrains.py`.

    size = SIZES["small"]                          # or "quick": tiny, to try the code in minutes
    sft, tokenizer = train_sft(train, validation, test, size, out="runs/sft")
    reward_model, _ = train_reward_model(sft, tokenizer, pairs, stage_config(size, "rm"), ...)

"small" is what 2 CPU cores do in about 43 minutes, end to end (docs/alignment.md has the run).
The SFT model is pretrained on every titled Tang poem except the held-out quatrains
(about 3.2M characters) and then fine-tuned on the training quatrains: trained on the
quatrains alone (0.4M characters), the same model overfits after 1,600 steps.
"""

from pathlib import Path

import keras

from lm_keras.alignment.data import pretraining_poems, prompts_of, sft_texts
from lm_keras.config import PolicyGradientConfig, RunConfig, TokenizerConfig, TrainConfig

MAX_NEW_TOKENS = 34          # a 7-character quatrain is 32 characters, then [EOS]
CONTEXT = 64
LABEL_TEMPERATURE = 0.5      # T of the noisy Bradley–Terry "person"
PAIR_CANDIDATES = 4          # poems per title the person ranks; a pair is their best and their worst
SAMPLES_PER_PROMPT = 4       # RLOO's k

# rl_beta: RLOO / PPO on the reward model; hack_beta, hack_steps: the setting where the reward model is hacked;
# judge_beta: RLOO on the true judge, which cannot be hacked: a looser leash (at 0.05 it hardly moves, docs/alignment.md).
SIZES = {
    "small": dict(layers=2, d_model=128, heads=4, pretrain_steps=2000, sft_steps=600, pairs=20000, rm_steps=3000,
                  rl_steps=300, rl_batch=16, rl_lr=2e-4, rl_beta=0.05, hack_beta=0.002, hack_steps=250,
                  judge_beta=0.02, dpo_steps=300, dpo_betas=(0.1, 0.5), test_prompts=600),
    "quick": dict(layers=1, d_model=32, heads=2, pretrain_steps=60, sft_steps=30, pairs=64, rm_steps=20,
                  rl_steps=24, rl_batch=8, rl_lr=1e-2, rl_beta=0.05, hack_beta=0.002, hack_steps=12,
                  judge_beta=0.05, dpo_steps=10, dpo_betas=(0.1, 0.5), test_prompts=64),
}


def lm_config(size, steps, validation_fraction=0.01):
    """The `RunConfig` of the pretraining (and, its `.train`, of the fine-tuning) at `size`."""
    return RunConfig(corpus="sft", model_type="transformer", tokenizer=TokenizerConfig("char"),
                     model=dict(num_layers=size["layers"], num_heads=size["heads"], d_model=size["d_model"],
                                context_length=CONTEXT, dropout=0.1),
                     train=TrainConfig(context_length=CONTEXT, batch_size=32, steps=steps,
                                       eval_interval=max(1, steps // 5), eval_batches=10, optimizer="adamw",
                                       learning_rate=2e-3, weight_decay=0.1, beta_2=0.99, schedule="cosine",
                                       warmup_steps=min(100, steps // 10), validation_fraction=validation_fraction,
                                       seed=0))


def train_sft(train, validation, test, size, out=None, verbose=0):
    """Pretrain on every titled poem but the `validation` and `test` quatrains, then fine-tune on the `train`
    quatrains (`title：body`), validated on `validation` -> (model, tokenizer).

    Args:
        train, validation, test: the DataFrames of `split_titled`.
        out: a directory for the pretraining run (`pretrain/`) and the SFT model (`sft.keras`);
            a finished SFT there is loaded instead of trained again.
    """
    from lm_keras.alignment.training import save_model
    from lm_keras.runs import load_run
    from lm_keras.training import finetune_language_model, pretrain_language_model

    out = Path(out) if out is not None else None
    if out is not None and (out / "sft.keras").exists():
        return keras.saving.load_model(out / "sft.keras"), load_run(out / "pretrain").tokenizer
    run = pretrain_language_model(sft_texts(pretraining_poems([validation, test])),
                                  lm_config(size, size["pretrain_steps"]), out=None if out is None else out / "pretrain",
                                  overwrite=True, verbose=verbose, name="titled Tang poems")
    finetune_language_model(run.model, run.tokenizer, sft_texts(train), sft_texts(validation),
                            lm_config(size, size["sft_steps"]).train, verbose=verbose)
    if out is not None:
        save_model(run.model, out / "sft.keras")
    return run.model, run.tokenizer


def training_prompts(train, count):
    """`count` prompts `title：` of the `train` quatrains, in a seeded shuffle, cycled when `count` is more
    than the titles (the "small" size's 20,000 pairs: a title then gives two or three pairs)."""
    prompts = prompts_of(train.sample(min(count, len(train)), random_state=0, replace=False))
    return (prompts * -(-count // len(prompts)))[:count]


def stage_config(size, stage, steps=None):
    """The `TrainConfig` of a stage after SFT: "rm" (reward model), "rl" (RLOO / PPO) or "dpo"."""
    if stage == "rm":
        steps = steps or size["rm_steps"]
        return TrainConfig(batch_size=32, steps=steps, eval_interval=max(1, steps // 10), learning_rate=1e-4, seed=0)
    if stage == "rl":
        steps = steps or size["rl_steps"]
        return TrainConfig(batch_size=size["rl_batch"], steps=steps, eval_interval=max(1, steps // 6), eval_batches=1,
                           learning_rate=size["rl_lr"], clip_norm=1.0, seed=0)
    if stage == "dpo":
        steps = steps or size["dpo_steps"]
        return TrainConfig(batch_size=32, steps=steps, eval_interval=max(1, steps // 5), eval_batches=4,
                           learning_rate=5e-5, seed=0)
    raise ValueError(f"stage={stage!r} is invalid: must be 'rm', 'rl' or 'dpo'")


def rl_config(algorithm, beta):
    """The `PolicyGradientConfig` of RLOO or PPO at `beta`."""
    return PolicyGradientConfig(algorithm=algorithm, samples_per_prompt=SAMPLES_PER_PROMPT, beta=beta,
                                max_new_tokens=MAX_NEW_TOKENS)
