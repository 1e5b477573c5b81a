"""LoRA on a KerasHub GPT-2: freeze the backbone, train low-rank factors (KerasHub's public `enable_lora`).

Fine-tuning is the project's own trainer: `compile_language_model` + `fit_language_model` on the
`KerasHubLanguageModel` (resume, NaN handling, schedules and callbacks included).
"""

import numpy as np


def count_trainable(model):
    """Number of trainable parameters (scalars) of `model`."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def enable_lora(model, rank):
    """Freeze the backbone and add rank-`rank` LoRA factors to its attention query/value projections.

    `model` is a `KerasHubLanguageModel` or the KerasHub causal LM inside it. Enable LoRA before
    compiling and before building a `Generator`: functions traced earlier do not read the factors.
    KerasHub keeps the query and value biases trainable beside the factors.

    Returns:
        (trainable parameters before, trainable parameters after).
    """
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or rank < 1:
        raise ValueError(f"rank={rank!r} is invalid: must be an integer >= 1")
    before = count_trainable(model)
    getattr(model, "causal_lm", model).backbone.enable_lora(int(rank))
    return before, count_trainable(model)
