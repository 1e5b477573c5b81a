import hashlib
import json
import shutil
import urllib.error
from pathlib import Path

import pandas as pd
import pytest

from lm_keras.data import load_corpus, load_default_corpus
from lm_keras.data import chinese_poetry, named
from lm_keras.errors import CorpusError

MIRROR = Path(__file__).resolve().parents[3] / "shared" / "data" / "chinese-poetry-d651e494"
needs_mirror = pytest.mark.skipif(not MIRROR.is_dir(), reason=f"no local mirror of the pinned JSON at {MIRROR}")


def test_tiny_shakespeare_is_read_from_the_cache_and_checked(shakespeare):
    assert len(shakespeare.text) == 1_115_394
    assert shakespeare.text.startswith("First Citizen:")
    assert not shakespeare.line_level and shakespeare.frame is None


def test_tang_poems_has_text_and_an_author_table(tang_poems):
    frame = tang_poems.frame
    assert list(frame.columns) == ["author", "title", "body"]
    assert len(frame) == 55_851 == len(tang_poems.documents) == len(set(tang_poems.documents))
    counts = frame["author"].value_counts()
    assert (counts["李白"], counts["杜甫"], counts["白居易"]) == (1193, 1476, 2973)
    assert tang_poems.documents[0] == f"{frame.title[0]}：{frame.body[0]}"


def test_corrupted_cache_file_is_an_error_naming_both_hashes(tmp_path, shakespeare):
    broken = tmp_path / "tinyshakespeare.txt"
    broken.write_text(shakespeare.text[:-1] + "?", encoding="utf-8")
    actual = hashlib.sha256(broken.read_bytes()).hexdigest()
    expected = named.NAMED_CORPORA["tiny_shakespeare"].files["tinyshakespeare.txt"]
    with pytest.raises(CorpusError, match=rf"Hash mismatch for .*tinyshakespeare\.txt: SHA-256 is {actual}, "
                                          rf"expected {expected}"):
        load_corpus("tiny_shakespeare", cache_dir=tmp_path)
    assert broken.read_text(encoding="utf-8").endswith("?"), "the file is left for the user to inspect"


def test_altered_download_is_an_error_and_caches_nothing(tmp_path, monkeypatch):
    served = tmp_path / "served.txt"
    served.write_text("First Citizen: truncated\n", encoding="utf-8")
    monkeypatch.setenv(named.SHAKESPEARE_URL_ENV, served.as_uri())
    cache = tmp_path / "cache"
    actual = hashlib.sha256(served.read_bytes()).hexdigest()
    with pytest.raises(CorpusError, match=rf"tinyshakespeare\.txt downloaded from .*SHA-256 is {actual}, expected "):
        load_corpus("tiny_shakespeare", cache_dir=cache)
    assert not cache.exists() or not list(cache.iterdir())


@needs_mirror
def test_pinned_mirror_builds_the_documented_tang_corpora(tmp_path, monkeypatch):
    """The user's download-and-convert path, from a file:// mirror of the pinned commit."""
    monkeypatch.setenv(chinese_poetry.BASE_URL_ENV, MIRROR.as_uri())
    poems = load_corpus("tang_poems", cache_dir=tmp_path)
    tang300 = load_corpus("tang300", cache_dir=tmp_path)
    for name in ("tang_poems", "tang300"):
        for file, expected in named.NAMED_CORPORA[name].files.items():
            assert hashlib.sha256((tmp_path / file).read_bytes()).hexdigest() == expected
    assert len(poems.documents) == len(poems.frame) == 55_851
    assert len(tang300.documents) == 357
    assert "靜夜思：牀前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。" in tang300.documents
    # Exact repeats are dropped; without that rule the same files give 56,123 rows.
    records = sum((chinese_poetry.poems_from_json(json.loads((MIRROR / f).read_text(encoding="utf-8")))
                   for f in chinese_poetry.TANG_JSON_FILES), [])
    assert len(records) == 56_123
    assert len({f"{title}：{body}" for _, title, body in records}) == 55_851


