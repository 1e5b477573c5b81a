"""Quality and diversity of generated text, measured the way language GANs should be (Caccia et al. 2020).

    quality     NLL of the generated texts under a judge LM trained on the real training split
                (lower: more like real text). Alone it rewards repeating one safe text.
    diversity   Self-BLEU (BLEU of each generated text against all the others; lower: more
                diverse), distinct-n (share of unique n-grams), and the reverse-LM score: the
                NLL of the real test texts under an LM trained only on generated texts, which
                is low only if the generations cover the real distribution (it trains a model:
                `lm_keras.training.text_quality`, with the whole table row, `score_generations`).
    codes       Fréchet distance between Gaussians fitted to two sets of latent codes.

A sampler at temperature T trades one for the other; sweeping T traces a curve in the
(quality, diversity) plane, and a GAN is only better than the LM if it lies beyond it.
"""

import numpy as np


def distinct_n(texts, n=2):
    """Unique n-grams / all n-grams over `texts` (characters), in [0, 1]; 0.0 when there are none."""
    grams = [text[i:i + n] for text in texts for i in range(len(text) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def self_bleu(texts, max_count=None, seed=0, tokenize="zh"):
    """Mean sentence BLEU (0–100) of each text against all the others as references (Zhu et al. 2018).

    100 for identical texts; lower means more diverse. `tokenize="zh"` is sacrebleu's
    Chinese tokenisation (one token per CJK character); `max_count` scores a seeded sample
    of that many texts (each still against all the others), since the cost is quadratic.
    """
    from sacrebleu.metrics import BLEU

    texts = [t for t in texts if t]
    if len(texts) < 2:
        raise ValueError(f"Self-BLEU needs at least 2 non-empty texts, got {len(texts)}.")
    bleu = BLEU(tokenize=tokenize, effective_order=True)
    chosen = range(len(texts))
    if max_count and max_count < len(texts):
        chosen = np.random.default_rng(seed).choice(len(texts), max_count, replace=False)
    scores = [bleu.sentence_score(texts[i], texts[:i] + texts[i + 1:]).score for i in chosen]
    return float(np.mean(scores))


def frechet_distance(codes_a, codes_b):
    """Fréchet distance between N(μ_a, Σ_a) and N(μ_b, Σ_b) fitted to two sets of codes (n, d).

    ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½), with Tr((Σ_a Σ_b)^½) computed as the sum of
    the square roots of the eigenvalues of Σ_a^½ Σ_b Σ_a^½ (symmetric, so no complex roots).
    """
    a, b = np.asarray(codes_a, np.float64), np.asarray(codes_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance needs two (n >= 2, d) arrays of the same d, got {a.shape} and {b.shape}")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sum(np.sqrt(np.clip(cross, 0, None)))
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def judge_nll(judge, tokenizer, texts, context_length=None):
    """Quality: mean NLL per token (nats) of `texts`, read as `[BOS] text [EOS]`, under the `judge` LM.

    Scored in windows of `context_length` tokens (default: the judge's own, else 64 for an RNN).
    """
    from lm_keras.evaluation.compare import evaluate

    context_length = context_length or getattr(judge, "context_length", None) or 64
    return evaluate(judge, tokenizer, list(texts), line_level=True, context_length=context_length)["loss"]
