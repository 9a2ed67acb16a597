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

import pandas as pd

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
) -> Resolution:
    """Decide, file by file in commit order, what repeated keys mean.

    Args:
        existing: key columns, ``SOURCE`` and ``PARTITION`` of every row already in the
            version being extended.
        files: (uri, key columns + ``PARTITION``) of each new file, in commit order.
        mode: ``reject`` or ``replace``.
    """
    # an empty key set has untyped (object) columns: they would not merge with timestamps
    known, out = (existing if len(existing) else None), Resolution()
    for uri, keys in files:
        if known is None:
            known = keys.assign(**{SOURCE: uri})
            continue
        hits = keys[key_cols].merge(known, on=key_cols, how="inner")
        if len(hits) and mode == "reject":
            out.rejected.append(_clash(uri, hits, key_cols))
            continue
        for partition, rows in hits.groupby(PARTITION, sort=True):
            earlier = out.superseded.get(str(partition))
            drop = rows[key_cols] if earlier is None else pd.concat([earlier, rows[key_cols]])
            out.superseded[str(partition)] = drop.drop_duplicates(ignore_index=True)
            out.replaced_by[str(partition)] = uri
        added = keys.assign(**{SOURCE: uri})
        stale = known.merge(hits[key_cols], on=key_cols, how="left", indicator=True)
        kept = stale[stale["_merge"] == "left_only"].drop(columns="_merge")
        known = pd.concat([kept, added], ignore_index=True) if len(kept) else added
    return out


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


def clash_report(clash: Clash, file: str, dataset: str, key_cols: list[str]) -> dict[str, Any]:
    """The quarantine report of a file rejected for repeated keys (a validation report's shape)."""
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
    return {"file": file, "dataset": dataset, "success": False, "checks": [check]}


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value
