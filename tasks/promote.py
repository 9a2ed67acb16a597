"""Publish a challenger and act on the decision: artifacts, registry CAS, champion pointer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from schemas.settings import Settings
from tasks.accounting import finish_run, record_skipped_run
from tasks.artifacts import sync_champion_pointer, to_json_bytes
from tasks.checkpoints import StoreCheckpoints
from tasks.core import layout
from tasks.core.decision import Decision, Evidence, Outcome
from tasks.core.reference import reference_profile
from tasks.errors import ImmutableObjectError, LostRaceError, RetrainError
from tasks.io import events
from tasks.io.registry import AlreadyRegisteredError, NewModelVersion
from tasks.io.stores import sha256_hex
from tasks.runtime import runtime
from tasks.train import Plan, Trained, card_for, card_metrics

ACTOR = "retrain_model flow"


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


@task(cache_policy=NO_CACHE)
def record_skip(plan: Plan, reason: str, settings: Settings) -> Result:
    """Record a skipped run (nothing trained, nothing spent) and report it."""
    rt = runtime(settings)
    if plan.training_key:
        record_skipped_run(plan.model, plan.training_key, reason, settings)
    champion = rt.registry.champion(plan.model)
    rt.registry.record_decision(
        plan.model,
        None,
        champion.version if champion else None,
        Outcome.SKIPPED.value,
        [reason],
        {"datasets": plan.dataset_versions},
    )
    return Result(
        plan.model,
        Outcome.SKIPPED.value,
        [reason],
        champion=champion.version if champion else None,
        dataset_versions=plan.dataset_versions,
    )


@task(cache_policy=NO_CACHE)
def publish(
    plan: Plan, trained: Trained, evidence: Evidence, decision: Decision, settings: Settings
) -> Result:
    """Upload artifacts, register the version, then promote with a compare-and-swap.

    Order matters: artifacts first (immutable, content-checked), then the
    registry (the truth), then ``champion.json`` (derived). A run that loses
    the promotion race is rejected with that reason; nothing is overwritten.
    """
    rt = runtime(settings)
    record = plan.unfinished or _register(plan, trained, evidence, decision, settings)
    if record is None:
        reason = "another run registered these inputs first and decides them"
        return Result(plan.model, Outcome.SKIPPED.value, [reason])
    version = record.version
    StoreCheckpoints(rt.store, plan.model, plan.training_key, 1).clear()
    outcome, reasons = decision.outcome, list(decision.reasons)
    expected = plan.champion.version if plan.champion else None
    if outcome == Outcome.PROMOTED:
        try:
            rt.registry.promote(plan.model, version, expected, ACTOR, "; ".join(reasons))
        except LostRaceError as exc:
            outcome, reasons = Outcome.REJECTED, [f"lost the promotion race: {exc}"]
    if outcome == Outcome.REJECTED:
        rt.registry.set_model_status(plan.model, version, "rejected")
    rt.registry.record_decision(
        plan.model,
        version,
        expected,
        outcome.value,
        reasons,
        _decision_evidence(evidence, decision),
    )
    if trained.run_id is not None:
        times = (trained.wall_seconds, trained.cpu_seconds)
        finish_run(
            trained.run_id, "succeeded", outcome.value, version, times, trained.cost, settings
        )
    sync_champion_pointer(plan.model, settings)
    _emit(plan.model, version, expected, outcome, reasons, evidence.challenger)
    champion = rt.registry.champion(plan.model)
    return Result(
        plan.model,
        outcome.value,
        reasons,
        version,
        champion.version if champion else None,
        expected,
        plan.dataset_versions,
        evidence.challenger,
        evidence.champion,
        evidence.interval.to_dict() if evidence.interval else None,
        {"model": record.artifact_uri, "card": record.card_uri or ""},
    )


def _register(
    plan: Plan, trained: Trained, evidence: Evidence, decision: Decision, settings: Settings
) -> Any:
    """Upload and register under the next free version; None if these inputs were registered.

    Files a crashed run left under the next number are never overwritten: that
    number is skipped (the registry allows the gap).
    """
    rt, log = runtime(settings), get_run_logger()
    version = rt.registry.next_model_version(plan.model)
    for _attempt in range(5):
        try:
            return _upload_and_register(plan, trained, evidence, decision, version, settings)
        except AlreadyRegisteredError:
            return None
        except ImmutableObjectError as exc:
            log.warning("%s: %s; using the next number", plan.model, exc)
            version = f"v{int(version[1:]) + 1}"
        except LostRaceError as exc:
            log.warning("version %s was taken by another run (%s); retrying", version, exc)
            version = rt.registry.next_model_version(plan.model)
    raise RetrainError(f"{plan.model}: could not register a version after 5 attempts")


def _upload_and_register(
    plan: Plan,
    trained: Trained,
    evidence: Evidence,
    decision: Decision,
    version: str,
    settings: Settings,
) -> Any:
    rt = runtime(settings)
    model_bytes = trained.text.encode()
    reference = to_json_bytes(reference_profile(trained.prepared, trained.booster))
    files = {"model.txt": model_bytes, "reference.json": reference}
    artifacts: dict[str, dict[str, Any]] = {}
    for name, body in files.items():
        info = rt.store.put_bytes(layout.model_key(plan.model, version, name), body)
        artifacts[name] = {"uri": info.uri, "sha256": sha256_hex(body), "bytes": len(body)}
    card = to_json_bytes(card_for(plan, trained, evidence, decision, version, artifacts))
    card_info = rt.store.put_bytes(layout.model_key(plan.model, version, "card.json"), card)
    return rt.registry.register_model_version(
        NewModelVersion(
            model=plan.model,
            version=version,
            training_key=plan.training_key,
            dataset_versions=plan.dataset_versions,
            spec_hash=plan.spec.fingerprint(),
            params=plan.spec.lightgbm.model_dump(),
            code_version=plan.code_version,
            artifact_uri=artifacts["model.txt"]["uri"],
            artifact_sha256=artifacts["model.txt"]["sha256"],
            card_uri=card_info.uri,
            card_sha256=sha256_hex(card),
            metrics=_finite(card_metrics(evidence)),
            eval_fingerprint=evidence.fingerprint,
        )
    )


def _finite(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics as strict JSON values (NaN becomes None), nested dicts included."""
    return {
        k: _finite(v) if isinstance(v, dict) else (v if math.isfinite(v) else None)
        for k, v in metrics.items()
    }


