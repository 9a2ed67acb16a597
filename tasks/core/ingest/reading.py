"""Read a landing file into a table and coerce it to its contract's column types (pure).

Problems come back as failed :class:`CheckResult` values naming the file's row and
column, never as exceptions: a bad file is an outcome, not an error.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

from schemas.contracts import Column, ColumnType, DatasetContract
from tasks.core.ingest.checks import MAX_EXAMPLES, CheckResult, plain


def read_table(data: bytes, fmt: str) -> pd.DataFrame | CheckResult:
    """Parse landing bytes into an all-string (CSV) or typed (Parquet) frame.

    Returns a failed :class:`CheckResult` instead of raising when the bytes are
    not a well-formed table: empty, not UTF-8, ragged or truncated rows.
    """
    if not data:
        return CheckResult("file_is_readable", False, message="file is empty (0 bytes)")
    if fmt == "parquet":
        try:
            return pd.read_parquet(io.BytesIO(data))
        except (OSError, ValueError) as exc:
            return CheckResult("file_is_readable", False, message=f"not a Parquet file: {exc}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return not_utf8(data, exc.start)
    return _parse_csv(text)


def not_utf8(data: bytes, position: int) -> CheckResult:
    """The failed check of a file whose byte at ``position`` is not UTF-8 (line counted)."""
    return not_utf8_at(position, data.count(b"\n", 0, position) + 1, data[position])


def not_utf8_at(position: int, line: int, byte: int) -> CheckResult:
    """The failed check of a file whose ``byte`` at ``position``, on ``line``, is not UTF-8."""
    msg = f"not valid UTF-8: byte {position} (line {line}) is 0x{byte:02x}"
    return CheckResult("file_is_utf8", False, message=msg)


def _parse_csv(text: str) -> pd.DataFrame | CheckResult:
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    if not rows or not any(cell.strip() for cell in rows[0]):
        return CheckResult("file_is_readable", False, message="no header row")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if r]
    ragged = [
        {"row": i, "value": f"{len(r)} fields, header has {len(header)}"}
        for i, r in enumerate(body, start=1)
        if len(r) != len(header)
    ]
    if ragged:
        msg = "rows do not match the header (truncated or malformed)"
        return CheckResult(
            "rows_match_header", False, None, len(ragged), ragged[:MAX_EXAMPLES], msg
        )
    if len(set(header)) != len(header):
        return CheckResult("file_is_readable", False, message="duplicate column names in header")
    return pd.DataFrame(body, columns=header, dtype=object)


def coerce_frame(
    raw: pd.DataFrame, contract: DatasetContract
) -> tuple[pd.DataFrame, list[CheckResult], list[str]]:
    """Coerce every declared column to its contract type.

    Returns:
        The coerced frame (declared columns only, in contract order), one
        check per column that was missing or had values of the wrong type,
        and the names of extra columns that were dropped.
    """
    checks = missing_columns(list(raw.columns), contract)
    missing = {c.column for c in checks}
    extra = sorted(str(c) for c in raw.columns if c not in contract.columns)
    out: dict[str, pd.Series] = {}
    for name, column in contract.columns.items():
        if name in missing:
            continue
        values, bad = _coerce_column(raw[name].reset_index(drop=True), column)
        out[name] = values
        if bad.any():
            examples = [
                {"row": int(i) + 1, "value": plain(raw[name].iloc[i])}
                for i in np.flatnonzero(bad)[:MAX_EXAMPLES]
            ]
            msg = f"values are not of type {column.type.value}"
            checks.append(CheckResult("coerce_type", False, name, int(bad.sum()), examples, msg))
    return pd.DataFrame(out), checks, extra


def missing_columns(names: list[str], contract: DatasetContract) -> list[CheckResult]:
    """One failed ``expect_column_to_exist`` per declared column absent from ``names``."""
    return [
        CheckResult("expect_column_to_exist", False, name, message="column missing")
        for name in contract.columns
        if name not in names
    ]


def _coerce_column(values: pd.Series, column: Column) -> tuple[pd.Series, np.ndarray]:
    """Return the typed column and a mask of present values that failed to parse."""
    text = values.astype("string").str.strip()
    present = text.notna() & (text != "")
    kind = column.type
    if kind in (ColumnType.INT, ColumnType.FLOAT):
        num = pd.to_numeric(values.where(present), errors="coerce").astype("Float64")
        bad = present & (num.isna() | ~np.isfinite(num.fillna(0).to_numpy(dtype=float)))
        if kind == ColumnType.INT:
            bad |= present & num.notna() & (num.fillna(0) % 1 != 0)
            typed = num.where(~bad).round().astype("Int64")
            return typed, bad.to_numpy(dtype=bool)
        return num.where(~bad), bad.to_numpy(dtype=bool)
    if kind == ColumnType.BOOL:
        mapping = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
        typed = text.str.lower().map(mapping).astype("boolean")
        return typed, (present & typed.isna()).to_numpy(dtype=bool)
    if kind == ColumnType.TIMESTAMP:
        if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values):
            stamps = pd.to_datetime(values, utc=True)
        else:
            stamps = pd.to_datetime(
                text.where(present), utc=True, errors="coerce", format="ISO8601"
            )
        stamps = stamps.astype("datetime64[us, UTC]")
        return stamps, (present & stamps.isna()).to_numpy(dtype=bool)
    return text.where(present).astype(object).where(present, None), np.zeros(len(values), bool)
