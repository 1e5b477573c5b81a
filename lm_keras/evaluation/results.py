"""One table of how far each model gets on the same held-out text, carried from notebook to notebook.

A tutorial that evaluates a model on a corpus's validation split adds its row, in bits per
character (comparable across tokenizers), with `record_result`; `results_table` shows every row
recorded so far and `plot_results` draws them. The rows live in `results.json` beside the saved
runs (`saved_models_dir()`, Colab's /content/saved_models), written atomically. A notebook that
runs in a fresh runtime, where no earlier notebook left the file, recomputes the counted
baselines in seconds with `record_baselines` instead of typing their numbers in.

A notebook that evaluates on its own split or vocabulary (the text VAE of tutorial 05: Tang
quatrains, 3,000 characters and [UNK]) passes them to `record_baselines` (`splits=`, `tokenizer=`),
and `skip_bos=True` makes the counted models pay, like a model of whole poems, for each poem's
characters and its [EOS] only, not for the [BOS] that opens the next poem.
"""

import json
from pathlib import Path

from lm_keras.utils.atomic import atomic_file
from lm_keras.utils.paths import saved_models_dir

RESULTS_FILE = "results.json"


def results_path():
    """Where the table is kept: `results.json` in `saved_models_dir()`."""
    return saved_models_dir() / RESULTS_FILE


def _rows(path):
    path = Path(path or results_path())
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def record_result(model, bits_per_character, corpus="tiny_shakespeare", source="", path=None):
    """Add the row of `model` (a label, e.g. "char LSTM") on `corpus`, or replace it if it is there
    -> the table of that corpus (`results_table`). `source` says where the figure comes from
    (e.g. "03, quick mode")."""
    path = Path(path or results_path())
    row = {"model": model, "corpus": corpus, "bits_per_character": float(bits_per_character), "source": source}
    rows = _rows(path)
    same = [i for i, r in enumerate(rows) if (r["model"], r["corpus"]) == (model, corpus)]
    if same:
        rows[same[0]] = row   # keeps its place in the table
    else:
        rows.append(row)
    with atomic_file(path) as f:
        json.dump(rows, f, indent=1, ensure_ascii=False)
    return results_table(corpus, path)


def results_table(corpus="tiny_shakespeare", path=None):
    """The recorded rows of `corpus`, in the order they were first recorded: a DataFrame indexed by
    model with `bits/char` and `source`."""
    import pandas as pd

    rows = [r for r in _rows(path) if r["corpus"] == corpus]
    table = pd.DataFrame(rows, columns=["model", "bits_per_character", "source"])
    return table.rename(columns={"bits_per_character": "bits/char"}).set_index("model")


def plot_results(corpus="tiny_shakespeare", path=None, ax=None, highlight=None):
    """Horizontal bars of `results_table(corpus)`, in the order recorded from the top down (the
    tutorials' order); `highlight`: a model drawn in another colour (the notebook's own row)."""
    import matplotlib.pyplot as plt

    table = results_table(corpus, path)
    if ax is None:
        ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1))[1]
    colours = ["C1" if model == highlight else "C0" for model in table.index]
    bars = ax.barh(table.index, table["bits/char"], color=colours)
    ax.bar_label(bars, fmt="%.3f", padding=3)
    ax.invert_yaxis()
    ax.set_xlabel(f"validation bits per character ({corpus})")
    ax.set_xlim(0, table["bits/char"].max() * 1.15)
    return ax


def record_baselines(corpus, order=5, source="", path=None, text_limit=None, splits=None, tokenizer=None,
                     skip_bos=False):
    """Count the unigram and the character `order`-gram (Kneser-Ney) on `corpus`'s training split and
    record both on its validation split -> the table. Seconds for Tiny Shakespeare.

    `text_limit`: use only the first that many characters (a notebook's quick mode).
    `splits`: the notebook's own split (a dict from `split_corpus` with "train" and "validation"),
        instead of `split_corpus(corpus)`; `corpus` then gives only its name and `line_level`.
    `tokenizer`: the notebook's own tokenizer (e.g. a capped vocabulary), instead of a character
        tokenizer trained on the training split.
    `skip_bos`: for line-level corpora, do not charge the prediction of each next document's `[BOS]`
        (`evaluate`): each document costs its characters and its `[EOS]`, as in a model that scores
        whole documents (`encode_rows`, a VAE). The characters counted are the same either way.
    """
    from dataclasses import replace

    from lm_keras.data import split_corpus
    from lm_keras.evaluation.compare import evaluate_ngrams
    from lm_keras.tokenizers import create_tokenizer

    if splits is None:
        if text_limit:
            corpus = replace(corpus, text=corpus.text[:text_limit])
        splits = split_corpus(corpus)
    elif text_limit:
        raise ValueError("text_limit shortens the corpus before it is split: pass it or splits=, not both")
    if tokenizer is None:
        tokenizer = create_tokenizer("char", splits["train"])
    results = evaluate_ngrams((1, order), tokenizer, splits, corpus.line_level, skip_bos=skip_bos)
    bits = {n: results[n]["bits_per_character"] for n in (1, order)}
    record_result("char unigram", bits[1], corpus.name, source, path)
    return record_result(f"char {order}-gram, Kneser-Ney", bits[order], corpus.name, source, path)
