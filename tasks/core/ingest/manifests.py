"""Dataset version manifests and content-addressed partitions (pure: bytes in, bytes out)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks.core.layout import curated_key


@dataclass(frozen=True)
class Partition:
    """One immutable Parquet object of a dataset version."""

    key: str
    sha256: str
    rows: int
    date: str
    source_uri: str
    min_time: str | None = None
    max_time: str | None = None


def to_parquet(df: pd.DataFrame) -> bytes:
    """Deterministic Parquet bytes (no pandas index, fixed writer options)."""
    return _table_parquet(pa.Table.from_pandas(df, preserve_index=False))


def _table_parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue().to_pybytes()


def from_parquet(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    """A partition's rows (only ``columns`` when given: a column store reads just those)."""
    return pq.read_table(pa.BufferReader(data), columns=columns).to_pandas()


def plan_partitions(
    df: pd.DataFrame, dataset: str, event_time: str | None, landing_date: str, source_uri: str
) -> list[tuple[Partition, bytes]]:
    """Split a validated frame into partitions by event date (snapshots: the landing date)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    return plan_table_partitions(table, dataset, event_time, landing_date, source_uri)


def plan_table_partitions(
    table: pa.Table, dataset: str, event_time: str | None, landing_date: str, source_uri: str
) -> list[tuple[Partition, bytes]]:
    """Split a validated table into partitions by event date (snapshots: the landing date).

    Rows keep their file order within a partition; the bytes are those
    :func:`to_parquet` writes for the same rows.
    """
    if event_time is None:
        groups = [(landing_date, table)]
    else:
        dates = pc.cast(table.column(event_time), pa.date32())
        days = sorted(d for d in pc.unique(dates).to_pylist() if d is not None)
        one_day = len(days) == 1 and not dates.null_count  # the common case: no copy
        groups = [
            (day.isoformat(), table if one_day else table.filter(pc.equal(dates, day)))
            for day in days
        ]
    out = []
    for date, group in groups:
        data = _table_parquet(group)
        sha = hashlib.sha256(data).hexdigest()
        times = pc.min_max(group.column(event_time)) if event_time else None
        part = Partition(
            key=curated_key(dataset, date, sha),
            sha256=sha,
            rows=group.num_rows,
            date=date,
            source_uri=source_uri,
            min_time=pd.Timestamp(times["min"].as_py()).isoformat() if times else None,
            max_time=pd.Timestamp(times["max"].as_py()).isoformat() if times else None,
        )
        out.append((part, data))
    return out


def build_manifest(
    dataset: str,
    version: str,
    parent: dict[str, Any] | None,
    kind: str,
    new_partitions: list[Partition],
    created_at: str,
    replaced: dict[str, Partition | None] | None = None,
    superseded: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The next version's manifest.

    Events: the parent's partitions plus the new ones. Snapshot: the new ones alone.
    ``replaced`` maps a partition whose rows newer files superseded to its rewrite (None:
    no row left); ``superseded`` records which rows went and why.
    """
    kept = [] if parent is None or kind == "snapshot" else list(parent["partitions"])
    partitions = kept + [asdict(p) for p in new_partitions]
    partitions = list({p["key"]: p for p in reversed(partitions)}.values())[::-1]  # no repeats
    swaps = replaced or {}
    partitions = [
        asdict(swaps[p["key"]]) if swaps.get(p["key"]) else p  # type: ignore[arg-type]
        for p in partitions
        if p["key"] not in swaps or swaps[p["key"]] is not None
    ]
    extra = {"superseded": list(superseded)} if superseded else {}
    return {
        "dataset": dataset,
        "version": version,
        "parent": parent["version"] if parent else None,
        "kind": kind,
        "created_at": created_at,
        "rows": sum(int(p["rows"]) for p in partitions),
        "partitions": partitions,
        **extra,
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Canonical JSON bytes of a manifest (sorted keys): its sha256 is recorded."""
    return json.dumps(manifest, sort_keys=True, indent=1).encode()


def latest_event_time(manifest: dict[str, Any]) -> pd.Timestamp | None:
    """The newest event time of a version: the 'now' of its training windows."""
    times = [p["max_time"] for p in manifest["partitions"] if p.get("max_time")]
    return pd.Timestamp(max(times)) if times else None
