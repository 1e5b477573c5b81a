"""The simplest baseline every model must beat: the unigram entropy of the text."""

import collections

import numpy as np


def unigram_entropy(tokens):
    """Entropy in nats of the token frequencies: H = -sum_v p(v) log p(v).

    `tokens` is a string (its characters) or a sequence of token ids. A model that
    ignores context can do no better than this cross-entropy per token.
    """
    if isinstance(tokens, str):
        counts = np.array(list(collections.Counter(tokens).values()), dtype=np.float64)
    else:
        counts = np.bincount(np.asarray(tokens, dtype=np.int64)).astype(np.float64)
        counts = counts[counts > 0]
    if counts.size == 0:
        raise ValueError("unigram_entropy needs at least one token")
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())
