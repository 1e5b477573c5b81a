"""Shared fixtures: a corpus cache seeded from ../shared/data (CI has no internet)."""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "data"


def seed_cache():
    """Copy ../shared/data/* into the project's corpus cache when present (never committed)."""
    if SHARED_DATA.is_dir():
        CACHE.mkdir(exist_ok=True)
        for f in SHARED_DATA.iterdir():
            if f.suffix in (".txt", ".tsv") and not (CACHE / f.name).exists():
                shutil.copy(f, CACHE / f.name)


seed_cache()
os.environ.setdefault("LM_KERAS_DATA_DIR", str(CACHE))


def _cached(name):
    from lm_keras.data.named import is_cached

    return is_cached(name, CACHE)


@pytest.fixture(scope="session")
def shakespeare():
    if not _cached("tiny_shakespeare"):
        pytest.fail(f"tinyshakespeare.txt is not in {CACHE}; copy it from ../shared/data (see data/README.md)")
    from lm_keras.data import load_corpus

    return load_corpus("tiny_shakespeare")


@pytest.fixture(scope="session")
def tang_poems():
    if not _cached("tang_poems"):
        pytest.fail(f"tang_poems.txt/.tsv are not in {CACHE}; copy them from ../shared/data")
    from lm_keras.data import load_corpus

    return load_corpus("tang_poems")
