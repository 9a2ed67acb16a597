"""Dataset versions in the store and the registry: landing files in, verified frames out.

Composes the object store and the registry: every manifest and partition read is
checked against the sha256 the registry (or the manifest) recorded for it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from schemas.contracts import DatasetContract, load_contract
from schemas.errors import ImmutableObjectError, LostRaceError, RetrainError
from schemas.settings import Settings
from schemas.text import shown
from tasks.core import layout
from tasks.core.documents import to_json_bytes
from tasks.core.ingest import manifests
from tasks.core.ingest.keys import Clash
from tasks.core.ingest.landing import FileOutcome, landing_date
from tasks.core.reports.validation import validation_html
from tasks.core.train.prepared import sort_events
from tasks.io import dataset_keys, faults
from tasks.io.landing import Landed
from tasks.io.registry import NewFile
from tasks.io.runtime import runtime
from tasks.io.stores import sha256_hex

COMMIT_ATTEMPTS = 5


def write_partitions(parts: list[tuple[manifests.Partition, bytes]], settings: Settings) -> None:
    """Write curated partitions (immutable, content-addressed: rewriting one is a no-op)."""
    store = runtime(settings).store
    for part, body in parts:
        store.put_bytes(part.key, body)


def record_quarantine(
    dataset: str,
    landed: Landed,
    reasons: str,
    details: dict[str, Any],
    settings: Settings,
    now: datetime,
) -> FileOutcome:
    """Copy the file and its report under quarantine/ and record it; never overwrite another.

    A different earlier file under the same quarantine name keeps its place: this one
    gets a name carrying its sha256.
    """
    rt = runtime(settings)
    name = landed.key.rsplit("/", 1)[-1]
    qkey = layout.quarantine_key(dataset, landing_date(landed.key, now), name)
    if rt.store.head(qkey) is not None and rt.store.sha256_of(qkey) != landed.sha256:
        stem, dot, ext = qkey.rpartition(".")
        tag = landed.sha256[:12]
        qkey = f"{stem}.{tag}{dot}{ext}" if dot else f"{qkey}.{tag}"
    if landed.held:
        rt.store.put_bytes(qkey, landed.data)
    else:  # copied in the store, checked against the sha256 looked up
        rt.store.copy(landed.key, qkey, landed.sha256)
    report = details.get("validation") or {"file": landed.key, "success": False, "reasons": reasons}
    rt.store.put_bytes(qkey + ".validation.json", to_json_bytes(report))
    page = write_validation_page(qkey, report, landed.uri, settings)
    details = {**details, "quarantine_uri": rt.store.uri(qkey), "report_uri": page}
    base = landed.base()
    rt.registry.record_quarantined_file(dataset, base["uri"], base["sha256"], base["size"], details)
    rows = int(report.get("rows") or 0)  # rows read, none of them kept
    return FileOutcome(**base, status="quarantined", rows=rows, reasons=reasons, details=details)


def record_refused(
    dataset: str, key: str, reason: str, settings: Settings, now: datetime
) -> FileOutcome:
    """Quarantine a landing file by reference: record it and write its report, never read
    it into memory or copy it (too large, or a name that is not safe to reuse).

    The report goes under ``quarantine/<dataset>/<date>/refused-<sha256 prefix>``; the
    registry row keeps the file's URI, sha256 (streamed), size and ETag, so it is not
    announced again.
    """
    rt = runtime(settings)
    info = rt.store.head(key)
    if info is None:
        raise RetrainError(f"landing file vanished before it was read: {rt.store.uri(key)}")
    sha = rt.store.sha256_of(key)
    qkey = layout.quarantine_key(dataset, landing_date(key, now), f"refused-{sha[:16]}")
    report = {
        "file": shown(key), "dataset": dataset, "success": False, "rows": 0,
        "reasons": reason, "checks": [],
    }  # fmt: skip
    rt.store.put_bytes(qkey + ".validation.json", to_json_bytes(report))
    page = write_validation_page(qkey, report, shown(info.uri), settings)
    details = {
        "etag": info.etag, "quarantine": "by reference", "refused": reason, "report_uri": page,
    }  # fmt: skip
    rt.registry.record_quarantined_file(dataset, info.uri, sha, info.size, details)
    return FileOutcome(
        key, info.uri, sha, info.size, "quarantined", reasons=reason, details=details
    )


def write_validation_page(key: str, report: dict[str, Any], where: str, settings: Settings) -> str:
    """Write ``<key>.validation.html`` (every check, what it found, example rows); its URI."""
    store = runtime(settings).store
    page = f"{key}.validation.html"
    store.put_bytes(page, validation_html(report, where).encode("utf-8"))
    return store.uri(page)


def record_validation(
    dataset: str, landed: Landed, report: dict[str, Any], now: datetime, settings: Settings
) -> str:
    """An accepted file's report as JSON and page under ``validation/``; the page's URI.

    Named with the file's sha256 prefix, so a file re-sent under the same name keeps
    the page of the earlier one.
    """
    name = landed.key.rsplit("/", 1)[-1]
    key = layout.validation_key(dataset, landing_date(landed.key, now), name, landed.sha256)
    runtime(settings).store.put_bytes(key + ".validation.json", to_json_bytes(report))
    return write_validation_page(key, report, landed.uri, settings)


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


def load_manifest(dataset: str, version: str, settings: Settings) -> dict[str, Any]:
    """Read a version's manifest, verifying the sha256 recorded in the registry."""
    rt = runtime(settings)
    rec = rt.registry.get_dataset_version(dataset, version)
    if rec is None:
        raise RetrainError(f"dataset {dataset} has no version {version}")
    data = rt.store.get_bytes(rt.store.key_of(rec.manifest_uri), sha256=rec.manifest_sha256)
    manifest: dict[str, Any] = json.loads(data)
    return manifest


