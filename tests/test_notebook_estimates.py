"""The FLOP counts behind `benchmarks/notebook_estimates.py`, against the library's own models."""

import sys
from pathlib import Path

import numpy as np
import pytest

from lm_keras.models import RNNLanguageModel, TransformerLanguageModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import notebook_estimates as estimates  # noqa: E402


def built(model, context):
    model(np.zeros((1, context), "int32"))
    return model


def test_transformer_flops_are_six_times_the_weights_plus_attention():
    model = built(TransformerLanguageModel(69, context_length=64, num_layers=4, num_heads=4, d_model=128,
                                           use_bias=False), 64)
    weights = model.count_params() - 64 * 128               # the position table is a lookup, as the embedding
    layer_norms = (2 * 4 + 1) * 128                          # gains only (use_bias=False): not in nanoGPT's count
    attention = 12 * 4 * 128 * 64
    assert estimates.transformer_flops(69, 4, 128, 64) == 6 * (weights - layer_norms) + attention
    # forward only: a third of the weights' FLOPs and of attention's
    assert estimates.transformer_flops(69, 4, 128, 64, backward=False) * 3 == 6 * (weights - layer_norms) + attention


@pytest.mark.parametrize("cell_type, gates", [("lstm", 4), ("gru", 3), ("simple_rnn", 1)])
def test_rnn_flops_are_six_times_the_weights_a_token_passes(cell_type, gates):
    model = built(RNNLanguageModel(69, cell_type=cell_type, embedding_dim=64, hidden_dim=32, num_layers=2), 5)
    weights = model.count_params() - 69 * 64 - 69            # minus the embedding table and the output bias
    gru_second_bias = 2 * 3 * 32 if cell_type == "gru" else 0   # Keras's GRU (reset_after) has two bias vectors
    assert estimates.rnn_flops(69, 64, 32, layers=2, gates=gates) == 6 * (weights - gru_second_bias)


def test_a_training_costs_its_flops_at_the_rate_or_the_floor_per_step():
    device = estimates.Device("test", peak_flops=1e12, step_floor_s=0.01, token_floor_s=0.001)   # 1e11 achieved
    big = estimates.Training("big", steps=10, tokens_per_step=1000, flops_per_token=1e7)    # 0.1 s a step
    small = estimates.Training("small", steps=10, tokens_per_step=10, flops_per_token=1e3, decoded_tokens_per_step=5)
    assert big.seconds(device) == pytest.approx(10 * 0.1)
    assert small.seconds(device) == pytest.approx(10 * (0.01 + 5 * 0.001))
    assert big.flops == 10 * 1000 * 1e7


def test_capped_durations_are_read_from_the_pytest_log():
    log = ("123.45s call     tests/notebooks/test_notebooks.py::test_notebook_full_mode_capped[04_transformer.ipynb]\n"
           "9.00s call     tests/notebooks/test_notebooks.py::test_notebook_runs_in_quick_mode[03_rnn.ipynb]\n"
           "7.50s call     tests/notebooks/test_notebooks.py::test_notebook_full_mode_capped[tutorials/11_gpt2.ipynb]\n")
    assert estimates.capped_seconds(log) == {"04": 123.45, "11": 7.5}
    with pytest.raises(SystemExit, match="durations"):
        estimates.capped_seconds("nothing here")


def test_the_notebooks_readme_and_docs_quote_the_committed_estimates():
    """Every place that states a notebook's full-mode time says what benchmarks/results/notebook_estimates.json
    says (`notebook_estimates.py --update` writes them), so the figures cannot drift from the run."""
    import json

    root = Path(__file__).resolve().parents[1]
    rows = json.loads((root / "benchmarks" / "results" / "notebook_estimates.json").read_text())["rows"]
    readme = (root / "README.md").read_text(encoding="utf-8")
    docs = (root / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    notebooks = {path.name[:2]: path.read_text(encoding="utf-8") for path in (root / "tutorials").glob("[0-9][0-9]_*.ipynb")}
    assert sorted(notebooks) == [row["notebook"] for row in rows]
    for row in rows:
        assert estimates.how_long(row) in notebooks[row["notebook"]]
        assert len(estimates.HOW_LONG.findall(notebooks[row["notebook"]])) == 1
        quoted = [m.group(0) for m in estimates.README_ROW.finditer(readme) if m.group(2) == row["notebook"]]
        assert len(quoted) == 1 and quoted[0].endswith(f" {estimates.readme_cell(row)} |"), quoted
        assert estimates.docs_row(row) in docs.splitlines()