@needs_mirror
def test_altered_upstream_file_names_file_and_hashes_and_caches_nothing(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    first = chinese_poetry.TANG_JSON_FILES[0]
    (mirror / first).parent.mkdir(parents=True)
    altered = (MIRROR / first).read_bytes() + b"\n"
    (mirror / first).write_bytes(altered)
    monkeypatch.setenv(chinese_poetry.BASE_URL_ENV, mirror.as_uri())
    cache = tmp_path / "cache"
    with pytest.raises(CorpusError) as info:
        load_corpus("tang_poems", cache_dir=cache)
    message = str(info.value)
    assert first in message and chinese_poetry.UPSTREAM_SHA256[first] in message
    assert hashlib.sha256(altered).hexdigest() in message
    assert not cache.exists() or not list(cache.iterdir())


@needs_mirror
def test_a_changed_conversion_is_an_error_and_caches_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(chinese_poetry.BASE_URL_ENV, MIRROR.as_uri())
    monkeypatch.setattr(chinese_poetry, "drop_repeats", lambda rows: rows)  # the rule the pins exclude
    with pytest.raises(CorpusError, match=r"Hash mismatch for tang300\.txt as converted from .*SHA-256 is \w+, "
                                          r"expected 101531c1"):
        load_corpus("tang300", cache_dir=tmp_path)
    assert not list(tmp_path.iterdir())


def _offline(*args, **kwargs):
    raise urllib.error.URLError("no network")


def test_no_network_and_no_cache_says_which_file_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setattr(named.urllib.request, "urlopen", _offline)
    with pytest.raises(CorpusError) as info:
        load_corpus("tiny_shakespeare", cache_dir=tmp_path)
    message = str(info.value)
    assert "tinyshakespeare.txt" in message and str(tmp_path) in message and "no network" in message
    assert not list(tmp_path.iterdir()), "a failed download must not leave a partial file"


@pytest.mark.slow
def test_default_corpus_falls_back_to_stdlib_docstrings_offline(tmp_path, monkeypatch):
    monkeypatch.setattr(named.urllib.request, "urlopen", _offline)
    notices = []
    corpus = load_default_corpus(cache_dir=tmp_path, notice=notices.append)
    assert corpus.name == "python_docs"
    assert len(notices) == 1 and "python_docs" in notices[0] and "\n" not in notices[0]
    assert len(corpus.text) > 500_000
    # Deterministic: built again from scratch, the same text.
    shutil.rmtree(tmp_path)
    assert load_corpus("python_docs", cache_dir=tmp_path).text == corpus.text


def test_default_corpus_is_shakespeare_when_cached(shakespeare):
    notices = []
    assert load_default_corpus(notice=notices.append).name == "tiny_shakespeare" and not notices


def test_tang_json_is_converted_to_one_poem_a_line(tmp_path, monkeypatch):
    poem = {"author": "李白", "title": "靜夜思", "paragraphs": ["床前明月光，疑是地上霜。", "舉頭望明月，低頭思故鄉。"]}
    records = [
        poem,
        {"author": "某", "title": "缺字", "paragraphs": ["春眠不覺□，"]},
        {"author": "某", "title": "空", "paragraphs": []},
        {**poem, "author": "李白（重出）"},  # an exact repeat of title and body
    ]
    monkeypatch.setattr(named, "_download", lambda url, expected, name: json.dumps(records).encode("utf-8"))
    monkeypatch.setitem(named.NAMED_CORPORA, "tang300", named.NamedCorpus(
        "tang300", {"tang300.txt": None}, True, "test", "test"))
    corpus = load_corpus("tang300", cache_dir=tmp_path)
    assert corpus.text == "靜夜思：床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。\n"
    assert corpus.documents == ["靜夜思：床前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。"]


def test_local_text_file_folder_and_glob(tmp_path):
    (tmp_path / "a.txt").write_text("first file\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("second file", encoding="utf-8")
    (tmp_path / "skip.md").write_text("not text", encoding="utf-8")
    assert load_corpus(tmp_path / "a.txt").text == "first file\n"
    assert load_corpus(tmp_path).text == "first file\nsecond file\n"
    assert load_corpus(str(tmp_path / "*.txt")).text == "first file\nsecond file\n"


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_table_column(tmp_path, suffix):
    frame = pd.DataFrame({"author": ["a", "b"], "text": ["床前明月光", "hello\nworld"], "n": [1, 2]})
    path = tmp_path / f"poems{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    corpus = load_corpus(path, column="text")
    assert corpus.documents == ["床前明月光", "hello world"]
    assert corpus.line_level and list(corpus.frame.columns) == ["author", "text", "n"]
    with pytest.raises(CorpusError, match="has no column 'body'"):
        load_corpus(path, column="body")
    with pytest.raises(CorpusError, match="choose the text one"):
        load_corpus(path)


def test_undecodable_bytes_give_file_and_offset(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("hello ".encode() + "床前".encode("gbk"))
    with pytest.raises(CorpusError, match=r"gbk\.txt is not valid UTF-8.*byte offset 6"):
        load_corpus(path)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text(" \n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="empty"):
        load_corpus(tmp_path / "empty.txt")
    with pytest.raises(CorpusError, match="No .txt files"):
        load_corpus(str(tmp_path / "*.nothing"))


@needs_mirror
def test_cli_download_fills_the_cache_through_the_same_path(tmp_path, monkeypatch, capsys):
    from lm_keras.cli import main

    monkeypatch.setenv(chinese_poetry.BASE_URL_ENV, MIRROR.as_uri())
    monkeypatch.setenv("LM_KERAS_DATA_DIR", str(tmp_path))
    assert main(["download", "tang300"]) == 0
    assert "tang300: 357 documents" in capsys.readouterr().out
    assert hashlib.sha256((tmp_path / "tang300.txt").read_bytes()).hexdigest() == \
        named.NAMED_CORPORA["tang300"].files["tang300.txt"]


def test_cli_download_of_an_unknown_name_is_one_line(tmp_path, monkeypatch, capsys):
    from lm_keras.cli import main

    monkeypatch.setenv("LM_KERAS_DATA_DIR", str(tmp_path))
    assert main(["download", "shakespeare"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "'shakespeare' is not a named corpus" in error and "tiny_shakespeare" in error
