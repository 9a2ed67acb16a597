"""What the CLI prints: registry data (``tasks/io/catalog.py``) shaped as text for people."""

from __future__ import annotations

from typing import Any

from schemas.text import shown


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


def metric_columns(primary: str, names: tuple[str, ...], rows: list[dict[str, Any]]) -> list[str]:
    """The model's own metrics that some row has, its primary metric first."""
    ordered = [primary, *(n for n in names if n != primary)]
    return [n for n in ordered if any(isinstance(r.get(n), int | float) for r in rows)] or [primary]


def ingest_text(result: dict[str, Any]) -> str:
    files = result["files"]
    lines = [f"{result['dataset']}: {len(files)} new file(s)"]
    for f in files:
        extra = f" ({f['rows']} rows)" if f["status"] == "accepted" else ""
        if f["status"] == "quarantined":
            extra = f" ({f['rows']} rows read)"
        why = f": {f['reasons']}" if f["reasons"] else ""
        lines.append(f"  {f['status']:<11} {shown(f['key'])}{extra}{why}")
        if f["status"] == "quarantined" and f.get("report_uri"):
            lines.append(f"  {'':<11} validation page: {f['report_uri']}")
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


def champion_text(data: dict[str, Any]) -> str:
    metrics = ", ".join(f"{k} {_fmt(v)}" for k, v in data["metrics"].items())
    datasets = ", ".join(f"{d}@{v}" for d, v in data["dataset_version"].items())
    return (
        f"{data['model']} champion {data['version']} (promoted {data['promoted_at']})\n"
        f"  trained on: {datasets}\n  metrics:    {metrics}\n"
        f"  model:      {data['artifact_uri']}\n  sha256:     {data['sha256']}\n"
        f"  card:       {data['card_uri']}\n"
        f"  trained by: flow run {data.get('flow_run_id') or '-'}"
    )


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


def datasets_text(data: dict[str, Any]) -> str:
    text = table(
        data["versions"], ["version", "parent_version", "rows", "partitions", "created_at"]
    )
    lines = [f"{data['dataset']} versions:", text, "quarantined files:"]
    for f in data["quarantined"]:
        read = f" ({f['rows']} rows read)" if f.get("rows") is not None else ""
        lines.append(f"  {shown(f['uri'])}{read}: {', '.join(f['details']['reasons'])}")
        if f.get("report_uri"):
            lines.append(f"    validation page: {f['report_uri']}")
    if not data["quarantined"]:
        lines.append("  (none)")
    return "\n".join(lines)


def verify_text(data: dict[str, Any]) -> str:
    lines = []
    for c in data["versions"]:
        status = "ok" if c["ok"] else "FAILED"
        lines.append(
            f"{data['model']} {c['version']}: {status}"
            + ("" if c["ok"] else f" ({'; '.join(c['problems'])})")
        )
    pointer = data["champion_pointer"]
    shown = f"{pointer['version']} (generation {pointer.get('generation')})" if pointer else "-"
    state = (
        f"repaired: {data['pointer_detail']}"
        if data.get("pointer_repaired")
        else data.get("pointer_detail", "")
    )
    lines.append(f"champion.json: {shown}; {state}")
    lines += _dataset_lines(data.get("datasets", []))
    lines += _finding_lines(data.get("findings", []))
    return "\n".join(lines)


def verify_all_text(data: dict[str, Any]) -> str:
    lines = [
        ln
        for m in data["models"]
        for ln in verify_text(m).splitlines()
        if not ln.startswith("FINDING")
    ]
    lines += _dataset_lines(data["datasets"])
    lines += _finding_lines([f for m in data["models"] for f in m["findings"]] + data["findings"])
    lines.append("ok" if data["ok"] else "FAILED")
    return "\n".join(lines)


def _dataset_lines(checked: list[dict[str, Any]]) -> list[str]:
    return [
        f"{c['dataset']} {c['version']}: "
        + ("ok" if c["ok"] else f"FAILED ({'; '.join(c['problems'])})")
        for c in checked
    ]


def _finding_lines(findings: list[dict[str, str]]) -> list[str]:
    return [f"FINDING {f['what']}: {f['where']}: {f['detail']}" for f in findings]


def gc_text(data: dict[str, Any]) -> str:
    verb = "would remove" if data["dry_run"] else "removed"
    lines = [
        f"{verb} {item['kind']}: {item['where']} ({item['objects']} object(s)): {item['why']}"
        for item in data["removed"]
    ]
    lines += [f"kept: {item['where']}: {item['why']}" for item in data["kept"]]
    lines += [f"closed training run {run} as interrupted" for run in data["runs_closed"]]
    return "\n".join(lines) or "nothing to collect"


def cost_text(data: dict[str, Any]) -> str:
    """One row per model and a total: runs by status, spend, on-demand, savings, promotions."""
    scope = data["model"] or "all models"
    since = f" since {data['since']}" if data["since"] else ""
    rows = [*data.get("by_model", []), {**data, "model": "total"}] if data["runs"] else []
    shown = [_cost_row(r) for r in rows]
    columns = ["model", "runs", "statuses", "spent $", "on-demand $", "saved $", "promotions"]
    return f"{scope}{since}: training runs\n" + table(shown, [*columns, "$ per promotion"])


def _cost_row(summary: dict[str, Any]) -> dict[str, Any]:
    per = summary["cost_per_promotion_usd"]
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(summary["by_status"].items()))
    return {
        "model": summary["model"] or "total",
        "runs": summary["runs"],
        "statuses": statuses,
        "spent $": f"{summary['spend_usd']:.4f}",
        "on-demand $": f"{summary['on_demand_usd']:.4f}",
        "saved $": f"{summary['savings_usd']:.4f}",
        "promotions": summary["promotions"],
        "$ per promotion": None if per is None else f"{per:.4f}",
    }


