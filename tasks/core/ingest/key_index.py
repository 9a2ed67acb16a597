"""A partition's hashed primary keys (pure): what a commit reads instead of the partition
when the new keys' range meets it (random keys: UUIDs), to learn it holds none of them.

The index is the sorted distinct 64-bit hashes of the partition's key rows: each key column
cast to text, hashed with pandas' SipHash under a fixed key (``hash_pandas_object``: the
same keys give the same hashes in every process). A partition none of whose hashes a new
key has holds none of the new keys; one with a hit is read and matched exactly (two keys
can share a hash, never a match). The manifest's entry records the key columns' Arrow
types and the hash of a fixed probe: an index made for other types, or by a hashing that
differs from this process's (another pandas), is not used and the partition is read.
"""

from __future__ import annotations

import functools
import io
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HASH_KEY = "0123456789123456"  # pandas' default, named: the index depends on it
CHUNK = 131_072  # rows hashed at once
_PROBE = pa.table({"key": ["retrain key index"], "n": [7]})


def hashes(table: pa.Table) -> np.ndarray:
    """Sorted distinct hashes of the rows of ``table`` (its key columns), hashed CHUNK rows
    at a time (the Python strings hashing needs are made for a chunk, not the table)."""
    chunks = [_hashed(table.slice(start, CHUNK)) for start in range(0, table.num_rows, CHUNK)]
    values = np.sort(np.concatenate(chunks)) if chunks else np.empty(0, np.uint64)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _hashed(table: pa.Table) -> np.ndarray:
    columns = {
        name: np.asarray(
            table.column(name).cast(pa.large_string()).to_numpy(zero_copy_only=False),
            dtype=object,
        )
        for name in table.column_names
    }
    frame = pd.DataFrame(columns, dtype=object)
    hashed = pd.util.hash_pandas_object(frame, index=False, hash_key=HASH_KEY, categorize=False)
    return hashed.to_numpy(dtype=np.uint64)  # sorted by the caller (np.unique: 30x slower)


@functools.cache
def hashing() -> str:
    """This process's hash of the probe: an index whose entry says otherwise is not used."""
    return f"{int(hashes(_PROBE)[0]):016x}"


def types_of(table: pa.Table) -> list[str]:
    return [str(field.type) for field in table.schema]


def entry(key: str, sha256: str, types: list[str]) -> dict[str, Any]:
    """The manifest's record of an index object."""
    return {"key": key, "sha256": sha256, "types": types, "hashing": hashing()}


def usable(recorded: dict[str, Any] | None, types: list[str]) -> bool:
    """An index this process can rely on for new keys of ``types``."""
    return (
        recorded is not None
        and recorded.get("types") == types
        and recorded.get("hashing") == hashing()
    )


def may_hold(index: np.ndarray, wanted: np.ndarray) -> bool:
    """True if some hash of ``wanted`` is in ``index`` (both sorted, distinct)."""
    if not len(index) or not len(wanted):
        return False
    at = np.minimum(np.searchsorted(index, wanted), len(index) - 1)
    return bool((index[at] == wanted).any())


def to_bytes(values: np.ndarray) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"hash": pa.array(values, pa.uint64())}), sink, compression="zstd")
    return sink.getvalue()


def from_bytes(body: bytes) -> np.ndarray:
    values: np.ndarray = pq.read_table(io.BytesIO(body))["hash"].to_numpy()
    return values
