"""Paired bootstrap of a metric difference between two models scored on the same rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MetricFn = Callable[[np.ndarray, np.ndarray, np.ndarray | None], Any]
CHUNK = 200  # resamples evaluated together (memory: CHUNK x rows floats)
# At most this many weights at once (32 MB of floats): fewer resamples a chunk on big
# holdouts. Arrays this small are reused by the allocator; larger ones are mapped and
# faulted in afresh on every chunk, which cost more than the arithmetic at 100k rows.
MAX_CELLS = 4_000_000


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
    estimate, diffs, unit_name = paired_draws(
        metric, y, challenger, champion, resamples=resamples, seed=seed, groups=groups
    )
    return _interval(estimate, diffs, confidence, unit or unit_name)


def paired_intervals(
    metric: MetricFn,
    y: np.ndarray,
    challenger: np.ndarray,
    others: list[np.ndarray],
    *,
    resamples: int,
    confidence: float,
    seed: int,
) -> list[Interval]:
    """``paired_bootstrap`` of the challenger against each of ``others`` (champion,
    baselines), all under the same draws: the challenger's resampled metric is computed
    once. Equal to one ``paired_bootstrap`` per other model with the same seed."""
    if not others:
        return []
    units, unit_name = _units(len(y), None)
    chal, *rest = _resampled(metric, y, [challenger, *others], units, resamples, seed)
    base = metric(y, challenger, None)
    out = []
    for other, values in zip(others, rest, strict=True):
        diffs = chal - values
        estimate = float(base - metric(y, other, None))
        out.append(_interval(estimate, diffs[np.isfinite(diffs)], confidence, unit_name))
    return out


def paired_draws(
    metric: MetricFn,
    y: np.ndarray,
    challenger: np.ndarray,
    champion: np.ndarray,
    *,
    resamples: int,
    seed: int,
    groups: np.ndarray | None = None,
) -> tuple[float, np.ndarray, str]:
    """The difference on the data, its ``resamples`` bootstrap draws (undefined ones
    dropped), and the resampling unit: what an interval or a p-value is read from."""
    units, unit_name = _units(len(y), groups)
    chal, champ = _resampled(metric, y, [challenger, champion], units, resamples, seed)
    diffs = chal - champ
    estimate = float(metric(y, challenger, None) - metric(y, champion, None))
    return estimate, diffs[np.isfinite(diffs)], unit_name


def bootstrap_interval(
    metric: MetricFn,
    y: np.ndarray,
    scores: np.ndarray,
    *,
    resamples: int,
    confidence: float,
    seed: int,
    groups: np.ndarray | None = None,
    unit: str | None = None,
) -> Interval:
    """Percentile interval of ``metric(scores)`` itself (one model), resampling as above."""
    units, unit_name = _units(len(y), groups)
    (values,) = _resampled(metric, y, [scores], units, resamples, seed)
    return _interval(metric(y, scores, None), values, confidence, unit or unit_name)


def _units(rows: int, groups: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The resampling unit of each row: the row itself, or its query group."""
    if groups is None:
        return np.arange(rows), "rows"
    _, units = np.unique(groups, return_inverse=True)
    return units, "groups"


def _resampled(
    metric: MetricFn,
    y: np.ndarray,
    scores: list[np.ndarray],
    units: np.ndarray,
    resamples: int,
    seed: int,
) -> list[np.ndarray]:
    """The metric of each score vector under the same ``resamples`` bootstrap draws."""
    rng = np.random.default_rng(seed)
    n_units = int(units.max()) + 1 if len(units) else 0
    chunk = max(1, min(CHUNK, MAX_CELLS // max(n_units, 1)))  # bounded memory on big holdouts
    identity = len(units) == n_units and bool(np.array_equal(units, np.arange(n_units)))
    out: list[list[np.ndarray]] = [[] for _ in scores]
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        draws = rng.integers(0, n_units, (size, n_units))
        offset = (draws + np.arange(size)[:, None] * n_units).ravel()  # one bincount per chunk
        counts = np.bincount(offset, minlength=size * n_units).reshape(size, n_units)
        weight = (counts if identity else counts[:, units]).astype(float)
        for values, score in zip(out, scores, strict=True):
            values.append(np.asarray(metric(y, score, weight), dtype=float))
    return [np.concatenate(v) if v else np.empty(0) for v in out]


def _interval(estimate: float, values: np.ndarray, confidence: float, unit: str) -> Interval:
    values = values[np.isfinite(values)]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha]) if len(values) else (np.nan, np.nan)
    return Interval(float(estimate), float(low), float(high), confidence, len(values), unit)
