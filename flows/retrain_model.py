"""Flow: retrain one model, gate it against the champion, promote it if it passes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, get_run_logger
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.states import Completed

from schemas.params import APPROVE, RetrainParams, approval_input_model
from schemas.settings import Settings, load_settings
from tasks.steps.naming import deployment_id, refuse_foreign_target, run_name
from tasks.steps.publish import publish, record_skip, resolve_approval
from tasks.steps.reports import publish_retrain_report, retrain_markdown, retrain_message
from tasks.steps.train import (
    abandon_run,
    decide,
    evaluate_challenger,
    load_training_frames,
    plan_training,
    refuse_recovery,
    train_challenger,
)


@flow(name="retrain-model", flow_run_name=run_name("retrain", "model"), log_prints=False)
def retrain_model(params: RetrainParams) -> dict[str, Any]:
    """Plan, train, evaluate on the champion's holdout, decide, publish.

    When the policy requires approval and the run comes from a deployment, it
    pauses with an approve/reject form in the Prefect UI; no answer in time
    means rejected. Run outside a deployment, the version stays
    ``pending_approval`` until ``retrain approve``.
    """
    refuse_foreign_target("model", params.model)  # a deployment is for one model
    settings = load_settings()
    plan = plan_training(params.model, params.dataset_version, settings)
    refusal = refuse_recovery(params.recovery_attempt, settings)
    if refusal is not None:  # too many crashes in a row: deployments/automations.yaml
        return _reported(asdict(record_skip(plan, refusal, settings)), settings)
    if plan.skip_reason is not None:
        return _reported(asdict(record_skip(plan, plan.skip_reason, settings)), settings)
    frames = load_training_frames(plan, settings)
    trained = train_challenger(plan, frames, settings)
    if isinstance(trained, str):
        return _reported(asdict(record_skip(plan, trained, settings)), settings)
    try:
        evidence = evaluate_challenger(plan, trained, settings)
        decision = decide(evidence, plan)
        result = asdict(publish(plan, trained, evidence, decision, settings))
    except BaseException as exc:  # every training run ends with a final status
        abandon_run(trained, exc, settings)
        raise
    if result["outcome"] == "pending_approval" and deployment_id() is not None:
        timeout = plan.spec.policy.approval.timeout_minutes
        answer = _request_approval(result, timeout)
        result = asdict(resolve_approval(plan.model, result["version"], answer, settings, timeout))
    return _reported(result, settings)


def _request_approval(result: dict[str, Any], timeout_minutes: int) -> dict[str, Any] | None:
    """Pause with an approve/reject form showing the evidence (a deployed run: a UI resumes it).

    The form presets nothing but its description: the server refuses an answer without a
    decision or an approver, and the run stays paused.

    Returns ``{"approve", "approver", "comment"}``, or None when nobody answered in time.
    """
    form = approval_input_model().with_initial_data(description=retrain_markdown(result))
    try:
        answer = pause_flow_run(wait_for_input=form, timeout=timeout_minutes * 60)
    except FlowPauseTimeout:
        return None
    fields = answer.model_dump()
    approve = fields["decision"] == APPROVE
    return {"approve": approve, "approver": fields["approver"], "comment": fields["comment"]}


def _reported(result: dict[str, Any], settings: Settings) -> Any:
    """Publish the run's report; end the run with its outcome as the state message."""
    publish_retrain_report(result, settings)
    message = retrain_message(result)
    log = get_run_logger()
    (log.warning if result["outcome"] == "rejected" else log.info)(
        "%s: %s", result["model"], message
    )
    for reason in result["reasons"]:
        log.info("%s %s: %s", result["model"], result["outcome"], reason)
    return Completed(message=message, data=result)
