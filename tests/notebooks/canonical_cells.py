"""The two cells every tutorial starts with, written once.

`INSTALL_CELL` installs lm_keras on Colab (keeping Colab's TensorFlow when lm_keras supports
it) and reads the run switches `QUICK` and `STEPS_CAP`; `DEVICE_CELL` asks the library for
the device, the distribution strategy and the precision policy. Each is found in a notebook
by its first line (`INSTALL_MARKER`, `DEVICE_MARKER`). `test_notebooks.py` fails when a
notebook's copy differs from these; to update every notebook after changing them, run

    python tests/notebooks/canonical_cells.py --write
"""

import argparse
from pathlib import Path

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"

INSTALL_MARKER = "# Setup (the same cell in every tutorial)"
DEVICE_MARKER = "# Device (the same cell in every tutorial)"

INSTALL_CELL = '''\
# Setup (the same cell in every tutorial): on Colab, install lm_keras; everywhere, read the run switches.
import importlib
import importlib.metadata
import os
import subprocess
import sys

# QUICK: small sizes and few steps, so that the notebook runs in minutes on a CPU.
QUICK = os.environ.get("LM_KERAS_QUICK", "0") == "1"
# STEPS_CAP > 0: every training of the full settings stops after that many steps (to try the full code quickly).
STEPS_CAP = int(os.environ.get("LM_KERAS_STEPS_CAP", "0") or 0)


def capped(steps):
    """`steps`, or STEPS_CAP if that is set and smaller."""
    return min(steps, STEPS_CAP) if STEPS_CAP > 0 else steps


def package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def install_on_colab():
    """Install lm_keras next to Colab's TensorFlow; True when the runtime must be restarted."""
    # Any pip requirement: a Git URL (the default), a version, a wheel; set LM_KERAS_SOURCE to change it.
    source = os.environ.get("LM_KERAS_SOURCE", "git+https://github.com/lm-keras/lm_keras")
    pip = [sys.executable, "-m", "pip", "install", "-q", source]
    modules = {"tensorflow": "tensorflow", "keras": "keras", "numpy": "numpy", "ml-dtypes": "ml_dtypes",
               "protobuf": "google.protobuf"}
    before = {name: package_version(name) for name in modules}
    tf_version = before["tensorflow"]
    if tf_version:  # keep this TensorFlow (if lm_keras supports it) and add the tensorflow-text built for it
        major_minor = ".".join(tf_version.split(".")[:2])
        pinned = subprocess.run(pip + [f"tensorflow=={tf_version}", f"tensorflow-text=={major_minor}.*"],
                                capture_output=True, text=True)
        kept = pinned.returncode == 0
        if not kept:
            print(f"TensorFlow {tf_version} cannot be kept (outside the versions lm_keras supports, or no "
                  f"tensorflow-text for it): installing versions lm_keras supports. pip said:",
                  *pinned.stderr.strip().splitlines()[-3:], sep="\\n    ")
    else:
        kept = False
    if not kept:
        subprocess.run(pip, check=True)
    print("Installed lm_keras from", source)
    importlib.invalidate_caches()
    changed = [name for name, version in before.items() if version and package_version(name) != version]
    # A new TensorFlow (with its CUDA libraries), or a new version of a module already loaded, needs a restart.
    return "tensorflow" in changed or any(modules[name] in sys.modules for name in changed)


RESTART_NEEDED = install_on_colab() if "google.colab" in sys.modules else False
for name in ("tensorflow", "tensorflow-text", "keras", "keras-hub", "lm_keras"):
    print(f"{name:>16}: {package_version(name) or 'not installed'}")
print("QUICK mode:", QUICK, "| steps cap:", STEPS_CAP or "none")
if RESTART_NEEDED:
    print("\\n*** RESTART NEEDED: TensorFlow, or a package this runtime had already loaded, was replaced.\\n"
          "*** Choose Runtime > Restart session, then run the notebook again from the top\\n"
          "*** (this cell then keeps what is installed).")
else:
    print("No restart needed.")
'''

DEVICE_CELL = '''\
# Device (the same cell in every tutorial): a TPU, else the GPUs, else the CPU, as the library finds them.
import keras
import tensorflow as tf

from lm_keras.training import describe_devices

DEVICES = describe_devices()      # prints the device, the number of replicas and the precision policy
strategy = DEVICES["strategy"]    # the strategy train_run(distribution="auto") uses too: created only once
device = DEVICES["device"]

keras.utils.set_random_seed(0)  # Python, NumPy and TensorFlow seeds
'''

CANONICAL = {INSTALL_MARKER: INSTALL_CELL, DEVICE_MARKER: DEVICE_CELL}


def notebooks():
    return sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))


def marked_cells(notebook, marker):
    """The code cells of `notebook` whose first line starts with `marker`."""
    return [cell for cell in notebook.cells
            if cell.cell_type == "code" and cell.source.splitlines()[:1]
            and cell.source.splitlines()[0].startswith(marker)]


def write():
    """Rewrite the install and device cells of every tutorial from the canonical text."""
    import nbformat

    for path in notebooks():
        notebook = nbformat.read(path, as_version=4)
        changed = False
        for marker, text in CANONICAL.items():
            cells = marked_cells(notebook, marker)
            if len(cells) != 1:
                raise SystemExit(f"{path.name}: {len(cells)} cells start with {marker!r}; expected exactly 1")
            if cells[0].source != text.rstrip("\n"):
                cells[0].source = text.rstrip("\n")
                cells[0].outputs, cells[0].execution_count = [], None
                changed = True
        if changed:
            nbformat.write(notebook, path)
            print("rewrote", path.name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite the cells in every tutorial")
    if parser.parse_args().write:
        write()
    else:
        parser.print_help()
