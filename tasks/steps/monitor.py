"""Monitoring steps: what to watch, measure the recent data, decide, publish and act."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.errors import LostRaceError, RetrainError
from schemas.settings import Settings
from schemas.specs import ModelSpec, Task, load_model_spec
from tasks.core import layout
from tasks.core.champions import champion_before
from tasks.core.documents import to_json_bytes
from tasks.core.gate.bootstrap import Interval
from tasks.core.monitor import decide as decisions
from tasks.core.monitor.drift import DriftResult, compare, compare_columns, summarize
from tasks.core.monitor.performance import Performance, compare_previous, measure
from tasks.core.monitor.recent import Recent, recent_binary, recent_ranking, window_start
from tasks.core.monitor.reference import FORMAT, NUMERIC
from tasks.core.monitor.summary import degraded_payload, drifted_payload, monitoring_document
from tasks.core.reports.monitoring import monitoring_html
from tasks.core.sampling import sample_positions
from tasks.io import artifacts, datasets, events, pointer
from tasks.io.registry import ModelVersionRecord
from tasks.io.runtime import runtime
from tasks.io.stores import sha256_hex
from tasks.steps.logs import step_logger

ACTOR = "monitor_model flow"
Columns = dict[str, tuple[str, np.ndarray]]


@dataclass(frozen=True)
class Watch:
    """What a monitoring run watches: the champion (verified), its reference, the data."""

    model: str
    spec: ModelSpec
    dataset_versions: dict[str, str]
    champion: ModelVersionRecord | None = None
    previous: ModelVersionRecord | None = None  # the champion before the current one
    card: dict[str, Any] = field(default_factory=dict)
    # The reference sample as arrays: Prefect walks every list and dict of a task's arguments
    # (twice per call), so thousands of JSON values would cost seconds on every task.
    reference: Columns = field(default_factory=dict)
    reference_score: np.ndarray | None = None
    blocked: decisions.Verdict | None = None  # why nothing can be compared


@dataclass(frozen=True)
class Measured:
    """What the recent data showed, and the samples the report plots."""

    window: tuple[pd.Timestamp, pd.Timestamp]
    rows: int  # recent rows (ranking: candidate rows of the recent window)
    drift: DriftResult
    performance: Performance
    previous: Interval | None
    reference: Columns
    current: dict[str, np.ndarray]


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def plan_monitoring(model: str, settings: Settings) -> Watch:
    """The champion and its reference, each verified against its sha256; or why not."""
    spec = load_model_spec(model, settings.specs_dir)
    registry = runtime(settings).registry
    versions, missing = datasets.resolve_versions(spec.datasets, None, settings)
    champion = registry.champion(model)
    if champion is None:
        reason = f"{model} has no champion yet: nothing to watch"
        return Watch(
            model, spec, versions, blocked=decisions.cannot_look(decisions.NO_CHAMPION, reason)
        )
    if missing is not None:
        blocked = decisions.cannot_look(decisions.INSUFFICIENT, missing)
        return Watch(model, spec, versions, champion, blocked=blocked)
    problems = artifacts.verify_version(champion, settings)["problems"]
    if problems:
        reason = f"champion {champion.version} failed verification: {'; '.join(problems)}"
        blocked = decisions.cannot_look(decisions.UNVERIFIED, reason)
        return Watch(model, spec, versions, champion, blocked=blocked)
    card = artifacts.load_card(champion, settings)
    reference = artifacts.load_reference(champion, card, settings)
    if reference.get("format") != FORMAT:
        reason = (
            f"champion {champion.version}'s reference profile is format"
            f" {reference.get('format', 1)} (histograms only), not {FORMAT} (a sample):"
            f" retrain {model} to record one"
        )
        blocked = decisions.cannot_look(decisions.OUTDATED, reason)
        return Watch(model, spec, versions, champion, card=card, blocked=blocked)
    previous = _previous_champion(model, champion.version, settings)
    columns = _reference_columns(reference, spec.monitoring.features)
    score = np.asarray(reference["score"], dtype=float) if "score" in reference else None
    return Watch(model, spec, versions, champion, previous, card, columns, score)


def _previous_champion(model: str, current: str, settings: Settings) -> ModelVersionRecord | None:
    """The champion before the current one on the ledger's chain, if it can still score."""
    registry = runtime(settings).registry
    before = champion_before(registry.history(model), current)
    return registry.get_model_version(model, before) if before else None


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def load_monitoring_frames(watch: Watch, settings: Settings) -> dict[str, pd.DataFrame]:
    """The newest version of every dataset of the model (each partition verified)."""
    return datasets.load_frames(watch.dataset_versions, settings, step_logger())


