"""What a monitoring run concludes and does: one pure function over its measurements.

Drift beyond policy asks for a retraining through ``retrain.model.drifted``, at most once
per cooldown (on the data's clock). Degradation on matured labels emits
``retrain.model.degraded`` with the action taken: roll back (only when the previous
champion is significantly better on the same matured rows), retrain, or alert only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from schemas.monitoring import Monitoring
from tasks.core.gate.bootstrap import Interval
from tasks.core.monitor.drift import DriftResult
from tasks.core.monitor.performance import Performance

# Outcomes that mean the run could not look (each is reported, none is "no drift").
NO_CHAMPION, UNVERIFIED, OUTDATED = "no_champion", "champion_unverified", "reference_outdated"
INSUFFICIENT = "insufficient_data"


@dataclass(frozen=True)
class Cooldown:
    """When (on the data's clock) this model last emitted each monitoring event."""

    drifted_as_of: pd.Timestamp | None = None
    degraded_as_of: pd.Timestamp | None = None


@dataclass(frozen=True)
class Verdict:
    """The run's status, the action, the events to emit, and every reason."""

    status: str  # ok | drift | degraded | insufficient_data | no_champion | ...
    action: str  # none | retrain | rollback | alert
    emit_drifted: bool = False
    emit_degraded: bool = False
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cannot_look(status: str, reason: str) -> Verdict:
    """A run that could not compare anything (no champion, damaged artifacts, old format)."""
    return Verdict(status, "none", reasons=[reason])


def decide_monitoring(
    drift: DriftResult,
    performance: Performance,
    previous: Interval | None,
    cooldown: Cooldown,
    as_of: pd.Timestamp,
    policy: Monitoring,
) -> Verdict:
    """The verdict of one monitoring run.

    Args:
        previous: paired interval (previous - current champion) on the matured rows,
            oriented so that ``low > 0`` means the previous one is significantly better;
            None when there is no previous champion to compare.
        cooldown: when the events were last emitted; ``as_of`` is this run's data clock.
    """
    reasons: list[str] = []
    drift_event = drift.drift_detected and _cooled(cooldown.drifted_as_of, as_of, policy)
    if drift.drift_detected:
        reasons.append(_drift_reason(drift, policy, drift_event, cooldown.drifted_as_of))
    reasons.append(f"matured labels: {performance.reason}")
    if performance.degraded:
        action, why = _degradation_action(previous, policy)
        reasons.append(why)
        degraded_event = _cooled(cooldown.degraded_as_of, as_of, policy)
        if not degraded_event:
            reasons.append(f"degradation already reported at data time {cooldown.degraded_as_of}")
        return Verdict("degraded", action, drift_event, degraded_event, reasons)
    if drift.drift_detected:
        return Verdict("drift", "retrain" if drift_event else "none", drift_event, False, reasons)
    if drift.share is None and performance.status == INSUFFICIENT:
        return Verdict(INSUFFICIENT, "none", reasons=reasons)
    return Verdict("ok", "none", reasons=reasons)


def _cooled(last: pd.Timestamp | None, as_of: pd.Timestamp, policy: Monitoring) -> bool:
    return last is None or as_of - last >= pd.Timedelta(days=policy.cooldown_days)


def _drift_reason(
    drift: DriftResult, policy: Monitoring, emitted: bool, last: pd.Timestamp | None
) -> str:
    named = ", ".join(
        drift.drifted_features + (["score"] if drift.score and drift.score.drifted else [])
    )
    share = drift.share or 0.0
    text = f"drift in {named} ({share:.0%} of tested columns, policy {policy.drift_share:.0%})"
    if emitted:
        return f"{text}: retraining requested"
    return f"{text}: within the {policy.cooldown_days:g}-day cooldown of the drift at {last}"


def _degradation_action(previous: Interval | None, policy: Monitoring) -> tuple[str, str]:
    if policy.on_degradation == "alert":
        return "alert", "degraded: alert only (monitoring.on_degradation: alert)"
    if policy.on_degradation == "retrain":
        return "retrain", "degraded: retraining requested"
    if previous is None:
        return "retrain", "degraded: no previous champion to roll back to, retraining instead"
    shown = (
        f"previous - current {previous.estimate:+.4f} [{previous.low:+.4f}, {previous.high:+.4f}]"
    )
    if previous.low > 0:
        return "rollback", f"degraded: the previous champion is significantly better ({shown})"
    return "retrain", f"degraded: the previous champion is not significantly better ({shown})"
