"""Tutorials 05, 09 and 10 stay lessons: each under a fixed number of characters of cell source.

Reference material (benchmark tables, export and command-line usage, bad-input demonstrations)
belongs in docs/, linked from the notebook, so that the lesson itself stays readable.
"""

import json
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"
MAX_SOURCE_CHARACTERS = 30_000
LESSONS = ["05", "09", "10"]


def source_characters(path):
    """The number of characters of all cells' source (markdown and code), as saved in the notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return sum(len("".join(cell["source"])) for cell in cells)   # a source is a list of lines or one string


@pytest.mark.parametrize("prefix", LESSONS)
def test_lesson_is_under_the_length_limit(prefix):
    paths = sorted(TUTORIALS.glob(f"{prefix}_*.ipynb"))
    assert len(paths) == 1, f"expected one notebook tutorials/{prefix}_*.ipynb, found {[p.name for p in paths]}"
    length = source_characters(paths[0])
    assert length < MAX_SOURCE_CHARACTERS, (
        f"{paths[0].name} has {length:,} characters of cell source, over the limit of "
        f"{MAX_SOURCE_CHARACTERS:,} by {length - MAX_SOURCE_CHARACTERS + 1:,}: move reference material "
        f"(benchmark tables, export or command-line usage, bad-input demonstrations) to docs/ and link to it")


def test_the_count_reads_list_and_string_sources(tmp_path):
    path = tmp_path / "99_example.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": ["ab\n", "c"]},
                                          {"cell_type": "code", "source": "def"}]}))
    assert source_characters(path) == 7
