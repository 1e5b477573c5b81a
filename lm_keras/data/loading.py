"""`load_corpus`: one entry point for named corpora, text files, folders, globs and tables."""

import dataclasses
import glob as globlib
import os
from pathlib import Path

import pandas as pd

from lm_keras.data.corpus import Corpus, read_text_file, require_text
from lm_keras.data.named import NAMED_CORPORA, is_cached, load_named
from lm_keras.errors import CorpusError
from lm_keras.utils.paths import data_dir

TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t", ".parquet": None}
DEFAULT_CORPUS = "tiny_shakespeare"
FALLBACK_CORPUS = "python_docs"


def load_corpus(name_or_path, column=None, cache_dir=None, download=True, lines=False):
    """Load a corpus by name or from local files.

    Args:
        name_or_path: a named corpus (`tiny_shakespeare`, `tang_poems`, `tang300`,
            `python_docs`), a `.txt` file, a folder of `.txt` files, a glob such as
            `"notes/*.txt"`, or a `.csv` / `.tsv` / `.parquet` table.
        column: the text column of a table (required when the table has several).
        lines: read `.txt` files as one document per line (a table row, a Tang poem and the
            named poem corpora always are), as a text VAE or a classifier needs.
        cache_dir: where named corpora are cached (default: `lm_keras.utils.paths.data_dir()`).
        download: allow downloading a named corpus that is not cached.

    Returns:
        A `Corpus` with `.text`, and `.frame` (a pandas DataFrame) for tables.

    Raises:
        CorpusError: missing file, empty text, invalid UTF-8 (with the byte offset),
            checksum mismatch, or no network and no cache (saying which file to put where).
    """
    corpus = _load(str(name_or_path), column, cache_dir, download)
    if lines and not corpus.line_level:
        if corpus.name in NAMED_CORPORA:
            raise CorpusError(f"{corpus.name} is one continuous text, not one document per line; "
                              f"documents by line apply to your own .txt files.")
        corpus = dataclasses.replace(corpus, line_level=True)
    return corpus


def _load(key, column, cache_dir, download):
    if key in NAMED_CORPORA:
        return load_named(key, cache_dir or data_dir(), download=download)
    path = Path(key).expanduser()
    if path.suffix.lower() in TABLE_SUFFIXES and path.is_file():
        return _load_table(path, column)
    if path.is_dir():
        return _load_files(sorted(path.glob("*.txt")), key)
    if globlib.has_magic(key):
        return _load_files(sorted(Path(p) for p in globlib.glob(os.path.expanduser(key), recursive=True)), key)
    if path.is_file():
        return Corpus(name=str(path), text=require_text(read_text_file(path), str(path)),
                      source=str(path), files=[str(path)])
    known = ", ".join(NAMED_CORPORA)
    raise CorpusError(f"Corpus not found: {key!r} is neither a named corpus ({known}) nor an existing file or folder.")


def _load_files(paths, pattern):
    paths = [p for p in paths if p.is_file()]
    if not paths:
        raise CorpusError(f"No .txt files found for {pattern!r}.")
    texts = []
    for p in paths:
        t = read_text_file(p)
        texts.append(t if t.endswith("\n") else t + "\n")
    text = require_text("".join(texts), repr(pattern))
    return Corpus(name=pattern, text=text, source=pattern, files=[str(p) for p in paths])


def _load_table(path, column):
    sep = TABLE_SUFFIXES[path.suffix.lower()]
    try:
        if sep is None:
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8")
    except ImportError as e:
        raise CorpusError(f"Reading {path} needs a Parquet engine: pip install pyarrow ({e}).") from e
    except UnicodeDecodeError:
        read_text_file(path)  # raises with the byte offset
        raise
    text_columns = [c for c in frame.columns if frame[c].dtype == object]
    if column is None:
        if len(text_columns) != 1:
            raise CorpusError(f"{path} has columns {list(frame.columns)}; choose the text one with column=... (CLI: --column).")
        column = text_columns[0]
    if column not in frame.columns:
        raise CorpusError(f"{path} has no column {column!r}; its columns are {list(frame.columns)}.")
    lines = frame[column].astype(str).str.replace(r"\s*\n\s*", " ", regex=True).str.strip()
    text = require_text("\n".join(line for line in lines if line) + "\n", f"{path}[{column}]")
    return Corpus(name=f"{path}:{column}", text=text, line_level=True, frame=frame,
                  source=str(path), column=column, files=[str(path)])


def load_default_corpus(cache_dir=None, download=True, notice=print):
    """Tiny Shakespeare when cached or downloadable, else the embedded stdlib docstrings."""
    cache_dir = cache_dir or data_dir()
    if is_cached(DEFAULT_CORPUS, cache_dir) or download:
        try:
            return load_named(DEFAULT_CORPUS, cache_dir, download=download)
        except CorpusError as e:
            if is_cached(DEFAULT_CORPUS, cache_dir):
                raise  # a corrupted cache is an error, not a reason to switch corpus
            reason = str(e).split(" (")[0]
            notice(f"Note: {reason}; using the embedded corpus {FALLBACK_CORPUS!r} instead.")
    else:
        notice(f"Note: {DEFAULT_CORPUS!r} is not cached and downloads are off; using {FALLBACK_CORPUS!r}.")
    return load_named(FALLBACK_CORPUS, cache_dir)
