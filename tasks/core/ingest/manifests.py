"""Dataset version manifests and content-addressed partitions (pure: bytes in, bytes out)."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
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
    table = pa.Table.from_pandas(df, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    return sink.getvalue()


def from_parquet(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    """A partition's rows (only ``columns`` when given: a column store reads just those)."""
    return pq.read_table(io.BytesIO(data), columns=columns).to_pandas()


def plan_partitions(
    df: pd.DataFrame, dataset: str, event_time: str | None, landing_date: str, source_uri: str
) -> list[tuple[Partition, bytes]]:
    """Split a validated frame into partitions by event date (snapshots: the landing date)."""
    if event_time is None:
        groups = [(landing_date, df)]
    else:
        dates = df[event_time].dt.strftime("%Y-%m-%d")
        groups = [(str(d), g) for d, g in df.groupby(dates, sort=True)]
    out = []
    for date, group in groups:
        data = to_parquet(group.reset_index(drop=True))
        sha = hashlib.sha256(data).hexdigest()
        times = group[event_time] if event_time else None
        part = Partition(
            key=curated_key(dataset, date, sha),
            sha256=sha,
            rows=len(group),
            date=date,
            source_uri=source_uri,
            min_time=times.min().isoformat() if times is not None else None,
            max_time=times.max().isoformat() if times is not None else None,
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
