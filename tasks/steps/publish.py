"""Publish a challenger and act on the decision: artifacts, registry CAS, champion pointer."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.errors import RetrainError
from schemas.settings import Settings
from tasks.core.documents import to_json_bytes, to_jsonable
from tasks.core.gate.cards import build_card, card_metrics
from tasks.core.gate.decision import Decision, Evidence, Outcome
from tasks.core.gate.outcomes import Result, event_for, verdict_of
from tasks.core.monitor.reference import reference_profile
from tasks.io import accounting, artifacts, events, faults, pointer, promotions
from tasks.io.checkpoints import StoreCheckpoints
from tasks.io.registry import ModelVersionRecord
from tasks.io.runtime import runtime
from tasks.steps.evaluation import report_uri, write_evaluation_report
from tasks.steps.train import Plan, Trained

ACTOR = "retrain_model flow"


@task(cache_policy=NO_CACHE)
def record_skip(plan: Plan, reason: str, settings: Settings) -> Result:
    """Record a skipped run (nothing trained, nothing spent) and report it; the pointer is
    reconciled too (a crashed run may have left it behind the registry)."""
    registry = runtime(settings).registry
    if plan.training_key:
        accounting.record_skipped_run(plan.model, plan.training_key, reason, settings)
    champion = registry.champion(plan.model)
    current = champion.version if champion else None
    skipped = Outcome.SKIPPED.value
    evidence = {"datasets": plan.dataset_versions}
    registry.record_decision(plan.model, None, current, skipped, [reason], evidence)
    pointer.reconcile(plan.model, settings)
    return Result(
        plan.model, skipped, [reason], champion=current, dataset_versions=plan.dataset_versions,
        primary_metric=plan.spec.policy.primary_metric,
    )  # fmt: skip


@task(cache_policy=NO_CACHE)
def publish(
    plan: Plan, trained: Trained, evidence: Evidence, decision: Decision, settings: Settings
) -> Result:
    """Upload artifacts, register the version, then act on the decision (CAS promotion).

    Order matters: artifacts first (immutable, content-checked), then the
    registry (the truth), then ``champion.json`` (derived). A run that loses
    the promotion race is rejected with that reason; nothing is overwritten.
    """
    record = plan.unfinished or _register(plan, trained, evidence, decision, settings)
    if record is None:
        reason = "another run holds or registered these inputs and decides them (lost the race)"
        _close(trained, "lost_race", Outcome.SKIPPED.value, None, reason, settings)
        return Result(plan.model, Outcome.SKIPPED.value, [reason])
    faults.fault_point("after_register", settings)
    StoreCheckpoints(runtime(settings).store, plan.model, plan.training_key, 1).clear()
    expected = plan.champion.version if plan.champion else None
    details = _decision_evidence(evidence, decision)
    outcome, reasons = promotions.settle(
        record, expected, decision.outcome, decision.reasons, details, ACTOR, settings
    )
    _close(trained, "succeeded", outcome.value, record.version, "", settings)
    faults.fault_point("before_pointer", settings)
    pointer.reconcile(plan.model, settings)
    faults.fault_point("after_pointer", settings)
    _announce(plan.model, record.version, expected, outcome, reasons, evidence.challenger)
    return _result(plan, record, outcome, reasons, evidence, decision, settings)


def _close(
    trained: Trained,
    status: str,
    outcome: str,
    version: str | None,
    reason: str,
    settings: Settings,
) -> None:
    """Close the run's training run with its final status, duration and cost."""
    if trained.run_id is None:
        return
    times = (trained.wall_seconds, trained.cpu_seconds)
    if version is None:
        accounting.close_if_running(trained.run_id, status, reason, settings, times, outcome)
        return
    accounting.finish_run(trained.run_id, status, outcome, version, times, settings, trained.cost)


def _result(
    plan: Plan,
    record: ModelVersionRecord,
    outcome: Outcome,
    reasons: list[str],
    evidence: Evidence,
    decision: Decision,
    settings: Settings,
) -> Result:
    interval = evidence.interval.to_dict() if evidence.interval else None
    checks = to_jsonable(decision.to_dict()["checks"])
    return Result(
        plan.model, outcome.value, reasons, record.version, _champion(plan.model, settings),
        plan.champion.version if plan.champion else None, plan.dataset_versions,
        evidence.challenger, evidence.champion, interval,
        {"model": record.artifact_uri, "card": record.card_uri or "",
         "report": report_uri(plan.model, record.version, settings)}, checks,
        plan.spec.policy.primary_metric,
    )  # fmt: skip


