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
