"""Retraining steps: plan, load, train, evaluate, decide, publish (thin Prefect tasks)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import lightgbm as lgb
import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from schemas.contracts import DatasetContract, load_contract
from schemas.settings import Settings
from schemas.specs import Features, ModelSpec, Task, load_model_spec
from tasks.accounting import finish_run, price_run, spent_this_month, start_run
from tasks.checkpoints import StoreCheckpoints, stop_on_sigterm
from tasks.core.costs import RunCost
from tasks.core.decision import Decision, Evidence, decide_promotion
from tasks.core.evidence import Scorer, gather_evidence
from tasks.core.keys import training_key
from tasks.core.pipeline import (
    NotEnoughData,
    Prepared,
    prepare_binary,
    sort_events,
    train_model,
)
from tasks.core.ranking_pipeline import prepare_ranking
from tasks.core.training import Fitted
from tasks.errors import RetrainError
from tasks.ingest import load_dataset_frame
from tasks.io.lineage import code_version
from tasks.io.registry import ModelVersionRecord
from tasks.runtime import runtime


@dataclass(frozen=True)
class Plan:
    """What a retraining run will do, decided before any training."""

    model: str
    spec: ModelSpec
    dataset_versions: dict[str, str]
    training_key: str
    code_version: str
    champion: ModelVersionRecord | None
    skip_reason: str | None = None
    unfinished: ModelVersionRecord | None = None  # same inputs registered, never decided


@dataclass(frozen=True)
class Trained:
    """A challenger and the data it was trained and will be judged on."""

    prepared: Prepared
    booster: lgb.Booster
    text: str
    wall_seconds: float
    cpu_seconds: float
    frame: pd.DataFrame = field(repr=False)
    progress: dict[str, Any] = field(default_factory=dict)
    resumed_from: int | None = None  # checkpoint round this run continued from
    run_id: int | None = None  # the training run in the registry
    cost: RunCost | None = None


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def plan_training(model: str, dataset_version: str | None, settings: Settings) -> Plan:
    """Resolve spec, dataset versions and the training key; skip when the inputs are unchanged."""
    rt = runtime(settings)
    spec = load_model_spec(model, settings.specs_dir)
    versions: dict[str, str] = {}
    for i, dataset in enumerate(spec.datasets):
        wanted = dataset_version if i == 0 and dataset_version else None
        rec = (
            rt.registry.get_dataset_version(dataset, wanted)
            if wanted
            else rt.registry.latest_dataset_version(dataset)
        )
        if rec is None:
            if wanted:
                raise RetrainError(f"dataset {dataset} has no version {wanted}")
            return _skip_plan(model, spec, versions, f"dataset {dataset} has no version yet")
        versions[dataset] = rec.version
    code = code_version()
    key = training_key(model, versions, spec.fingerprint(), code)
    champion = rt.registry.champion(model)
    existing = rt.registry.find_model_version(model, key)
    reason = _over_budget(model, spec, settings)
    if existing is not None and _unfinished(existing, rt.registry.list_decisions(model)):
        get_run_logger().warning(
            "%s %s was registered but never decided (a failed run): deciding it now",
            model,
            existing.version,
        )
        return Plan(model, spec, versions, key, code, champion, None, existing)
    if existing is not None and reason is None:
        reason = (
            f"nothing new: {existing.version} was trained from the same dataset versions "
            f"({_fmt(versions)}), spec and code"
        )
    return Plan(model, spec, versions, key, code, champion, reason)


def _over_budget(model: str, spec: ModelSpec, settings: Settings) -> str | None:
    budget = spec.policy.monthly_budget_usd
    if budget is None:
        return None
    spent = spent_this_month(model, settings)
    if spent < budget:
        return None
    return f"monthly training budget spent: ${spent:.2f} of ${budget:.2f} this month"


def _unfinished(record: ModelVersionRecord, decisions: list[Any]) -> bool:
    """A candidate without any decision: its run failed between registering and deciding."""
    return record.status == "candidate" and not any(d.version == record.version for d in decisions)


def _skip_plan(model: str, spec: ModelSpec, versions: dict[str, str], reason: str) -> Plan:
    return Plan(model, spec, versions, "", "", None, reason)


def _fmt(versions: dict[str, str]) -> str:
    return ", ".join(f"{d}@{v}" for d, v in versions.items())


def row_keys(contract: DatasetContract) -> list[str]:
    """Columns identifying a row: the primary key, or every column when there is none."""
    return list(contract.primary_key) or list(contract.columns)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def load_training_frames(plan: Plan, settings: Settings) -> dict[str, pd.DataFrame]:
    """Every dataset of the plan at its version (each partition verified); events sorted."""
    frames = {}
    for dataset, version in plan.dataset_versions.items():
        contract = load_contract(dataset, settings.specs_dir)
        frame = load_dataset_frame(dataset, version, settings)
        if contract.kind == "events":
            frame = sort_events(frame, contract.require_event_time(), row_keys(contract))
        frames[dataset] = frame
        get_run_logger().info("loaded %s@%s: %d rows", dataset, version, len(frame))
    return frames


@task(cache_policy=NO_CACHE)
def train_challenger(
    plan: Plan, frames: dict[str, pd.DataFrame], settings: Settings
) -> Trained | str:
    """Prepare the splits and fit the challenger; returns a skip reason when windows are thin.

    The run is recorded with its wall and CPU seconds and cost, also when it
    fails or is interrupted (the compute was spent all the same).
    """
    start = (time.perf_counter(), time.process_time())
    try:
        prepared = _prepare(plan, frames, settings)
    except NotEnoughData as exc:
        return f"not enough data: {exc}"  # recorded as a zero-cost skipped run
    run_id = start_run(plan.model, plan.training_key, settings)
    try:
        fitted = _fit(plan, prepared, settings)
    except BaseException:
        wall, cpu = _since(start)
        finish_run(run_id, "failed", None, None, (wall, cpu), price_run(wall, settings), settings)
        raise
    wall, cpu = _since(start)
    get_run_logger().info(
        "trained %s: best round %d of %d on %s rows in %.1fs",
        plan.model,
        fitted.progress.best_round,
        fitted.progress.rounds,
        prepared.rows,
        wall,
    )
    return Trained(
        prepared,
        fitted.booster,
        fitted.text,
        wall,
        cpu,
        frames[plan.spec.datasets[0]],
        fitted.progress.to_dict(),
        fitted.resumed_from,
        run_id,
        price_run(wall, settings),
    )


def _since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


def _prepare(plan: Plan, frames: dict[str, pd.DataFrame], settings: Settings) -> Prepared:
    dataset = plan.spec.datasets[0]
    if plan.spec.task == Task.RANKING:
        return prepare_ranking(frames, plan.spec)
    contract = load_contract(dataset, settings.specs_dir)
    return prepare_binary(
        frames[dataset], plan.spec, contract.require_event_time(), row_keys(contract)
    )


def _fit(plan: Plan, prepared: Prepared, settings: Settings) -> Fitted:
    """Train with checkpoints under checkpoints/<model>/<training key>/, resuming if one exists."""
    every = plan.spec.lightgbm.checkpoint_every
    checkpoints = StoreCheckpoints(runtime(settings).store, plan.model, plan.training_key, every)
    resume = checkpoints.load()
    if resume is not None:
        get_run_logger().warning(
            "resuming %s from checkpoint at round %d (%s)",
            plan.model,
            resume[1].rounds,
            checkpoints.prefix,
        )
    with stop_on_sigterm(checkpoints):
        return train_model(plan.spec, prepared, checkpoints, resume)


@task(cache_policy=NO_CACHE)
def evaluate_challenger(plan: Plan, trained: Trained, settings: Settings) -> Evidence:
    """Score challenger and champion on the same holdout; measure the guards."""
    from tasks.artifacts import load_model

    champion = None
    if plan.champion is not None:
        booster, encoding, card = load_model(plan.champion, settings)
        champion = Scorer(booster, encoding, Features.model_validate(card["features"]["spec"]))
    return gather_evidence(
        plan.spec,
        trained.prepared,
        Scorer(trained.booster, trained.prepared.encoding, plan.spec.features),
        trained.text,
        trained.frame,
        champion,
    )


@task(cache_policy=NO_CACHE)
def decide(evidence: Evidence, plan: Plan) -> Decision:
    """Apply the model's promotion policy (a pure function) to the evidence."""
    return decide_promotion(evidence, plan.spec.policy)


