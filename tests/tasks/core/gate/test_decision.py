"""Truth table of decide_promotion: every outcome, every guard, every failed check named."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import pytest

from schemas.specs import (
    Approval,
    FairnessGuard,
    GateMode,
    Guards,
    Policy,
    RobustnessGuard,
    SliceGuard,
)
from tasks.core.gate.bootstrap import Interval
from tasks.core.gate.decision import (
    Decision,
    Evidence,
    Outcome,
    SliceMetric,
    decide_promotion,
    skip,
)

pytestmark = pytest.mark.unit

GOOD = {"pr_auc": 0.40, "roc_auc": 0.90, "log_loss": 0.10, "brier": 0.03}


def policy(**kw: Any) -> Policy:
    base: dict[str, Any] = {
        "primary_metric": "pr_auc",
        "mode": GateMode.NON_INFERIORITY,
        "margin": 0.02,
        "floors": {"pr_auc": 0.15, "roc_auc": 0.75},
    }
    return Policy(**{**base, **kw})


def interval(low: float, high: float, estimate: float | None = None) -> Interval:
    mid = (low + high) / 2 if estimate is None else estimate
    return Interval(mid, low, high, 0.95, 1000, "rows")


def evidence(
    champion: dict[str, float] | None = None,
    iv: Interval | None = None,
    **kw: Any,
) -> Evidence:
    base: dict[str, Any] = {
        "primary_metric": kw.pop("primary_metric", "pr_auc"),
        "challenger": kw.pop("challenger", dict(GOOD)),
        "fingerprint": "f" * 64,
        "champion": champion,
        "interval": iv,
    }
    return Evidence(**base, **kw)


def with_champion(low: float = 0.001, high: float = 0.03, **kw: Any) -> Evidence:
    """A challenger slightly better than the champion (interval clear of zero)."""
    return evidence(champion=dict(GOOD), iv=interval(low, high), **kw)


def failed(decision: Decision) -> set[str]:
    return {c.name for c in decision.checks if not c.passed}


def named(decision: Decision, name: str) -> bool:
    return any(r.startswith(f"{name}:") for r in decision.reasons)


# -- no champion: floors only ---------------------------------------------------------


def test_first_model_passing_floors_is_promoted() -> None:
    d = decide_promotion(evidence(), policy())
    assert d.outcome == Outcome.PROMOTED
    assert failed(d) == set()
    assert "gate" not in {c.name for c in d.checks}  # nothing to compare against
    assert {"floor pr_auc", "floor roc_auc"} <= {c.name for c in d.checks}
    assert "no champion" in d.reasons[0]


@pytest.mark.parametrize(
    ("metric", "value"),
    [("pr_auc", 0.10), ("roc_auc", 0.70), ("roc_auc", math.nan)],
    ids=["pr_auc_low", "roc_auc_low", "roc_auc_nan"],
)
def test_first_model_failing_a_floor_is_rejected_naming_it(metric: str, value: float) -> None:
    d = decide_promotion(evidence(challenger={**GOOD, metric: value}), policy())
    assert d.outcome == Outcome.REJECTED
    assert failed(d) == {f"floor {metric}"}
    assert len(d.reasons) == 1
    assert d.reasons[0].startswith(f"floor {metric}:")


def test_floor_on_a_metric_the_challenger_lacks_fails() -> None:
    challenger = {"pr_auc": 0.4}
    d = decide_promotion(evidence(challenger=challenger), policy())
    assert d.outcome == Outcome.REJECTED
    assert named(d, "floor roc_auc")


def test_floor_exactly_met_passes() -> None:
    d = decide_promotion(
        evidence(challenger={**GOOD, "pr_auc": 0.25}), policy(floors={"pr_auc": 0.25})
    )
    assert d.outcome == Outcome.PROMOTED


@pytest.mark.parametrize(("value", "outcome"), [(0.20, Outcome.PROMOTED), (0.40, Outcome.REJECTED)])
def test_floor_on_lower_is_better_metric_is_a_ceiling(value: float, outcome: Outcome) -> None:
    d = decide_promotion(
        evidence(challenger={**GOOD, "log_loss": value}), policy(floors={"log_loss": 0.30})
    )
    assert d.outcome == outcome
    if outcome == Outcome.REJECTED:
        assert named(d, "floor log_loss")
        assert "<= 0.3" in d.reasons[0]


def test_floors_still_apply_with_a_champion() -> None:
    ev = evidence(challenger={**GOOD, "roc_auc": 0.5}, champion=dict(GOOD), iv=interval(0.01, 0.05))
    d = decide_promotion(ev, policy())
    assert d.outcome == Outcome.REJECTED
    assert failed(d) == {"floor roc_auc"}


# -- the gate --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "low", "high", "outcome"),
    [
        # tie within noise: straddles 0, lower bound above -margin (0.02)
        (GateMode.NON_INFERIORITY, -0.01, 0.012, Outcome.PROMOTED),
        (GateMode.SUPERIORITY, -0.01, 0.012, Outcome.REJECTED),
        # clearly better
        (GateMode.NON_INFERIORITY, 0.03, 0.08, Outcome.PROMOTED),
        (GateMode.SUPERIORITY, 0.03, 0.08, Outcome.PROMOTED),
        # better but not by the superiority margin
        (GateMode.SUPERIORITY, 0.01, 0.08, Outcome.REJECTED),
        # worse than the non-inferiority margin allows
        (GateMode.NON_INFERIORITY, -0.03, 0.01, Outcome.REJECTED),
        # clearly worse
        (GateMode.NON_INFERIORITY, -0.12, -0.05, Outcome.REJECTED),
        (GateMode.SUPERIORITY, -0.12, -0.05, Outcome.REJECTED),
    ],
)
def test_gate_truth_table(mode: GateMode, low: float, high: float, outcome: Outcome) -> None:
    d = decide_promotion(with_champion(low, high), policy(mode=mode))
    assert d.outcome == outcome
    if outcome == Outcome.REJECTED:
        assert failed(d) == {"gate"}
        assert named(d, "gate")
        assert mode.value in d.reasons[0]
    else:
        assert d.reasons == [next(c.detail for c in d.checks if c.name == "gate")]


def test_gate_bound_is_strict() -> None:
    """A lower bound exactly at -margin does not clear non-inferiority."""
    d = decide_promotion(with_champion(-0.25, 0.1), policy(margin=0.25))
    assert d.outcome == Outcome.REJECTED
    assert named(d, "gate")


def test_superiority_with_zero_margin_needs_positive_lower_bound() -> None:
    p = policy(mode=GateMode.SUPERIORITY, margin=0.0)
    assert decide_promotion(with_champion(0.0001, 0.02), p).outcome == Outcome.PROMOTED
    assert decide_promotion(with_champion(0.0, 0.02), p).outcome == Outcome.REJECTED


@pytest.mark.parametrize(
    "iv",
    [None, interval(math.nan, math.nan), interval(-0.01, math.nan), interval(-math.inf, 0.1)],
    ids=["missing", "nan", "nan_high", "inf_low"],
)
def test_undefined_interval_is_rejected(iv: Interval | None) -> None:
    d = decide_promotion(evidence(champion=dict(GOOD), iv=iv), policy())
    assert d.outcome == Outcome.REJECTED
    assert failed(d) == {"gate"}
    assert "no defined interval" in d.reasons[0]


@pytest.mark.parametrize(
    ("mode", "low", "high", "outcome"),
    [
        # log loss fell by 0.02..0.06: an improvement of at least 0.02
        (GateMode.SUPERIORITY, -0.06, -0.02, Outcome.PROMOTED),
        # log loss rose by 0.02..0.06: worse
        (GateMode.SUPERIORITY, 0.02, 0.06, Outcome.REJECTED),
        (GateMode.NON_INFERIORITY, 0.02, 0.06, Outcome.REJECTED),
        # tiny rise within the margin (0.01 allowed): non-inferior, not superior
        (GateMode.NON_INFERIORITY, -0.005, 0.008, Outcome.PROMOTED),
        (GateMode.SUPERIORITY, -0.005, 0.008, Outcome.REJECTED),
    ],
)
def test_lower_is_better_primary_metric_sign(
    mode: GateMode, low: float, high: float, outcome: Outcome
) -> None:
    p = policy(primary_metric="log_loss", mode=mode, margin=0.01, floors={})
    ev = evidence(primary_metric="log_loss", champion=dict(GOOD), iv=interval(low, high))
    d = decide_promotion(ev, p)
    assert d.outcome == outcome
    gate = next(c for c in d.checks if c.name == "gate")
    # the detail speaks of improvement: positive when log loss went down
    improvement = -(low + high) / 2
    assert f"improvement {improvement:+.4f}" in gate.detail


# -- slices ----------------------------------------------------------------------------

SLICE_GUARD = SliceGuard(columns=["channel", "age_band"], min_size=300, max_regression=0.1)


def slice_(value: str, chal: float, champ: float | None, size: int = 500, **kw: Any) -> SliceMetric:
    return SliceMetric(
        kw.get("metric", "pr_auc"), kw.get("column", "channel"), value, size, chal, champ
    )


def test_better_overall_but_slice_regresses_is_rejected_naming_slice() -> None:
    slices = [slice_("online", 0.50, 0.45), slice_("atm", 0.20, 0.40), slice_("pos", 0.4, 0.4)]
    d = decide_promotion(
        with_champion(0.02, 0.06, slices=slices), policy(guards=Guards(slices=SLICE_GUARD))
    )
    assert d.outcome == Outcome.REJECTED
    assert failed(d) == {"slice channel=atm"}
    assert named(d, "slice channel=atm")
    assert "0.2000 vs champion 0.4000" in d.reasons[0]


def test_slice_regression_within_limit_passes() -> None:
    slices = [slice_("atm", 0.375, 0.5)]  # drop 0.125 (exact in binary) vs limit 0.125
    guard = SliceGuard(columns=["channel"], min_size=300, max_regression=0.125)
    d = decide_promotion(with_champion(slices=slices), policy(guards=Guards(slices=guard)))
    assert d.outcome == Outcome.PROMOTED
    assert "slice channel=atm" in {c.name for c in d.checks}


@pytest.mark.parametrize(
    ("kw", "why"),
    [
        ({"column": "country"}, "not a guarded column"),
        ({"metric": "roc_auc"}, "not the primary metric"),
    ],
)
def test_slices_outside_the_guard_are_ignored(kw: dict[str, Any], why: str) -> None:
    slices = [slice_("atm", 0.05, 0.60, **kw)]
    d = decide_promotion(with_champion(slices=slices), policy(guards=Guards(slices=SLICE_GUARD)))
    assert d.outcome == Outcome.PROMOTED, why
    assert not any(c.name.startswith("slice") for c in d.checks)


def test_a_slice_smaller_than_min_size_is_listed_as_not_tested() -> None:
    slices = [slice_("atm", 0.05, 0.60, size=299)]
    d = decide_promotion(with_champion(slices=slices), policy(guards=Guards(slices=SLICE_GUARD)))
    assert d.outcome == Outcome.PROMOTED
    (check,) = [c for c in d.checks if c.name == "slice channel=atm"]
    assert (check.tested, check.passed) == (False, True)
    assert check.detail == "not tested: 299 rows (min_size 300)"


def sig(value: str, p: float, low: float = -0.2, high: float = -0.1) -> SliceMetric:
    """A slice with a paired interval and the p-value of a regression beyond the limit."""
    return replace(slice_(value, 0.3, 0.45), low=low, high=high, p_regression=p)


def test_slices_with_intervals_fail_only_on_significant_regressions_after_holm() -> None:
    # alpha 0.05 over 3 slices: Holm levels 0.0167, 0.025, 0.05 in p order
    slices = [sig("atm", 0.001), sig("pos", 0.02), sig("online", 0.04)]
    d = decide_promotion(with_champion(slices=slices), policy(guards=Guards(slices=SLICE_GUARD)))
    assert failed(d) == {"slice channel=atm", "slice channel=pos", "slice channel=online"}
    detail = next(c.detail for c in d.checks if c.name == "slice channel=atm")
    assert named(d, "slice channel=atm")
    assert "[-0.2000, -0.1000]" in detail and "Holm level 0.0167 over 3 slices" in detail


def test_holm_stops_at_the_first_slice_it_cannot_reject() -> None:
    # p 0.02 > 0.0167: nothing is rejected, even the slice at p 0.02 < 0.025 after it
    slices = [sig("atm", 0.02), sig("pos", 0.021), sig("online", 0.5)]
    d = decide_promotion(with_champion(slices=slices), policy(guards=Guards(slices=SLICE_GUARD)))
    assert d.outcome == Outcome.PROMOTED
    assert "not significant" in next(c.detail for c in d.checks if c.name == "slice channel=atm")
    uncorrected = [sig("atm", 0.02)]  # one slice: level 0.05
    alone = decide_promotion(
        with_champion(slices=uncorrected), policy(guards=Guards(slices=SLICE_GUARD))
    )
    assert failed(alone) == {"slice channel=atm"}


def test_slice_of_exactly_min_size_is_checked() -> None:
    slices = [slice_("atm", 0.05, 0.60, size=300)]
    d = decide_promotion(with_champion(slices=slices), policy(guards=Guards(slices=SLICE_GUARD)))
    assert d.outcome == Outcome.REJECTED
    assert named(d, "slice channel=atm")


def test_slice_with_undefined_metric_is_skipped() -> None:
    slices = [slice_("atm", math.nan, 0.6), slice_("pos", 0.1, math.nan)]
    d = decide_promotion(with_champion(slices=slices), policy(guards=Guards(slices=SLICE_GUARD)))
    assert d.outcome == Outcome.PROMOTED


def test_slice_regression_for_lower_is_better_metric() -> None:
    p = policy(
        primary_metric="log_loss",
        floors={},
        guards=Guards(slices=SliceGuard(columns=["channel"], min_size=10, max_regression=0.05)),
    )
    ev_worse = evidence(
        primary_metric="log_loss",
        champion=dict(GOOD),
        iv=interval(-0.02, -0.01),
        slices=[slice_("atm", 0.30, 0.20, metric="log_loss")],  # log loss up 0.10: worse
    )
    ev_better = evidence(
        primary_metric="log_loss",
        champion=dict(GOOD),
        iv=interval(-0.02, -0.01),
        slices=[slice_("atm", 0.10, 0.30, metric="log_loss")],  # log loss down 0.20: better
    )
    assert named(decide_promotion(ev_worse, p), "slice channel=atm")
    assert decide_promotion(ev_better, p).outcome == Outcome.PROMOTED


def test_slice_guard_does_not_apply_without_champion() -> None:
    slices = [slice_("atm", 0.05, None)]
    d = decide_promotion(evidence(slices=slices), policy(guards=Guards(slices=SLICE_GUARD)))
    assert d.outcome == Outcome.PROMOTED


# -- fairness --------------------------------------------------------------------------

FAIRNESS = FairnessGuard(column="age_band", metric="roc_auc", max_gap=0.1, min_size=200)


def fair(value: str, chal: float, champ: float | None, size: int = 400) -> SliceMetric:
    return SliceMetric("roc_auc", "age_band", value, size, chal, champ)


@pytest.mark.parametrize(
    ("slices", "outcome"),
    [
        # gap 0.05 within max 0.1
        ([fair("18-25", 0.85, 0.80), fair("61+", 0.90, 0.90)], Outcome.PROMOTED),
        # gap 0.2 > max, champion's gap 0.1: wider -> rejected
        ([fair("18-25", 0.70, 0.80), fair("61+", 0.90, 0.90)], Outcome.REJECTED),
        # gap 0.2 > max, but the champion's gap was 0.25: no wider -> allowed
        ([fair("18-25", 0.70, 0.65), fair("61+", 0.90, 0.90)], Outcome.PROMOTED),
        # same gap as the champion's: no wider -> allowed
        ([fair("18-25", 0.70, 0.70), fair("61+", 0.90, 0.90)], Outcome.PROMOTED),
        # a tiny slice with a huge gap is ignored
        ([fair("18-25", 0.85, 0.85), fair("61+", 0.88, 0.88), fair("x", 0.2, 0.9, 50)],
         Outcome.PROMOTED),
    ],
    ids=["within_max", "wider_than_champion", "narrower_than_champion", "same_as_champion",
         "small_slice_ignored"],
)  # fmt: skip
def test_fairness_truth_table(slices: list[SliceMetric], outcome: Outcome) -> None:
    d = decide_promotion(with_champion(slices=slices), policy(guards=Guards(fairness=FAIRNESS)))
    assert d.outcome == outcome
    assert "fairness age_band" in {c.name for c in d.checks}
    if outcome == Outcome.REJECTED:
        assert failed(d) == {"fairness age_band"}
        assert named(d, "fairness age_band")


def test_fairness_gap_without_champion_uses_max_gap_only() -> None:
    slices = [fair("18-25", 0.70, None), fair("61+", 0.90, None)]
    d = decide_promotion(evidence(slices=slices), policy(guards=Guards(fairness=FAIRNESS)))
    assert d.outcome == Outcome.REJECTED
    assert failed(d) == {"fairness age_band"}


def test_fairness_needs_two_slices() -> None:
    slices = [fair("18-25", 0.10, 0.9)]
    d = decide_promotion(with_champion(slices=slices), policy(guards=Guards(fairness=FAIRNESS)))
    assert d.outcome == Outcome.PROMOTED


# -- budgets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guards", "field", "value", "name"),
    [
        (Guards(max_latency_p99_ms=25), "latency_p99_ms", 40.0, "latency"),
        (Guards(max_model_bytes=5_000_000), "model_bytes", 6_000_000, "size"),
        (Guards(max_calibration_error=0.05), "calibration_error", 0.08, "calibration"),
        (Guards(robustness=RobustnessGuard(max_mean_shift=0.02)), "robustness_shift", 0.05,
         "robustness"),
        (Guards(max_latency_p99_ms=25), "latency_p99_ms", math.nan, "latency"),
    ],
    ids=["latency", "size", "calibration", "robustness", "latency_nan"],
)  # fmt: skip
@pytest.mark.parametrize("has_champion", [False, True], ids=["first", "challenger"])
def test_budget_over_limit_is_rejected_naming_it(
    guards: Guards, field: str, value: float, name: str, has_champion: bool
) -> None:
    make = with_champion if has_champion else evidence
    d = decide_promotion(make(**{field: value}), policy(guards=guards))
    assert d.outcome == Outcome.REJECTED
    assert failed(d) == {name}
    assert named(d, name)


@pytest.mark.parametrize(
    ("guards", "field", "value"),
    [
        (Guards(max_latency_p99_ms=25), "latency_p99_ms", 25.0),
        (Guards(max_model_bytes=5_000_000), "model_bytes", 4_000_000),
        (Guards(max_calibration_error=0.05), "calibration_error", 0.01),
        (Guards(robustness=RobustnessGuard(max_mean_shift=0.02)), "robustness_shift", 0.001),
    ],
    ids=["latency_at_limit", "size", "calibration", "robustness"],
)
def test_budget_within_limit_passes(guards: Guards, field: str, value: float) -> None:
    d = decide_promotion(with_champion(**{field: value}), policy(guards=guards))
    assert d.outcome == Outcome.PROMOTED
    assert all(c.passed for c in d.checks)


def test_measurements_without_limits_are_not_checked() -> None:
    ev = with_champion(latency_p99_ms=1e6, model_bytes=10**12, calibration_error=0.9)
    d = decide_promotion(ev, policy())
    assert d.outcome == Outcome.PROMOTED
    assert {c.name for c in d.checks} == {"floor pr_auc", "floor roc_auc", "gate"}


# -- approval, several failures, serialisation -----------------------------------------


@pytest.mark.parametrize("has_champion", [False, True], ids=["first", "challenger"])
def test_approval_required_and_all_checks_pass_is_pending(has_champion: bool) -> None:
    ev = with_champion() if has_champion else evidence()
    d = decide_promotion(ev, policy(approval=Approval(required=True)))
    assert d.outcome == Outcome.PENDING_APPROVAL
    assert d.reasons[-1] == "policy requires approval"
    assert all(c.passed for c in d.checks)


def test_approval_required_but_a_check_fails_is_rejected() -> None:
    d = decide_promotion(with_champion(-0.2, -0.1), policy(approval=Approval(required=True)))
    assert d.outcome == Outcome.REJECTED


def test_every_failed_check_appears_in_reasons() -> None:
    p = policy(
        guards=Guards(
            slices=SLICE_GUARD,
            fairness=FAIRNESS,
            max_calibration_error=0.05,
            max_latency_p99_ms=25,
            max_model_bytes=1000,
            robustness=RobustnessGuard(max_mean_shift=0.02),
        ),
        approval=Approval(required=True),
    )
    ev = evidence(
        challenger={**GOOD, "pr_auc": 0.1, "roc_auc": 0.6},
        champion=dict(GOOD),
        iv=interval(-0.3, -0.2),
        slices=[
            slice_("atm", 0.05, 0.5),
            slice_("pos", 0.02, 0.4),
            fair("18-25", 0.5, 0.8),
            fair("61+", 0.9, 0.85),
        ],
        calibration_error=0.2,
        latency_p99_ms=100.0,
        model_bytes=5000,
        robustness_shift=0.5,
    )
    d = decide_promotion(ev, p)
    expected = {
        "floor pr_auc",
        "floor roc_auc",
        "gate",
        "slice channel=atm",
        "slice channel=pos",
        "fairness age_band",
        "calibration",
        "latency",
        "size",
        "robustness",
    }
    assert d.outcome == Outcome.REJECTED
    assert failed(d) == expected
    assert {r.split(":", 1)[0] for r in d.reasons} == expected
    assert len(d.reasons) == len(expected)


def test_decision_to_dict_is_json() -> None:
    d = decide_promotion(with_champion(-0.2, -0.1), policy())
    data = json.loads(json.dumps(d.to_dict()))
    assert data["outcome"] == "rejected"
    assert data["reasons"] == d.reasons
    assert {c["name"] for c in data["checks"]} == {"floor pr_auc", "floor roc_auc", "gate"}


def test_skip_is_a_skipped_decision_with_its_reason() -> None:
    d = skip("no new data since v3")
    assert d.outcome == Outcome.SKIPPED
    assert d.reasons == ["no new data since v3"]
    assert d.to_dict()["outcome"] == "skipped"


def test_strongest_baseline_follows_the_metric_direction() -> None:
    from tasks.core.gate.decision import BaselineEvidence

    weak = BaselineEvidence("weak", {"pr_auc": 0.2, "log_loss": 0.3})
    strong = BaselineEvidence("strong", {"pr_auc": 0.3, "log_loss": 0.4})
    unscored = BaselineEvidence("unscored", {"roc_auc": 0.99})
    assert evidence().strongest_baseline() is None
    assert evidence(baselines=[weak, strong, unscored]).strongest_baseline() == strong
    lower_better = evidence(primary_metric="log_loss", baselines=[weak, strong])
    assert lower_better.strongest_baseline() == weak
