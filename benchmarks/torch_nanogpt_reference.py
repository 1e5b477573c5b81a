"""nanoGPT's model and training loop in PyTorch eager, to compare speed side by side.

    pip install torch==2.13.0 numpy      # in a separate environment; torch is not a dependency
    python benchmarks/torch_nanogpt_reference.py --corpus data/tinyshakespeare.txt

A minimal re-statement of nanoGPT's model.py and train.py (Karpathy, MIT licence) at its
README's CPU configuration (`train_shakespeare_char.py --device=cpu --compile=False
--eval_iters=20 --log_interval=1 --block_size=64 --batch_size=12 --n_layer=4 --n_head=4
--n_embd=128 --max_iters=2000 --lr_decay_iters=2000 --dropout=0.0`): the same sizes,
initialisation, AdamW settings (decay on 2-D weights only), schedule, clipping, and the same
loop: iterations 0..max_iters, the loss estimated on 20 batches of each split every 250
iterations, a checkpoint saved when the validation loss improves, the loss read every
iteration, the next batch drawn before the backward pass. The train/validation cut is
lm_keras's (the last 10% of the text, moved to the next line start).
Prints ms/iteration (the whole iteration, as train.py's `dt`) and tokens/s (median after
20 iterations), the time of train.py's work, validation losses, and a `RESULT {json}` line.
"""

import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_LAYER, N_HEAD, N_EMBD, BLOCK, BATCH = 4, 4, 128, 64, 12
EVAL_INTERVAL, EVAL_ITERS = 250, 20


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(N_EMBD, bias=False)
        self.c_attn = nn.Linear(N_EMBD, 3 * N_EMBD, bias=False)
        self.c_proj = nn.Linear(N_EMBD, N_EMBD, bias=False)
        self.ln_2 = nn.LayerNorm(N_EMBD, bias=False)
        self.c_fc = nn.Linear(N_EMBD, 4 * N_EMBD, bias=False)
        self.mlp_proj = nn.Linear(4 * N_EMBD, N_EMBD, bias=False)

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(self.ln_1(x)).split(N_EMBD, dim=2)
        q, k, v = (z.view(b, t, N_HEAD, c // N_HEAD).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, N_EMBD), nn.Embedding(BLOCK, N_EMBD)
        self.blocks = nn.ModuleList(Block() for _ in range(N_LAYER))
        self.ln_f = nn.LayerNorm(N_EMBD, bias=False)
        self.lm_head = nn.Linear(N_EMBD, vocab, bias=False)
        self.lm_head.weight = self.wte.weight
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * N_LAYER) if name.endswith(("c_proj.weight", "mlp_proj.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1)))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def lr_at(it, steps, warmup=100, lr=1e-3, min_lr=1e-4):
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > steps:
        return min_lr
    ratio = (it - warmup) / (steps - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="data/tinyshakespeare.txt")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--out-dir", default="out-shakespeare-char", help="where ckpt.pt goes, as nanoGPT's out_dir")
    parser.add_argument("--full-validation", action="store_true",
                        help="after the run (and its timing), the loss on the whole validation split")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    text = open(args.corpus, encoding="utf-8").read()
    cut = round(len(text) * 0.9)
    cut = text.find("\n", cut - 1) + 1
    chars = sorted(set(text[:cut]))
    index = {ch: i for i, ch in enumerate(chars)}
    data = {"train": np.array([index[c] for c in text[:cut]], np.uint16),
            "val": np.array([index.get(c, 0) for c in text[cut:]], np.uint16)}
    start = time.perf_counter()   # nanoGPT's train.py from here: its data is prepared beforehand (prepare.py)
    model = GPT(len(chars))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))

    def batch(split):
        ix = torch.randint(len(data[split]) - BLOCK, (BATCH,))
        x = torch.stack([torch.from_numpy(data[split][i : i + BLOCK].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[split][i + 1 : i + 1 + BLOCK].astype(np.int64)) for i in ix])
        return x, y

    @torch.no_grad()
    def estimate_loss():   # nanoGPT: eval_iters batches of each split
        model.eval()
        out = {split: sum(model(*batch(split)).item() for _ in range(EVAL_ITERS)) / EVAL_ITERS
               for split in ("train", "val")}
        model.train()
        return out

    os.makedirs(args.out_dir, exist_ok=True)
    times, history, best = [], [], 1e9
    x, y = batch("train")
    for it in range(args.steps + 1):   # nanoGPT runs iterations 0..max_iters
        t0 = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = lr_at(it, args.steps)
        if it % EVAL_INTERVAL == 0:
            losses = estimate_loss()
            history.append(round(losses["val"], 4))
            if losses["val"] < best:
                best = losses["val"]
                if it > 0:
                    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "iter_num": it,
                                "best_val_loss": best}, os.path.join(args.out_dir, "ckpt.pt"))
        loss = model(x, y)
        x, y = batch("train")   # nanoGPT fetches the next batch while the backward pass is pending
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()   # nanoGPT logs the loss every iteration (log_interval=1)
        times.append(time.perf_counter() - t0)
    wall = time.perf_counter() - start
    median = statistics.median(times[20:])
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "seed": args.seed,
              "params": sum(p.numel() for p in model.parameters()), "steps": args.steps,
              "ms_per_step": 1000 * median, "tokens_per_s": BATCH * BLOCK / median, "train_py_s": wall,
              "val_loss_every_250": history, "val_loss_last_estimate": history[-1]}
    if args.full_validation:   # not part of train.py: timed apart, for the side-by-side benchmark to leave out
        began = time.perf_counter()
        with torch.no_grad():
            model.eval()
            val = torch.from_numpy(data["val"].astype(np.int64))
            starts = range(0, len(val) - BLOCK, BLOCK)
            windows = torch.stack([val[s : s + BLOCK + 1] for s in starts])
            total = sum(model(w[:, :-1].contiguous(), w[:, 1:].contiguous()).item() * len(w) for w in windows.split(64))
            result["val_loss_full_split"] = total / len(windows)
        result["full_validation_s"] = time.perf_counter() - began
    print(f"PyTorch {torch.__version__} eager, {result['threads']} threads, {result['params']:,} parameters")
    print(f"{result['ms_per_step']:.1f} ms/step, {result['tokens_per_s']:,.0f} tokens/s, "
          f"train.py's work took {wall:.0f} s for {args.steps} steps")
    print(f"validation loss every 250 steps (20 random batches): {history}")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
