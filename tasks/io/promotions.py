"""Acting on a decision in the registry: each outcome recorded with its effect, atomically.

A promotion is the champion compare-and-swap, its ledger entry and the decision, in one
transaction; a rejection is the status change and the decision. A promotion that loses
the compare-and-swap to another run is recorded as a rejection saying so.
"""

from __future__ import annotations

from typing import Any

from schemas.errors import LostRaceError
from schemas.settings import Settings
from tasks.core.gate.decision import Outcome
from tasks.core.gate.outcomes import Verdict, lost_race
from tasks.io import faults
from tasks.io.registry import ModelVersionRecord, NewDecision
from tasks.io.runtime import runtime


def settle(
    record: ModelVersionRecord,
    expected: str | None,
    outcome: Outcome,
    reasons: list[str],
    evidence: dict[str, Any],
    actor: str,
    settings: Settings,
) -> tuple[Outcome, list[str]]:
    """Record the gate's decision about ``record`` (champion ``expected``) with its effect.

    Returns the outcome as recorded: a promotion that lost the race is a rejection.
    """
    registry, model, version = runtime(settings).registry, record.model, record.version
    reasons = list(reasons)
    if outcome == Outcome.PROMOTED:
        new = NewDecision(model, version, expected, outcome.value, reasons, evidence)
        try:
            registry.promote(model, version, expected, actor, "; ".join(reasons), decision=new)
            faults.fault_point("after_cas", settings)
            return outcome, reasons
        except LostRaceError as exc:
            outcome, reasons = lost_race(str(exc))
    settled = _settled_by_another(record, settings)
    if settled is not None:
        return settled
    new = NewDecision(model, version, expected, outcome.value, reasons, evidence)
    if outcome == Outcome.REJECTED:
        registry.set_model_status(model, version, "rejected", decision=new)
    else:
        registry.record_decision(model, version, expected, outcome.value, reasons, evidence)
    return outcome, reasons


def _settled_by_another(
    record: ModelVersionRecord, settings: Settings
) -> tuple[Outcome, list[str]] | None:
    """What another run (a recovery of the same version) already made of ``record``, if it is
    no longer a candidate: that outcome stands, and nothing more is recorded."""
    now = runtime(settings).registry.get_model_version(record.model, record.version)
    if now is None or now.status == "candidate":
        return None
    by = f"{record.version} is already {now.status}: another run of these inputs decided it"
    if now.status == "champion":
        return Outcome.PROMOTED, [by]
    return Outcome.REJECTED, [by]


def answer(
    record: ModelVersionRecord,
    expected: str | None,
    verdict: Verdict,
    evidence: dict[str, Any],
    settings: Settings,
) -> tuple[Outcome, list[str]]:
    """Record a human answer about a ``pending_approval`` version: approve (the CAS against
    the champion it was compared with) or reject; the answer is a ledger entry either way."""
    registry, model, version = runtime(settings).registry, record.model, record.version
    if not verdict.approve:
        reasons = [verdict.reason]
        new = NewDecision(model, version, expected, Outcome.REJECTED.value, reasons, evidence)
        registry.reject_version(model, version, verdict.actor, verdict.reason, new)
        return Outcome.REJECTED, reasons
    reasons = [f"approved by {verdict.actor}: {verdict.reason}"]
    new = NewDecision(model, version, expected, Outcome.PROMOTED.value, reasons, evidence)
    try:
        registry.promote(model, version, expected, verdict.actor, verdict.reason, "approve", new)
    except LostRaceError as exc:
        reasons = [f"approved, but lost the promotion race: {exc}"]
        registry.record_decision(model, version, expected, "rejected", reasons, evidence)
        return Outcome.REJECTED, reasons
    return Outcome.PROMOTED, reasons