@task(cache_policy=NO_CACHE)
def measure_recent(watch: Watch, frames: dict[str, pd.DataFrame], settings: Settings) -> Measured:
    """Drift of every watched column and the score, and the matured-label metric."""
    if watch.champion is None:
        raise RetrainError(f"{watch.model}: no champion to measure")
    spec, policy = watch.spec, watch.spec.monitoring
    champion, _card = artifacts.load_scorer(watch.champion, settings)
    previous = _previous_scorer(watch, settings)
    recent = _recent(watch, frames, champion, previous, settings)
    reference = watch.reference
    current = {name: recent.values.get(name) for name in reference}
    features = compare_columns(reference, current, policy, spec.seed)  # type: ignore[arg-type]
    score = None
    if policy.watch_score and watch.reference_score is not None:
        score = compare("score", NUMERIC, watch.reference_score, recent.scores, policy, spec.seed)
    drift = summarize(features, score, policy)
    primary = spec.policy.primary_metric
    floor = (
        policy.performance_floor
        if policy.performance_floor is not None
        else spec.policy.floors.get(primary)
    )
    reference_value = watch.card.get("metrics", {}).get(primary)
    performance = measure(primary, recent.matured, reference_value, floor, policy, spec.seed)
    prior = None
    if recent.previous is not None and performance.degraded:
        prior = compare_previous(primary, recent.matured, recent.previous, policy, spec.seed)
    plotted = _report_samples(reference, recent, policy.reference_rows, spec.seed)
    window = (recent.start, recent.end)
    return Measured(window, recent.rows, drift, performance, prior, reference, plotted)


def _previous_scorer(watch: Watch, settings: Settings) -> Any:
    """The previous champion, loaded only when a rollback may need it (verified first)."""
    if watch.previous is None or watch.spec.monitoring.on_degradation != "rollback":
        return None
    try:
        return artifacts.load_scorer(watch.previous, settings)[0]
    except RetrainError as exc:
        step_logger().warning("previous champion %s cannot score: %s", watch.previous.version, exc)
        return None


def _recent(
    watch: Watch, frames: dict[str, pd.DataFrame], champion: Any, previous: Any, settings: Settings
) -> Recent:
    spec = watch.spec
    test_end = pd.Timestamp(watch.card["windows"]["test_end"])
    events_frame = frames[spec.datasets[0]]
    time_col = "event_time" if spec.task == Task.RANKING else _event_time(spec, settings)
    as_of = events_frame[time_col].max()
    start = window_start(test_end, as_of, spec.monitoring.window_days)
    if spec.task == Task.RANKING:
        # A user's NDCG depends on how long the label window is: evaluate the champion on a
        # window as long as its own test window (it may overlap that holdout, never the
        # data it was trained or early-stopped on).
        test_start = pd.Timestamp(watch.card["windows"]["test_start"])
        start = max(test_start, as_of - pd.Timedelta(days=spec.split.test_days))
        return recent_ranking(frames, spec, start, champion, previous)
    return recent_binary(events_frame, spec, time_col, start, champion, previous)


def _event_time(spec: ModelSpec, settings: Settings) -> str:
    from schemas.contracts import load_contract

    return load_contract(spec.datasets[0], settings.specs_dir).require_event_time()


def _reference_columns(reference: dict[str, Any], watched: list[str] | None) -> Columns:
    """The reference sample's columns (only the watched ones when the policy names them)."""
    columns = reference["columns"]
    names = list(columns) if watched is None else watched
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise RetrainError(
            f"monitoring.features: {unknown} are not inputs of the champion"
            f" (inputs: {', '.join(columns)})"
        )
    return {n: (columns[n]["kind"], np.asarray(columns[n]["values"], dtype=object)) for n in names}


def _report_samples(
    reference: Columns, recent: Recent, rows: int, seed: int
) -> dict[str, np.ndarray]:
    keep = sample_positions(len(recent.scores), rows, seed)
    out = {name: recent.values[name][keep] for name in reference if name in recent.values}
    out["score"] = recent.scores[keep]
    return out


@task(cache_policy=NO_CACHE)
def decide_monitoring(watch: Watch, measured: Measured, settings: Settings) -> decisions.Verdict:
    """Apply the monitoring policy (a pure function) to the measurements and the cooldown."""
    runs = runtime(settings).registry.list_monitoring(watch.model)
    cooldown = decisions.Cooldown(
        next((pd.Timestamp(r.as_of) for r in runs if r.drifted_event and r.as_of), None),
        next((pd.Timestamp(r.as_of) for r in runs if r.degraded_event and r.as_of), None),
    )
    return decisions.decide_monitoring(
        measured.drift, measured.performance, measured.previous, cooldown,
        measured.window[1], watch.spec.monitoring,
    )  # fmt: skip


