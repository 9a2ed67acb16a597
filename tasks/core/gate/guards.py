"""Guard measurements on a trained booster: single-row latency, robustness to noise (pure)."""

from __future__ import annotations

import time

import lightgbm as lgb
import numpy as np

from tasks.core.gate.ranking_metrics import top_k
from tasks.core.sampling import sample_positions
from tasks.core.train.booster import predict

GUARD_ROWS = 20_000  # robustness is measured on a seeded sample of this many holdout rows


def latency_p99_ms(booster: lgb.Booster, x: np.ndarray, samples: int = 200) -> float:
    """p99 wall time of single-row scoring, in milliseconds, over ``samples`` rows."""
    rows = x[: max(1, min(samples, len(x)))]
    times = []
    for i in range(len(rows)):
        start = time.perf_counter()
        booster.predict(rows[i : i + 1], num_threads=1)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 99))


def robustness_shift(
    booster: lgb.Booster,
    x: np.ndarray,
    numeric: int,
    noise: float,
    seed: int,
    scores: np.ndarray | None = None,
) -> float:
    """Mean absolute change of the score when numeric inputs get relative noise.

    Only the first ``numeric`` columns (the numeric features) are perturbed; on a seeded
    sample of ``GUARD_ROWS`` rows (a mean: its standard error at that size is far below
    any threshold worth setting). ``scores``: the booster's scores of ``x`` when already
    computed (the holdout's), so only the noisy rows are scored.
    """
    rng = np.random.default_rng(seed)
    rows = sample_positions(len(x), GUARD_ROWS, seed)
    x = x[rows]
    before = predict(booster, x) if scores is None else scores[rows]
    noisy = x.copy()
    noisy[:, :numeric] *= 1 + rng.normal(0.0, noise, size=(len(x), numeric))
    return float(np.mean(np.abs(predict(booster, noisy) - before)))


def ranking_churn(
    booster: lgb.Booster, x: np.ndarray, groups: np.ndarray, numeric: int, noise: float, seed: int
) -> float:
    """Share of each user's top 10 that changes when numeric inputs get relative noise."""
    rng = np.random.default_rng(seed)
    noisy = x.copy()
    noisy[:, :numeric] *= 1 + rng.normal(0.0, noise, size=(len(x), numeric))
    before, after = top_k(groups, predict(booster, x)), top_k(groups, predict(booster, noisy))
    churn = [1 - len(set(rows) & set(after[g])) / max(len(rows), 1) for g, rows in before.items()]
    return float(np.mean(churn)) if churn else 0.0