def now_utc() -> datetime:
    return datetime.now(UTC)


def card_metrics(evidence: Evidence) -> dict[str, Any]:
    """The challenger's holdout metrics; ranking adds the popularity baseline's figures."""
    out: dict[str, Any] = dict(evidence.challenger)
    if evidence.baseline is not None:
        out["baseline_popularity"] = dict(evidence.baseline)
    if "candidate_recall" in evidence.info:
        out["candidate_recall"] = evidence.info["candidate_recall"]
    return out


def card_for(
    plan: Plan,
    trained: Trained,
    evidence: Evidence,
    decision: Decision,
    version: str,
    artifacts: dict[str, Any],
) -> dict[str, Any]:
    """The model card: lineage, parameters, metrics, evidence and the gate's decision."""
    from tasks.core.training import booster_params

    prep = trained.prepared
    return {
        "model": plan.model,
        "version": version,
        "task": plan.spec.task.value,
        "created_at": now_utc().isoformat(),
        "training_key": plan.training_key,
        "code_version": plan.code_version,
        "spec_fingerprint": plan.spec.fingerprint(),
        "dataset_versions": plan.dataset_versions,
        "windows": prep.windows.to_dict(),
        "rows": prep.rows,
        "params": booster_params(plan.spec),
        "best_iteration": trained.progress.get("best_round"),
        "features": {"spec": plan.spec.features.model_dump(), "encoding": prep.encoding.to_dict()},
        "metrics": card_metrics(evidence),
        "champion": {
            "version": plan.champion.version if plan.champion else None,
            "metrics": evidence.champion,
        },
        "evaluation": evidence.to_dict(),
        "decision": decision.to_dict(),
        "training": {
            "wall_seconds": trained.wall_seconds,
            "cpu_seconds": trained.cpu_seconds,
            **trained.progress,
            "resumed_from_round": trained.resumed_from,
            "cost": asdict(trained.cost) if trained.cost else None,
        },
        "artifacts": artifacts,
    }
