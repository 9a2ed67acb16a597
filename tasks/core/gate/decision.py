"""The promotion decision: one pure function from evidence and policy to an outcome.

Nothing here measures or writes anything: the evidence is gathered elsewhere
(``tasks/core/evaluation.py``) and the outcome is acted on elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from schemas.specs import BaselineMode, GateMode, Policy, metric_direction
from tasks.core.gate.bootstrap import Interval


class Outcome(StrEnum):
    PROMOTED = "promoted"
    REJECTED = "rejected"
    PENDING_APPROVAL = "pending_approval"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class SliceMetric:
    """One metric on one slice of the holdout, for both models."""

    metric: str
    column: str
    value: str
    size: int
    challenger: float
    champion: float | None = None
    # paired bootstrap of challenger - champion on the slice's rows (binary primary metric)
    low: float | None = None
    high: float | None = None
    # one-sided bootstrap p-value of "the slice regresses by more than the guard allows"
    p_regression: float | None = None


@dataclass(frozen=True)
class BaselineEvidence:
    """A simple model scored on the same holdout as the challenger.

    ``metrics`` carries the same metric names as the challenger's; ``interval`` is the
    paired bootstrap of challenger - baseline on the primary metric (None when the
    difference was not resampled).
    """

    name: str  # e.g. "logistic_regression", "popularity_all_time", "popularity_recent_positive"
    metrics: dict[str, float]
    interval: Interval | None = None


@dataclass(frozen=True)
class Evidence:
    """Everything measured about a challenger (and the champion on the same rows)."""

    primary_metric: str
    challenger: dict[str, float]
    fingerprint: str
    champion: dict[str, float] | None = None
    interval: Interval | None = None
    slices: list[SliceMetric] = field(default_factory=list)
    calibration_error: float | None = None
    latency_p99_ms: float | None = None
    model_bytes: int | None = None
    robustness_shift: float | None = None
    baselines: list[BaselineEvidence] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # e.g. candidate recall
    # what the evaluation report plots (PR/ROC/reliability per model): not in the card
    curves: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("curves")
        return out

    def strongest_baseline(self) -> BaselineEvidence | None:
        """The baseline that scores best on the primary metric (None without baselines)."""
        metric = self.primary_metric
        scored = [b for b in self.baselines if math.isfinite(b.metrics.get(metric, math.nan))]
        if not scored:
            return None
        sign = metric_direction(self.primary_metric)
        return max(scored, key=lambda b: sign * b.metrics[self.primary_metric])


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str
    tested: bool = True  # False: listed for the record (a slice too small to test)

    def __post_init__(self) -> None:
        object.__setattr__(self, "passed", bool(self.passed))  # never a numpy bool


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: list[str]
    checks: list[Check] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reasons": self.reasons,
            "checks": [asdict(c) for c in self.checks],
        }


def skip(reason: str) -> Decision:
    """A decision not to train: nothing new to learn from, or not enough data."""
    return Decision(Outcome.SKIPPED, [reason])


def decide_promotion(evidence: Evidence, policy: Policy) -> Decision:
    """Decide whether the challenger replaces the champion.

    Floors always apply. With a champion, the paired interval of the primary
    metric must clear the gate (non-inferiority: lower bound above -margin;
    superiority: lower bound above +margin), and no guard may fail.
    Every failed check is named in the reasons.
    """
    checks = _floor_checks(evidence, policy)
    if evidence.champion is not None:
        checks.append(_gate_check(evidence, policy))
        checks += _slice_checks(evidence, policy)
    checks += _guard_checks(evidence, policy)
    checks += _baseline_check(evidence, policy)
    failed = [c for c in checks if not c.passed]
    if failed:
        return Decision(Outcome.REJECTED, [f"{c.name}: {c.detail}" for c in failed], checks)
    if evidence.champion is None:
        reasons = ["no champion yet: every floor and guard passed"]
    else:
        reasons = [next(c.detail for c in checks if c.name == "gate")]
    if policy.approval.required:
        return Decision(Outcome.PENDING_APPROVAL, [*reasons, "policy requires approval"], checks)
    return Decision(Outcome.PROMOTED, reasons, checks)


def _better_or_equal(metric: str, value: float, bound: float) -> bool:
    return value >= bound if metric_direction(metric) > 0 else value <= bound


def _floor_checks(evidence: Evidence, policy: Policy) -> list[Check]:
    checks = []
    for metric, floor in policy.floors.items():
        value = evidence.challenger.get(metric, math.nan)
        ok = math.isfinite(value) and _better_or_equal(metric, value, floor)
        sign = ">=" if metric_direction(metric) > 0 else "<="
        checks.append(Check(f"floor {metric}", ok, f"{value:.4f} (needs {sign} {floor})"))
    return checks


def _gate_check(evidence: Evidence, policy: Policy) -> Check:
    metric, iv = policy.primary_metric, evidence.interval
    if iv is None or not (math.isfinite(iv.low) and math.isfinite(iv.high)):
        return Check("gate", False, f"{metric} difference has no defined interval (empty holdout?)")
    direction = metric_direction(metric)
    low = iv.low if direction > 0 else -iv.high
    estimate = direction * iv.estimate
    bound = -policy.margin if policy.mode == GateMode.NON_INFERIORITY else policy.margin
    ok = low > bound
    pct = round(iv.confidence * 100)
    detail = (
        f"{policy.mode.value}: {metric} improvement {estimate:+.4f}, "
        f"{pct}% CI lower bound {low:+.4f} {'>' if ok else '<='} {bound:+.4f}"
    )
    if iv.sample is not None:
        detail += f" (bootstrap of {iv.sample[0]:,} of {iv.sample[1]:,} rows, rescaled)"
    return Check("gate", ok, detail)


def _slice_checks(evidence: Evidence, policy: Policy) -> list[Check]:
    """Per-slice regressions of the primary metric.

    With bootstrap p-values (binary models): a slice fails when its regression beyond
    ``max_regression`` is significant after Holm's step-down correction across the slices
    tested; its interval is shown. Without (point estimates only): when the estimated
    drop exceeds the limit. Slices below ``min_size`` are listed as not tested.
    """
    guard = policy.guards.slices
    if guard is None:
        return []
    metric, checks, tested = policy.primary_metric, [], []
    for s in evidence.slices:
        if s.metric != metric or s.column not in guard.columns or s.champion is None:
            continue
        if not (math.isfinite(s.challenger) and math.isfinite(s.champion)):
            continue
        if s.size < guard.min_size:
            detail = f"not tested: {s.size} rows (min_size {guard.min_size})"
            checks.append(Check(f"slice {s.column}={s.value}", True, detail, tested=False))
        else:
            tested.append(s)
    return _holm(tested, policy) + checks


def _holm(slices: list[SliceMetric], policy: Policy) -> list[Check]:
    guard = policy.guards.slices
    assert guard is not None  # noqa: S101 - checked by the caller
    alpha, metric = 1 - policy.confidence, policy.primary_metric
    ordered = sorted(slices, key=lambda s: (s.p_regression is None, s.p_regression or 0.0))
    k, still_rejecting, out = sum(s.p_regression is not None for s in slices), True, []
    for i, s in enumerate(ordered):
        drop = metric_direction(metric) * (s.champion - s.challenger)  # type: ignore[operator]
        head = f"{metric} {s.challenger:.4f} vs champion {s.champion:.4f} on {s.size} rows"
        if s.p_regression is None or s.low is None or s.high is None:
            ok = drop <= guard.max_regression
            out.append(Check(f"slice {s.column}={s.value}", ok,
                             f"{head} (max regression {guard.max_regression})"))  # fmt: skip
            continue
        level = alpha / (k - i)
        still_rejecting = still_rejecting and s.p_regression <= level
        verdict = "significant" if still_rejecting else "not significant"
        detail = (
            f"{head}, difference {s.challenger - s.champion:+.4f}"  # type: ignore[operator]
            f" [{s.low:+.4f}, {s.high:+.4f}]; a regression beyond {guard.max_regression} is"
            f" {verdict} (p={s.p_regression:.4f}, Holm level {level:.4f} over {k} slices)"
        )
        out.append(Check(f"slice {s.column}={s.value}", not still_rejecting, detail))
    return out


def _guard_checks(evidence: Evidence, policy: Policy) -> list[Check]:
    guards, checks = policy.guards, []
    if guards.fairness is not None:
        checks += _fairness_check(evidence, policy)
    limits = [
        ("calibration", evidence.calibration_error, guards.max_calibration_error, "ECE"),
        ("latency", evidence.latency_p99_ms, guards.max_latency_p99_ms, "p99 ms"),
        ("size", evidence.model_bytes, guards.max_model_bytes, "bytes"),
        (
            "robustness",
            evidence.robustness_shift,
            guards.robustness.max_mean_shift if guards.robustness else None,
            "mean score shift",
        ),
    ]
    for name, value, limit, unit in limits:
        if limit is None or value is None:
            continue
        ok = math.isfinite(value) and value <= limit
        checks.append(Check(name, ok, f"{unit} {value:.4g} (limit {limit:.4g})"))
    return checks


def _fairness_check(evidence: Evidence, policy: Policy) -> list[Check]:
    guard = policy.guards.fairness
    if guard is None:
        return []
    rows = [
        s
        for s in evidence.slices
        if s.metric == guard.metric and s.column == guard.column and s.size >= guard.min_size
    ]
    chal = [s.challenger for s in rows if math.isfinite(s.challenger)]
    if len(chal) < 2:
        return []
    gap = max(chal) - min(chal)
    champ = [s.champion for s in rows if s.champion is not None and math.isfinite(s.champion)]
    champ_gap = max(champ) - min(champ) if len(champ) >= 2 else None
    ok = gap <= guard.max_gap or (champ_gap is not None and gap <= champ_gap)
    versus = f", champion gap {champ_gap:.4f}" if champ_gap is not None else ""
    detail = f"{guard.metric} gap across {guard.column} {gap:.4f} (max {guard.max_gap}{versus})"
    return [Check(f"fairness {guard.column}", ok, detail)]


def _baseline_check(evidence: Evidence, policy: Policy) -> list[Check]:
    """The challenger against the strongest baseline, on the same rows.

    ``report``: listed for the record (not tested). ``must_beat``: the lower bound of the
    paired interval of challenger - baseline must be above ``margin``; otherwise the
    challenger "adds nothing over" that baseline.
    """
    best = evidence.strongest_baseline()
    if best is None:
        return []
    metric, iv, margin = policy.primary_metric, best.interval, policy.baseline.margin
    report = policy.baseline.mode == BaselineMode.REPORT
    value = evidence.challenger.get(metric, math.nan)
    head = f"{metric} {value:.4f} vs {best.name} {best.metrics[metric]:.4f}"
    if iv is None or not (math.isfinite(iv.low) and math.isfinite(iv.high)):
        detail = f"{head}; the difference has no defined interval"
    else:
        direction = metric_direction(metric)
        low = iv.low if direction > 0 else -iv.high
        detail = (
            f"{head}; improvement {direction * iv.estimate:+.4f},"
            f" {round(iv.confidence * 100)}% CI lower bound {low:+.4f}"
        )
        if not report and low > margin:
            return [Check("baseline", True, f"beats {best.name}: {detail} > {margin:+.4f}")]
    if report:
        return [Check("baseline", True, f"report only (policy baseline.mode): {detail}", False)]
    return [Check("baseline", False, f"adds nothing over {best.name}: {detail} (margin {margin})")]
