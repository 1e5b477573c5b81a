"""A matplotlib helper for notebooks."""


def plot_history(history, ax=None, title=None, baseline=None, baseline_label="baseline"):
    """Training and validation loss per evaluation interval.

    Args:
        history: a Keras `History`, or its `.history` dict (`loss`, `val_loss`, ...).
        baseline: optional horizontal line (e.g. the unigram entropy).

    Returns:
        The matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    values = getattr(history, "history", history)
    ax = ax or plt.subplots(figsize=(7, 4))[1]
    epochs = range(1, len(values["loss"]) + 1)
    ax.plot(epochs, values["loss"], marker="o", label="training loss")
    if "val_loss" in values:
        ax.plot(epochs, values["val_loss"], marker="o", label="validation loss")
    if baseline is not None:
        ax.axhline(baseline, color="gray", linestyle="--", label=baseline_label)
    ax.set_xlabel("evaluation interval")
    ax.set_ylabel("cross-entropy (nats per token)")
    ax.set_title(title or "Loss")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
