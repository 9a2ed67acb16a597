"""Binary metrics agree with scikit-learn (ties, weights, 2-D bootstrap weights) and ECE by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    roc_auc_score,
)
from sklearn.metrics import log_loss as sk_log_loss

from tasks.core.gate.metrics import (
    average_precision,
    binary_metrics,
    brier,
    calibration_error,
    log_loss,
    roc_auc,
)

pytestmark = pytest.mark.unit

RANKING_PAIRS = [
    (average_precision, average_precision_score),
    (roc_auc, roc_auc_score),
]
PAIR_IDS = ["average_precision", "roc_auc"]


def _labels_scores(seed: int, n: int, decimals: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Labels with both classes and scores, rounded to force ties when ``decimals`` is set."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    score = rng.random(n) + 0.3 * y
    if decimals is not None:
        score = np.round(score, decimals)
    return y, score


@pytest.mark.parametrize(("ours", "theirs"), RANKING_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("decimals", [None, 1, 0], ids=["distinct", "ties", "heavy_ties"])
def test_ranking_metric_matches_sklearn(ours, theirs, seed: int, decimals: int | None) -> None:
    y, score = _labels_scores(seed, 80, decimals)
    assert ours(y, score) == pytest.approx(theirs(y, score), abs=1e-12)


@pytest.mark.parametrize(("ours", "theirs"), RANKING_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("decimals", [None, 1])
def test_ranking_metric_matches_sklearn_with_sample_weights(
    ours, theirs, seed: int, decimals: int | None
) -> None:
    y, score = _labels_scores(seed, 60, decimals)
    weight = np.random.default_rng(seed + 100).integers(0, 4, len(y)).astype(float)
    weight[:2] = 1.0  # both classes keep weight
    expected = theirs(y, score, sample_weight=weight)
    assert ours(y, score, weight) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("ours", "theirs"), RANKING_PAIRS, ids=PAIR_IDS)
def test_integer_weights_equal_repeating_rows(ours, theirs) -> None:
    """A weight of k is the same as the row appearing k times (what a bootstrap draw means)."""
    y, score = _labels_scores(11, 40, 1)
    weight = np.random.default_rng(3).integers(1, 4, len(y))
    repeated = ours(np.repeat(y, weight), np.repeat(score, weight))
    assert ours(y, score, weight.astype(float)) == pytest.approx(repeated, abs=1e-12)
    assert repeated == pytest.approx(theirs(np.repeat(y, weight), np.repeat(score, weight)))


@pytest.mark.parametrize(("ours", "theirs"), RANKING_PAIRS, ids=PAIR_IDS)
@pytest.mark.parametrize("decimals", [None, 1])
def test_two_dimensional_weights_give_one_value_per_row(ours, theirs, decimals) -> None:
    y, score = _labels_scores(5, 50, decimals)
    weights = np.random.default_rng(9).integers(0, 3, (7, len(y))).astype(float)
    weights[:, :2] = 1.0
    result = ours(y, score, weights)
    assert np.shape(result) == (7,)
    for row, value in zip(weights, result, strict=True):
        assert value == pytest.approx(theirs(y, score, sample_weight=row), abs=1e-12)


@pytest.mark.parametrize(("ours", "theirs"), RANKING_PAIRS, ids=PAIR_IDS)
def test_two_dimensional_rows_without_positive_weight_are_nan_alone(ours, theirs) -> None:
    y = np.array([1, 0, 1, 0, 0, 1])
    score = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    weights = np.array(
        [
            [1, 1, 1, 1, 1, 1],
            [0, 2, 0, 1, 1, 0],  # no positive drawn
            [2, 0, 1, 1, 0, 3],
        ],
        dtype=float,
    )
    result = ours(y, score, weights)
    assert math.isnan(result[1])
    assert result[0] == pytest.approx(theirs(y, score))
    assert result[2] == pytest.approx(theirs(y, score, sample_weight=weights[2]))


@pytest.mark.parametrize("fn", [average_precision, roc_auc], ids=PAIR_IDS)
@pytest.mark.parametrize("weight", [None, np.full(5, 2.0)], ids=["unweighted", "weighted"])
def test_no_positives_is_nan(fn, weight) -> None:
    y = np.zeros(5, dtype=int)
    value = fn(y, np.linspace(0, 1, 5), weight)
    assert isinstance(value, float)
    assert math.isnan(value)


def test_roc_auc_nan_without_negatives() -> None:
    assert math.isnan(roc_auc(np.ones(4, dtype=int), np.array([0.1, 0.2, 0.3, 0.4])))


def test_positive_weight_only_on_negatives_is_nan() -> None:
    y = np.array([1, 0, 0])
    weight = np.array([0.0, 1.0, 1.0])
    assert math.isnan(average_precision(y, np.array([0.9, 0.5, 0.1]), weight))


@pytest.mark.parametrize(
    ("y", "score", "ap", "auc"),
    [
        ([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], 1.0, 1.0),
        ([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1], 0.5 * (1 / 3) + 0.5 * (2 / 4), 0.0),
        ([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5], 0.5, 0.5),  # all tied: one threshold
    ],
    ids=["perfect", "inverted", "all_tied"],
)
def test_hand_computed_values(y, score, ap, auc) -> None:
    y, score = np.array(y), np.array(score)
    assert average_precision(y, score) == pytest.approx(ap)
    assert roc_auc(y, score) == pytest.approx(auc)


@pytest.mark.parametrize("seed", range(3))
def test_log_loss_and_brier_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 40)
    p = rng.uniform(0.01, 0.99, 40)
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p, labels=[0, 1]))
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p))


@pytest.mark.parametrize("seed", range(3))
def test_log_loss_and_brier_match_sklearn_with_weights(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 40)
    p = rng.uniform(0.01, 0.99, 40)
    w = rng.uniform(0.1, 3.0, 40)
    assert log_loss(y, p, w) == pytest.approx(sk_log_loss(y, p, sample_weight=w, labels=[0, 1]))
    assert brier(y, p, w) == pytest.approx(brier_score_loss(y, p, sample_weight=w))


@pytest.mark.parametrize(
    ("fn", "reference"),
    [
        (log_loss, lambda y, p, w: sk_log_loss(y, p, sample_weight=w, labels=[0, 1])),
        (brier, lambda y, p, w: brier_score_loss(y, p, sample_weight=w)),
    ],
    ids=["log_loss", "brier"],
)
def test_log_loss_and_brier_two_dimensional_weights(fn, reference) -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 30)
    p = rng.uniform(0.05, 0.95, 30)
    weights = rng.integers(0, 3, (5, 30)).astype(float)
    weights[:, 0] = 1.0
    result = fn(y, p, weights)
    assert np.shape(result) == (5,)
    for row, value in zip(weights, result, strict=True):
        assert value == pytest.approx(reference(y, p, row))


def test_log_loss_is_finite_for_certain_wrong_predictions() -> None:
    value = log_loss(np.array([1, 0]), np.array([0.0, 1.0]))
    assert math.isfinite(value)
    assert value > 30  # clipped, but still a huge penalty


def test_calibration_error_zero_when_perfectly_calibrated() -> None:
    # bin 2 (p=0.25): 1 of 4 positive; bin 7 (p=0.75): 3 of 4 positive
    p = np.array([0.25] * 4 + [0.75] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    assert calibration_error(y, p) == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("p", "y", "expected"),
    [
        # one bin: mean p 0.9, positive rate 0.5 -> 0.4
        ([0.9] * 10, [1] * 5 + [0] * 5, 0.4),
        # bin 0: |0.05 - 0.5| on 2 rows; bin 9: |0.95 - 1.0| on 6 rows -> (0.9 + 0.3) / 8
        ([0.05, 0.05] + [0.95] * 6, [1, 0] + [1] * 6, (2 * 0.45 + 6 * 0.05) / 8),
        # p == 1.0 belongs to the last bin, not an eleventh one
        ([1.0, 1.0, 0.9, 0.9], [1, 0, 1, 0], abs(0.95 - 0.5)),
    ],
    ids=["overconfident", "two_bins_weighted_by_size", "p_equal_one"],
)
def test_calibration_error_hand_computed(p, y, expected) -> None:
    assert calibration_error(np.array(y), np.array(p)) == pytest.approx(expected)


def test_calibration_error_bins_parameter() -> None:
    p = np.array([0.1, 0.3])
    y = np.array([0, 1])
    # one bin: |0.2 - 0.5| = 0.3; ten bins: (0.1 + 0.7) / 2 = 0.4
    assert calibration_error(y, p, bins=1) == pytest.approx(0.3)
    assert calibration_error(y, p, bins=10) == pytest.approx(0.4)


def test_binary_metrics_reports_every_metric() -> None:
    y, score = _labels_scores(2, 30, None)
    p = np.clip(score / score.max(), 0.01, 0.99)
    result = binary_metrics(y, p)
    assert set(result) == {"pr_auc", "roc_auc", "log_loss", "brier"}
    assert result["pr_auc"] == pytest.approx(average_precision_score(y, p))
    assert result["roc_auc"] == pytest.approx(roc_auc_score(y, p))
