"""Primary keys across dataset versions, at commit: a new file's keys against every row of
the version it extends (tasks/core/ingest/keys.py decides; this reads and rewrites the
partitions). ``reject`` refuses a file that repeats a key; ``replace`` rewrites the earlier
partitions without the superseded rows (content-addressed anew) and records which went.

Each partition's key range is recorded in the manifest when it is committed (and for an
older partition the first time it is read), so only the partitions whose range overlaps
the new files' are read: with keys that grow over time (ids carrying a date or a
sequence) a commit reads no earlier partition at all, however long the history. Those it
reads (random keys, UUIDs, meet every range) are read one at a time and only the rows whose
key a new file holds are kept: memory holds the new keys and the matches, not the history's.
The first time a partition is read for keys its hashed keys are stored beside it and named
in the manifest (tasks/core/ingest/key_index.py); later commits read those (8 bytes a row)
and read the partition itself only when one of the new keys' hashes is there.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, fields, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from schemas.contracts import DatasetContract
from schemas.errors import ImmutableObjectError, StoreError
from schemas.settings import Settings
from tasks.core import layout
from tasks.core.ingest import key_index, keys, manifests
from tasks.core.ingest.keys import Clash
from tasks.core.ingest.landing import FileOutcome
from tasks.io.runtime import runtime
from tasks.io.stores import sha256_hex


def resolve_keys(
    contract: DatasetContract,
    parent: dict[str, Any] | None,
    files: list[FileOutcome],
    settings: Settings,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
) -> tuple[
    list[FileOutcome], list[tuple[FileOutcome, Clash]], dict[str, Any], list[dict[str, Any]]
]:
    """Files kept (their partitions' key ranges recorded), files refused for repeated keys,
    the parent's partitions to swap (rewritten, or their key range recorded), superseded
    rows. ``log`` hears how many earlier partitions were read."""
    key_cols = list(contract.primary_key)
    if contract.kind != "events" or not key_cols:
        return files, [], {}, []
    store = runtime(settings).store
    new_tables = [
        _key_tables(store, [(p.key, p.sha256) for p in o.partitions], key_cols) for o in files
    ]
    files = [_ranged(o, ts, key_cols) for o, ts in zip(files, new_tables, strict=True)]
    incoming = keys.union_range([p.key_range for o in files for p in o.partitions])
    olds = [
        p for p in (parent or {}).get("partitions", [])
        if keys.may_share_keys(p.get("key_range"), incoming)
    ]  # fmt: skip
    if not olds and len(files) == 1:  # one file meeting no earlier key: nothing to match
        return files, [], {}, []
    existing, learned, read = _earlier_matches(store, olds, new_tables, key_cols)
    if log is not None and olds:
        indexed = sum(found.get("key_index") is not None for found in learned.values())
        log.info(
            "%s: keys checked against %d earlier partition(s): %d read (%d indexed now), "
            "%d passed by their hashed keys",
            contract.name, len(olds), read, indexed, len(olds) - read,
        )  # fmt: skip
    sources = {p["key"]: p["source_uri"] for p in olds}
    news = [
        (o.uri, _keys([p.key for p in o.partitions], ts, key_cols))
        for o, ts in zip(files, new_tables, strict=True)
    ]
    found = keys.resolve(existing, news, key_cols, contract.on_duplicate_key, sources)
    refused = {c.uri: c for c in found.rejected}
    kept = [o for o in files if o.uri not in refused]
    clashes = [(o, refused[o.uri]) for o in files if o.uri in refused]
    replaced, superseded = _rewrite(found, olds, kept, key_cols, settings)
    for part in olds:  # read once: never again (its range, its hashed keys recorded)
        if part["key"] in learned and part["key"] not in replaced:
            replaced[part["key"]] = replace(_partition(part), **learned[part["key"]])
    return kept, clashes, replaced, superseded


def _earlier_matches(
    store: Any, olds: list[dict[str, Any]], new_tables: list[list[pa.Table]], key_cols: list[str]
) -> tuple[pd.DataFrame, dict[str, dict[str, Any]], int]:
    """The rows of earlier partitions whose key some new file holds (``_keys``' shape, every
    partition named), what was learned of each partition read (its key range if it had
    none, its hashed keys if it had no usable index), and how many were read. A partition
    whose index holds none of the new keys' hashes is not read. The others are read one at
    a time, checked against their sha256, and left with their matches only (order kept):
    the resolution that follows sees the same hits, in the same order, as it would on
    every earlier row.
    (Two read at once on two threads were 12% faster and held 40% more memory.)"""
    wanted = _union([t for tables in new_tables for t in tables], key_cols)
    indexed = wanted is not None and any(p.get("key_index") for p in olds)
    probe = (key_index.hashes(wanted), key_index.types_of(wanted)) if indexed else None
    matched, learned, passed = [], {}, 0
    for part in olds:
        verdict = None if probe is None else _index_says(store, part, *probe)
        if verdict == "none there" and wanted is not None:
            matched.append(wanted.schema.empty_table())
            passed += 1
            continue
        (table,) = _key_tables(store, [(part["key"], part["sha256"])], key_cols)
        found: dict[str, Any] = {}
        if part.get("key_range") is None:
            found["key_range"] = keys.key_range(table, key_cols)
        if verdict is None and (probe is not None or part.get("key_index") is None):
            found["key_index"] = _stored_index(store, part["key"], table)
        if found:
            learned[part["key"]] = found
        matched.append(_among(table, wanted, key_cols))
    return _keys([p["key"] for p in olds], matched, key_cols), learned, len(olds) - passed


def _index_says(store: Any, part: dict[str, Any], wanted: Any, types: list[str]) -> str | None:
    """``none there``: the partition's index holds none of ``wanted`` hashes; ``maybe``:
    it holds one (read the partition); None: no index this process can use (none yet,
    other key types or hashing, or the object is missing or damaged: its sha256 fails)."""
    recorded = part.get("key_index")
    if recorded is None or not key_index.usable(recorded, types):
        return None
    try:
        body = store.get_bytes(recorded["key"], sha256=recorded["sha256"])
    except StoreError:
        return None  # read the partition instead, and index it anew
    return "maybe" if key_index.may_hold(key_index.from_bytes(body), wanted) else "none there"


def _stored_index(store: Any, partition_key: str, table: pa.Table) -> dict[str, Any] | None:
    """Store the hashed keys of ``table`` (a partition's key columns); their manifest entry.
    None when their object exists damaged: the store never replaces an immutable object, so
    the manifest stops naming it (``retrain verify`` names it until it is deleted, and the
    next commit that reads the partition writes it again)."""
    body = key_index.to_bytes(key_index.hashes(table))
    sha = sha256_hex(body)
    where = layout.key_index_key(_dataset_of(partition_key), sha)
    try:
        store.put_bytes(where, body)
    except ImmutableObjectError:
        return None
    return key_index.entry(where, sha, key_index.types_of(table))


def _union(tables: list[pa.Table], key_cols: list[str]) -> pa.Table | None:
    """The key columns of these tables as one (None: their types do not join into one).
    A key twice is no matter: a semi join keeps a row once however many keys it meets."""
    try:
        return pa.concat_tables(tables, promote_options="permissive").select(key_cols)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def _among(table: pa.Table, wanted: pa.Table | None, key_cols: list[str]) -> pa.Table:
    """The rows of ``table`` whose key is in ``wanted``, in order (null keys match nothing, as
    in the resolution's join); every row when the types cannot be matched here."""
    if wanted is None:
        return table
    row = "_row"
    numbered = table.append_column(row, pa.array(np.arange(len(table), dtype=np.int64)))
    try:
        hits = numbered.join(wanted.cast(table.schema), keys=key_cols, join_type="left semi")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return table  # e.g. a key column whose type changed between versions
    return hits.sort_by(row).drop_columns([row])


def _ranged(outcome: FileOutcome, tables: list[pa.Table], key_cols: list[str]) -> FileOutcome:
    """The file with each partition's key range recorded."""
    parts = zip(outcome.partitions, tables, strict=True)
    ranged = [replace(p, key_range=keys.key_range(t, key_cols)) for p, t in parts]
    return replace(outcome, partitions=ranged)


def _key_tables(store: Any, parts: list[tuple[str, str]], key_cols: list[str]) -> list[pa.Table]:
    """The key columns of these partitions (key, sha256), each checked against its sha256."""
    return [
        pq.read_table(pa.BufferReader(store.get_bytes(k, sha256=sha)), columns=key_cols)
        for k, sha in parts
    ]


def _partition(entry: dict[str, Any]) -> manifests.Partition:
    """A manifest's partition entry as a Partition (fields it predates left at their default)."""
    known = {f.name for f in fields(manifests.Partition)}
    return manifests.Partition(**{k: v for k, v in entry.items() if k in known})


def _keys(names: list[str], tables: list[pa.Table], key_cols: list[str]) -> pd.DataFrame:
    """The key columns of these partitions (by name) and each row's partition, coded."""
    if not tables:
        return pd.DataFrame(columns=[*key_cols, keys.PARTITION])
    frames = [t.to_pandas() for t in tables]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    codes = np.repeat(np.arange(len(tables), dtype=np.int32), [len(f) for f in frames])
    frame[keys.PARTITION] = pd.Categorical.from_codes(codes, names)
    return frame


def _rewrite(
    found: keys.Resolution,
    olds: list[dict[str, Any]],
    kept: list[FileOutcome],
    key_cols: list[str],
    settings: Settings,
) -> tuple[dict[str, manifests.Partition | None], list[dict[str, Any]]]:
    """Partitions less their superseded rows (content-addressed anew), and the record."""
    store = runtime(settings).store
    by_key = {p["key"]: p for p in olds} | {p.key: asdict(p) for o in kept for p in o.partitions}
    replaced: dict[str, manifests.Partition | None] = {}
    record = []
    for old_key, dropped in found.superseded.items():
        part = by_key[old_key]
        frame = manifests.from_parquet(store.get_bytes(old_key, sha256=part["sha256"]))
        left = keys.without_keys(frame, dropped, key_cols)
        new = None
        if len(left):
            body = manifests.to_parquet(left)
            sha = sha256_hex(body)
            new = manifests.Partition(
                layout.curated_key(_dataset_of(old_key), part["date"], sha),
                sha, len(left), part["date"], part["source_uri"], part.get("min_time"),
                part.get("max_time"), keys.key_range(pa.table(left[key_cols]), key_cols),
            )  # fmt: skip
            store.put_bytes(new.key, body)
        replaced[old_key] = new
        record.append({
            "partition": old_key, "rows": len(frame) - len(left),
            "replaced_by_file": found.replaced_by[old_key],
            "rewritten_as": new.key if new else None,
        })  # fmt: skip
    return replaced, record


def _dataset_of(partition_key: str) -> str:
    return partition_key.split("/")[1]  # curated/<dataset>/date=.../<sha>.parquet
