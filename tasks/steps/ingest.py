"""Ingestion steps: find new landing files, validate each, commit a dataset version."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.contracts import load_contract
from schemas.settings import Settings
from schemas.text import shown
from tasks.core.ingest import limits, manifests
from tasks.core.ingest.batches import validate_in_batches
from tasks.core.ingest.keys import clash_report
from tasks.core.ingest.landing import FileOutcome, is_landing_file, landing_date
from tasks.core.ingest.validation import ExpectationRunner, validate_then
from tasks.io import cluster, datasets, events, landing, prefect_api
from tasks.io.runtime import arrow_returns_memory, quiet_great_expectations, runtime
from tasks.steps.logs import step_logger
from tasks.steps.naming import deployment_id

if TYPE_CHECKING:
    import pyarrow as pa


def absorb_waiting_runs(dataset: str) -> list[str]:
    """From a deployment: cancel the ingestion runs of ``dataset`` queued behind this one
    before it started (a burst of arrival events); this run ingests their files. Names them.
    """
    from prefect.runtime import flow_run

    deployment = deployment_id()
    if deployment is None or flow_run.id is None:
        return []
    reason = f"superseded by {flow_run.name}: it ingests every new {dataset} file"
    cancelled = prefect_api.cancel_waiting_runs(deployment, str(flow_run.id), reason)
    if cancelled:
        step_logger().info(
            "%s: %d waiting run(s) cancelled, their files are ingested here: %s",
            dataset, len(cancelled), ", ".join(cancelled),
        )  # fmt: skip
    return cancelled


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def list_new_files(dataset: str, settings: Settings) -> list[str]:
    """Landing keys of this dataset not yet ingested (a known URI with the same ETag is skipped)."""
    contract = load_contract(dataset, settings.specs_dir)
    known = landing.known_landing_files(dataset, settings)
    fmt = contract.source.format
    listed = runtime(settings).store.list(contract.landing_prefix)
    odd = [shown(o.key) for o in listed if not is_landing_file(o.key, fmt)]
    if odd:
        more = f" and {len(odd) - 5} more" if len(odd) > 5 else ""
        step_logger().warning(
            "%d key(s) under %s are not %s landing files, left alone: %s%s",
            len(odd), contract.landing_prefix, fmt, ", ".join(odd[:5]), more,
        )  # fmt: skip
    return [o.key for o in listed if is_landing_file(o.key, fmt) and (o.uri, o.etag) not in known]


@task(cache_policy=NO_CACHE)
def reach_cluster(address: str) -> int:
    """The Dask cluster's worker count, before any file is sent there (a one-line error
    naming RETRAIN_DASK_ADDRESS when the address is malformed, unreachable or has no worker)."""
    workers = cluster.workers_of(address)
    step_logger().info("validating files on the Dask cluster at %s (%d workers)", address, workers)
    return workers


@task(cache_policy=NO_CACHE)
def ingest_file(dataset: str, key: str, settings: Settings, now: datetime) -> FileOutcome:
    """Validate one file: write its curated partitions, or quarantine it with the report."""
    contract = load_contract(dataset, settings.specs_dir)
    info = runtime(settings).store.head(key)
    refused = limits.refusal(key, info.size if info else 0, contract)
    if refused is not None:  # never read into memory, never copied
        outcome = datasets.record_refused(dataset, key, refused, settings, now)
        _announce_quarantine(dataset, outcome.uri, refused)
        step_logger().warning("%s: quarantined: %s", shown(key), refused)
        return outcome
    batch_bytes = int(settings.ingest_batch_mb * 1e6)
    whole = settings.ingest_whole_bytes
    in_batches = contract.source.format == "csv" and info is not None and info.size > whole
    landed = landing.read_landed(dataset, key, settings, info, hold=not in_batches)
    if landed.recorded is not None:
        return FileOutcome(**landed.base(), status="duplicate")
    if landed.same_content is not None:
        reason = f"same content as {landed.same_content.uri}, already ingested"
        duplicate: dict[str, Any] = {"etag": landed.etag, "duplicate_of": landed.same_content.uri}
        return _quarantined(dataset, landed, reason, duplicate, settings, now)
    refs = datasets.reference_keys(contract, settings)
    quiet_great_expectations()
    arrow_returns_memory()
    date = landing_date(key, now)

    def encode(table: pa.Table) -> list[tuple[manifests.Partition, bytes]]:
        return manifests.plan_table_partitions(
            table, dataset, contract.event_time, date, landed.uri
        )  # their Parquet bytes are encoded while GX checks the table, kept if it passes

    if in_batches:  # memory: a batch, read from the store as validation goes
        writer = manifests.PartitionWriter(dataset, contract.event_time, date, landed.uri)
        with landing.landed_chunks(landed, settings) as chunks:
            report = validate_in_batches(
                chunks, key, contract, now, batch_bytes, writer, refs, expectation_runner()
            )
        parts = writer.finish() if report.success else []
    else:
        passed, report = validate_then(
            landed.data, key, contract, now, encode, refs, expectation_runner()
        )
        parts = passed[1] if passed is not None else []
    checked = report.to_dict()
    details: dict[str, Any] = {"etag": landed.etag, "validation": checked}
    if not report.success:
        return _quarantined(dataset, landed, report.summary(), details, settings, now)
    details["report_uri"] = datasets.record_validation(dataset, landed, checked, now, settings)
    datasets.write_partitions(parts, settings)
    if report.extra_columns:
        step_logger().warning("%s: extra columns ignored: %s", key, ", ".join(report.extra_columns))
    rows = report.rows
    step_logger().info("%s: accepted, %d rows in %d partition(s)", key, rows, len(parts))
    partitions = [p for p, _ in parts]
    return FileOutcome(
        **landed.base(), status="accepted", rows=rows, partitions=partitions, details=details
    )


@functools.cache
def expectation_runner() -> ExpectationRunner:
    """The process's one Great Expectations context (built on first use, not at import)."""
    return ExpectationRunner()