def _register(
    plan: Plan, trained: Trained, evidence: Evidence, decision: Decision, settings: Settings
) -> ModelVersionRecord | None:
    """Upload model, reference profile and card; register them as a candidate."""
    rows, seed = plan.spec.monitoring.reference_rows, plan.spec.seed
    reference = reference_profile(trained.prepared, trained.booster, rows, seed)
    files = {"model.txt": trained.text.encode(), "reference.json": to_json_bytes(reference)}
    training = {
        "wall_seconds": trained.wall_seconds,
        "cpu_seconds": trained.cpu_seconds,
        **trained.progress,
        "resumed_from_round": trained.resumed_from,
        "engine": trained.engine,  # {kind: local} or {kind: dask, workers, scheduler}
        "cost": asdict(trained.cost) if trained.cost else None,
        "flow_run_id": _flow_run_id(),  # the Prefect run that trained it (card.json)
    }
    champion = plan.champion.version if plan.champion else None
    created = datetime.now(UTC).isoformat()

    def card_for(version: str, uploaded: dict[str, Any]) -> dict[str, Any]:
        card = build_card(
            plan.lineage, version, trained.prepared, training, evidence, decision, champion,
            uploaded, created,
        )  # fmt: skip
        reports = write_evaluation_report(plan, trained, card, evidence.curves, settings)
        return {**card, "artifacts": {**uploaded, **reports}}

    fields = {
        "model": plan.model,
        "training_key": plan.training_key,
        "dataset_versions": plan.dataset_versions,
        "spec_hash": plan.spec.fingerprint(),
        "params": plan.spec.lightgbm.model_dump(),
        "code_version": plan.code_version,
        "metrics": to_jsonable(card_metrics(evidence)),
        "eval_fingerprint": evidence.fingerprint,
    }
    if trained.run_id is None:
        raise RetrainError(f"{plan.model}: a trained challenger without a training run")
    return artifacts.register_version(fields, files, card_for, trained.run_id, settings)


def _flow_run_id() -> str | None:
    from prefect.runtime import flow_run

    return str(flow_run.id) if flow_run.id else None


def _decision_evidence(evidence: Evidence, decision: Decision) -> dict[str, Any]:
    doc = {"evidence": evidence.to_dict(), "checks": decision.to_dict()["checks"]}
    out: dict[str, Any] = to_jsonable(doc)
    return out


def _champion(model: str, settings: Settings) -> str | None:
    champion = runtime(settings).registry.champion(model)
    return champion.version if champion else None


def _announce(
    model: str,
    version: str,
    previous: str | None,
    outcome: Outcome,
    reasons: list[str],
    metrics: dict[str, Any],
) -> None:
    name = event_for(outcome)
    if name is not None:
        payload = {
            "version": version, "previous": previous, "metrics": to_jsonable(metrics),
            "reasons": reasons,
        }  # fmt: skip
        events.emit(name, events.model_resource(model), payload)


@task(cache_policy=NO_CACHE)
def resolve_approval(
    model: str,
    version: str,
    answer: dict[str, Any] | None,
    settings: Settings,
    timeout_minutes: int | None = None,
) -> Result:
    """Act on a human answer for a ``pending_approval`` version; the answer goes in the ledger.

    No answer (``None``) means rejected. An approval is still a compare-and-swap
    against the champion that was current when the version was evaluated.
    """
    record, expected = _pending(model, version, settings)
    verdict = verdict_of(answer, timeout_minutes, ACTOR)
    outcome, reasons = promotions.answer(record, expected, verdict, {"approval": answer}, settings)
    pointer.reconcile(model, settings)
    _announce(model, version, expected, outcome, reasons, {})
    return Result(
        model, outcome.value, reasons, version, _champion(model, settings), expected,
        record.dataset_versions, record.metrics,
    )  # fmt: skip


def _pending(model: str, version: str, settings: Settings) -> tuple[ModelVersionRecord, str | None]:
    """The version waiting for approval and the champion it was compared with."""
    registry = runtime(settings).registry
    record = registry.get_model_version(model, version)
    pending = [
        d
        for d in registry.list_decisions(model)
        if d.version == version and d.outcome == Outcome.PENDING_APPROVAL
    ]
    if record is None or record.status != "candidate" or not pending:
        raise RetrainError(f"{model} {version} is not waiting for approval")
    return record, pending[0].champion_version
