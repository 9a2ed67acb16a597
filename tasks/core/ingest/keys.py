"""Primary keys across dataset versions: a new file's keys against every earlier row (pure).

Within one file, uniqueness is a Great Expectations check. Across files it is decided at
commit, against the version being extended and the files committed with it, in order:
``reject`` quarantines a file that repeats a key (naming the key and the earlier file),
``replace`` keeps the newest row of each key and supersedes the older rows (their
partitions are rewritten without them, which keeps versions content-addressed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SOURCE, PARTITION = "_source_uri", "_partition"
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Clash:
    """A new file whose primary keys the dataset already holds."""

    uri: str
    count: int
    examples: list[dict[str, Any]]  # {"key": {column: value}, "earlier_file": uri}


@dataclass
class Resolution:
    """What the commit does about repeated keys."""

    rejected: list[Clash] = field(default_factory=list)  # files to quarantine (reject)
    superseded: dict[str, pd.DataFrame] = field(default_factory=dict)  # partition -> keys
    replaced_by: dict[str, str] = field(default_factory=dict)  # partition -> newer file


def resolve(
    existing: pd.DataFrame,
    files: list[tuple[str, pd.DataFrame]],
    key_cols: list[str],
    mode: str,
    sources: dict[str, str] | None = None,
) -> Resolution:
    """Decide, file by file in commit order, what repeated keys mean.

    Keys are matched with Arrow's hash join, so a file that repeats no key (the common
    case) costs one join and the partition of each row is a categorical code: no string
    is repeated per row.

    Args:
        existing: key columns and ``PARTITION`` of every row already in the version being
            extended (with a ``SOURCE`` column, or ``sources`` naming each partition's file).
        files: (uri, key columns + ``PARTITION``) of each new file, in commit order.
        mode: ``reject`` or ``replace``.
        sources: partition -> the landing file it came from, for ``existing``.
    """
    origin = dict(sources or {})
    if SOURCE in existing.columns:
        origin |= dict(zip(existing[PARTITION].astype(str), existing[SOURCE], strict=True))
    # an empty key set has untyped (object) columns: they would not join with timestamps
    known, out = (_coded(existing, key_cols) if len(existing) else None), Resolution()
    for uri, file_keys in files:
        keys = _coded(file_keys, key_cols)
        origin |= dict.fromkeys(keys[PARTITION].cat.categories.astype(str), uri)
        if known is None:
            known = keys
            continue
        _, earlier = _matches(keys, known, key_cols)
        hits = known.iloc[earlier].reset_index(drop=True)
        hits[SOURCE] = hits[PARTITION].astype(str).map(origin)
        if len(hits) and mode == "reject":
            out.rejected.append(_clash(uri, hits, key_cols))
            continue
        for partition, group in hits.groupby(PARTITION, sort=True, observed=True):
            before = out.superseded.get(str(partition))
            drop = group[key_cols] if before is None else pd.concat([before, group[key_cols]])
            out.superseded[str(partition)] = drop.drop_duplicates(ignore_index=True)
            out.replaced_by[str(partition)] = uri
        kept = np.ones(len(known), dtype=bool)
        kept[earlier] = False
        known = _stack([known[kept], keys])
    return out


def key_range(table: pa.Table, key_cols: list[str]) -> dict[str, list[Any]] | None:
    """Each string or integer key column's [min, max] (nulls ignored: they match nothing);
    None when no column has one. Two row sets whose ranges miss each other in any one key
    column share no key, so a partition need not be read to know it."""
    out = {}
    for column in key_cols:
        values = table.column(column)
        if not _rangeable(values.type):
            continue  # e.g. timestamps: no JSON-safe, order-safe value to record
        extremes = pc.min_max(values)
        low, high = extremes["min"].as_py(), extremes["max"].as_py()
        if low is not None:
            out[column] = [low, high]
    return out or None


def _rangeable(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)


def union_range(ranges: list[dict[str, list[Any]] | None]) -> dict[str, list[Any]] | None:
    """The range holding all of these (None if any is unknown)."""
    if not ranges or any(r is None for r in ranges):
        return None
    columns = set.intersection(*(set(r) for r in ranges if r is not None))
    out = {}
    for column in sorted(columns):
        lows, highs = zip(*(r[column] for r in ranges if r is not None), strict=True)
        try:
            out[column] = [min(lows), max(highs)]
        except TypeError:  # the column changed type between partitions: no range
            continue
    return out or None


def may_share_keys(a: dict[str, list[Any]] | None, b: dict[str, list[Any]] | None) -> bool:
    """False only when some key column's ranges are disjoint (unknown ranges: True)."""
    if a is None or b is None:
        return True
    for column in set(a) & set(b):
        (a_low, a_high), (b_low, b_high) = a[column], b[column]
        try:
            if a_high < b_low or b_high < a_low:
                return False
        except TypeError:  # values of different types: cannot tell
            continue
    return True


def _coded(frame: pd.DataFrame, key_cols: list[str]) -> pd.DataFrame:
    """Key columns and a categorical ``PARTITION`` (the codes are small integers)."""
    out = frame[key_cols].reset_index(drop=True)
    out[PARTITION] = frame[PARTITION].astype("category").array
    return out


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames one after the other, their ``PARTITION`` categories united (not stringified)."""
    from pandas.api.types import union_categoricals

    out = pd.concat([f.drop(columns=PARTITION) for f in frames], ignore_index=True)
    out[PARTITION] = union_categoricals([f[PARTITION].array for f in frames])
    return out


def _matches(
    keys: pd.DataFrame, known: pd.DataFrame, key_cols: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (in ``keys``, in ``known``) of each pair of rows with one primary key, in
    ``keys``' row order."""
    left = pa.Table.from_pandas(keys[key_cols], preserve_index=False)
    right = pa.Table.from_pandas(known[key_cols], preserve_index=False).cast(left.schema)
    left = left.append_column("_left", pa.array(np.arange(len(keys))))
    right = right.append_column("_right", pa.array(np.arange(len(known))))
    joined = left.join(right, keys=key_cols, join_type="inner").sort_by(
        [("_left", "ascending"), ("_right", "ascending")]
    )
    return joined["_left"].to_numpy(), joined["_right"].to_numpy()


def _clash(uri: str, hits: pd.DataFrame, key_cols: list[str]) -> Clash:
    examples = [
        {"key": {c: _plain(row[c]) for c in key_cols}, "earlier_file": row[SOURCE]}
        for _, row in hits.head(MAX_EXAMPLES).iterrows()
    ]
    return Clash(uri, len(hits), examples)


def without_keys(frame: pd.DataFrame, keys: pd.DataFrame, key_cols: list[str]) -> pd.DataFrame:
    """``frame`` less the rows whose primary key is in ``keys`` (order kept)."""
    marked = frame.merge(keys[key_cols].drop_duplicates(), on=key_cols, how="left", indicator=True)
    return frame[(marked["_merge"] == "left_only").to_numpy()].reset_index(drop=True)


def clash_report(
    clash: Clash, file: str, dataset: str, key_cols: list[str], rows: int = 0
) -> dict[str, Any]:
    """The quarantine report of a file rejected for repeated keys (a validation report's
    shape); ``rows``: the rows it held, every one read and validated before the commit."""
    shown = ", ".join(
        f"({', '.join(str(v) for v in e['key'].values())}) in {e['earlier_file']}"
        for e in clash.examples[:3]
    )
    message = (
        f"{clash.count} row(s) repeat a primary key ({', '.join(key_cols)}) already in the"
        f" dataset, e.g. {shown} (contract on_duplicate_key: reject)"
    )
    check = {
        "check": "primary_key_unique_across_versions", "success": False,
        "column": ",".join(key_cols), "unexpected_count": clash.count,
        "examples": clash.examples, "message": message,
    }  # fmt: skip
    return {"file": file, "dataset": dataset, "success": False, "rows": rows, "checks": [check]}


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value