def _quarantined(
    dataset: str,
    landed: landing.Landed,
    reasons: str,
    details: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> FileOutcome:
    outcome = datasets.record_quarantine(dataset, landed, reasons, details, settings, now)
    _announce_quarantine(dataset, landed.uri, reasons)
    step_logger().warning("%s: quarantined: %s", landed.key, reasons)
    return outcome


def _announce_quarantine(dataset: str, uri: str, reasons: str) -> None:
    events.emit(
        "retrain.dataset.rejected",
        events.dataset_resource(dataset),
        {"uri": uri, "failed_expectations": reasons},
    )


@task(cache_policy=NO_CACHE)
def commit_dataset_version(
    dataset: str, accepted: list[FileOutcome], settings: Settings, now: datetime
) -> tuple[dict[str, Any] | None, list[FileOutcome]]:
    """Commit the accepted files as the next dataset version and announce it.

    Returns the version (``{"version", "rows", "manifest_uri"}``, None when nothing was
    left to commit) and the files quarantined at commit for repeating primary keys.
    """
    contract = load_contract(dataset, settings.specs_dir)
    committed = datasets.commit_version(contract, accepted, now, settings, step_logger())
    refused = []
    for outcome, clash in committed.clashes:
        keys = list(contract.primary_key)
        report = clash_report(clash, outcome.key, dataset, keys, outcome.rows)
        landed = landing.read_landed(dataset, outcome.key, settings, hold=False)  # copied
        details = {"etag": landed.etag, "validation": report}
        reason = report["checks"][0]["message"]
        refused.append(_quarantined(dataset, landed, reason, details, settings, now))
    if committed.version is not None:
        version = committed.version
        payload = {"version": version["version"], "rows": version["rows"]}
        events.emit("retrain.dataset.updated", events.dataset_resource(dataset), payload)
    return committed.version, refused
