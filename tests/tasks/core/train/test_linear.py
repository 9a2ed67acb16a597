"""The logistic-regression baseline and the curves the evaluation report draws (pure)."""

from __future__ import annotations

import numpy as np
import pytest

from tasks.core.gate import metrics
from tasks.core.gate.curves import POINTS, binary_curves, feature_gain, reliability
from tasks.core.train.booster import Matrix
from tasks.core.train.features import Encoding
from tasks.core.train.linear import fit_linear_baseline

pytestmark = pytest.mark.unit
RNG = np.random.default_rng(11)


def _linear_data(rows: int) -> tuple[Matrix, Encoding]:
    """A linear signal in one numeric column and one category; some values missing."""
    x1 = RNG.normal(0, 1, rows)
    cat = RNG.integers(0, 3, rows).astype(float)
    logit = -2.0 + 2.0 * x1 + np.where(cat == 2, 1.5, 0.0)
    y = (RNG.random(rows) < 1 / (1 + np.exp(-logit))).astype(float)
    x1[::17] = np.nan
    cat[::23] = np.nan  # an unseen category encodes as NaN
    noise = RNG.normal(0, 1, rows)
    enc = Encoding(["x1", "noise"], {"channel": ["a", "b", "c"]})
    return Matrix(np.column_stack([x1, noise, cat]), y), enc


def test_the_baseline_learns_a_linear_signal_through_missing_values() -> None:
    train, enc = _linear_data(4000)
    test, _ = _linear_data(2000)
    baseline = fit_linear_baseline(train, enc, seed=1)

    scores = baseline.predict(test.x)

    assert scores.shape == (2000,) and np.all((scores > 0) & (scores < 1))
    assert metrics.roc_auc(test.y, scores) > 0.8
    assert baseline.rows == baseline.window_rows == 4000
    assert "one-hot" in baseline.describe() and "sample" not in baseline.describe()


def test_a_large_window_is_sampled_and_says_so() -> None:
    train, enc = _linear_data(3000)
    baseline = fit_linear_baseline(train, enc, seed=1, max_rows=1000)

    assert (baseline.rows, baseline.window_rows) == (1000, 3000)
    assert "fit on 1000 training rows (seeded sample of 3000)" in baseline.describe()
    again = fit_linear_baseline(train, enc, seed=1, max_rows=1000)
    np.testing.assert_array_equal(baseline.predict(train.x), again.predict(train.x))


def test_curves_are_thinned_and_cover_every_model() -> None:
    y = (RNG.random(5000) < 0.1).astype(float)
    good, poor = y * 0.5 + RNG.random(5000) * 0.5, RNG.random(5000)

    curves = binary_curves(y, {"challenger": good, "baseline": poor})

    assert set(curves["pr"]) == set(curves["roc"]) == {"challenger", "baseline"}
    assert len(curves["roc"]["challenger"]["fpr"]) <= POINTS
    assert curves["roc"]["challenger"]["fpr"][0] == 0.0
    assert curves["roc"]["challenger"]["tpr"][-1] == 1.0
    hist = curves["scores_by_label"]
    assert hist["model"] == "challenger"
    assert sum(hist["positive"]) == pytest.approx(1.0) and hist["positive_rows"] == y.sum()
    assert binary_curves(np.zeros(10), {"challenger": np.ones(10)})["pr"] == {}


def test_reliability_bins_show_an_overconfident_model() -> None:
    p = np.full(1000, 0.9)
    y = (np.arange(1000) < 300).astype(float)

    bins = reliability(y, p)

    assert bins == {"predicted": [pytest.approx(0.9)], "observed": [0.3], "count": [1000]}


def test_features_by_gain_largest_first() -> None:
    rows = feature_gain(["a", "b", "c"], np.array([1.0, 3.0, 0.0]))

    assert [r["feature"] for r in rows] == ["b", "a", "c"]
    assert rows[0]["share"] == pytest.approx(0.75)
