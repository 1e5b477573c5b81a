"""Where corpora are cached and runs are saved."""

import os
from pathlib import Path

DATA_DIR_ENV = "LM_KERAS_DATA_DIR"

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def project_root():
    """The source checkout that holds `lm_keras/`, or None for an installed wheel."""
    if (_PACKAGE_ROOT / "pyproject.toml").is_file() and (_PACKAGE_ROOT / "lm_keras").is_dir():
        return _PACKAGE_ROOT
    return None


def data_dir():
    """The corpus cache: `$LM_KERAS_DATA_DIR`, else `<checkout>/data`, else `~/.cache/lm_keras/data`."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    root = project_root()
    if root is not None:
        return root / "data"
    return Path.home() / ".cache" / "lm_keras" / "data"


def saved_models_dir():
    """Default parent of run directories: `<checkout>/saved_models` when working inside the checkout
    (the command line at its root, a notebook in `tutorials/`), else `./saved_models` (Colab's /content)."""
    root, cwd = project_root(), Path.cwd().resolve()
    if root is not None and (cwd == root or root in cwd.parents):
        return root / "saved_models"
    return cwd / "saved_models"
