"""The package's layering (docs/architecture.md): a module imports only from its own layer or the ones below."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lm_keras"

# Lowest first. Each name is a subpackage or a top-level module of lm_keras.
LAYERS = [
    {"errors", "utils"},
    {"config", "families"},                    # families builds models by name (importlib), not by import
    {"data", "tokenizers", "layers", "schedules"},
    {"generation"},                            # decoding loops over anything with prefill/step
    {"models"},
    {"evaluation"},                            # scores that only read a model
    {"runs"},
    {"training"},
    {"export", "alignment", "pretrained"},
    {"cli", "__main__", "__init__"},
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def unit_of(path):
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imported_units(path):
    """Every lm_keras unit `path` imports, at module level or inside a function, with the line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                 else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        for name in names:
            parts = name.split(".")
            if parts[0] == "lm_keras" and len(parts) > 1:
                yield parts[1], node.lineno


def test_every_unit_of_the_package_has_a_layer():
    units = {unit_of(p) for p in PACKAGE.rglob("*.py")}
    assert units == set(LEVEL), "add the new unit to LAYERS here and to docs/architecture.md"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_from_a_higher_layer(path):
    unit = unit_of(path)
    upward = [f"line {line}: {unit} (layer {LEVEL[unit]}) imports lm_keras.{target} (layer {LEVEL[target]})"
              for target, line in imported_units(path) if LEVEL[target] > LEVEL[unit]]
    assert not upward, "\n".join(upward)


def test_the_architecture_document_names_every_package():
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [unit for unit in LEVEL if unit not in ("__main__", "__init__") and f"{unit}" not in text]
    assert not missing
