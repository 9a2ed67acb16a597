"""Paired bootstrap of a metric difference between two models scored on the same rows."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tasks.core.gate import metrics
from tasks.core.sampling import stratified_positions

MetricFn = Callable[[np.ndarray, np.ndarray, np.ndarray | None], Any]
CHUNK = 200  # resamples evaluated together (memory: CHUNK x rows floats)
# At most this many weights at once (32 MB of floats): fewer resamples a chunk on big
# holdouts. Arrays this small are reused by the allocator; larger ones are mapped and
# faulted in afresh on every chunk, which cost more than the arithmetic at 100k rows.
MAX_CELLS = 4_000_000
# Above this many rows, ``paired_intervals`` resamples a stratified sample of this size and
# rescales the draws to the whole holdout (an m-out-of-n bootstrap, below).
BOOTSTRAP_ROWS = 50_000
WORKERS = min(4, os.cpu_count() or 1)  # threads evaluating chunks (memory: one chunk each)


@dataclass(frozen=True)
class Interval:
    """Difference challenger - champion (sign as the metric), with a confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    resamples: int
    unit: str  # "rows" or "groups"
    sample: tuple[int, int] | None = None  # (rows resampled, rows in the holdout) if sampled

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "confidence": self.confidence,
            "resamples": self.resamples,
            "unit": self.unit,
            "sample": list(self.sample) if self.sample else None,  # as the card holds it
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
    max_rows: int = BOOTSTRAP_ROWS,
) -> list[Interval]:
    """``paired_bootstrap`` of the challenger against each of ``others`` (champion,
    baselines), all under the same draws: the challenger's resampled metric is computed
    once. Equal to one ``paired_bootstrap`` per other model with the same seed.

    A holdout of more than ``max_rows`` rows is resampled through a seeded sample of
    ``max_rows`` rows stratified by label (an m-out-of-n bootstrap): each draw's deviation
    from the sample's own difference is scaled by sqrt(m / n) and added to the whole
    holdout's difference, so the interval keeps the width it has at n rows. The estimate
    is always the whole holdout's; the interval records the sample's size.
    """
    if not others:
        return []
    keep = stratified_positions(y, max_rows, seed) if len(y) > max_rows else None
    if keep is None:
        ys, cs, rs = y, challenger, others
    else:
        ys, cs, rs = y[keep], challenger[keep], [o[keep] for o in others]
    units, unit_name = _units(len(ys), None)
    chal, *rest = _resampled(metric, ys, [cs, *rs], units, resamples, seed)
    base, base_sampled = metric(y, challenger, None), metric(ys, cs, None)
    scale = math.sqrt(len(ys) / len(y)) if len(y) else 1.0
    sample = None if keep is None else (len(ys), len(y))
    out = []
    for other, other_sampled, values in zip(others, rs, rest, strict=True):
        diffs = chal - values
        estimate = float(base - metric(y, other, None))
        if keep is not None:
            centre = float(base_sampled - metric(ys, other_sampled, None))
            diffs = estimate + scale * (diffs - centre)
        iv = _interval(estimate, diffs[np.isfinite(diffs)], confidence, unit_name)
        out.append(replace(iv, sample=sample))
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
    """The metric of each score vector under the same ``resamples`` bootstrap draws.

    Draws come in chunks, each from its own generator spawned from ``seed`` (so the draws
    depend on the seed and the holdout's size, not on how many threads take chunks), and
    chunks are evaluated on up to ``WORKERS`` threads: numpy releases the GIL for most of
    the work, and this runs after training, when the cores are free.
    """
    n_units = int(units.max()) + 1 if len(units) else 0
    chunk = max(1, min(CHUNK, MAX_CELLS // max(n_units, 1)))  # bounded memory on big holdouts
    identity = len(units) == n_units and bool(np.array_equal(units, np.arange(n_units)))
    weighted = [metrics.on_fixed_scores(metric, y, score) for score in scores]
    sizes = [min(chunk, resamples - start) for start in range(0, resamples, chunk)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))

    def evaluate(job: tuple[int, np.random.SeedSequence]) -> list[np.ndarray]:
        size, chunk_seed = job
        draws = _uniform_draws(np.random.default_rng(chunk_seed), size, n_units)
        counts = np.empty((size, n_units))
        for row, drawn in enumerate(draws):  # a bincount per resample: 4x one on offsets
            counts[row] = np.bincount(drawn, minlength=n_units)
        weight = counts if identity else counts[:, units]
        return [np.asarray(fn(weight), dtype=float) for fn in weighted]

    with ThreadPoolExecutor(max_workers=min(WORKERS, max(len(sizes), 1))) as pool:
        done = list(pool.map(evaluate, zip(sizes, seeds, strict=True)))
    return [
        np.concatenate([values[i] for values in done]) if done else np.empty(0)
        for i in range(len(scores))
    ]


def _uniform_draws(rng: np.random.Generator, resamples: int, units: int) -> np.ndarray:
    """``resamples`` rows of ``units`` unit indices drawn uniformly with replacement.

    floor(U * units) of 53-bit uniform doubles: unbiased to ``units / 2**53``, and a third
    of ``Generator.integers``' time (its per-value rejection loop was the bootstrap's
    largest cost on a 50,000-row holdout).
    """
    draws = (rng.random((resamples, units)) * units).astype(np.int32)
    return np.minimum(draws, units - 1, out=draws)  # U * units rounds below units: a guard


def _interval(estimate: float, values: np.ndarray, confidence: float, unit: str) -> Interval:
    values = values[np.isfinite(values)]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha]) if len(values) else (np.nan, np.nan)
    return Interval(float(estimate), float(low), float(high), confidence, len(values), unit)
