"""The embedded default corpus: docstrings of the Python standard library.

Every Python installation carries this text, so the main job can train without a
network or a file from us. Modules are parsed with `ast` (never imported), walked in
sorted path order, so the same Python version always gives the same text.
"""

import ast
import inspect
import sys
import sysconfig
from pathlib import Path

from tqdm.auto import tqdm

SKIPPED_DIRS = {"test", "tests", "idlelib", "site-packages", "dist-packages", "lib2to3",
                "__pycache__", "turtledemo", "__phello__"}
MAX_CHARS = 2_000_000


def _docstrings(tree):
    nodes = [tree] + sorted(
        (n for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))),
        key=lambda n: (n.lineno, n.col_offset),
    )
    for node in nodes:
        doc = ast.get_docstring(node, clean=False)
        if doc and len(doc.split()) >= 3:
            yield inspect.cleandoc(doc)


def stdlib_docstrings(max_chars=MAX_CHARS, progress=True):
    """Collect standard-library docstrings, in sorted file order, up to `max_chars` characters."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        p for p in root.rglob("*.py")
        if not SKIPPED_DIRS.intersection(p.relative_to(root).parts[:-1])
        and not p.name.startswith("test_")
    )
    parts, total = [], 0
    for path in tqdm(files, desc="Collecting stdlib docstrings", unit="file", disable=not progress):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for doc in _docstrings(tree):
            parts.append(doc)
            total += len(doc) + 2
            if total >= max_chars:
                return "\n\n".join(parts) + "\n"
    return "\n\n".join(parts) + "\n"


def cache_name():
    return f"python{sys.version_info.major}.{sys.version_info.minor}_docstrings.txt"
