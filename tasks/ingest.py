"""Ingestion steps: find new landing files, validate each, commit a dataset version.

Each function is a thin Prefect task: adapters in, pure logic from
``tasks/core``, adapters out.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from schemas.contracts import DatasetContract, load_contract
from schemas.settings import Settings
from tasks.core import layout, manifests
from tasks.core.validation import validate_file
from tasks.errors import ImmutableObjectError, LostRaceError, RetrainError
from tasks.io import events
from tasks.io.registry import NewFile
from tasks.io.stores import sha256_hex
from tasks.runtime import runtime

_DATE = re.compile(r"/(\d{4}-\d{2}-\d{2})/")
SUFFIXES = {"csv": (".csv",), "parquet": (".parquet", ".pq")}


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one landing file."""

    key: str
    uri: str
    sha256: str
    size: int
    status: str  # accepted | quarantined | duplicate
    rows: int = 0
    reasons: str = ""
    partitions: list[manifests.Partition] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=2)
def list_new_files(dataset: str, settings: Settings) -> list[str]:
    """Landing keys of this dataset not yet ingested (a known URI with the same ETag is skipped)."""
    rt = runtime(settings)
    contract = load_contract(dataset, settings.specs_dir)
    known = {(f.uri, f.details.get("etag")) for f in rt.registry.list_files(dataset)}
    suffixes = SUFFIXES[contract.source.format]
    return [
        o.key
        for o in rt.store.list(contract.landing_prefix)
        if o.key.lower().endswith(suffixes) and (o.uri, o.etag) not in known
    ]


@task(cache_policy=NO_CACHE)
def ingest_file(dataset: str, key: str, settings: Settings, now: datetime) -> FileOutcome:
    """Validate one file: write its curated partitions, or quarantine it with the report."""
    rt, log = runtime(settings), get_run_logger()
    contract = load_contract(dataset, settings.specs_dir)
    data, info = rt.store.get_bytes(key), rt.store.head(key)
    uri, sha = rt.store.uri(key), sha256_hex(data)
    base: dict[str, Any] = {"key": key, "uri": uri, "sha256": sha, "size": len(data)}
    if rt.registry.find_file(dataset, uri, sha) is not None:
        return FileOutcome(**base, status="duplicate")
    etag = info.etag if info else None
    same = [
        f for f in rt.registry.list_files(dataset) if f.sha256 == sha and f.status == "accepted"
    ]
    if same:
        reason = f"same content as {same[0].uri}, already ingested"
        details: dict[str, Any] = {"etag": etag, "duplicate_of": same[0].uri}
        return _quarantine(dataset, base, data, reason, details, settings, now)
    df, report = validate_file(data, key, contract, now, reference_keys(contract, settings))
    details = {"etag": etag, "validation": report.to_dict()}
    if df is None:
        return _quarantine(dataset, base, data, report.summary(), details, settings, now)
    date = _landing_date(key, now)
    parts = manifests.plan_partitions(df, dataset, contract.event_time, date, uri)
    for part, body in parts:
        rt.store.put_bytes(part.key, body)
    if report.extra_columns:
        log.warning("%s: extra columns ignored: %s", key, ", ".join(report.extra_columns))
    log.info("%s: accepted, %d rows in %d partition(s)", key, len(df), len(parts))
    return FileOutcome(
        **base, status="accepted", rows=len(df), partitions=[p for p, _ in parts], details=details
    )


def reference_keys(contract: DatasetContract, settings: Settings) -> dict[str, set[str] | None]:
    """Key sets of the current snapshots a contract references (None: no snapshot yet)."""
    rt = runtime(settings)
    out: dict[str, set[str] | None] = {}
    for ref in contract.references:
        latest = rt.registry.latest_dataset_version(ref.dataset)
        if latest is None:
            out[f"{ref.dataset}.{ref.key}"] = None
            continue
        frame = load_dataset_frame(ref.dataset, latest.version, settings)
        out[f"{ref.dataset}.{ref.key}"] = set(frame[ref.key].astype(str))
    return out


def load_dataset_frame(dataset: str, version: str, settings: Settings) -> pd.DataFrame:
    """Every partition of a dataset version, each verified against its sha256."""
    store = runtime(settings).store
    manifest = load_manifest(dataset, version, settings)
    frames = [
        manifests.from_parquet(store.get_bytes(p["key"], sha256=p["sha256"]))
        for p in manifest["partitions"]
    ]
    return pd.concat(frames, ignore_index=True)