def _decision_evidence(evidence: Evidence, decision: Decision) -> dict[str, Any]:
    import json

    return dict(
        json.loads(
            to_json_bytes({"evidence": evidence.to_dict(), "checks": decision.to_dict()["checks"]})
        )
    )


def _emit(
    model: str,
    version: str,
    previous: str | None,
    outcome: Outcome,
    reasons: list[str],
    metrics: dict[str, Any],
) -> None:
    name = {Outcome.PROMOTED: "retrain.model.promoted", Outcome.REJECTED: "retrain.model.rejected"}
    if outcome in name:
        events.emit(
            name[outcome],
            events.model_resource(model),
            {
                "version": version,
                "previous": previous,
                "metrics": _finite(metrics),
                "reasons": reasons,
            },
        )


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
    rt = runtime(settings)
    record = rt.registry.get_model_version(model, version)
    pending = [
        d
        for d in rt.registry.list_decisions(model)
        if d.version == version and d.outcome == Outcome.PENDING_APPROVAL.value
    ]
    if record is None or record.status != "candidate" or not pending:
        raise RetrainError(f"{model} {version} is not waiting for approval")
    expected = pending[0].champion_version
    if answer is not None and answer["approve"]:
        actor, reason = answer["approver"], answer.get("comment") or "approved"
        try:
            rt.registry.promote(model, version, expected, actor, reason, action="approve")
            outcome, reasons = Outcome.PROMOTED, [f"approved by {actor}: {reason}"]
        except LostRaceError as exc:
            outcome, reasons = Outcome.REJECTED, [f"approved, but lost the promotion race: {exc}"]
    else:
        actor = answer["approver"] if answer else ACTOR
        why = (
            f"rejected by {actor}: {answer.get('comment') or 'no comment'}"
            if answer
            else f"no answer within {timeout_minutes} minutes: rejected"
        )
        rt.registry.reject_version(model, version, actor, why)
        outcome, reasons = Outcome.REJECTED, [why]
    rt.registry.record_decision(
        model, version, expected, outcome.value, reasons, {"approval": answer}
    )
    sync_champion_pointer(model, settings)
    _emit(model, version, expected, outcome, reasons, {})
    champion = rt.registry.champion(model)
    return Result(
        model,
        outcome.value,
        reasons,
        version,
        champion.version if champion else None,
        expected,
        record.dataset_versions,
        record.metrics,
    )