@task(cache_policy=NO_CACHE)
def publish_monitoring(
    watch: Watch, measured: Measured | None, verdict: decisions.Verdict, settings: Settings
) -> dict[str, Any]:
    """Act (roll back), then write the report, record the run and emit its events."""
    if verdict.action == "rollback":
        verdict = _roll_back(watch, verdict, settings)
    champion = watch.champion.version if watch.champion else None
    found = (
        (measured.drift, measured.performance, measured.previous, measured.window)
        if measured
        else ()
    )
    doc = monitoring_document(watch.model, champion, watch.dataset_versions, verdict, *found)
    if measured is not None and doc["window"] is not None:
        doc["window"]["rows"] = measured.rows
    sha = _write_report(watch, measured, doc, settings)
    _record(watch, doc, sha, settings)
    resource = events.model_resource(watch.model)
    if verdict.emit_drifted:
        events.emit("retrain.model.drifted", resource, drifted_payload(doc))
    if verdict.emit_degraded:
        labels = {"retrain.action": verdict.action}
        events.emit("retrain.model.degraded", resource, degraded_payload(doc), labels)
    return doc


def _roll_back(watch: Watch, verdict: decisions.Verdict, settings: Settings) -> decisions.Verdict:
    """The rollback the verdict asks for, as a ledger entry; a lost race is reported, not raised."""
    assert watch.champion is not None and watch.previous is not None  # noqa: S101 - by the verdict
    reason = "; ".join(verdict.reasons)
    registry = runtime(settings).registry
    try:
        registry.rollback(
            watch.model,
            watch.previous.version,
            ACTOR,
            f"monitoring: {reason}",
            expected=watch.champion.version,  # a retried task finds it done, moves nothing
        )
    except LostRaceError as exc:
        why = f"rollback to {watch.previous.version} not done: {exc}"
        return decisions.Verdict(
            verdict.status,
            "none",
            verdict.emit_drifted,
            verdict.emit_degraded,
            [*verdict.reasons, why],
        )
    pointer.reconcile(watch.model, settings)
    done = f"rolled back {watch.champion.version} -> {watch.previous.version} (a ledger entry)"
    return decisions.Verdict(
        verdict.status,
        "rollback",
        verdict.emit_drifted,
        verdict.emit_degraded,
        [*verdict.reasons, done],
    )


def _write_report(
    watch: Watch, measured: Measured | None, doc: dict[str, Any], settings: Settings
) -> str:
    """``report.html`` and ``report.json`` under reports/<model>/monitoring/<time>/; sets
    ``doc["report_uri"]`` and returns the page's sha256."""
    store = runtime(settings).store
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    history = [
        {"as_of": r.as_of.isoformat() if r.as_of else None, "value": r.value,
         "interval_low": r.interval_low, "interval_high": r.interval_high,
         "champion_version": r.champion_version}
        for r in reversed(runtime(settings).registry.list_monitoring(watch.model, limit=30))
    ]  # fmt: skip
    reference = dict(measured.reference) if measured else {}
    if measured is not None and watch.reference_score is not None:
        reference["score"] = (NUMERIC, watch.reference_score)
    current = measured.current if measured else {}
    page = monitoring_html(doc, reference, current, history).encode()
    info = store.put_bytes(layout.monitoring_key(watch.model, stamp, "report.html"), page)
    doc["report_uri"] = info.uri
    store.put_bytes(layout.monitoring_key(watch.model, stamp, "report.json"), to_json_bytes(doc))
    return sha256_hex(page)


def _record(watch: Watch, doc: dict[str, Any], sha: str, settings: Settings) -> None:
    perf = doc.get("performance") or {}
    interval = perf.get("interval") or {}
    runtime(settings).registry.record_monitoring(
        {
            "model": watch.model,
            "champion_version": doc["champion"],
            "dataset_versions": doc["dataset_versions"],
            "status": doc["status"],
            "action": doc["action"],
            "drift_detected": doc["drift_detected"],
            "drifted_features": doc["drifted_features"],
            "degraded": bool(perf.get("degraded", False)),
            "metric": perf.get("metric"),
            "value": perf.get("value"),
            "interval_low": interval.get("low"),
            "interval_high": interval.get("high"),
            "reference_value": perf.get("reference_value"),
            "as_of": pd.Timestamp(doc["as_of"]).to_pydatetime() if doc["as_of"] else None,
            "drifted_event": doc["events"]["drifted"],
            "degraded_event": doc["events"]["degraded"],
            "report_uri": doc["report_uri"],
            "report_sha256": sha,
            "reasons": doc["reasons"],
        }
    )
