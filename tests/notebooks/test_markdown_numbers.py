"""No result typed into a tutorial's prose: a measured figure is printed by a code cell, or cited with its source.

The scan reads each markdown cell (without formulas, inline code and link targets), splits it into
sentences, and flags every number in a sentence that speaks of a result (loss, accuracy,
perplexity, bits, nats, tokens/s, KL, success, speed, goal...), unless the number is a setting
(steps, layers, heads, batch, ...), a small count, a year, or listed in `ALLOWED` with the reason
it may stand there: a cited reference figure, or a toy example that a code cell recomputes.
"""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "tutorials").glob("[0-9][0-9]_*.ipynb"))

RESULT_WORDS = re.compile(r"\b(loss|losses|accuracy|perplexit\w*|bits?|nats?|tokens/s|tokens per second|goal|F1|KL|"
                          r"success|faster|slower|speed-?up|score[sd]?)\b|×", re.I)
NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+\.\d+|\d+)(\s*%|×(?!\s*\d))?")
PRODUCT = re.compile(r"\d\s*×\s*$|^\s*×\s*\d")    # 2×2, 4 × 128: a shape or a product of settings
SETTING = re.compile(r"\s*(steps?|layers?|heads?|units?|epochs?|batch(es)?|dimensions?|characters?|documents?|poems?|"
                     r"texts?|parameters?|tokens\b(?!/)|words?|samples?|times|rows?|pairs?|classes|seeds?|titles?|"
                     r"minutes?|seconds?|hours?|bytes?|[-–]?bits?\b(?! per)|[-–]gram|-character|-word|st\b|nd\b|rd\b|"
                     r"th\b|[-–]dimensional|[-–]token|D\b)", re.I)

# (notebook prefix, number) -> why it may be typed in prose.
ALLOWED = {
    ("02", "0.1"): "the documents' toy prediction 0.1 / 0.7 / 0.2, which a code cell recomputes",
    ("02", "0.7"): "the documents' toy prediction, recomputed by a code cell",
    ("02", "0.2"): "the documents' toy prediction, recomputed by a code cell",
    ("02", "1.47"): "nanoGPT's README, its GPU configuration (cited)",
    ("02", "1.4"): "Karpathy's char-rnn (cited)",
    ("04", "64"): "a head size, in the argument for the 1/sqrt(d_k) scale",
    ("04", "1.88"): "nanoGPT's README, its CPU configuration (cited); a code cell compares the run with it",
    ("04", "256"): "nanoGPT's GPU settings (context 256)",
    ("04", "1.47"): "nanoGPT's README, its GPU configuration (cited)",
    ("07", "1%"): "arithmetic of the example: a 1% error in the sum is 0.01 nats",
    ("07", "0.01"): "arithmetic of the example: ln(1.01)",
    ("07", "7.0"): "NVIDIA compute capability (a hardware fact)",
    ("07", "8.0"): "NVIDIA compute capability (a hardware fact)",
    ("07", "32"): "TensorFloat-32 (the format's name)",
    ("07", "10"): "TensorFloat-32's 10 mantissa bits (a hardware fact)",
    ("09", "95%"): "the confidence level of the bootstrap intervals (a setting)",
    ("11", "2.82"): "the GPT-2 document's own figure, quoted to be checked against the notebook's run",
    ("11", "0.24"): "the GPT-2 document's own figure, quoted to be checked against the notebook's run",
}


def _prose(text):
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)   # formulas
    text = re.sub(r"\$[^$\n]*\$", " ", text)
    text = re.sub(r"`[^`]*`", " ", text)                   # code
    text = re.sub(r"\]\([^)]*\)", "]", text)               # link targets
    return re.sub(r"https?://\S+", " ", text)


def typed_results(path):
    """[(cell index, number, sentence)] of the result-like numbers in the notebook's markdown."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    found = []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        if index == 0:   # the estimated running times, held to benchmarks/results/notebook_estimates.json
            text = re.sub(r"\*\*How long:\*\*[^\n]*", " ", text)
        for sentence in re.split(r"(?<=[.!?;])\s+|\n\s*\n|\n\s*[*-]\s|\|", _prose(text)):
            if not RESULT_WORDS.search(sentence):
                continue
            for match in NUMBER.finditer(sentence):
                number, suffix = match.group(1), match.group(2)
                if not suffix and SETTING.match(sentence[match.end():]):
                    continue
                if PRODUCT.search(sentence[: match.start()]) or PRODUCT.search(sentence[match.end():]):
                    continue
                if not suffix and "." not in number and int(number.replace(",", "")) < 10:
                    continue   # a small count ("3 models")
                if re.fullmatch(r"(19|20)\d\d", number) or re.search(r"tutorials?\s*$", sentence[: match.start()]):
                    continue   # a year in a citation, a tutorial's number
                found.append((index, number + (suffix or "").strip(), " ".join(sentence.split())))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_result_is_typed_into_the_prose(path):
    prefix = path.name[:2]
    typed = [(i, n, s) for i, n, s in typed_results(path) if (prefix, n) not in ALLOWED]
    assert not typed, (f"{path.name}: result-like numbers typed into markdown (print them from a code cell, or "
                       f"cite them and add them to ALLOWED with the reason):\n"
                       + "\n".join(f"  cell {i}: {n}  in  {s[:150]}" for i, n, s in typed))


def test_the_scan_finds_a_typed_result_and_passes_a_printed_one(tmp_path):
    cells = [{"cell_type": "markdown", "source": ["The model reaches a validation loss of 1.88 after training."]},
             {"cell_type": "markdown", "source": ["We train 4 layers for 2,000 steps; the loss is printed above."]},
             {"cell_type": "code", "source": ["print(f'loss {loss:.2f}')"]}]
    path = tmp_path / "99_example.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    assert [(i, n) for i, n, _ in typed_results(path)] == [(0, "1.88")]


def test_every_allowed_number_is_still_in_the_prose():
    """The allow-list stays short and true: an entry whose number left the prose is removed."""
    found = {(path.name[:2], number) for path in NOTEBOOKS for _, number, _ in typed_results(path)}
    assert not set(ALLOWED) - found, f"stale ALLOWED entries: {sorted(set(ALLOWED) - found)}"
