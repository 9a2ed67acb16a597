"""The matured-label metric and its verdict; what a monitoring run decides (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from schemas.monitoring import Monitoring
from tasks.core.gate.bootstrap import Interval
from tasks.core.monitor.decide import Cooldown, cannot_look, decide_monitoring
from tasks.core.monitor.drift import DriftResult, compare, summarize
from tasks.core.monitor.performance import Matured, compare_previous, measure

pytestmark = pytest.mark.unit
RNG = np.random.default_rng(5)
Y = (RNG.random(3000) < 0.1).astype(float)
GOOD = np.clip(Y * 0.6 + RNG.random(3000) * 0.5, 0, 1)  # separates the classes well
POOR = RNG.random(3000)  # no signal
AS_OF = pd.Timestamp("2026-10-12T00:00:00Z")


def perf(scores: np.ndarray, reference: float = 0.9, floor: float | None = 0.3, **kw: object):
    policy = Monitoring(bootstrap_resamples=200, **kw)
    return measure("pr_auc", Matured(Y, scores, "rows"), reference, floor, policy, 1)


def test_a_model_that_still_separates_the_classes_holds() -> None:
    result = perf(GOOD, reference=0.8)
    assert (result.status, result.degraded) == ("measured", False)
    assert result.interval["low"] <= result.value <= result.interval["high"]
    assert "holds" in result.reason


def test_a_model_below_its_floor_is_degraded_and_the_reason_names_the_limit() -> None:
    result = perf(POOR)
    assert result.degraded
    assert "lies below the floor 0.3000" in result.reason


def test_a_drop_relative_to_the_holdout_metric_is_degraded_without_a_floor() -> None:
    result = perf(POOR, reference=0.5, floor=None, max_relative_drop=0.2)
    assert result.relative_limit == pytest.approx(0.4)
    assert result.degraded and "holdout metric less the drop" in result.reason


def test_lower_is_better_metrics_are_mirrored() -> None:
    policy = Monitoring(bootstrap_resamples=200)
    good = measure("brier", Matured(Y, GOOD, "rows"), 0.08, 0.5, policy, 1)
    assert not good.degraded
    bad = measure("brier", Matured(Y, 1 - Y, "rows"), 0.05, 0.5, policy, 1)
    assert bad.degraded and "above" in bad.reason


def test_too_few_matured_rows_is_insufficient_not_fine() -> None:
    result = perf(GOOD[:50])
    assert (result.status, result.value, result.degraded) == ("insufficient_data", None, False)
    assert "50 rows with matured labels (needs 300)" in result.reason


def test_the_previous_champion_comparison_is_paired_and_oriented_better_is_positive() -> None:
    policy = Monitoring(bootstrap_resamples=200)
    current, previous = Matured(Y, POOR, "rows"), Matured(Y, GOOD, "rows")
    iv = compare_previous("pr_auc", current, previous, policy, 1)
    assert iv.low > 0
    lower = compare_previous("brier", current, previous, policy, 1)
    assert lower.low > 0  # lower brier for the previous one: still "better" is positive


# ---------------------------------------------------------------- decide


def drift(drifted: bool, policy: Monitoring) -> DriftResult:
    ref = RNG.normal(0, 1, 2000)
    cur = RNG.normal(2 if drifted else 0, 1, 2000)
    return summarize([compare("amount", "numeric", ref, cur, policy, 1)], None, policy)


ALL_GOOD = Interval(0.02, 0.01, 0.03, 0.95, 200, "rows")
NOT_SIGNIFICANT = Interval(0.01, -0.02, 0.04, 0.95, 200, "rows")


@pytest.mark.parametrize(
    ("drifted", "bad", "on_degradation", "previous", "status", "action", "events"),
    [
        (False, False, "retrain", None, "ok", "none", (False, False)),
        (True, False, "retrain", None, "drift", "retrain", (True, False)),
        (False, True, "retrain", None, "degraded", "retrain", (False, True)),
        (False, True, "rollback", ALL_GOOD, "degraded", "rollback", (False, True)),
        (False, True, "rollback", NOT_SIGNIFICANT, "degraded", "retrain", (False, True)),
        (False, True, "rollback", None, "degraded", "retrain", (False, True)),
        (False, True, "alert", ALL_GOOD, "degraded", "alert", (False, True)),
        (True, True, "rollback", ALL_GOOD, "degraded", "rollback", (True, True)),
    ],
)
def test_the_truth_table(
    drifted: bool,
    bad: bool,
    on_degradation: str,
    previous: Interval | None,
    status: str,
    action: str,
    events: tuple[bool, bool],
) -> None:
    policy = Monitoring(on_degradation=on_degradation, bootstrap_resamples=200)
    verdict = decide_monitoring(
        drift(drifted, policy), perf(POOR if bad else GOOD, reference=0.8), previous,
        Cooldown(), AS_OF, policy,
    )  # fmt: skip
    assert (verdict.status, verdict.action) == (status, action)
    assert (verdict.emit_drifted, verdict.emit_degraded) == events
    assert verdict.reasons


def test_the_same_drift_within_the_cooldown_asks_once() -> None:
    policy = Monitoring(cooldown_days=2)
    seen = drift(True, policy)
    first = decide_monitoring(seen, perf(GOOD, 0.8), None, Cooldown(), AS_OF, policy)
    cooldown = Cooldown(drifted_as_of=AS_OF)
    again = decide_monitoring(seen, perf(GOOD, 0.8), None, cooldown, AS_OF, policy)
    later = decide_monitoring(
        seen, perf(GOOD, 0.8), None, cooldown, AS_OF + pd.Timedelta(days=2), policy
    )

    assert (first.emit_drifted, first.action) == (True, "retrain")
    assert (again.emit_drifted, again.action, again.status) == (False, "none", "drift")
    assert "cooldown" in again.reasons[0]
    assert later.emit_drifted


def test_nothing_measurable_is_insufficient_data() -> None:
    policy = Monitoring()
    untested = summarize(
        [compare("x", "numeric", RNG.normal(size=2000), RNG.normal(size=5), policy, 1)],
        None,
        policy,
    )
    verdict = decide_monitoring(untested, perf(GOOD[:10]), None, Cooldown(), AS_OF, policy)
    assert (verdict.status, verdict.action) == ("insufficient_data", "none")


def test_a_run_that_cannot_look_says_why() -> None:
    verdict = cannot_look("champion_unverified", "sha256 mismatch for model.txt")
    assert (verdict.status, verdict.action, verdict.reasons) == (
        "champion_unverified", "none", ["sha256 mismatch for model.txt"],
    )  # fmt: skip
