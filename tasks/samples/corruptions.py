"""The landing-CSV writer and the bad landing files tests and the quickstart feed in.

Pure and deterministic for a seed: bytes are returned, callers write them. Both
datasets share the writer, so the corruptions of both live here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

CORRUPTION_KINDS = (
    "missing_column", "renamed_column", "wrong_type", "negative_amount", "duplicate_id",
    "empty", "header_only", "non_utf8", "truncated", "unknown_channel", "bad_label",
    "bad_timestamp", "future_timestamp", "random_bytes",
)  # fmt: skip
INTERACTION_CORRUPTION_KINDS = (
    "missing_column", "bad_rating", "duplicate_rows", "unknown_item", "empty", "random_bytes",
)  # fmt: skip
_TX_STREAM, _INTERACTION_STREAM = 21, 22  # random streams, apart from the generators'
_BAD_BYTES = "\ue000"  # placeholder swapped for latin-1 0xff 0xfe after encoding

Edit = Callable[[pd.DataFrame, np.ndarray], pd.DataFrame]


def _iso_utc(times: pd.Series) -> pd.Series:
    utc = times.dt.tz_convert("UTC")
    whole = bool((utc.dt.microsecond == 0).all() and (utc.dt.nanosecond == 0).all())
    return utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ" if whole else "%Y-%m-%dT%H:%M:%S.%fZ")


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Serialise a frame as a landing CSV: UTF-8, header row, ISO-8601 UTC times, no index."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = _iso_utc(out[col])
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _pick_rows(rng: np.random.Generator, n_rows: int, want: int = 1) -> np.ndarray:
    """About 1% of row positions (at least ``want``) to corrupt."""
    if n_rows < want:
        raise ValueError(f"this corruption needs at least {want} row(s), the frame has {n_rows}")
    return rng.choice(n_rows, size=max(want, n_rows // 100), replace=False)


def _truncate_last_row(data: bytes) -> bytes:
    """Cut the last CSV row in the middle of its widest field, leaving no final newline."""
    head, sep, last = data.rstrip(b"\n").rpartition(b"\n")
    if not sep:
        raise ValueError("truncation needs at least one data row")
    fields = last.split(b",")
    widest = max(range(len(fields)), key=lambda i: len(fields[i]))
    cut = sum(len(f) + 1 for f in fields[:widest]) + max(1, len(fields[widest]) // 2)
    return head + sep + last[:cut]


def _set(df: pd.DataFrame, rows: np.ndarray, col: str, value: object) -> pd.DataFrame:
    out = df.copy()
    if isinstance(out[col].dtype, pd.DatetimeTZDtype):
        out[col] = _iso_utc(out[col])
    if isinstance(value, str):
        out[col] = out[col].astype("str")
    out.loc[rows, col] = value
    return out


def _future(df: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    iso = _iso_utc(df["event_time"]).iloc[rows]
    return _set(df, rows, "event_time", ("2999" + iso.str[4:]).to_numpy())


def _non_utf8(df: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    ids = df["merchant_id"].astype("str").iloc[rows]
    return _set(df, rows, "merchant_id", (ids + _BAD_BYTES).to_numpy())


def _duplicate_id(df: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    half = len(rows) // 2
    ids = df["transaction_id"].to_numpy()[rows[:half]]
    return _set(df, rows[half : 2 * half], "transaction_id", ids)


_TX_EDITS: dict[str, Edit] = {
    "wrong_type": lambda df, r: _set(df, r, "customer_age", "abc"),
    "negative_amount": lambda df, r: _set(df, r, "amount", -df["amount"].to_numpy()[r]),
    "duplicate_id": _duplicate_id,
    "unknown_channel": lambda df, r: _set(df, r, "channel", "telepathy"),
    "bad_label": lambda df, r: _set(df, r, "is_fraud", 2),
    "bad_timestamp": lambda df, r: _set(df, r, "event_time", "not-a-time"),
    "future_timestamp": _future,
    "non_utf8": _non_utf8,
}
_INTERACTION_EDITS: dict[str, Edit] = {
    "bad_rating": lambda df, r: _set(df, r, "rating", 9.0),
    "duplicate_rows": lambda df, r: pd.concat([df, df.iloc[r]], ignore_index=True),
    "unknown_item": lambda df, r: _set(
        df, r, "item_id", np.array([f"i-unknown-{i:05d}" for i in range(len(r))], dtype=object)
    ),
}


def _corrupt(
    df: pd.DataFrame, kind: str, rng: np.random.Generator, edits: dict[str, Edit], drop: str
) -> bytes:
    df = df.reset_index(drop=True)
    whole_file: dict[str, Callable[[], bytes]] = {
        "empty": lambda: b"",
        "random_bytes": lambda: rng.bytes(4096),
        "missing_column": lambda: to_csv_bytes(df.drop(columns=drop)),
        "renamed_column": lambda: to_csv_bytes(df.rename(columns={"amount": "amt"})),
        "header_only": lambda: to_csv_bytes(df.iloc[:0]),
        "truncated": lambda: _truncate_last_row(to_csv_bytes(df)),
    }
    if kind in whole_file:
        return whole_file[kind]()
    rows = _pick_rows(rng, len(df), want=2 if kind == "duplicate_id" else 1)
    return to_csv_bytes(edits[kind](df, rows)).replace(_BAD_BYTES.encode(), b"\xff\xfe")


def corrupt_transactions(df: pd.DataFrame, kind: str, seed: int) -> bytes:
    """Return the bytes of a bad transactions landing CSV made from ``df``.

    ``kind`` is one of ``CORRUPTION_KINDS``; row-level corruptions hit about 1% of
    rows (at least one), chosen from ``seed``. Raises ``ValueError`` for an unknown
    kind or a frame too small to corrupt that way.
    """
    if kind not in CORRUPTION_KINDS:
        raise ValueError(f"unknown corruption kind {kind!r}; choose from {CORRUPTION_KINDS}")
    rng = np.random.default_rng([seed, _TX_STREAM, CORRUPTION_KINDS.index(kind)])
    return _corrupt(df, kind, rng, _TX_EDITS, drop="amount")


def corrupt_interactions(df: pd.DataFrame, kind: str, seed: int) -> bytes:
    """Return the bytes of a bad interactions landing CSV made from ``df``.

    ``kind`` is one of ``INTERACTION_CORRUPTION_KINDS`` (``missing_column`` drops rating).
    """
    if kind not in INTERACTION_CORRUPTION_KINDS:
        raise ValueError(
            f"unknown corruption kind {kind!r}; choose from {INTERACTION_CORRUPTION_KINDS}"
        )
    rng = np.random.default_rng(
        [seed, _INTERACTION_STREAM, INTERACTION_CORRUPTION_KINDS.index(kind)]
    )
    return _corrupt(df, kind, rng, _INTERACTION_EDITS, drop="rating")