def quickstart_header(days: int, seed: int, models: list[str], store: str, registry: str) -> str:
    """The quickstart's first lines: what it runs and where its state goes (no password)."""
    return (
        f"retrain quickstart: {days} days of sample data for {', '.join(models)} (seed {seed})\n"
        f"  store:    {store}\n  registry: {_safe(registry)}"
    )


def quickstart_step(step: dict[str, Any]) -> str:
    """One line per model for a quickstart step, with its quarantined files, the monitoring
    verdict on the new data, and the reasons of anything not promoted."""
    days = step["days"]
    label = days[0] if len(days) == 1 else f"{days[0]}..{days[-1][-2:]}"
    models = [m for m in step if m != "days"]
    lines = [
        _quickstart_line(label if i == 0 else "", model, step[model])
        for i, model in enumerate(models)
    ]
    return "\n".join(lines)


def _quickstart_line(label: str, model: str, runs: dict[str, Any]) -> str:
    ingested, trained, watched = runs["ingest"], runs["train"], runs.get("monitor")
    files = ingested["files"]
    ok = sum(f["status"] == "accepted" for f in files)
    bad = [f for f in files if f["status"] == "quarantined"]
    version = ingested["version"]
    data = f"{ingested['dataset']}: {ok} ok, {len(bad)} quarantined -> " + (
        f"{version['version']} ({version['rows']:,} rows)" if version else "no new version"
    )
    asked = _asked_by_monitoring(watched)
    line = f"[{label:<16}] {data:<52} | {model}: {trained['outcome']}{asked}"
    if trained["outcome"] != "skipped":
        line += f" - {gate_text(trained)}"
    details = [
        f"{'':19}quarantined {shown(f['key'].rsplit('/', 1)[-1])}: {f['reasons']}" for f in bad
    ]
    if watched is not None and watched["status"] != "no_champion":
        details.append(f"{'':19}{_monitoring_line(watched)}")
    if trained["outcome"] != "promoted":
        details += [f"{'':19}{model} {trained['outcome']}: {r}" for r in trained["reasons"]]
    elif why := _why_promoted_lower(trained):
        details.append(f"{'':19}{model} promoted: {why}")
    return "\n".join([line, *details])


def _why_promoted_lower(trained: dict[str, Any]) -> str | None:
    """Why a challenger scoring below its champion was promoted (non-inferior), or None."""
    interval = trained.get("interval") or {}
    if not trained.get("champion_metrics") or interval.get("estimate", 0.0) >= 0:
        return None
    gate = next((r for r in trained["reasons"] if r.startswith("non_inferiority")), None)
    shown = f" ({gate.split(': ', 1)[1]})" if gate else ""
    return "lower, but non-inferior: within the policy's margin" + shown


def _asked_by_monitoring(watched: dict[str, Any] | None) -> str:
    if watched is None or watched["action"] not in ("retrain", "rollback"):
        return ""
    why = "drift" if watched["status"] == "drift" else "degradation"
    return f" (retraining asked for by {why})" if watched["action"] == "retrain" else ""


def _monitoring_line(watched: dict[str, Any]) -> str:
    from tasks.steps.reports import monitoring_line

    return f"monitor {monitoring_line(watched)}"


def quickstart_closing(champions: dict[str, dict[str, Any] | None]) -> str:
    """Each champion with its metrics (the ranker's next to its baseline) and artifacts."""
    lines = [""]
    for model, champion in champions.items():
        if champion is None:
            lines.append(f"{model}: no champion was promoted")
            continue
        metrics = {k: v for k, v in champion["metrics"].items() if isinstance(v, float)}
        shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        lines.append(f"{model} champion {champion['version']}: {shown}")
        for name, base in (champion["metrics"].get("baselines") or {}).items():
            lines.append(
                f"  baseline {name}: " + ", ".join(f"{k} {v:.4f}" for k, v in base.items())
            )
        lines += [f"  model: {champion['artifact_uri']}", f"  card:  {champion['card_uri']}"]
    lines.append("next: retrain champion fraud | retrain history recs | retrain verify fraud")
    return "\n".join(lines)


def _safe(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    return f"{head.split('//')[0]}//***@{tail}" if sep else url


def monitor_text(result: dict[str, Any]) -> str:
    """A monitoring run for people: the verdict, each drifted column, the matured metric."""
    from tasks.steps.reports import monitoring_line

    lines = [monitoring_line(result)]
    lines += [f"  {r}" for r in result["reasons"]]
    columns = {
        **result.get("features", {}),
        **({"score": result["prediction"]} if result.get("prediction") else {}),
    }
    for name, c in columns.items():
        if c["drifted"] or c["status"] != "tested":
            value = "-" if c["value"] is None else f"{c['value']:.4f}"
            limit = f"threshold {c['threshold']:g}"
            lines.append(f"  {name:<20} {c['status']:<17} {c['statistic']} {value} ({limit})")
    if result.get("report_uri"):
        lines.append(f"  report: {result['report_uri']}")
    return "\n".join(lines)


def monitoring_history_text(model: str, rows: list[dict[str, Any]]) -> str:
    """Past monitoring runs, newest first."""
    columns = [
        "created_at",
        "champion_version",
        "status",
        "action",
        "metric",
        "value",
        "drifted_features",
    ]
    shown = [{**r, "drifted_features": ",".join(r["drifted_features"]) or "-"} for r in rows]
    return f"{model} monitoring runs:\n" + table(shown, columns)
