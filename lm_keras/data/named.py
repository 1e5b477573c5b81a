"""Named corpora: where each comes from, how it is cached and checked.

A cached file is used without touching the network. A missing file is downloaded (and,
for the Tang poems, converted from the chinese-poetry JSON pinned at one commit); every
downloaded file must have its known SHA-256, and so must every file written to the cache
and every cached file read from it. A mismatch is a `CorpusError` that names the file,
the expected and the actual hash, and leaves nothing new in the cache.
"""

import hashlib
import io
import os
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from lm_keras.data import chinese_poetry, poems, stdlib_docs
from lm_keras.data.corpus import Corpus, read_text_file, require_text
from lm_keras.errors import CorpusError
from lm_keras.utils.atomic import atomic_file

SHAKESPEARE_URL_ENV = "LM_KERAS_SHAKESPEARE_URL"
SHAKESPEARE_URL = "https://storage.googleapis.com/download.tensorflow.org/data/shakespeare.txt"
TANG_SOURCE = f"chinese-poetry/chinese-poetry@{chinese_poetry.COMMIT[:8]} 全唐诗/"
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class NamedCorpus:
    name: str
    files: dict  # cache file name -> expected SHA-256 (None: built from this Python, nothing to pin)
    line_level: bool
    source: str
    description: str
    table: str = None  # the cache file read into Corpus.frame
    derived_from: str = None  # built from another named corpus by `_DERIVATIONS[name]`


NAMED_CORPORA = {
    c.name: c
    for c in [
        NamedCorpus(
            "tiny_shakespeare",
            {"tinyshakespeare.txt": "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"},
            line_level=False,
            source=SHAKESPEARE_URL,
            description="40,000 lines of Shakespeare (1,115,394 characters), the classic char-level corpus.",
        ),
        NamedCorpus(
            "tang_poems",
            {"tang_poems.txt": "3953093844bfaaf27c31058fd12692f57cef8b339da9986cbec9f31afb506a24", "tang_poems.tsv": "ed666e4c5bd4778f3bcb8a36a235b5e161300b05e0f70beeed5501490e544076"},
            line_level=True,
            source=TANG_SOURCE + "poet.tang.*.json",
            description="55,851 Tang poems, one a line as `title：body`; table with author/title/body.",
            table="tang_poems.tsv",
        ),
        NamedCorpus(
            "tang_quatrains",
            {},
            line_level=True,
            source=TANG_SOURCE + "poet.tang.*.json (via tang_poems)",
            description="About 14,000 regular quatrains from tang_poems (four lines of 5 or 7 characters, "
                        "bodies only, deduplicated), one a line.",
            derived_from="tang_poems",
        ),
        NamedCorpus(
            "tang300",
            {"tang300.txt": "101531c1cda79ab3601828cda6ade4c6edcaa0f2bfade80243e8d92971acb239"},
            line_level=True,
            source=TANG_SOURCE + "唐诗三百首.json",
            description="唐诗三百首: 357 poems, one a line as `title：body`.",
        ),
        NamedCorpus(
            "python_docs",
            {},
            line_level=False,
            source="docstrings of the Python standard library",
            description="Embedded default: standard-library docstrings, no network or file needed.",
        ),
    ]
}


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_hash(what, actual, expected, advice):
    """Raise `CorpusError` naming `what`, the expected and the actual SHA-256 if they differ."""
    if expected is not None and actual != expected:
        raise CorpusError(f"Hash mismatch for {what}: SHA-256 is {actual}, expected {expected}. {advice}")


def _download(url, expected, name):
    """The bytes at `url` (http(s):// or file://), which must have the SHA-256 `expected`."""
    with urllib.request.urlopen(urllib.parse.quote(url, safe=":/"), timeout=TIMEOUT_SECONDS) as response:
        data = response.read()
    check_hash(f"{name} downloaded from {url}", hashlib.sha256(data).hexdigest(), expected,
               "The source changed or the download was altered; nothing was cached.")
    return data


