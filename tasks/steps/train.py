"""Retraining steps: plan, load, train, evaluate, decide (thin Prefect tasks)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.automations import automations_path, load_automations
from schemas.contracts import load_contract
from schemas.settings import Settings
from schemas.specs import Features, ModelSpec, Task, load_model_spec
from tasks.core.costs import RunCost
from tasks.core.gate.cards import Lineage
from tasks.core.gate.decision import Decision, Evidence, decide_promotion
from tasks.core.gate.measure import Scorer, gather_evidence, needs_own_holdout
from tasks.core.keys import training_key
from tasks.core.train.binary import prepare_binary
from tasks.core.train.booster import LOCAL, Fitted
from tasks.core.train.plans import budget_refusal, skip_reason
from tasks.core.train.prepared import NotEnoughData, Prepared, holdout_built, train_model
from tasks.core.train.ranking import prepare_ranking
from tasks.io import accounting, artifacts, cluster, datasets
from tasks.io.checkpoints import StoreCheckpoints, stop_on_sigterm
from tasks.io.cluster_data import ClusterTraining
from tasks.io.lineage import code_version
from tasks.io.registry import ModelVersionRecord
from tasks.io.runtime import runtime
from tasks.steps.logs import step_logger


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

    @property
    def lineage(self) -> Lineage:
        return Lineage(
            self.model, self.spec, self.dataset_versions, self.training_key, self.code_version
        )


@dataclass(frozen=True)
class Trained:
    """A challenger and the data it was trained and will be judged on."""

    prepared: Prepared
    booster: lgb.Booster
    text: str
    wall_seconds: float
    cpu_seconds: float
    frame: pd.DataFrame | None = field(repr=False)  # None: the data stayed on the cluster
    progress: dict[str, Any] = field(default_factory=dict)
    resumed_from: int | None = None  # checkpoint round this run continued from
    run_id: int | None = None  # the training run in the registry
    cost: RunCost | None = None
    engine: dict[str, Any] = field(default_factory=lambda: dict(LOCAL))
    champion_holdout: pd.DataFrame | None = field(default=None, repr=False)  # built there


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def plan_training(model: str, dataset_version: str | None, settings: Settings) -> Plan:
    """Resolve spec, dataset versions and the training key; skip when the inputs are unchanged."""
    spec = load_model_spec(model, settings.specs_dir)
    for run_id in accounting.close_abandoned_runs(model, settings):
        step_logger().warning("%s: training run %d had died unclosed: interrupted", model, run_id)
    versions, missing = datasets.resolve_versions(spec.datasets, dataset_version, settings)
    if missing is not None:
        return Plan(model, spec, versions, "", "", None, missing)
    registry, code = runtime(settings).registry, code_version()
    key = training_key(model, versions, spec.fingerprint(), code)
    existing = registry.find_model_version(model, key)
    undecided = existing is not None and registry.is_undecided(existing)
    budget = spec.policy.monthly_budget_usd
    refusal = budget_refusal(budget, accounting.spent_this_month(model, settings) if budget else 0)
    reason = skip_reason(existing.version if existing else None, undecided, refusal, versions)
    if undecided and existing is not None:
        step_logger().warning(
            "%s %s was registered but never decided (a failed run): deciding it now",
            model,
            existing.version,
        )
    champion = registry.champion(model)
    return Plan(model, spec, versions, key, code, champion, reason, existing if undecided else None)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def load_training_frames(plan: Plan, settings: Settings) -> dict[str, pd.DataFrame]:
    """Every dataset of the plan at its version (each partition verified); events sorted.

    Nothing (``{}``) when the model is prepared on the Dask cluster: its workers read the
    partitions (:func:`prepared_on_cluster`)."""
    if prepared_on_cluster(plan.spec, settings):
        return {}
    return datasets.load_frames(plan.dataset_versions, settings, step_logger())


def prepared_on_cluster(spec: ModelSpec, settings: Settings) -> bool:
    """Whether the model's data is prepared on the Dask cluster rather than here: binary
    models with ``RETRAIN_DASK_ADDRESS`` set (a ranker's candidates are built here)."""
    return bool(settings.dask_address) and spec.task == Task.BINARY


@task(cache_policy=NO_CACHE)
def train_challenger(
    plan: Plan, frames: dict[str, pd.DataFrame], settings: Settings
) -> Trained | str:
    """Prepare the splits and fit the challenger; returns a skip reason when windows are thin.

    The run is recorded with its wall and CPU seconds and cost, also when it
    fails or is interrupted (the compute was spent all the same).
    """
    start = (time.perf_counter(), time.process_time())
    with _engine(plan, frames, settings) as engine:
        try:
            prepared = engine.prepare()
        except NotEnoughData as exc:
            return f"not enough data: {exc}"  # recorded as a zero-cost skipped run
        run_id = accounting.start_run(plan.model, plan.training_key, settings)
        try:
            fitted = engine.fit(prepared, run_id)
        except BaseException as exc:
            accounting.finish_run(run_id, final_status(exc), None, None, _since(start), settings)
            raise
    wall, cpu = _since(start)
    progress = fitted.progress
    step_logger().info(
        "trained %s: best round %d of %d on %s rows in %.1fs",
        *(plan.model, progress.best_round, progress.rounds, prepared.rows, wall),
    )
    cost = accounting.price_run(wall, settings)
    main = frames.get(plan.spec.datasets[0])
    return Trained(
        prepared, fitted.booster, fitted.text, wall, cpu, main, progress.to_dict(),
        fitted.resumed_from, run_id, cost, fitted.engine, engine.champion_holdout,
    )  # fmt: skip


def final_status(exc: BaseException) -> str:
    """How a run that raised ``exc`` ended: ``failed`` (an error) or ``interrupted`` (a
    signal, Ctrl-C, a cancellation: anything that is not an ``Exception``)."""
    return "failed" if isinstance(exc, Exception) else "interrupted"


@task(cache_policy=NO_CACHE)
def abandon_run(trained: Trained, exc: BaseException, settings: Settings) -> None:
    """Close the training run of a challenger whose evaluation or publication raised."""
    if trained.run_id is not None:
        why = f"{type(exc).__name__}: {exc}".splitlines()[0]
        times = (trained.wall_seconds, trained.cpu_seconds)
        accounting.close_if_running(trained.run_id, final_status(exc), why, settings, times)


def _since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


class _Here:
    """Prepared here from the loaded frames; trained here or, for a ranker with
    ``RETRAIN_DASK_ADDRESS``, on matrices scattered to the cluster."""

    champion_holdout = None

    def __init__(self, plan: Plan, frames: dict[str, pd.DataFrame], settings: Settings) -> None:
        self.plan, self.frames, self.settings = plan, frames, settings

    def __enter__(self) -> _Here:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def prepare(self) -> Prepared:
        return _prepare(self.plan, self.frames, self.settings)

    def fit(self, prepared: Prepared, run_id: int) -> Fitted:
        return _fit(self.plan, prepared, run_id, self.settings)


def _engine(
    plan: Plan, frames: dict[str, pd.DataFrame], settings: Settings
) -> _Here | ClusterTraining:
    """Where the challenger is prepared and trained (see :func:`prepared_on_cluster`)."""
    address = settings.dask_address
    if address is None or not prepared_on_cluster(plan.spec, settings):
        return _Here(plan, frames, settings)
    dataset = plan.spec.datasets[0]
    contract = load_contract(dataset, settings.specs_dir)
    manifest = datasets.load_manifest(dataset, plan.dataset_versions[dataset], settings)
    parts = [(str(p["key"]), str(p["sha256"])) for p in manifest["partitions"]]
    champion = None
    if plan.champion is not None:  # its holdout is built there too if its builder differs
        card = artifacts.load_card(plan.champion, settings)
        champion = Features.model_validate(card["features"]["spec"])
    step_logger().info(
        "preparing and training %s on the Dask cluster at %s: its workers read the %d"
        " partition(s) of %s@%s", *(plan.model, address, len(parts), dataset,
        plan.dataset_versions[dataset]),
    )  # fmt: skip
    order = (contract.require_event_time(), contract.row_keys())
    return ClusterTraining(address, plan.spec, order, parts, settings, champion)


def _prepare(plan: Plan, frames: dict[str, pd.DataFrame], settings: Settings) -> Prepared:
    dataset = plan.spec.datasets[0]
    if plan.spec.task == Task.RANKING:
        return prepare_ranking(frames, plan.spec)
    contract = load_contract(dataset, settings.specs_dir)
    time_col, keys = contract.require_event_time(), contract.row_keys()
    return prepare_binary(frames[dataset], plan.spec, time_col, keys)


def _fit(plan: Plan, prepared: Prepared, run_id: int, settings: Settings) -> Fitted:
    """Train with checkpoints under checkpoints/<model>/<training key>/, resuming from the
    newest intact one (each is also recorded on the training run in the registry); or, with
    ``RETRAIN_DASK_ADDRESS``, on that Dask cluster (no checkpoints there)."""
    address = settings.dask_address
    if address:
        enc = prepared.encoding
        step_logger().info("training %s on the Dask cluster at %s", plan.model, address)
        return cluster.fit_on_dask(
            plan.spec, prepared.train, prepared.valid, enc.names, enc.categorical_indices, address
        )
    rt, every = runtime(settings), plan.spec.lightgbm.checkpoint_every
    checkpoints = StoreCheckpoints(
        rt.store, plan.model, plan.training_key, every,
        known=rt.registry.checkpoints(plan.model, plan.training_key),
        noted=lambda entry: rt.registry.note_checkpoint(run_id, entry),
    )  # fmt: skip
    resume = checkpoints.load()
    if resume is not None:
        step_logger().warning(
            "resuming %s from checkpoint at round %d (%s)",
            *(plan.model, resume[1].rounds, checkpoints.prefix),
        )
    with stop_on_sigterm(checkpoints):
        return train_model(plan.spec, prepared, checkpoints, resume)


@task(cache_policy=NO_CACHE)
def evaluate_challenger(plan: Plan, trained: Trained, settings: Settings) -> Evidence:
    """Score challenger and champion on the same holdout; measure the guards."""
    champion = artifacts.load_scorer(plan.champion, settings)[0] if plan.champion else None
    challenger = Scorer(trained.booster, trained.prepared.encoding, plan.spec.features)
    own = None  # the holdout with the champion's own features, when they are built otherwise
    binary = plan.spec.task == Task.BINARY
    if champion is not None and binary and needs_own_holdout(plan.spec, champion.features):
        own = trained.champion_holdout
        if own is None and trained.frame is not None:
            own = holdout_built(champion.features, trained.frame, trained.prepared.test_rows)
    return gather_evidence(plan.spec, trained.prepared, challenger, trained.text, champion, own)


@task(cache_policy=NO_CACHE)
def decide(evidence: Evidence, plan: Plan) -> Decision:
    """Apply the model's promotion policy (a pure function) to the evidence."""
    return decide_promotion(evidence, plan.spec.policy)


@task(cache_policy=NO_CACHE)
def refuse_recovery(attempt: int, settings: Settings) -> str | None:
    """Why a crash-recovery re-run must not train (``None``: an ordinary run, or go ahead)."""
    if attempt == 0:
        return None
    path = automations_path(settings.deployments_dir)
    return load_automations(path).crash_recovery.refusal(attempt)
