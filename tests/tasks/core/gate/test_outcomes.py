"""From a decision and a human answer to the outcome that is recorded (pure)."""

from __future__ import annotations

import pytest

from schemas.errors import RetrainError
from tasks.core.gate.decision import Outcome
from tasks.core.gate.outcomes import event_for, lost_race, verdict_of

pytestmark = pytest.mark.unit


def test_losing_the_compare_and_swap_is_a_rejection_saying_why() -> None:
    assert lost_race("expected champion v2, found v3") == (
        Outcome.REJECTED,
        ["lost the promotion race: expected champion v2, found v3"],
    )


@pytest.mark.parametrize(
    ("outcome", "event"),
    [
        (Outcome.PROMOTED, "retrain.model.promoted"),
        (Outcome.REJECTED, "retrain.model.rejected"),
        (Outcome.PENDING_APPROVAL, None),
        (Outcome.SKIPPED, None),
    ],
)
def test_only_promotions_and_rejections_are_announced(outcome: Outcome, event: str | None) -> None:
    assert event_for(outcome) == event


def test_an_approval_keeps_the_approver_and_the_comment() -> None:
    verdict = verdict_of({"approve": True, "approver": "alice", "comment": "looks good"}, 60, "sys")
    assert (verdict.approve, verdict.actor, verdict.reason) == (True, "alice", "looks good")
    plain = verdict_of({"approve": True, "approver": "alice", "comment": ""}, 60, "sys")
    assert plain.reason == "approved"


def test_a_rejection_names_who_rejected_and_why() -> None:
    verdict = verdict_of({"approve": False, "approver": "bob", "comment": ""}, 60, "sys")
    assert (verdict.approve, verdict.actor) == (False, "bob")
    assert verdict.reason == "rejected by bob: no comment"


def test_no_answer_in_time_is_rejected_by_the_system() -> None:
    verdict = verdict_of(None, 45, "retrain_model flow")
    assert (verdict.approve, verdict.actor) == (False, "retrain_model flow")
    assert verdict.reason == "no answer within 45 minutes: rejected"


@pytest.mark.parametrize("approver", ["", "   ", None])
def test_an_answer_without_an_approver_records_nothing(approver: str | None) -> None:
    with pytest.raises(RetrainError, match="needs the approver's name"):
        verdict_of({"approve": False, "approver": approver, "comment": ""}, 60, "sys")
