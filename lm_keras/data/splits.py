"""Deterministic train / validation / test splits.

* Stream corpora (one long text): a contiguous tail split, cut at line boundaries,
  so validation text is never seen in training (nanoGPT: the last 10% is validation).
* Line-level corpora (poems, table rows): lines shuffled with a fixed seed, then cut.
"""

import numpy as np

from lm_keras.errors import CorpusError

SPLITS = ("train", "validation", "test")


def _cut(n, validation_fraction, test_fraction):
    if not (0 < validation_fraction < 1 and 0 <= test_fraction < 1 and validation_fraction + test_fraction < 1):
        raise CorpusError(
            f"validation_fraction={validation_fraction} and test_fraction={test_fraction} must be "
            f"fractions that leave some text for training."
        )
    train_end = int(round(n * (1 - validation_fraction - test_fraction)))
    validation_end = int(round(n * (1 - test_fraction)))
    return train_end, validation_end


def _next_line_start(text, i):
    """The start of the line at or after character `i` (or `i` when there is no newline)."""
    if i <= 0 or i >= len(text):
        return max(0, min(i, len(text)))
    j = text.find("\n", i - 1)
    return i if j == -1 else j + 1


def split_text(text, validation_fraction=0.1, test_fraction=0.0):
    """Contiguous split of one text: {'train': ..., 'validation': ..., 'test': ...}."""
    a, b = _cut(len(text), validation_fraction, test_fraction)
    a = _next_line_start(text, a)
    b = max(a, _next_line_start(text, b)) if test_fraction > 0 else len(text)
    return {"train": text[:a], "validation": text[a:b], "test": text[b:]}


def split_lines(lines, validation_fraction=0.1, test_fraction=0.0, seed=0):
    """Shuffle `lines` with `seed`, then cut: {'train': [...], 'validation': [...], 'test': [...]}."""
    order = np.random.default_rng(seed).permutation(len(lines))
    shuffled = [lines[i] for i in order]
    a, b = _cut(len(shuffled), validation_fraction, test_fraction)
    return {"train": shuffled[:a], "validation": shuffled[a:b], "test": shuffled[b:]}


def split_corpus(corpus, validation_fraction=0.1, test_fraction=0.0, seed=0):
    """Split a `Corpus` into lists of documents per split (one document per split for streams)."""
    if corpus.line_level:
        return split_lines(corpus.documents, validation_fraction, test_fraction, seed)
    return {k: [v] if v else [] for k, v in split_text(corpus.text, validation_fraction, test_fraction).items()}
