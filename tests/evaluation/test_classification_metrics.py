"""Classification metrics: hand-computed confusion-matrix figures and bootstrap intervals."""

import math

import numpy as np
import pytest

from lm_keras.evaluation.classification import (accuracy, bootstrap_confusion_matrices, bootstrap_interval, mean_interval,
                                                classification_report, confusion_matrix, macro_f1)

# 3 classes, 10 examples
Y_TRUE = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]
Y_PRED = [0, 0, 1, 1, 1, 2, 0, 2, 2, 0]
# rows: true class, columns: predicted class
MATRIX = [[2, 1, 0],
          [1, 2, 1],
          [1, 0, 2]]


def test_confusion_matrix_of_a_toy_example():
    matrix = confusion_matrix(Y_TRUE, Y_PRED, 3)
    assert matrix.tolist() == MATRIX
    assert matrix.dtype == np.int64
    assert confusion_matrix(np.array(Y_TRUE, np.int32), np.array(Y_PRED, np.int32), 4).tolist() == [
        [2, 1, 0, 0], [1, 2, 1, 0], [1, 0, 2, 0], [0, 0, 0, 0]]


def test_accuracy_precision_recall_and_f1_equal_the_hand_values():
    assert accuracy(Y_TRUE, Y_PRED, 3) == pytest.approx(6 / 10)
    report = classification_report(Y_TRUE, Y_PRED, ["a", "b", "c"], num_samples=0)
    # precision = diagonal / column sum (4, 3, 3); recall = diagonal / row sum (3, 4, 3)
    hand = {"a": (2 / 4, 2 / 3, 2 * 2 / (4 + 3), 3),
            "b": (2 / 3, 2 / 4, 2 * 2 / (3 + 4), 4),
            "c": (2 / 3, 2 / 3, 2 * 2 / (3 + 3), 3)}
    for label, (precision, recall, f1, support) in hand.items():
        got = report["per_class"][label]
        assert got["precision"] == pytest.approx(precision)
        assert got["recall"] == pytest.approx(recall)
        assert got["f1"] == pytest.approx(f1)
        assert got["f1"] == pytest.approx(2 * precision * recall / (precision + recall))
        assert got["support"] == support
    macro = (4 / 7 + 4 / 7 + 2 / 3) / 3
    assert macro_f1(Y_TRUE, Y_PRED, 3) == pytest.approx(macro)
    assert report["macro_f1"] == pytest.approx(macro) and report["accuracy"] == pytest.approx(0.6)
    assert report["n"] == 10 and report["confusion"].tolist() == MATRIX
    assert "accuracy_ci" not in report, "num_samples=0: no intervals"


def test_macro_f1_skips_absent_classes_but_counts_never_predicted_ones():
    # a 4th class that neither occurs nor is predicted does not change macro-F1
    assert macro_f1(Y_TRUE, Y_PRED, 4) == pytest.approx((4 / 7 + 4 / 7 + 2 / 3) / 3)
    # class 2 occurs but is never predicted: F1 0, counted in the mean; precision 0, not NaN
    y_true, y_pred = [0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 1, 0]
    # class 0: tp 2, predicted 3, actual 2 -> F1 4/5; class 1: tp 2, predicted 3, actual 2 -> 4/5
    assert macro_f1(y_true, y_pred, 3) == pytest.approx((4 / 5 + 4 / 5 + 0) / 3)
    report = classification_report(y_true, y_pred, ["x", "y", "z"], num_samples=0)
    assert report["per_class"]["z"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert report["per_class"]["x"]["precision"] == pytest.approx(2 / 3)
    assert accuracy([1, 1], [1, 1], 2) == 1.0 and macro_f1([1, 1], [1, 1], 2) == 1.0


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="y_true has 3 entries but y_pred has 2"):
        confusion_matrix([0, 1, 2], [0, 1], 3)
    with pytest.raises(ValueError, match=r"y_pred has class ids outside \[0, 3\)"):
        confusion_matrix([0, 1, 2], [0, 1, 3], 3)
    with pytest.raises(ValueError, match=r"y_true has class ids outside \[0, 3\)"):
        confusion_matrix([0, -1, 2], [0, 1, 2], 3)
    with pytest.raises(ValueError, match="empty"):
        confusion_matrix([], [], 3)
    with pytest.raises(ValueError, match="empty"):
        bootstrap_interval([], [], 3)


