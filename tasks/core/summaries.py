"""What a person reads about a run: the ingestion table and the retraining report (pure)."""

from __future__ import annotations

from typing import Any


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("-" if value is None else str(value))


def ingest_rows(result: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The ingestion run's files as table rows, and a one-line summary of the new version."""
    dataset = result["dataset"]
    rows = [
        {"file": f["key"], "status": f["status"], "rows": f["rows"], "reasons": f["reasons"] or ""}
        for f in result["files"]
    ]
    version = result["version"]
    summary = (
        f"{dataset}: new version {version['version']} ({version['rows']} rows)"
        if version
        else f"{dataset}: no new version"
    )
    return rows or [{"file": "(no new files)"}], summary


def retrain_markdown(result: dict[str, Any]) -> str:
    """The retraining report: decision, reasons, metrics side by side, artifact links."""
    lines = [f"# {result['model']}: {result['outcome']}", ""]
    lines += [f"- {r}" for r in result["reasons"]]
    iv = result.get("interval")
    if iv:
        lines += [
            "",
            f"Paired difference (challenger - champion, resampled over {iv['unit']}): "
            f"{iv['estimate']:+.4f}, {round(iv['confidence'] * 100)}% CI "
            f"[{iv['low']:+.4f}, {iv['high']:+.4f}]",
        ]
    metrics, champion = result.get("metrics") or {}, result.get("champion_metrics") or {}
    if metrics:
        baseline = metrics.get("baseline_popularity") or {}
        lines += [
            "",
            "| metric | challenger | champion | popularity baseline |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {k} | {_num(v)} | {_num(champion.get(k))} | {_num(baseline.get(k))} |"
            for k, v in metrics.items()
            if not isinstance(v, dict)
        ]
    datasets = ", ".join(f"{d}@{v}" for d, v in (result.get("dataset_versions") or {}).items())
    lines += [
        "",
        f"Challenger: {result.get('version') or '-'}; champion now: "
        f"{result.get('champion') or '-'}; data: {datasets or '-'}",
    ]
    lines += [f"- [{name}]({uri})" for name, uri in (result.get("artifacts") or {}).items() if uri]
    return "\n".join(lines)


def monitoring_line(result: dict[str, Any]) -> str:
    """One line: model, champion, status, drifted columns, matured metric, action."""
    perf = result.get("performance") or {}
    drifted = result.get("drifted_features") or []
    score = result.get("prediction") or {}
    parts = [f"{result['model']} {result.get('champion') or '-'}: {result['status']}"]
    named = [*drifted, *(["score"] if score.get("drifted") else [])]
    if named:
        share = result.get("drift_share")
        detail = f"{share:.0%} of tested columns" if share is not None else "share unknown"
        verb = "drift in" if result.get("drift_detected") else "drift below the policy's share in"
        parts.append(f"{verb} {', '.join(named)} ({detail})")
    if perf.get("value") is not None:
        iv = perf.get("interval") or {}
        parts.append(
            f"{perf['metric']} {perf['value']:.4f} [{iv.get('low', float('nan')):.4f},"
            f" {iv.get('high', float('nan')):.4f}] on {perf['rows']} matured"
        )
    parts.append(f"action {result['action']}")
    return "; ".join(parts)


def monitoring_markdown(result: dict[str, Any]) -> str:
    """The monitoring verdict: status, action, every reason, and where the report is."""
    lines = [f"# {result['model']} monitoring: {result['status']}", "", monitoring_line(result), ""]
    lines += [f"- {r}" for r in result.get("reasons") or []]
    if result.get("report_uri"):
        lines += ["", f"Report (self-contained HTML): `{result['report_uri']}`"]
    return "\n".join(lines)


def monitoring_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each watched column and the score: statistic, value, threshold, drifted."""
    columns = dict(result.get("features") or {})
    if result.get("prediction"):
        columns["score"] = result["prediction"]
    return [
        {
            "column": name,
            "statistic": c["statistic"],
            "value": "-" if c["value"] is None else f"{c['value']:.4f}",
            "threshold": c["threshold"],
            "drifted": "yes" if c["drifted"] else "no",
            "status": c["status"],
        }
        for name, c in columns.items()
    ]
