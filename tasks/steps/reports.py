"""Prefect artifacts: what each run shows in the UI (ingestion summary, retraining report)."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks.core.summaries import (
    ingest_rows,
    monitoring_line,
    monitoring_markdown,
    monitoring_rows,
    retrain_markdown,
)

__all__ = [
    "monitoring_line",
    "publish_ingest_report",
    "publish_monitoring_report",
    "publish_retrain_report",
    "retrain_markdown",
]


def _key(prefix: str, name: str) -> str:
    return f"{prefix}-{name.replace('_', '-')}"  # artifact keys: lower case, digits, dashes


@task(cache_policy=NO_CACHE)
def publish_ingest_report(result: dict[str, Any]) -> None:
    """A table of the run's files (accepted / quarantined with reasons) and the new version."""
    rows, summary = ingest_rows(result)
    create_table_artifact(table=rows, key=_key("ingest", result["dataset"]), description=summary)


@task(cache_policy=NO_CACHE)
def publish_retrain_report(result: dict[str, Any]) -> None:
    """The retraining report as a markdown artifact keyed by model."""
    create_markdown_artifact(
        markdown=retrain_markdown(result),
        key=_key("retrain", result["model"]),
        description=f"{result['model']}: {result['outcome']}",
    )


@task(cache_policy=NO_CACHE)
def publish_monitoring_report(result: dict[str, Any]) -> None:
    """The monitoring verdict (markdown with the report's location) and a table of columns."""
    key = _key("monitor", result["model"])
    create_markdown_artifact(
        markdown=monitoring_markdown(result), key=key, description=monitoring_line(result)
    )
    rows = monitoring_rows(result)
    if rows:
        create_table_artifact(table=rows, key=f"{key}-columns", description=monitoring_line(result))