def _no_network_error(spec, cache, missing, error):
    names = ", ".join(missing)
    return CorpusError(
        f"Corpus {spec.name!r} is not cached and could not be downloaded ({error}). "
        f"Put {names} into {cache} (source: {spec.source}), or set LM_KERAS_DATA_DIR "
        f"to a folder that has them."
    )


def _poem_lines(rows):
    return "".join(f"{title}：{body}\n" for _, title, body in rows).encode("utf-8")


def _poem_table(rows):
    buffer = io.StringIO()
    pd.DataFrame(rows, columns=["author", "title", "body"]).to_csv(buffer, sep="\t", index=False)
    return buffer.getvalue().encode("utf-8")


def _fetch_tiny_shakespeare(spec):
    url = os.environ.get(SHAKESPEARE_URL_ENV) or SHAKESPEARE_URL
    return {"tinyshakespeare.txt": _download(url, spec.files["tinyshakespeare.txt"], "tinyshakespeare.txt")}


def _fetch_tang_poems(spec):
    names = tqdm(chinese_poetry.TANG_JSON_FILES, desc="Downloading Tang poems", unit="file")
    rows = chinese_poetry.read_poems(_download, names)
    return {"tang_poems.txt": _poem_lines(rows), "tang_poems.tsv": _poem_table(rows)}


def _fetch_tang300(spec):
    return {"tang300.txt": _poem_lines(chinese_poetry.read_poems(_download, [chinese_poetry.TANG300_JSON_FILE]))}


def _build_python_docs(spec):
    return {stdlib_docs.cache_name(): stdlib_docs.stdlib_docstrings().encode("utf-8")}


_FETCHERS = {
    "tiny_shakespeare": _fetch_tiny_shakespeare,
    "tang_poems": _fetch_tang_poems,
    "tang300": _fetch_tang300,
    "python_docs": _build_python_docs,
}


_DERIVATIONS = {"tang_quatrains": lambda text: "\n".join(poems.quatrains(text)) + "\n"}


def _files(spec):
    if spec.derived_from:
        return _files(NAMED_CORPORA[spec.derived_from])
    if spec.name == "python_docs":
        return {stdlib_docs.cache_name(): None}
    return spec.files


def is_cached(name, cache):
    return all((Path(cache) / f).exists() for f in _files(NAMED_CORPORA[name]))


def _fetch_into(spec, cache, files, download):
    """Download and convert `spec`'s files, check every one, then write them all to `cache`."""
    missing = [f for f in files if not (cache / f).exists()]
    if not download:
        raise _no_network_error(spec, cache, missing, "downloads disabled")
    try:
        produced = _FETCHERS[spec.name](spec)
    except CorpusError:
        raise
    except (OSError, ValueError) as e:  # URLError, timeouts, HTTP errors
        raise _no_network_error(spec, cache, missing, f"{type(e).__name__}: {e}") from e
    for f, data in produced.items():
        check_hash(f"{f} as converted from {spec.source}", hashlib.sha256(data).hexdigest(), files[f],
                   "The conversion no longer gives the pinned corpus; nothing was cached.")
    cache.mkdir(parents=True, exist_ok=True)
    for f, data in produced.items():
        with atomic_file(cache / f, "wb") as out:
            out.write(data)


def load_named(name, cache, download=True):
    """Load a named corpus from the cache, fetching it first if it is missing."""
    spec = NAMED_CORPORA[name]
    cache = Path(cache)
    if spec.derived_from:
        base = load_named(spec.derived_from, cache, download)
        return Corpus(name=name, text=_DERIVATIONS[name](base.text), line_level=spec.line_level,
                      source=spec.source, files=base.files)
    files = _files(spec)
    if not all((cache / f).exists() for f in files):
        _fetch_into(spec, cache, files, download)
    for f, expected in files.items():
        check_hash(cache / f, sha256_of(cache / f), expected,
                   "The cached file is corrupted or truncated; delete it to download it again.")
    text = require_text(read_text_file(cache / next(iter(files))), repr(name))
    frame = None
    if spec.table:
        frame = pd.read_csv(cache / spec.table, sep="\t", dtype=str, keep_default_na=False)
    return Corpus(name=name, text=text, line_level=spec.line_level, frame=frame,
                  source=spec.source, files=[str(cache / f) for f in files])
