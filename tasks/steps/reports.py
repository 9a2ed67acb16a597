"""Prefect artifacts: what each run shows in the UI (ingestion summary, retraining report)."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from schemas.settings import Settings
from tasks.core.summaries import (
    check_rows,
    ingest_message,
    ingest_rows,
    monitoring_line,
    monitoring_markdown,
    monitoring_rows,
    retrain_markdown,
    retrain_message,
)
from tasks.io.runtime import runtime

__all__ = [
    "ingest_message",
    "monitoring_line",
    "publish_ingest_report",
    "publish_monitoring_report",
    "publish_retrain_report",
    "retrain_markdown",
    "retrain_message",
]


def _key(prefix: str, name: str) -> str:
    return f"{prefix}-{name.replace('_', '-')}"  # artifact keys: lower case, digits, dashes


LINK_DAYS = 7  # presigned links in artifacts stay valid this long


@task(cache_policy=NO_CACHE)
def publish_ingest_report(result: dict[str, Any]) -> None:
    """A table of the run's files (accepted / quarantined with reasons) and the new version.

    A run that found no new file writes under ``ingest-<dataset>-idle``, so the latest
    ``ingest-<dataset>`` artifact stays the last real ingestion.
    """
    rows, _summary = ingest_rows(result)
    key = _key("ingest", result["dataset"]) + ("" if result["files"] else "-idle")
    create_table_artifact(table=rows, key=key, description=ingest_message(result))


@task(cache_policy=NO_CACHE)
def publish_retrain_report(result: dict[str, Any], settings: Settings) -> None:
    """The retraining report (markdown) and a table of every check of the gate.

    Skipped runs write under ``retrain-<model>-skipped``: the latest ``retrain-<model>``
    artifact stays the last real decision. Artifact locations are links a browser can
    open when the store is S3 (presigned for ``LINK_DAYS`` days), paths otherwise.
    """
    key = _key("retrain", result["model"])
    if result["outcome"] == "skipped":
        key += "-skipped"
    markdown = retrain_markdown(result, _links(result.get("artifacts") or {}, settings))
    message = retrain_message(result)
    create_markdown_artifact(markdown=markdown, key=key, description=message)
    checks = check_rows(result)
    if checks:
        create_table_artifact(table=checks, key=f"{key}-checks", description=message)


def _links(artifacts: dict[str, str], settings: Settings) -> dict[str, str]:
    store, out = runtime(settings).store, {}
    for name, uri in artifacts.items():
        if not uri:
            continue
        link = store.link(store.key_of(uri), LINK_DAYS * 86_400)
        out[name] = f"[{uri}]({link}) (link valid {LINK_DAYS} days)" if link else f"`{uri}`"
    return out


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
