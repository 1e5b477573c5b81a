"""The project's own promises about its dependencies and its test run."""

import warnings
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def declared():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return {Requirement(r).name: Requirement(r) for r in tomllib.load(f)["project"]["dependencies"]}


def test_the_oldest_supported_set_is_inside_the_declared_ranges():
    requirements = declared()
    pins = [Requirement(line) for line in (ROOT / "constraints-min.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert {"tensorflow", "tensorflow-text", "keras", "keras-hub"} <= {p.name for p in pins}
    for pin in pins:
        (version,) = [s.version for s in pin.specifier]
        assert requirements[pin.name].specifier.contains(version), f"{pin} is outside {requirements[pin.name]}"
        lowest = min((s.version for s in requirements[pin.name].specifier if s.operator == ">="), default=None)
        assert lowest is not None and version.startswith(lowest), f"{pin}: the declared lower bound is {lowest}"


def test_every_tensorflow_family_dependency_has_an_upper_bound():
    for name in ("tensorflow", "tensorflow-text", "keras", "keras-hub", "kagglehub"):
        assert any(s.operator == "<" for s in declared()[name].specifier), name


def test_requirements_txt_only_points_at_pyproject():
    lines = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines == ["-e .[notebooks]"]


def test_a_deprecation_in_lm_keras_code_fails_the_test():
    with pytest.raises(DeprecationWarning, match="old API"):
        warnings.warn_explicit("old API", DeprecationWarning, "lm_keras/example.py", 1, module="lm_keras.example")


def test_runs_are_saved_in_the_checkout_only_when_working_inside_it(tmp_path, monkeypatch):
    from lm_keras.utils.paths import saved_models_dir

    monkeypatch.chdir(ROOT / "tutorials")
    assert saved_models_dir() == ROOT / "saved_models"
    monkeypatch.chdir(tmp_path)  # e.g. Colab's /content, with the package installed
    assert saved_models_dir() == tmp_path.resolve() / "saved_models"
