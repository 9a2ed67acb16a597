"""Prefect artifacts: what each run shows in the UI (ingestion summary, retraining report)."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE


def _num(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else ("-" if value is None else str(value))


@task(cache_policy=NO_CACHE)
def publish_ingest_report(result: dict[str, Any]) -> None:
    """A table of the run's files (accepted / quarantined with reasons) and the new version."""
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
    create_table_artifact(
        table=rows or [{"file": "(no new files)"}],
        key=f"ingest-{dataset.replace('_', '-')}",
        description=summary,
    )


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


@task(cache_policy=NO_CACHE)
def publish_retrain_report(result: dict[str, Any]) -> None:
    """The retraining report as a markdown artifact keyed by model."""
    create_markdown_artifact(
        markdown=retrain_markdown(result),
        key=f"retrain-{result['model'].replace('_', '-')}",
        description=f"{result['model']}: {result['outcome']}",
    )
