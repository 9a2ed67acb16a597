"""What the CLI prints: registry queries shaped for people (text) and scripts (JSON)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC
from typing import Any

from schemas.settings import Settings
from tasks.errors import RetrainError
from tasks.runtime import runtime


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain aligned text table of ``columns`` (missing cells show '-')."""
    if not rows:
        return "(none)"
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def ingest_text(result: dict[str, Any]) -> str:
    files = result["files"]
    lines = [f"{result['dataset']}: {len(files)} new file(s)"]
    for f in files:
        extra = f" ({f['rows']} rows)" if f["status"] == "accepted" else ""
        why = f": {f['reasons']}" if f["reasons"] else ""
        lines.append(f"  {f['status']:<11} {f['key']}{extra}{why}")
    version = result["version"]
    lines.append(
        f"  dataset version: {version['version']} ({version['rows']} rows)"
        if version
        else "  dataset version: unchanged"
    )
    return "\n".join(lines)


def gate_text(result: dict[str, Any]) -> str:
    """'challenger vX pr_auc 0.51 vs champion vY 0.49, diff +0.02 [-0.01, +0.05]' or the skip."""
    metrics, champ, iv = (
        result.get("metrics") or {},
        result.get("champion_metrics"),
        result.get("interval"),
    )
    if not metrics:
        return "no challenger"
    primary = next(iter(k for k in ("pr_auc", "ndcg@10") if k in metrics), next(iter(metrics)))
    text = f"challenger {result['version']} {primary} {_fmt(metrics[primary])}"
    if champ and iv:
        text += (
            f" vs champion {result['previous_champion']} {_fmt(champ.get(primary))},"
            f" diff {iv['estimate']:+.4f} [{iv['low']:+.4f}, {iv['high']:+.4f}]"
        )
    return text


def train_text(result: dict[str, Any]) -> str:
    lines = [f"{result['model']}: {result['outcome']} - {gate_text(result)}"]
    lines += [f"  reason: {r}" for r in result["reasons"]]
    lines.append(f"  champion: {result['champion'] or 'none'}")
    return "\n".join(lines)


def champion_data(settings: Settings, model: str) -> dict[str, Any]:
    rt = runtime(settings)
    record = rt.registry.champion(model)
    if record is None:
        raise RetrainError(f"model {model} has no champion yet (run: retrain train {model})")
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
    }


def champion_text(data: dict[str, Any]) -> str:
    metrics = ", ".join(f"{k} {_fmt(v)}" for k, v in data["metrics"].items())
    datasets = ", ".join(f"{d}@{v}" for d, v in data["dataset_version"].items())
    return (
        f"{data['model']} champion {data['version']} (promoted {data['promoted_at']})\n"
        f"  trained on: {datasets}\n  metrics:    {metrics}\n"
        f"  model:      {data['artifact_uri']}\n  sha256:     {data['sha256']}\n"
        f"  card:       {data['card_uri']}"
    )


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


def history_text(data: dict[str, Any]) -> str:
    lines = [f"{data['model']} promotion ledger:"]
    lines += [
        f"  {e['created_at']:%Y-%m-%d %H:%M:%S} {e['action']:<8} {e['from_version'] or '-'} -> "
        f"{e['to_version']}  by {e['actor']}: {e['reason']}"
        for e in data["ledger"]
    ] or ["  (empty)"]
    lines.append("decisions:")
    lines += [
        f"  {d['created_at']:%Y-%m-%d %H:%M:%S} {d['version'] or '-':<5} {d['outcome']:<16} "
        f"{'; '.join(d['reasons'])}"
        for d in data["decisions"]
    ] or ["  (none)"]
    return "\n".join(lines)


def datasets_data(settings: Settings, dataset: str) -> dict[str, Any]:
    reg = runtime(settings).registry
    return {
        "dataset": dataset,
        "versions": [asdict(v) for v in reg.list_dataset_versions(dataset)],
        "quarantined": [
            asdict(f) | {"details": {"reasons": _reasons(f.details)}}
            for f in reg.list_files(dataset)
            if f.status == "quarantined"
        ],
    }


def _reasons(details: dict[str, Any]) -> list[str]:
    checks = (details.get("validation") or {}).get("checks", [])
    return [f"{c['check']} {c.get('column') or ''}".strip() for c in checks if not c["success"]]


def datasets_text(data: dict[str, Any]) -> str:
    text = table(
        data["versions"], ["version", "parent_version", "rows", "partitions", "created_at"]
    )
    lines = [f"{data['dataset']} versions:", text, "quarantined files:"]
    lines += [
        f"  {f['uri']}: {', '.join(f['details']['reasons'])}" for f in data["quarantined"]
    ] or ["  (none)"]
    return "\n".join(lines)


def verify_data(settings: Settings, model: str, version: str | None) -> dict[str, Any]:
    from tasks.artifacts import sync_champion_pointer
    from tasks.verify import verify_version

    reg = runtime(settings).registry
    records = reg.list_model_versions(model)
    if version is not None:
        records = [r for r in records if r.version == version]
        if not records:
            raise RetrainError(f"model {model} has no version {version}")
    checks = [verify_version(r, settings) for r in records]
    pointer = sync_champion_pointer(model, settings)
    ok = all(c["ok"] for c in checks)
    return {"model": model, "ok": ok, "versions": checks, "champion_pointer": pointer}


def verify_text(data: dict[str, Any]) -> str:
    lines = []
    for c in data["versions"]:
        status = "ok" if c["ok"] else "FAILED"
        lines.append(
            f"{data['model']} {c['version']}: {status}"
            + ("" if c["ok"] else f" ({'; '.join(c['problems'])})")
        )
    pointer = data["champion_pointer"]
    lines.append(f"champion.json: {pointer['version'] if pointer else 'no champion'}")
    return "\n".join(lines)


def rollback_data(settings: Settings, model: str, to: str | None) -> dict[str, Any]:
    from tasks.artifacts import sync_champion_pointer

    entry = runtime(settings).registry.rollback(
        model, to, actor="retrain CLI", reason="manual rollback"
    )
    sync_champion_pointer(model, settings)
    return asdict(entry)


def cost_data(settings: Settings, model: str | None, since: str | None) -> dict[str, Any]:
    """Training spend, on-demand equivalent, savings and cost per promotion."""
    from datetime import datetime

    from tasks.core.costs import summarize_runs

    reg = runtime(settings).registry
    start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    runs = [
        asdict(r) for r in reg.list_training_runs(model) if start is None or r.started_at >= start
    ]
    models = sorted({r["model"] for r in runs}) if model is None else [model]
    promotions = sum(
        1
        for m in models
        for e in reg.history(m)
        if e.action in ("promote", "approve") and (start is None or e.created_at >= start)
    )
    return {"model": model, "since": since, **summarize_runs(runs, promotions), "runs_detail": runs}


def cost_text(data: dict[str, Any]) -> str:
    scope = data["model"] or "all models"
    since = f" since {data['since']}" if data["since"] else ""
    per = data["cost_per_promotion_usd"]
    lines = [
        f"{scope}{since}: {data['runs']} training run(s) {data['by_status']}",
        f"  spent:              ${data['spend_usd']:.4f}",
        f"  on-demand would be: ${data['on_demand_usd']:.4f}",
        f"  saved:              ${data['savings_usd']:.4f}",
        f"  promotions:         {data['promotions']}"
        + (f" (${per:.4f} each)" if per is not None else ""),
    ]
    return "\n".join(lines)
