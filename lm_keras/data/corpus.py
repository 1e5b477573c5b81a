"""The `Corpus` record and reading text files safely."""

from dataclasses import dataclass, field
from pathlib import Path

from lm_keras.errors import CorpusError


@dataclass
class Corpus:
    """Text to train on.

    Attributes:
        name: a named corpus (`"tiny_shakespeare"`) or the path it was read from.
        text: the whole text. For line-level corpora, one document per line.
        line_level: True when each line is an independent document (a poem, a table row);
            such corpora are split by shuffling lines and encoded with begin/end tokens.
        frame: the pandas DataFrame for tabular corpora (`tang_poems`, CSV/TSV/Parquet), else None.
        source: where the text came from (a file, a URL, "python standard library");
            `load_corpus(source, column=column)` loads it again.
        column: the text column of a table corpus.
    """

    name: str
    text: str
    line_level: bool = False
    frame: object = None
    source: str = ""
    column: str = None
    files: list = field(default_factory=list)

    @property
    def documents(self):
        """The documents: non-empty lines for line-level corpora, else the whole text."""
        if self.line_level:
            return [line for line in self.text.split("\n") if line.strip()]
        return [self.text]

    def __len__(self):
        return len(self.text)

    def __repr__(self):
        kind = "lines" if self.line_level else "stream"
        return f"Corpus(name={self.name!r}, chars={len(self.text):,}, {kind}, source={self.source!r})"


def read_text_file(path):
    """Read a UTF-8 text file; undecodable bytes raise `CorpusError` with the byte offset."""
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"Corpus file not found: {path}")
    if not path.is_file():
        raise CorpusError(f"Corpus path is not a file: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad = data[e.start : e.start + 4].hex(" ")
        raise CorpusError(
            f"{path} is not valid UTF-8: cannot decode byte(s) {bad} at byte offset {e.start} "
            f"({e.reason}). Convert the file to UTF-8 first, e.g. `iconv -f GBK -t UTF-8`."
        ) from None
    return text.replace("\r\n", "\n")


def require_text(text, what):
    """Raise `CorpusError` when `text` has no non-whitespace character."""
    if not text or not text.strip():
        raise CorpusError(f"Corpus {what} is empty: there is no text to train on.")
    return text
