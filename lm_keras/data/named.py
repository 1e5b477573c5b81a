"""Named corpora: where each comes from, how it is cached and checked.

A cached file is always used without touching the network. A file is downloaded
(and, for the Tang poems, converted from the chinese-poetry JSON) only when it is
missing from the cache. Every cached file is checked against a known MD5 (or, for
files we built from a changed upstream, the `.md5` file written beside them).
"""

import hashlib
import io
import json
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from lm_keras.data import poems, stdlib_docs
from lm_keras.data.corpus import Corpus, read_text_file, require_text
from lm_keras.errors import CorpusError
from lm_keras.utils.atomic import atomic_file

SHAKESPEARE_URL = "https://storage.googleapis.com/download.tensorflow.org/data/shakespeare.txt"
CHINESE_POETRY_URL = "https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/master/"
TANG_JSON_FILES = [f"全唐诗/poet.tang.{n}.json" for n in range(0, 58000, 1000)]
TANG300_JSON_FILE = "全唐诗/唐诗三百首.json"
MISSING_CHARACTER_MARKS = ("□", "{", "[")
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class NamedCorpus:
    name: str
    files: dict  # cache file name -> expected MD5 (None: built locally, checked by sidecar)
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
            {"tinyshakespeare.txt": "6fb458f1232090904fb40fe944165e91"},
            line_level=False,
            source=SHAKESPEARE_URL,
            description="40,000 lines of Shakespeare (1,115,394 characters), the classic char-level corpus.",
        ),
        NamedCorpus(
            "tang_poems",
            {"tang_poems.txt": "f54e1d230da18f3d9eaafde127f5bbc4",
             "tang_poems.tsv": "39e2bce96d8d48e7c4947a37985f260a"},
            line_level=True,
            source=CHINESE_POETRY_URL + "全唐诗/poet.tang.*.json",
            description="61,584 Tang poems, one a line as `title：body`; table with author/title/body.",
            table="tang_poems.tsv",
        ),
        NamedCorpus(
            "tang_quatrains",
            {},
            line_level=True,
            source=CHINESE_POETRY_URL + "全唐诗/poet.tang.*.json (via tang_poems)",
            description="About 14,000 regular quatrains from tang_poems (four lines of 5 or 7 characters, "
                        "bodies only, deduplicated), one a line.",
            derived_from="tang_poems",
        ),
        NamedCorpus(
            "tang300",
            {"tang300.txt": "a9dffc9435ad093c0780037af07edd04"},
            line_level=True,
            source=CHINESE_POETRY_URL + TANG300_JSON_FILE,
            description="唐诗三百首: 366 poems, one a line as `title：body`.",
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


def md5_of(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sidecar(path):
    return path.with_name(path.name + ".md5")


def verify_checksum(path, expected):
    """Raise `CorpusError` naming `path` if its MD5 is not the expected one."""
    sidecar = _sidecar(path)
    if sidecar.exists():
        expected = sidecar.read_text().strip()
    if expected is None:
        return
    actual = md5_of(path)
    if actual != expected:
        raise CorpusError(
            f"Checksum mismatch for {path}: MD5 is {actual}, expected {expected}. "
            f"The cached file is corrupted or truncated; delete it to download it again."
        )


def _download(url):
    quoted = urllib.parse.quote(url, safe=":/")
    with urllib.request.urlopen(quoted, timeout=TIMEOUT_SECONDS) as response:
        return response.read()


def _no_network_error(spec, cache, missing, error):
    names = ", ".join(missing)
    return CorpusError(
        f"Corpus {spec.name!r} is not cached and could not be downloaded ({error}). "
        f"Put {names} into {cache} (source: {spec.source}), or set LM_KERAS_DATA_DIR "
        f"to a folder that has them."
    )


def poems_from_json(records):
    """chinese-poetry records -> rows (author, title, body); poems with missing characters dropped."""
    rows = []
    for record in records:
        body = "".join(record.get("paragraphs", []))
        title = record.get("title", "")
        if not body or any(mark in body or mark in title for mark in MISSING_CHARACTER_MARKS):
            continue
        rows.append((record.get("author", ""), title, body))
    return rows


def _fetch_tiny_shakespeare(spec, cache):
    data = _download(SHAKESPEARE_URL)
    with atomic_file(cache / "tinyshakespeare.txt", "wb") as f:
        f.write(data)


def _write_poems(cache, rows, text_name, table_name=None):
    with atomic_file(cache / text_name) as f:
        f.writelines(f"{title}：{body}\n" for _, title, body in rows)
    if table_name:
        frame = pd.DataFrame(rows, columns=["author", "title", "body"])
        buffer = io.StringIO()
        frame.to_csv(buffer, sep="\t", index=False)
        with atomic_file(cache / table_name) as f:
            f.write(buffer.getvalue())


def _fetch_tang_poems(spec, cache):
    rows = []
    for name in tqdm(TANG_JSON_FILES, desc="Downloading Tang poems", unit="file"):
        rows.extend(poems_from_json(json.loads(_download(CHINESE_POETRY_URL + name))))
    _write_poems(cache, rows, "tang_poems.txt", "tang_poems.tsv")


def _fetch_tang300(spec, cache):
    rows = poems_from_json(json.loads(_download(CHINESE_POETRY_URL + TANG300_JSON_FILE)))
    _write_poems(cache, rows, "tang300.txt")


def _build_python_docs(spec, cache):
    with atomic_file(cache / stdlib_docs.cache_name()) as f:
        f.write(stdlib_docs.stdlib_docstrings())


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


def load_named(name, cache, download=True):
    """Load a named corpus from the cache, fetching it first if it is missing."""
    spec = NAMED_CORPORA[name]
    cache = Path(cache)
    if spec.derived_from:
        base = load_named(spec.derived_from, cache, download)
        return Corpus(name=name, text=_DERIVATIONS[name](base.text), line_level=spec.line_level,
                      source=spec.source, files=base.files)
    files = _files(spec)
    missing = [f for f in files if not (cache / f).exists()]
    if missing:
        if not download:
            raise _no_network_error(spec, cache, missing, "downloads disabled")
        cache.mkdir(parents=True, exist_ok=True)
        try:
            _FETCHERS[name](spec, cache)
        except (OSError, ValueError) as e:  # URLError, timeouts and bad JSON
            raise _no_network_error(spec, cache, missing, f"{type(e).__name__}: {e}") from e
        for f, expected in files.items():
            if expected is not None and md5_of(cache / f) != expected:
                # Upstream changed since the reference build: keep the data, remember its MD5.
                warnings.warn(f"{cache / f} differs from the reference build (upstream changed); using it.")
                _sidecar(cache / f).write_text(md5_of(cache / f))
    for f, expected in files.items():
        verify_checksum(cache / f, expected)
    text_file = next(iter(files))
    text = require_text(read_text_file(cache / text_file), repr(name))
    frame = None
    if spec.table:
        frame = pd.read_csv(cache / spec.table, sep="\t", dtype=str, keep_default_na=False)
    return Corpus(name=name, text=text, line_level=spec.line_level, frame=frame,
                  source=spec.source, files=[str(cache / f) for f in files])
