"""The same model and run in PyTorch eager, to compare training speed side by side.

    pip install torch==2.13.0 numpy      # in a separate environment; torch is not a dependency
    python benchmarks/torch_nanogpt_reference.py --corpus data/tinyshakespeare.txt

A minimal re-statement of nanoGPT's model.py (Karpathy, MIT licence) at the CPU
configuration of `nanogpt_shakespeare_char.py`: same sizes, initialisation, AdamW
settings (decay on 2-D weights only, as nanoGPT), schedule, clipping, and the same
train/validation cut (the last 10% of the text, moved to the next line start).
Prints ms/step and tokens/s (median after 20 steps) and validation loss every 250 steps.
"""

import argparse
import math
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_LAYER, N_HEAD, N_EMBD, BLOCK, BATCH = 4, 4, 128, 64, 12


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
    ratio = min(1.0, (it - warmup) / (steps - warmup))
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="data/tinyshakespeare.txt")
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    torch.manual_seed(1337)
    text = open(args.corpus, encoding="utf-8").read()
    cut = round(len(text) * 0.9)
    cut = text.find("\n", cut - 1) + 1
    chars = sorted(set(text[:cut]))
    index = {ch: i for i, ch in enumerate(chars)}
    train = torch.tensor([index[c] for c in text[:cut]])
    val = torch.tensor([index.get(c, 0) for c in text[cut:]])
    model = GPT(len(chars))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(0)

    def batch(data):
        ix = torch.randint(len(data) - BLOCK, (BATCH,), generator=gen)
        return torch.stack([data[i : i + BLOCK] for i in ix]), torch.stack([data[i + 1 : i + 1 + BLOCK] for i in ix])

    @torch.no_grad()
    def val_loss():
        model.eval()
        losses = [model(*batch(val)).item() for _ in range(20)]
        model.train()
        return sum(losses) / len(losses)

    times, history = [], []
    start = time.perf_counter()
    for it in range(args.steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(it, args.steps)
        x, y = batch(train)
        t0 = time.perf_counter()
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
        if (it + 1) % 250 == 0:
            history.append(round(val_loss(), 4))
    median = statistics.median(times[20:])
    print(f"PyTorch {torch.__version__} eager, {torch.get_num_threads()} threads, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")
    print(f"{1000 * median:.1f} ms/step, {BATCH * BLOCK / median:,.0f} tokens/s, "
          f"wall {time.perf_counter() - start:.0f} s for {args.steps} steps")
    print(f"validation loss every 250 steps: {history}")


if __name__ == "__main__":
    main()
