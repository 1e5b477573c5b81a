"""The tutorials: their shared cells, and runs of every notebook the way a learner's runtime runs it.

Each notebook is executed from a fresh temporary directory outside the checkout that holds only
the notebook file, with the installed package and the corpus cache (`LM_KERAS_DATA_DIR`) as its
only other inputs, so a path into the repository fails the test. Two runs:

- quick mode (`LM_KERAS_QUICK=1`, marker `notebook`): small sizes, a few minutes each on a CPU;
- full mode capped at 2 steps per training (`LM_KERAS_QUICK=0 LM_KERAS_STEPS_CAP=2`, marker
  `notebook_full`): the full settings' code paths, every training cut short.
"""

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from canonical_cells import DEVICE_CELL, DEVICE_MARKER, INSTALL_CELL, INSTALL_MARKER, marked_cells

CHECKOUT = Path(__file__).resolve().parents[2]
TUTORIALS = CHECKOUT / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def test_there_are_tutorials():
    assert NOTEBOOKS, f"no notebooks in {TUTORIALS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, (
                f"{path.name} is committed with outputs; clear them (jupyter nbconvert --clear-output --inplace)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_install_and_device_cells_are_the_canonical_ones(path):
    """Every notebook starts with the same install cell and has the same device cell (07 too: its cell
    that splits the CPU into two logical devices comes between the two, as it must run first)."""
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    fix = "run `python tests/notebooks/canonical_cells.py --write`"
    for marker, text in ((INSTALL_MARKER, INSTALL_CELL), (DEVICE_MARKER, DEVICE_CELL)):
        cells = marked_cells(notebook, marker)
        assert len(cells) == 1, f"{path.name}: {len(cells)} cells start with {marker!r}, expected 1"
        assert cells[0].source == text.rstrip("\n"), f"{path.name}: the cell {marker!r} differs from canonical_cells.py; {fix}"
    install, device = marked_cells(notebook, INSTALL_MARKER)[0], marked_cells(notebook, DEVICE_MARKER)[0]
    assert code[0] is install, f"{path.name}: the install cell must be the first code cell"
    assert code.index(device) < 3, f"{path.name}: the device cell must follow the install cell"


def test_the_device_cell_reports_the_strategy_train_run_uses(capsys):
    from lm_keras.config import PRECISIONS
    from lm_keras.training import describe_devices, resolve_precision, resolve_strategy

    info = describe_devices()
    assert info["strategy"] is resolve_strategy("auto")   # cached: nothing is initialised twice
    assert info["replicas"] == info["strategy"].num_replicas_in_sync >= 1
    assert info["precision"] == resolve_precision("auto") and info["precision"] in PRECISIONS
    printed = capsys.readouterr().out
    assert info["device"] in printed and info["precision"] in printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_nothing_needs_a_clone_of_the_repository(path):
    text = path.read_text(encoding="utf-8")
    for pattern, why in ((r"\.\./", "a relative path out of tutorials/ exists only in a clone"),
                         (r"dirname\(sys\.executable\)", "scripts are not always next to Python; use shutil.which"),
                         (r"TPUClusterResolver\(\)", "find the TPU with the library's describe_devices()")):
        assert not re.search(pattern, text), f"{path.name}: {pattern}: {why}"


@pytest.fixture(scope="module")
def content_quick(tmp_path_factory):
    """One working folder for all notebooks of a mode, as Colab's /content: a run one notebook
    saves (tutorial 04's model) is there for the next (tutorial 08)."""
    return tmp_path_factory.mktemp("content_quick")


@pytest.fixture(scope="module")
def content_full(tmp_path_factory):
    return tmp_path_factory.mktemp("content_full")


def run_outside_checkout(path, tmp_path, monkeypatch, env, timeout):
    """Execute a copy of `path` in `tmp_path` (outside the checkout) with the environment `env`."""
    from lm_keras.utils.paths import data_dir

    assert CHECKOUT not in tmp_path.resolve().parents, f"{tmp_path} is inside the checkout"
    corpus_cache = str(data_dir())  # honours an LM_KERAS_DATA_DIR that is already set
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LM_KERAS_DATA_DIR", corpus_cache)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("LM_KERAS_STEPS_CAP", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.read(copy, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    finally:  # the executed copy, with its outputs, stays in tmp_path to look at
        nbformat.write(notebook, copy)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_in_quick_mode(path, content_quick, monkeypatch):
    run_outside_checkout(path, content_quick, monkeypatch, {"LM_KERAS_QUICK": "1"}, timeout=900)


@pytest.mark.notebook_full
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_full_mode_capped(path, content_full, monkeypatch):
    """The full settings, every training cut to 2 steps: each full-mode-only cell runs once."""
    run_outside_checkout(path, content_full, monkeypatch, {"LM_KERAS_QUICK": "0", "LM_KERAS_STEPS_CAP": "2"},
                         timeout=1800)
