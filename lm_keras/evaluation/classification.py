"""Classification metrics with bootstrap confidence intervals, in NumPy.

With the confusion matrix M (rows: true class, columns: predicted class, k classes, n texts):

    accuracy     = trace(M) / n
    precision_c  = M[c, c] / Σ_i M[i, c]        (0 when class c is never predicted)
    recall_c     = M[c, c] / Σ_j M[c, j]        (0 when class c never occurs)
    F1_c         = 2 M[c, c] / (Σ_i M[i, c] + Σ_j M[c, j])
    macro-F1     = mean of F1_c over the classes that occur or are predicted

A 95% bootstrap interval resamples the n (true, predicted) pairs with replacement B
times, recomputes the metric on each resample, and takes the 2.5th and 97.5th
percentiles (the percentile bootstrap, Efron & Tibshirani 1993). It measures how much
the figure would move on another test set of the same size from the same distribution.
`mean_interval` does the same for the mean of any per-example values (a success rate).
"""

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes):
    """(n,) true and (n,) predicted class ids -> int64 (num_classes, num_classes), rows = true class."""
    y_true, y_pred = _check_ids(y_true, y_pred, num_classes)
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def _check_ids(y_true, y_pred, num_classes):
    y_true, y_pred = np.asarray(y_true, np.int64).reshape(-1), np.asarray(y_pred, np.int64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {len(y_true)} entries but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise ValueError("y_true is empty: nothing to evaluate")
    for name, ids in (("y_true", y_true), ("y_pred", y_pred)):
        if ids.min() < 0 or ids.max() >= num_classes:
            raise ValueError(f"{name} has class ids outside [0, {num_classes}): {sorted(set(ids.tolist()))[:5]}")
    return y_true, y_pred


def _per_class(matrices):
    """(..., k, k) confusion matrices -> precision, recall, F1, present, each (..., k)."""
    true_positives = np.diagonal(matrices, axis1=-2, axis2=-1).astype(np.float64)
    predicted, actual = matrices.sum(axis=-2), matrices.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, true_positives / predicted, 0.0)
        recall = np.where(actual > 0, true_positives / actual, 0.0)
        f1 = np.where(predicted + actual > 0, 2 * true_positives / (predicted + actual), 0.0)
    return precision, recall, f1, (predicted + actual) > 0


def _accuracy(matrices):
    return np.trace(matrices, axis1=-2, axis2=-1) / matrices.sum(axis=(-2, -1))


def _macro_f1(matrices):
    _, _, f1, present = _per_class(matrices)
    return (f1 * present).sum(axis=-1) / present.sum(axis=-1)


METRICS = {"accuracy": _accuracy, "macro_f1": _macro_f1}


def accuracy(y_true, y_pred, num_classes):
    return float(_accuracy(confusion_matrix(y_true, y_pred, num_classes)))


def macro_f1(y_true, y_pred, num_classes):
    """Unweighted mean of the per-class F1 over the classes that occur in y_true or y_pred."""
    return float(_macro_f1(confusion_matrix(y_true, y_pred, num_classes)))


def bootstrap_confusion_matrices(y_true, y_pred, num_classes, num_samples=1000, seed=0):
    """(num_samples, k, k): the confusion matrices of `num_samples` resamples (with replacement) of the pairs."""
    y_true, y_pred = _check_ids(y_true, y_pred, num_classes)
    n, k = len(y_true), num_classes
    picks = np.random.default_rng(seed).integers(0, n, size=(num_samples, n))
    cells = y_true[picks] * k + y_pred[picks] + (np.arange(num_samples) * k * k)[:, None]
    return np.bincount(cells.reshape(-1), minlength=num_samples * k * k).reshape(num_samples, k, k)


def _percentiles(resampled, confidence):
    """(low, high): the central `confidence` share of the resampled values (the percentile bootstrap)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence} is invalid: must be in (0, 1)")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_interval(y_true, y_pred, num_classes, metric="accuracy", num_samples=1000, confidence=0.95, seed=0):
    """(low, high): the percentile bootstrap interval of `metric` ("accuracy" or "macro_f1")."""
    if metric not in METRICS:
        raise ValueError(f"metric={metric!r} is invalid: must be one of {sorted(METRICS)}")
    values = METRICS[metric](bootstrap_confusion_matrices(y_true, y_pred, num_classes, num_samples, seed))
    return _percentiles(values, confidence)


def mean_interval(values, num_samples=1000, confidence=0.95, seed=0):
    """(low, high): the percentile bootstrap interval of the mean of `values` (n,), e.g. a success rate
    (0/1 per prompt), or a paired difference of two policies on the same prompts."""
    values = np.asarray(values, np.float64).reshape(-1)
    if not len(values):
        raise ValueError("mean_interval needs at least one value")
    picks = np.random.default_rng(seed).integers(0, len(values), size=(num_samples, len(values)))
    return _percentiles(values[picks].mean(axis=1), confidence)


def classification_report(y_true, y_pred, labels, num_samples=1000, confidence=0.95, seed=0):
    """Every figure of a classifier on one test set.

    Args:
        y_true, y_pred: (n,) class ids; labels: the class names (k of them).
        num_samples: bootstrap resamples for the intervals (0: no intervals).

    Returns:
        dict with accuracy, macro_f1, their intervals `accuracy_ci` / `macro_f1_ci` (low, high),
        `per_class` (a dict per label: precision, recall, f1, support), `confusion` (k, k)
        and `n`.
    """
    k = len(labels)
    matrix = confusion_matrix(y_true, y_pred, k)
    precision, recall, f1, _ = _per_class(matrix)
    report = {"n": int(matrix.sum()), "accuracy": float(_accuracy(matrix)), "macro_f1": float(_macro_f1(matrix)),
              "per_class": {label: {"precision": float(precision[c]), "recall": float(recall[c]), "f1": float(f1[c]),
                                    "support": int(matrix[c].sum())} for c, label in enumerate(labels)},
              "confusion": matrix}
    if num_samples:
        matrices = bootstrap_confusion_matrices(y_true, y_pred, k, num_samples, seed)
        for name, metric in METRICS.items():
            report[f"{name}_ci"] = _percentiles(metric(matrices), confidence)
    return report


def evaluate_classifier(model, rows, targets, labels, num_samples=1000, confidence=0.95, seed=0, batch_size=256):
    """Run a classifier over rows (n, t) and report on true class ids `targets` (n,).

    Returns:
        `classification_report(...)` plus `predictions` (n,) class ids and
        `probabilities` (n, num_classes).
    """
    probabilities = model.predict_probabilities(rows, batch_size=batch_size)
    predictions = probabilities.argmax(axis=1)
    report = classification_report(targets, predictions, labels, num_samples, confidence, seed)
    return {**report, "predictions": predictions, "probabilities": probabilities}
