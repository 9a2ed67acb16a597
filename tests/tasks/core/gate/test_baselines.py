"""The baseline check of decide_promotion: report or must_beat against the strongest baseline."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from schemas.specs import BaselineMode, BaselinePolicy, Policy
from tasks.core.gate.bootstrap import Interval
from tasks.core.gate.decision import BaselineEvidence, Evidence, Outcome, decide_promotion

pytestmark = pytest.mark.unit

GOOD = {"pr_auc": 0.40, "roc_auc": 0.90, "log_loss": 0.10, "brier": 0.03}


def policy(mode: str = "must_beat", margin: float = 0.0, metric: str = "pr_auc") -> Policy:
    return Policy(
        primary_metric=metric,
        floors={metric: 0.15} if metric == "pr_auc" else {},
        baseline=BaselinePolicy(mode=BaselineMode(mode), margin=margin),
    )


def iv(low: float, high: float) -> Interval:
    return Interval((low + high) / 2, low, high, 0.95, 1000, "rows")


def evidence(*baselines: BaselineEvidence, primary: str = "pr_auc") -> Evidence:
    return Evidence(primary, dict(GOOD), "f" * 64, baselines=list(baselines))


LINEAR = BaselineEvidence("logistic_regression", {**GOOD, "pr_auc": 0.39}, iv(-0.02, 0.04))
WEAK = BaselineEvidence("popularity", {**GOOD, "pr_auc": 0.10}, iv(0.20, 0.40))


def baseline_check(d: Any) -> Any:
    [check] = [c for c in d.checks if c.name == "baseline"]
    return check


def test_must_beat_rejects_a_challenger_no_better_than_the_strongest_baseline() -> None:
    d = decide_promotion(evidence(WEAK, LINEAR), policy())

    assert d.outcome == Outcome.REJECTED
    assert d.reasons == [
        "baseline: adds nothing over logistic_regression: pr_auc 0.4000 vs logistic_regression"
        " 0.3900; improvement +0.0100, 95% CI lower bound -0.0200 (margin 0.0)"
    ]
    assert baseline_check(d).tested


def test_must_beat_promotes_a_challenger_clear_of_the_baseline_by_the_margin() -> None:
    clear = BaselineEvidence("logistic_regression", {"pr_auc": 0.30}, iv(0.06, 0.14))

    d = decide_promotion(evidence(clear), policy(margin=0.05))

    assert d.outcome == Outcome.PROMOTED
    check = baseline_check(d)
    assert check.passed and check.detail.startswith("beats logistic_regression:")
    assert "lower bound +0.0600 > +0.0500" in check.detail


@pytest.mark.parametrize("margin", [0.06, 0.10])
def test_a_lower_bound_at_or_under_the_margin_does_not_clear_it(margin: float) -> None:
    barely = BaselineEvidence("logistic_regression", {"pr_auc": 0.30}, iv(0.06, 0.14))

    d = decide_promotion(evidence(barely), policy(margin=margin))

    assert d.outcome == Outcome.REJECTED
    assert "adds nothing over logistic_regression" in d.reasons[0]


def test_report_mode_names_the_baseline_but_never_rejects() -> None:
    d = decide_promotion(evidence(WEAK, LINEAR), policy(mode="report"))

    assert d.outcome == Outcome.PROMOTED
    check = baseline_check(d)
    assert check.passed and not check.tested
    assert check.detail.startswith("report only (policy baseline.mode):")
    assert "logistic_regression" in check.detail and "popularity" not in check.detail


def test_the_default_policy_reports() -> None:
    default = Policy(primary_metric="pr_auc")
    assert default.baseline.mode == BaselineMode.REPORT and default.baseline.margin == 0.0
    assert decide_promotion(evidence(LINEAR), default).outcome == Outcome.PROMOTED


def test_no_baseline_no_check() -> None:
    d = decide_promotion(evidence(), policy())
    assert "baseline" not in {c.name for c in d.checks}
    assert d.outcome == Outcome.PROMOTED


def test_must_beat_without_an_interval_rejects_and_says_why() -> None:
    unresampled = BaselineEvidence("logistic_regression", {"pr_auc": 0.2})
    undefined = BaselineEvidence("logistic_regression", {"pr_auc": 0.2}, iv(math.nan, math.nan))

    for base in (unresampled, undefined):
        d = decide_promotion(evidence(base), policy())
        assert d.outcome == Outcome.REJECTED
        assert "no defined interval" in d.reasons[0]
    assert decide_promotion(evidence(unresampled), policy(mode="report")).outcome == (
        Outcome.PROMOTED
    )


def test_lower_is_better_reads_the_upper_bound() -> None:
    """log_loss: challenger - baseline must be below -margin (its upper bound, negated)."""
    better = BaselineEvidence("logistic_regression", {**GOOD, "log_loss": 0.2}, iv(-0.12, -0.08))
    worse = BaselineEvidence("logistic_regression", {**GOOD, "log_loss": 0.09}, iv(-0.03, 0.01))

    ok = decide_promotion(
        evidence(better, primary="log_loss"), policy(margin=0.05, metric="log_loss")
    )
    bad = decide_promotion(evidence(worse, primary="log_loss"), policy(metric="log_loss"))
    assert ok.outcome == Outcome.PROMOTED and "lower bound +0.0800" in baseline_check(ok).detail
    assert bad.outcome == Outcome.REJECTED


def test_a_baseline_without_the_primary_metric_is_never_the_strongest() -> None:
    nan = BaselineEvidence("broken", {"pr_auc": math.nan}, iv(0.5, 0.6))
    d = decide_promotion(evidence(nan, LINEAR), policy())
    assert "adds nothing over logistic_regression" in d.reasons[0]


def test_the_check_serialises_with_real_booleans() -> None:
    d = decide_promotion(evidence(LINEAR), policy(mode="report"))
    doc = json.loads(json.dumps(d.to_dict()))
    check = next(c for c in doc["checks"] if c["name"] == "baseline")
    assert check["passed"] is True and check["tested"] is False
