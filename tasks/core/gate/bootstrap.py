"""Paired bootstrap of a metric difference between two models scored on the same rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MetricFn = Callable[[np.ndarray, np.ndarray, np.ndarray | None], Any]
CHUNK = 200  # resamples evaluated together (memory: CHUNK x rows floats)


@dataclass(frozen=True)
class Interval:
    """Difference challenger - champion (sign as the metric), with a confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    resamples: int
    unit: str  # "rows" or "groups"

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "confidence": self.confidence,
            "resamples": self.resamples,
            "unit": self.unit,
        }


def paired_bootstrap(
    metric: MetricFn,
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    *,
    resamples: int,
    confidence: float,
    seed: int,
    groups: np.ndarray | None = None,
    unit: str | None = None,
) -> Interval:
    """Percentile interval of ``metric(challenger) - metric(champion)``.

    Metric functions take a 2-D weight matrix (one row per resample).
    Each resample draws rows (or, with ``groups``, whole query groups) with
    replacement and applies the same draw to both models, so the interval
    reflects the difference, not two independent noises. Resamples where
    the metric is undefined (for example no positive drawn) are dropped.
    """
    rng = np.random.default_rng(seed)
    if groups is None:
        units = np.arange(len(y))
        unit_name = "rows"
    else:
        _, units = np.unique(groups, return_inverse=True)
        unit_name = "groups"
    n_units = int(units.max()) + 1 if len(units) else 0
    chunks = []
    for start in range(0, resamples, CHUNK):
        size = min(CHUNK, resamples - start)
        draws = rng.integers(0, n_units, (size, n_units))
        counts = np.stack([np.bincount(d, minlength=n_units) for d in draws])
        weight = counts[:, units].astype(float)
        chunks.append(
            np.asarray(metric(y, challenger, weight)) - np.asarray(metric(y, champion, weight))
        )
    diffs = np.concatenate(chunks) if chunks else np.empty(0)
    diffs = diffs[np.isfinite(diffs)]
    estimate = metric(y, challenger, None) - metric(y, champion, None)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(diffs, [alpha, 1 - alpha]) if len(diffs) else (np.nan, np.nan)
    return Interval(
        float(estimate), float(low), float(high), confidence, len(diffs), unit or unit_name
    )