def test_bootstrap_matrices_are_resamples_of_the_pairs():
    matrices = bootstrap_confusion_matrices(Y_TRUE, Y_PRED, 3, num_samples=500, seed=1)
    assert matrices.shape == (500, 3, 3)
    assert (matrices.sum(axis=(1, 2)) == 10).all()
    # a pair that never occurs (true 2, predicted 1) is never resampled; the mean matrix is about the original
    assert (matrices[:, 2, 1] == 0).all() and (matrices[:, 0, 2] == 0).all()
    np.testing.assert_allclose(matrices.mean(axis=0), MATRIX, atol=0.25)
    np.testing.assert_array_equal(matrices, bootstrap_confusion_matrices(Y_TRUE, Y_PRED, 3, 500, seed=1))
    assert not np.array_equal(matrices, bootstrap_confusion_matrices(Y_TRUE, Y_PRED, 3, 500, seed=2))


@pytest.mark.parametrize("metric, point", [("accuracy", accuracy), ("macro_f1", macro_f1)])
def test_bootstrap_interval_contains_the_estimate_and_narrows_like_one_over_root_n(metric, point):
    widths = {}
    for repeats in (4, 40):
        y_true, y_pred = Y_TRUE * repeats, Y_PRED * repeats
        low, high = bootstrap_interval(y_true, y_pred, 3, metric=metric, num_samples=2000, seed=0)
        estimate = point(y_true, y_pred, 3)
        assert low < estimate < high
        widths[repeats] = high - low
    ratio = widths[4] / widths[40]
    print(metric, widths, "ratio", ratio, "expected about", math.sqrt(10))
    assert 0.75 * math.sqrt(10) < ratio < 1.25 * math.sqrt(10)
    if metric == "accuracy":  # the normal approximation 2 · 1.96 · sqrt(p (1 - p) / n) at n = 400
        assert widths[40] == pytest.approx(2 * 1.96 * math.sqrt(0.6 * 0.4 / 400), rel=0.15)


def test_confidence_level_and_report_intervals():
    y_true, y_pred = Y_TRUE * 10, Y_PRED * 10
    wide = bootstrap_interval(y_true, y_pred, 3, confidence=0.99, num_samples=2000)
    narrow = bootstrap_interval(y_true, y_pred, 3, confidence=0.5, num_samples=2000)
    assert wide[0] < narrow[0] < 0.6 < narrow[1] < wide[1]
    report = classification_report(y_true, y_pred, ["a", "b", "c"], num_samples=2000, seed=3)
    assert report["accuracy_ci"] == bootstrap_interval(y_true, y_pred, 3, "accuracy", 2000, seed=3)
    assert report["macro_f1_ci"] == bootstrap_interval(y_true, y_pred, 3, "macro_f1", 2000, seed=3)
    assert report["macro_f1_ci"][0] < report["macro_f1"] < report["macro_f1_ci"][1]
    # perfect predictions: no spread at all
    assert bootstrap_interval([0, 1, 2] * 5, [0, 1, 2] * 5, 3) == (1.0, 1.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"metric": "f1"}, r"metric='f1' is invalid: must be one of \['accuracy', 'macro_f1'\]"),
    ({"confidence": 95}, "confidence=95 is invalid"),
    ({"confidence": 0.0}, "confidence=0.0 is invalid"),
    ({"confidence": 1.0}, "confidence=1.0 is invalid"),
])
def test_bad_metric_or_confidence_is_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_interval(Y_TRUE, Y_PRED, 3, **kwargs)


def test_mean_interval_of_a_success_rate():
    """A 0/1 success per prompt: the interval is accuracy's (same resamples, same seed) and, at n = 400,
    about the normal approximation 2 · 1.96 · sqrt(p (1 - p) / n) wide around p."""
    success = np.array([1] * 120 + [0] * 280)
    low, high = mean_interval(success, num_samples=2000, seed=0)
    assert low < 0.3 < high
    assert high - low == pytest.approx(2 * 1.96 * math.sqrt(0.3 * 0.7 / 400), rel=0.15)
    assert (low, high) == bootstrap_interval(np.ones(400, int), success, 2, num_samples=2000, seed=0)
    paired = mean_interval(np.r_[np.ones(50), np.zeros(350)], num_samples=2000)   # a difference of +1 on 50 of 400
    assert 0 < paired[0] < 0.125 < paired[1]
    with pytest.raises(ValueError, match="at least one"):
        mean_interval([])
    with pytest.raises(ValueError, match="confidence"):
        mean_interval([1.0, 0.0], confidence=1.5)
