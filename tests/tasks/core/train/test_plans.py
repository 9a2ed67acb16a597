"""Whether a retraining run trains, decides an undecided version, or is skipped (pure)."""

from __future__ import annotations

import pytest

from tasks.core.train.plans import budget_refusal, skip_reason

pytestmark = pytest.mark.unit
VERSIONS = {"transactions": "v3"}


def test_no_budget_or_budget_left_never_refuses() -> None:
    assert budget_refusal(None, 1e9) is None
    assert budget_refusal(10.0, 9.99) is None


def test_a_spent_budget_refuses_with_both_figures() -> None:
    assert budget_refusal(10.0, 10.0) == (
        "monthly training budget spent: $10.00 of $10.00 this month"
    )


def test_new_inputs_train() -> None:
    assert skip_reason(None, False, None, VERSIONS) is None


def test_inputs_already_trained_are_skipped_naming_the_version_and_datasets() -> None:
    reason = skip_reason("v7", False, None, VERSIONS)
    assert reason == (
        "nothing new: v7 was trained from the same dataset versions (transactions@v3),"
        " spec and code"
    )


def test_an_undecided_version_is_decided_whatever_the_budget() -> None:
    assert skip_reason("v7", True, "budget spent", VERSIONS) is None


def test_the_budget_refuses_new_training_and_repeats_alike() -> None:
    assert skip_reason(None, False, "budget spent", VERSIONS) == "budget spent"
    assert skip_reason("v7", False, "budget spent", VERSIONS) == "budget spent"
