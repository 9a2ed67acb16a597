"""What the registry holds, shaped for people and scripts: champions, versions, history,
datasets, cost. Read-only; ``flows/cli/render.py`` turns these into text."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from schemas.errors import StoreError
from schemas.settings import Settings
from tasks.core.costs import summarize_runs
from tasks.io.runtime import runtime


def champion_data(settings: Settings, model: str) -> dict[str, Any] | None:
    """The champion of ``model`` with its lineage, metrics and artifacts; None if there is none."""
    rt = runtime(settings)
    record = rt.registry.champion(model)
    if record is None:
        return None
    promoted = [e for e in rt.registry.history(model) if e.to_version == record.version]
    return {
        "model": model,
        "version": record.version,
        "artifact_uri": record.artifact_uri,
        "sha256": record.artifact_sha256,
        "card_uri": record.card_uri,
        "dataset_version": record.dataset_versions,
        "metrics": record.metrics,
        "promoted_at": promoted[-1].created_at.isoformat() if promoted else None,
        "code_version": record.code_version,
        "flow_run_id": _trained_by(record, rt.store),
    }


def _trained_by(record: Any, store: Any) -> str | None:
    """The Prefect flow-run id its card records (None: older card, or unreadable)."""
    if record.card_uri is None:
        return None
    try:
        card = json.loads(store.get_bytes(store.key_of(record.card_uri), sha256=record.card_sha256))
    except StoreError:
        return None  # `retrain verify` names a damaged card; showing the champion goes on
    return (card.get("training") or {}).get("flow_run_id")


def models_data(settings: Settings, model: str) -> list[dict[str, Any]]:
    rows = []
    for r in runtime(settings).registry.list_model_versions(model):
        row = asdict(r)
        row["datasets"] = ",".join(f"{d}@{v}" for d, v in r.dataset_versions.items())
        row.update(r.metrics)
        rows.append(row)
    return rows


def history_data(settings: Settings, model: str) -> dict[str, Any]:
    reg = runtime(settings).registry
    return {
        "model": model,
        "ledger": [asdict(e) for e in reg.history(model)],
        "decisions": [asdict(d) | {"evidence": None} for d in reversed(reg.list_decisions(model))],
    }


def datasets_data(settings: Settings, dataset: str) -> dict[str, Any]:
    reg = runtime(settings).registry
    return {
        "dataset": dataset,
        "versions": [asdict(v) for v in reg.list_dataset_versions(dataset)],
        "quarantined": [
            asdict(f)
            | {
                "details": {"reasons": _reasons(f.details)},
                "rows": (f.details.get("validation") or {}).get("rows"),
                "report_uri": f.details.get("report_uri"),
            }
            for f in reg.list_files(dataset)
            if f.status == "quarantined"
        ],
    }


def _reasons(details: dict[str, Any]) -> list[str]:
    if details.get("refused"):  # quarantined by reference, never read: no checks ran
        return [details["refused"]]
    checks = (details.get("validation") or {}).get("checks", [])
    return [f"{c['check']} {c.get('column') or ''}".strip() for c in checks if not c["success"]]


def cost_data(settings: Settings, model: str | None, since: str | None) -> dict[str, Any]:
    """Training spend, on-demand equivalent, savings and cost per promotion."""
    reg = runtime(settings).registry
    start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    runs = [
        asdict(r) for r in reg.list_training_runs(model) if start is None or r.started_at >= start
    ]
    models = sorted({r["model"] for r in runs}) if model is None else [model]
    promoted = {m: _promotions(reg.history(m), start) for m in models}
    by_model = [
        {"model": m, **summarize_runs([r for r in runs if r["model"] == m], promoted[m])}
        for m in models
    ]
    total = summarize_runs(runs, sum(promoted.values()))
    return {"model": model, "since": since, **total, "by_model": by_model, "runs_detail": runs}


def _promotions(entries: list[Any], start: datetime | None) -> int:
    return sum(
        1
        for e in entries
        if e.action in ("promote", "approve") and (start is None or e.created_at >= start)
    )


def monitoring_data(settings: Settings, model: str) -> list[dict[str, Any]]:
    """Every monitoring run of ``model``, newest first."""
    return [asdict(r) for r in runtime(settings).registry.list_monitoring(model)]