def load_dataset_frame(dataset: str, version: str, settings: Settings) -> pd.DataFrame:
    """Every partition of a dataset version, each verified against its sha256."""
    store = runtime(settings).store
    manifest = load_manifest(dataset, version, settings)
    parts = [store.get_bytes(p["key"], sha256=p["sha256"]) for p in manifest["partitions"]]
    return manifests.frame_of_partitions(parts)


Resolved = tuple[
    list[FileOutcome], list[tuple[FileOutcome, Clash]], dict[str, Any], list[dict[str, Any]]
]


@dataclass(frozen=True)
class Committed:
    """A commit's outcome: the new version (None: nothing left to commit), and the files
    it refused because their primary keys were already in the dataset."""

    version: dict[str, Any] | None
    clashes: list[tuple[FileOutcome, Clash]]


def commit_version(
    contract: DatasetContract,
    accepted: list[FileOutcome],
    now: datetime,
    settings: Settings,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> Committed:
    """Write the next manifest and record it with its files, atomically; retry if a run raced us.

    Keys are checked against the version being extended at each attempt (a racing run's
    rows count), as the contract's ``on_duplicate_key`` says.
    """
    rt, dataset = runtime(settings), contract.name
    version = rt.registry.next_dataset_version(dataset)
    for _attempt in range(COMMIT_ATTEMPTS):
        pending = [o for o in accepted if rt.registry.find_file(dataset, o.uri, o.sha256) is None]
        if not pending:
            return Committed(None, [])
        try:
            return _commit_once(contract, pending, now, version, settings, log)
        except ImmutableObjectError as exc:  # another run's manifest holds the number: skip it
            log.warning("dataset %s: %s; using the next number", dataset, exc)
            version = f"v{int(version[1:]) + 1}"
        except LostRaceError as exc:
            log.warning("dataset %s moved while committing (%s); retrying", dataset, exc)
            version = rt.registry.next_dataset_version(dataset)
    raise RetrainError(f"dataset {dataset}: could not commit a version after 5 attempts")


def _commit_once(
    contract: DatasetContract,
    files: list[FileOutcome],
    now: datetime,
    version: str,
    settings: Settings,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> Committed:
    rt, dataset, kind = runtime(settings), contract.name, contract.kind
    parent_rec = rt.registry.latest_dataset_version(dataset)
    parent = load_manifest(dataset, parent_rec.version, settings) if parent_rec else None
    resolved = dataset_keys.resolve_keys(contract, parent, files, settings, log)
    files, clashes, replaced, superseded = resolved
    if not files:
        return Committed(None, clashes)
    parts = files[-1].partitions if kind == "snapshot" else [p for o in files for p in o.partitions]
    manifest = manifests.build_manifest(
        dataset, version, parent, kind, parts, now.isoformat(), replaced, superseded
    )
    body = manifests.manifest_bytes(manifest)
    key = layout.manifest_key(dataset, version)
    try:
        uri = rt.store.put_bytes(key, body).uri
    except ImmutableObjectError:
        body, uri = _adopt_manifest(key, body, settings), rt.store.uri(key)
    faults.fault_point("after_manifest", settings)
    new_files = [NewFile(o.uri, o.sha256, o.size, {**o.details, "rows": o.rows}) for o in files]
    rt.registry.commit_dataset_version(
        dataset,
        parent_rec.version if parent_rec else None,
        uri,
        sha256_hex(body),
        manifest["rows"],
        len(manifest["partitions"]),
        new_files,
        version,
    )
    done = {"version": version, "rows": manifest["rows"], "manifest_uri": uri}
    return Committed(done, clashes)


def _adopt_manifest(key: str, body: bytes, settings: Settings) -> bytes:
    """The manifest already at ``key`` if it describes these same files (a killed run wrote
    it and never committed: its number is reused, not burned); else ImmutableObjectError.

    Only ``created_at`` may differ. A racing run that wrote the same manifest commits the
    same bytes: the registry's compare-and-swap lets one of the two through.
    """
    found = runtime(settings).store.get_bytes(key)

    def content(data: bytes) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(data)
        doc.pop("created_at", None)
        return doc

    try:
        same = content(found) == content(body)
    except (ValueError, AttributeError):  # not a JSON object: not a manifest of ours
        same = False
    if not same:
        raise ImmutableObjectError(f"{key} holds another version's manifest")
    return found


def resolve_versions(
    names: list[str], first_version: str | None, settings: Settings
) -> tuple[dict[str, str], str | None]:
    """The version of each dataset to train on: ``first_version`` for the first, else the latest.

    Returns the versions found and, when a dataset has no version yet, why training waits.

    Raises:
        RetrainError: ``first_version`` does not exist.
    """
    registry = runtime(settings).registry
    versions: dict[str, str] = {}
    for i, dataset in enumerate(names):
        wanted = first_version if i == 0 and first_version else None
        rec = (
            registry.get_dataset_version(dataset, wanted)
            if wanted
            else registry.latest_dataset_version(dataset)
        )
        if rec is None:
            if wanted:
                raise RetrainError(f"dataset {dataset} has no version {wanted}")
            return versions, f"dataset {dataset} has no version yet"
        versions[dataset] = rec.version
    return versions, None


def load_frames(
    versions: dict[str, str],
    settings: Settings,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> dict[str, pd.DataFrame]:
    """Each dataset at its version (every partition verified); events sorted by time and key.

    Row order is part of the determinism contract: event time, then the primary key.
    """
    frames = {}
    for dataset, version in versions.items():
        contract = load_contract(dataset, settings.specs_dir)
        frame = load_dataset_frame(dataset, version, settings)
        if contract.kind == "events":
            frame = sort_events(frame, contract.require_event_time(), contract.row_keys())
        frames[dataset] = frame
        log.info("loaded %s@%s: %d rows", dataset, version, len(frame))
    return frames
