"""Drift of each watched column between the reference sample and recent data (pure).

The tests and distances come from ``scipy`` (Kolmogorov-Smirnov, chi-squared homogeneity,
Wasserstein, Jensen-Shannon); the population stability index is its textbook formula
over the reference's quantile bins (numeric) or categories, with empty bins floored at
``EPS`` as Evidently and NannyML do. A column that cannot be tested says why
(``insufficient_data``); a column missing from recent data, or only nulls where the
reference had values, counts as drifted: monitoring never reports "no drift" it did not
measure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from schemas.monitoring import DriftTest, Monitoring, Statistic
from tasks.core.monitor.reference import NUMERIC
from tasks.core.sampling import sample_positions

BINS = 10  # quantile bins of the reference for binned statistics on numeric columns
EPS = 1e-4  # floor of a bin's share (PSI's logarithm and chi-squared need no empty bin)


@dataclass(frozen=True)
class ColumnDrift:
    """One column's comparison: the statistic, its value against the threshold, the verdict."""

    column: str
    kind: str  # numeric | categorical
    status: str  # tested | insufficient_data | missing | all_null
    statistic: str
    threshold: float
    value: float | None
    drifted: bool
    reference_rows: int
    current_rows: int
    reference_null_share: float
    current_null_share: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DriftResult:
    """Every watched column, the score, and whether the data as a whole drifted."""

    features: list[ColumnDrift]
    score: ColumnDrift | None
    share: float | None  # drifted / tested columns (None: nothing could be tested)
    drift_detected: bool

    @property
    def drifted_features(self) -> list[str]:
        return [c.column for c in self.features if c.drifted]


def compare_columns(
    reference: dict[str, tuple[str, np.ndarray]],
    current: dict[str, np.ndarray],
    policy: Monitoring,
    seed: int,
) -> list[ColumnDrift]:
    """Each reference column against the same column of ``current`` (absent: ``missing``)."""
    return [
        compare(name, kind, values, current.get(name), policy, seed)
        for name, (kind, values) in reference.items()
    ]


def compare(
    name: str,
    kind: str,
    reference: np.ndarray,
    current: np.ndarray | None,
    policy: Monitoring,
    seed: int,
) -> ColumnDrift:
    """One column: seeded samples of both sides, then the policy's statistic for its kind."""
    test = policy.numeric if kind == NUMERIC else policy.categorical
    ref = _present(kind, reference)
    cur = _present(kind, current) if current is not None else np.empty(0)

    def result(status: str, value: float | None, drifted: bool) -> ColumnDrift:
        return ColumnDrift(
            name, kind, status, test.statistic.value, test.threshold, value, drifted,
            len(ref), len(cur), _null_share(reference, ref),
            1.0 if current is None else _null_share(current, cur),
        )  # fmt: skip

    if current is None:
        return result("missing", None, True)
    if len(cur) == 0 and len(ref) > 0:
        return result("all_null", None, True)
    if min(len(ref), len(cur)) < policy.min_rows:
        return result("insufficient_data", None, False)
    ref = ref[sample_positions(len(ref), policy.sample_rows, seed)]
    cur = cur[sample_positions(len(cur), policy.sample_rows, seed + 1)]
    value = statistic(test, kind, ref, cur)
    return result("tested", value, test.drifted(value))


def summarize(
    features: list[ColumnDrift], score: ColumnDrift | None, policy: Monitoring
) -> DriftResult:
    """Dataset drift: at least ``policy.drift_share`` of the tested columns drifted."""
    columns = [*features, *([score] if score is not None else [])]
    tested = [c for c in columns if c.status != "insufficient_data"]
    share = sum(c.drifted for c in tested) / len(tested) if tested else None
    return DriftResult(features, score, share, share is not None and share >= policy.drift_share)


def statistic(test: DriftTest, kind: str, ref: np.ndarray, cur: np.ndarray) -> float:
    """The value of ``test.statistic`` between two samples of non-null values."""
    name = test.statistic
    if kind == NUMERIC and name == Statistic.KS:
        return float(stats.ks_2samp(ref, cur).pvalue)
    if kind == NUMERIC and name == Statistic.WASSERSTEIN:
        spread = float(np.std(ref)) or 1.0  # in reference standard deviations
        return float(stats.wasserstein_distance(ref, cur) / spread)
    ref_counts, cur_counts = binned_counts(kind, ref, cur)
    p, q = _shares(ref_counts), _shares(cur_counts)
    if name == Statistic.PSI:
        return float(np.sum((q - p) * np.log(q / p)))
    if name == Statistic.JENSEN_SHANNON:
        return float(jensenshannon(p, q, base=2))
    if len(ref_counts) < 2:
        return 1.0  # one category on both sides: nothing to compare
    # chi-squared test of homogeneity: both samples' counts in one 2 x k table
    return float(stats.chi2_contingency(np.vstack([ref_counts, cur_counts])).pvalue)


def binned_counts(kind: str, ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both samples over the reference's quantile bins (numeric) or categories."""
    if kind == NUMERIC:
        inner = bin_edges(ref)
        p = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=len(inner) + 1)
        q = np.bincount(np.searchsorted(inner, cur, side="right"), minlength=len(inner) + 1)
    else:
        categories = sorted(set(ref) | set(cur))
        index = {c: i for i, c in enumerate(categories)}
        p = np.bincount([index[v] for v in ref], minlength=len(categories))
        q = np.bincount([index[v] for v in cur], minlength=len(categories))
    return p, q


def bin_edges(reference: np.ndarray) -> np.ndarray:
    """Inner edges of the bins of a numeric column: the reference's deciles, or midpoints
    between its values when it has no more than ``BINS`` of them (flags, small counts).

    The outer bins are open-ended, so recent values beyond the reference's range count.
    """
    values = np.unique(reference)
    if len(values) <= BINS:
        return (values[:-1] + values[1:]) / 2
    return np.unique(np.quantile(reference, np.linspace(0, 1, BINS + 1)))[1:-1]


def _shares(counts: np.ndarray) -> np.ndarray:
    """Shares of the counts, each floored at ``EPS`` (then renormalised)."""
    floored = np.maximum(counts / counts.sum(), EPS)
    return floored / floored.sum()


def _present(kind: str, values: np.ndarray) -> np.ndarray:
    """The non-null values: floats for numeric columns, strings for categorical ones."""
    if kind == NUMERIC:
        floats = pd.to_numeric(pd.Series(values), errors="coerce").astype(float).to_numpy()
        return floats[np.isfinite(floats)]
    series = pd.Series(values, dtype=object)
    return series[series.notna()].astype(str).to_numpy()


def _null_share(values: np.ndarray, present: np.ndarray) -> float:
    return float(1 - len(present) / len(values)) if len(values) else 1.0
