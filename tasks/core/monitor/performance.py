"""The champion's primary metric on rows whose labels have matured, with its interval (pure).

Degraded means the interval's upper bound lies below a limit: the absolute floor, or the
champion's own holdout metric less ``max_relative_drop`` of it (for metrics where lower is
better, mirrored). So a noisy small sample does not raise a false alarm, and a real drop
is named with both figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from schemas.monitoring import Monitoring
from schemas.specs import metric_direction
from tasks.core.gate.bootstrap import Interval, bootstrap_interval, paired_bootstrap
from tasks.core.gate.metrics import BINARY_FUNCS
from tasks.core.gate.ranking_metrics import weighted_mean
from tasks.core.sampling import sample_positions


@dataclass(frozen=True)
class Matured:
    """What the metric is computed on: binary rows (labels, scores) or ranking users."""

    labels: np.ndarray  # binary: 0/1 per row; ranking: unused (zeros, one per user)
    scores: np.ndarray  # binary: probability per row; ranking: per-user metric values
    unit: str  # rows | users
    total: int | None = None  # matured rows before a seeded sample was taken (None: these)

    @property
    def count(self) -> int:
        return len(self.scores) if self.total is None else self.total


@dataclass(frozen=True)
class Performance:
    """The matured-label metric, its interval, the limits it was held to, and the verdict."""

    status: str  # measured | insufficient_data
    metric: str
    rows: int
    value: float | None
    interval: dict[str, Any] | None
    reference_value: float | None  # the champion's own holdout metric
    floor: float | None
    relative_limit: float | None
    degraded: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(
    metric: str,
    matured: Matured,
    reference_value: float | None,
    floor: float | None,
    policy: Monitoring,
    seed: int,
) -> Performance:
    """The metric on ``matured`` and whether it shows the champion degraded."""
    n = matured.count
    relative = _relative_limit(metric, reference_value, policy.max_relative_drop)

    def result(status: str, iv: Interval | None, degraded: bool, reason: str) -> Performance:
        value, interval = (iv.estimate, iv.to_dict()) if iv is not None else (None, None)
        return Performance(
            status, metric, n, value, interval, reference_value, floor, relative, degraded, reason
        )

    if n < policy.min_matured_rows:
        reason = f"{n} {matured.unit} with matured labels (needs {policy.min_matured_rows})"
        return result("insufficient_data", None, False, reason)
    keep = sample_positions(len(matured.scores), policy.max_matured_rows, seed)
    fn = _metric_fn(metric, matured.unit)
    iv = bootstrap_interval(
        fn, matured.labels[keep], matured.scores[keep], resamples=policy.bootstrap_resamples,
        confidence=policy.confidence, seed=seed, unit=matured.unit,
    )  # fmt: skip
    return result("measured", iv, *_verdict(metric, iv, floor, relative))


def compare_previous(
    metric: str, current: Matured, previous: Matured, policy: Monitoring, seed: int
) -> Interval:
    """Paired interval of previous - current champion on the same matured rows (or users)."""
    fn = _metric_fn(metric, current.unit)
    sign = metric_direction(metric)
    keep = sample_positions(len(current.scores), policy.max_matured_rows, seed)
    iv = paired_bootstrap(
        fn, current.labels[keep], previous.scores[keep], current.scores[keep],
        resamples=policy.bootstrap_resamples, confidence=policy.confidence, seed=seed,
        unit=current.unit,
    )  # fmt: skip
    if sign > 0:
        return iv
    # lower is better: report the improvement, so "significantly better" is always low > 0
    return Interval(-iv.estimate, -iv.high, -iv.low, iv.confidence, iv.resamples, iv.unit)


def _metric_fn(metric: str, unit: str) -> Any:
    return weighted_mean if unit == "users" else BINARY_FUNCS[metric]


def _relative_limit(metric: str, reference: float | None, drop: float) -> float | None:
    if reference is None or not math.isfinite(reference):
        return None
    return reference * (1 - drop) if metric_direction(metric) > 0 else reference * (1 + drop)


def _verdict(
    metric: str, iv: Interval, floor: float | None, relative: float | None
) -> tuple[bool, str]:
    """Degraded when the whole interval lies on the wrong side of a limit."""
    pct = round(iv.confidence * 100)
    shown = f"{metric} {iv.estimate:.4f}, {pct}% CI [{iv.low:.4f}, {iv.high:.4f}]"
    if not (math.isfinite(iv.low) and math.isfinite(iv.high)):
        return False, f"{shown}: no defined interval"
    higher = metric_direction(metric) > 0
    bound, side = (iv.high, "below") if higher else (iv.low, "above")
    limits = (("the floor", floor), ("the champion's holdout metric less the drop", relative))
    for name, limit in limits:
        if limit is not None and (bound < limit if higher else bound > limit):
            return True, f"{shown} lies {side} {name} {limit:.4f}"
    return False, f"{shown} holds"
