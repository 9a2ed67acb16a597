"""From a decision to what happens next: the outcome after the compare-and-swap (pure).

The gate decides (``decision.py``); acting on it can still change the outcome: a
promotion that loses the compare-and-swap to another run is a rejection, and a
human answer turns ``pending_approval`` into ``promoted`` or ``rejected``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.errors import RetrainError
from tasks.core.gate.decision import Outcome

EVENTS = {Outcome.PROMOTED: "retrain.model.promoted", Outcome.REJECTED: "retrain.model.rejected"}


@dataclass(frozen=True)
class Result:
    """The outcome of one retraining run, as reported to users and scripts."""

    model: str
    outcome: str
    reasons: list[str]
    version: str | None = None
    champion: str | None = None
    previous_champion: str | None = None
    dataset_versions: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    champion_metrics: dict[str, Any] | None = None
    interval: dict[str, Any] | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)  # every check of the gate
    primary_metric: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A human answer to a ``pending_approval`` version, ready for the ledger."""

    approve: bool
    actor: str
    reason: str


def lost_race(detail: str) -> tuple[Outcome, list[str]]:
    """A promotion another run beat to the compare-and-swap: rejected, saying so."""
    return Outcome.REJECTED, [f"lost the promotion race: {detail}"]


def event_for(outcome: Outcome) -> str | None:
    """The Prefect event announcing ``outcome`` (none for skipped or pending)."""
    return EVENTS.get(outcome)


def verdict_of(answer: dict[str, Any] | None, timeout_minutes: int | None, system: str) -> Verdict:
    """The approval form's answer as a verdict; no answer means rejected by ``system``."""
    if answer is None:
        return Verdict(False, system, f"no answer within {timeout_minutes} minutes: rejected")
    actor = str(answer.get("approver") or "").strip()
    if not actor:
        raise RetrainError("an approval answer needs the approver's name: nothing recorded")
    comment = (answer.get("comment") or "").strip()
    if answer["approve"]:
        return Verdict(True, actor, comment or "approved")
    return Verdict(False, actor, f"rejected by {actor}: {comment or 'no comment'}")
