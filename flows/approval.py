"""The manual approval step: pause a deployed retraining run until someone answers in the UI."""

from __future__ import annotations

from typing import Any

from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.runtime import deployment

from schemas.params import approval_input_model
from tasks.reports import retrain_markdown


def in_deployment() -> bool:
    """True when this flow run was started from a deployment (a UI can resume it)."""
    return deployment.id is not None


def request_approval(result: dict[str, Any], timeout_minutes: int) -> dict[str, Any] | None:
    """Pause with an approve/reject form showing the evidence.

    Returns:
        ``{"approve", "approver", "comment"}``, or None when nobody answered in time.
    """
    form = approval_input_model().with_initial_data(
        description=retrain_markdown(result), approve=False, approver=""
    )
    try:
        answer = pause_flow_run(wait_for_input=form, timeout=timeout_minutes * 60)
    except FlowPauseTimeout:
        return None
    fields = answer.model_dump()
    return {k: fields[k] for k in ("approve", "approver", "comment")}
