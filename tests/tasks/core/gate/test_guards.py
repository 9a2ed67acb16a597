"""Guard measurements on a real (small) booster: robustness to noise, single-row latency."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from tasks.core.gate.guards import GUARD_ROWS, latency_p99_ms, robustness_shift
from tasks.core.sampling import sample_positions
from tasks.core.train.booster import predict


def _booster(rows: int = 3000) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(4)
    x = np.column_stack([rng.normal(size=rows), rng.normal(size=rows), rng.integers(0, 3, rows)])
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.5, rows) > 0).astype(float)
    params = {"objective": "binary", "verbose": -1, "seed": 1, "num_threads": 1}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=20), x


def test_robustness_from_known_scores_equals_scoring_the_rows_again() -> None:
    booster, x = _booster()
    fresh = robustness_shift(booster, x, 2, 0.05, seed=3)
    known = robustness_shift(booster, x, 2, 0.05, seed=3, scores=predict(booster, x))
    assert fresh == known
    assert fresh > 0  # noise on the numeric columns moves the scores
    assert robustness_shift(booster, x, 2, 0.0, seed=3) == 0.0


def test_robustness_uses_a_sample_of_a_large_holdout() -> None:
    """Scores given for every row, the shift is read at the sampled rows only: a wrong
    score outside the sample changes nothing, one inside it would."""
    booster, x = _booster(GUARD_ROWS + 5000)
    scores = predict(booster, x)
    base = robustness_shift(booster, x, 2, 0.05, seed=3, scores=scores)
    sampled = sample_positions(len(x), GUARD_ROWS, 3)
    outside = np.setdiff1d(np.arange(len(x)), sampled)
    for rows, same in ((outside, True), (sampled[:10], False)):
        wrong = scores.copy()
        wrong[rows] = 10.0
        assert (robustness_shift(booster, x, 2, 0.05, seed=3, scores=wrong) == base) is same


def test_single_row_latency_is_measured() -> None:
    booster, x = _booster(500)
    assert latency_p99_ms(booster, x, samples=50) > 0