def _quarantine(
    dataset: str,
    base: dict[str, Any],
    data: bytes,
    reasons: str,
    details: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> FileOutcome:
    """Copy the file and its report under quarantine/, never over an earlier, different file."""
    rt = runtime(settings)
    key = base["key"]
    qkey = layout.quarantine_key(dataset, _landing_date(key, now), key.rsplit("/", 1)[-1])
    existing = rt.store.head(qkey)
    if existing is not None and sha256_hex(rt.store.get_bytes(qkey)) != base["sha256"]:
        stem, dot, ext = qkey.rpartition(".")
        qkey = f"{stem}.{base['sha256'][:12]}{dot}{ext}" if dot else f"{qkey}.{base['sha256'][:12]}"
    rt.store.put_bytes(qkey, data)
    report = details.get("validation") or {"file": key, "success": False, "reasons": reasons}
    rt.store.put_bytes(
        qkey + ".validation.json", json.dumps(report, indent=1, default=str).encode()
    )
    details = {**details, "quarantine_uri": rt.store.uri(qkey)}
    rt.registry.record_quarantined_file(dataset, base["uri"], base["sha256"], base["size"], details)
    events.emit(
        "retrain.dataset.rejected",
        events.dataset_resource(dataset),
        {"uri": base["uri"], "failed_expectations": reasons},
    )
    get_run_logger().warning("%s: quarantined: %s", key, reasons)
    return FileOutcome(**base, status="quarantined", reasons=reasons, details=details)


def _landing_date(key: str, now: datetime) -> str:
    match = _DATE.search("/" + key)
    return match.group(1) if match else now.strftime("%Y-%m-%d")


@task(cache_policy=NO_CACHE)
def commit_dataset_version(
    dataset: str, accepted: list[FileOutcome], settings: Settings, now: datetime
) -> dict[str, Any] | None:
    """Write the next manifest and record it with its files, atomically; retry if a run raced us.

    Returns the new version (``{"version", "rows", "manifest_uri"}``) or None when
    every file was already taken by another run.
    """
    rt = runtime(settings)
    kind = load_contract(dataset, settings.specs_dir).kind
    version = rt.registry.next_dataset_version(dataset)
    for _attempt in range(5):
        pending = [o for o in accepted if rt.registry.find_file(dataset, o.uri, o.sha256) is None]
        if not pending:
            return None
        try:
            return _commit_once(dataset, kind, pending, settings, now, version)
        except ImmutableObjectError as exc:  # a crashed run left a manifest there: skip it
            get_run_logger().warning("dataset %s: %s; using the next number", dataset, exc)
            version = f"v{int(version[1:]) + 1}"
        except LostRaceError as exc:
            get_run_logger().warning(
                "dataset %s moved while committing (%s); retrying", dataset, exc
            )
            version = rt.registry.next_dataset_version(dataset)
    raise RetrainError(f"dataset {dataset}: could not commit a version after 5 attempts")


def _commit_once(
    dataset: str,
    kind: str,
    files: list[FileOutcome],
    settings: Settings,
    now: datetime,
    version: str,
) -> dict[str, Any]:
    rt = runtime(settings)
    parent_rec = rt.registry.latest_dataset_version(dataset)
    parent = load_manifest(dataset, parent_rec.version, settings) if parent_rec else None
    parts = [p for o in files for p in o.partitions]
    if kind == "snapshot":
        parts = files[-1].partitions
    manifest = manifests.build_manifest(dataset, version, parent, kind, parts, now.isoformat())
    body = manifests.manifest_bytes(manifest)
    info = rt.store.put_bytes(layout.manifest_key(dataset, version), body)
    new_files = [NewFile(o.uri, o.sha256, o.size, {**o.details, "rows": o.rows}) for o in files]
    rt.registry.commit_dataset_version(
        dataset,
        parent_rec.version if parent_rec else None,
        info.uri,
        sha256_hex(body),
        manifest["rows"],
        len(manifest["partitions"]),
        new_files,
        version,
    )
    events.emit(
        "retrain.dataset.updated",
        events.dataset_resource(dataset),
        {"version": version, "rows": manifest["rows"]},
    )
    return {"version": version, "rows": manifest["rows"], "manifest_uri": info.uri}


def load_manifest(dataset: str, version: str, settings: Settings) -> dict[str, Any]:
    """Read a version's manifest, verifying the sha256 recorded in the registry."""
    rt = runtime(settings)
    rec = rt.registry.get_dataset_version(dataset, version)
    if rec is None:
        raise RetrainError(f"dataset {dataset} has no version {version}")
    data = rt.store.get_bytes(rt.store.key_of(rec.manifest_uri), sha256=rec.manifest_sha256)
    manifest: dict[str, Any] = json.loads(data)
    return manifest


def outcome_dict(outcome: FileOutcome) -> dict[str, Any]:
    """JSON-friendly view of a file outcome (for reports and --json)."""
    data = asdict(outcome)
    data.pop("details")
    data["partitions"] = len(outcome.partitions)
    return data
