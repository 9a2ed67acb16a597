"""Whether a retraining run has anything to do, decided before any data is loaded (pure)."""

from __future__ import annotations


def budget_refusal(budget_usd: float | None, spent_usd: float) -> str | None:
    """Why training is refused for budget (``None``: no budget, or some of it is left)."""
    if budget_usd is None or spent_usd < budget_usd:
        return None
    return f"monthly training budget spent: ${spent_usd:.2f} of ${budget_usd:.2f} this month"


def skip_reason(
    registered: str | None, undecided: bool, budget: str | None, versions: dict[str, str]
) -> str | None:
    """Why a run must not train (``None``: train, or decide the undecided version).

    Args:
        registered: the version already trained from these exact inputs, if any.
        undecided: that version was registered but its run died before deciding it:
            the run decides it now, whatever the budget (nothing new is spent).
        budget: the budget refusal, if any.
        versions: the dataset versions of the inputs (named in the reason).
    """
    if undecided:
        return None
    if registered is not None and budget is None:
        shown = ", ".join(f"{d}@{v}" for d, v in versions.items())
        return (
            f"nothing new: {registered} was trained from the same dataset versions ({shown}),"
            " spec and code"
        )
    return budget
