"""Read a landing file, coerce it to its contract, validate it with Great Expectations.

Everything here is derived from a :class:`~schemas.contracts.DatasetContract`:
the dtype coercion and the GX suite. The outcome is a :class:`ValidationReport`
that names the file, the failing check, the column and example rows.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from schemas.contracts import Column, ColumnType, DatasetContract

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class CheckResult:
    """One check on one file: a coercion step or a GX expectation."""

    check: str
    success: bool
    column: str | None = None
    unexpected_count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def describe(self) -> str:
        """One line: check, column, count and the first example rows."""
        where = f" on column '{self.column}'" if self.column else ""
        rows = ", ".join(f"row {e['row']}: {_short(e['value'])}" for e in self.examples[:3])
        count = f" ({self.unexpected_count} bad value(s); {rows})" if self.unexpected_count else ""
        extra = f": {self.message}" if self.message else ""
        return f"{self.check}{where}{count}{extra}"


def _short(value: Any) -> str:
    """An example value for one-line messages (compound keys as a tuple)."""
    if isinstance(value, dict):
        return "(" + ", ".join(str(v) for v in value.values()) + ")"
    return repr(value)


@dataclass(frozen=True)
class ValidationReport:
    """Everything decided about one landing file; stored as JSON beside it."""

    file: str
    dataset: str
    success: bool
    rows: int
    checks: list[CheckResult]
    extra_columns: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.success]

    def summary(self) -> str:
        """The failing checks in one line (empty when the file passed)."""
        return "; ".join(c.describe() for c in self.failures)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fail_file(file: str, dataset: str, check: str, message: str) -> ValidationReport:
    """A report for a file that could not even be read as a table."""
    result = CheckResult(check=check, success=False, message=message)
    return ValidationReport(file=file, dataset=dataset, success=False, rows=0, checks=[result])


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
        line = data[: exc.start].count(b"\n") + 1
        msg = f"not valid UTF-8: byte {exc.start} (line {line}) is 0x{data[exc.start]:02x}"
        return CheckResult("file_is_utf8", False, message=msg)
    return _parse_csv(text)


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
    checks: list[CheckResult] = []
    missing = [c for c in contract.columns if c not in raw.columns]
    for name in missing:
        checks.append(CheckResult("expect_column_to_exist", False, name, message="column missing"))
    extra = sorted(str(c) for c in raw.columns if c not in contract.columns)
    out: dict[str, pd.Series] = {}
    for name, column in contract.columns.items():
        if name in missing:
            continue
        values, bad = _coerce_column(raw[name].reset_index(drop=True), column)
        out[name] = values
        if bad.any():
            examples = [
                {"row": int(i) + 1, "value": _plain(raw[name].iloc[i])}
                for i in np.flatnonzero(bad)[:MAX_EXAMPLES]
            ]
            msg = f"values are not of type {column.type.value}"
            checks.append(CheckResult("coerce_type", False, name, int(bad.sum()), examples, msg))
    return pd.DataFrame(out), checks, extra


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


def validate_frame(df: pd.DataFrame, contract: DatasetContract, now: datetime) -> list[CheckResult]:
    """Run the contract's Great Expectations suite on a coerced frame.

    ``now`` is the ingestion time: event times later than ``now`` plus the
    contract's allowed skew fail.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("landing")
        .add_dataframe_asset(contract.name)
        .add_batch_definition_whole_dataframe("file")
        .get_batch(batch_parameters={"dataframe": df})
    )
    suite = gx.ExpectationSuite(name=contract.name, expectations=build_expectations(contract, now))
    fmt = {"result_format": "COMPLETE", "partial_unexpected_count": MAX_EXAMPLES}
    result = batch.validate(suite, result_format=fmt)
    return [_to_check(r) for r in result.results]


def build_expectations(contract: DatasetContract, now: datetime) -> list[Any]:
    """Derive the GX expectations from the contract, plus its extra ones."""
    from great_expectations import expectations as gxe
    from great_expectations.expectations.registry import get_expectation_impl

    exps: list[Any] = [gxe.ExpectTableRowCountToBeBetween(min_value=1)]
    for name, col in contract.columns.items():
        if not col.nullable:
            exps.append(gxe.ExpectColumnValuesToNotBeNull(column=name))
        if col.unique:
            exps.append(gxe.ExpectColumnValuesToBeUnique(column=name))
        if col.min is not None or col.max is not None:
            exps.append(
                gxe.ExpectColumnValuesToBeBetween(column=name, min_value=col.min, max_value=col.max)
            )
        if col.allowed is not None:
            exps.append(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=list(col.allowed)))
        if col.regex is not None:
            exps.append(gxe.ExpectColumnValuesToMatchRegex(column=name, regex=col.regex))
        if col.type == ColumnType.TIMESTAMP:
            latest = pd.Timestamp(now).tz_convert("UTC") + contract.max_future_skew
            exps.append(
                gxe.ExpectColumnValuesToBeBetween(column=name, max_value=latest.to_pydatetime())
            )
    if len(contract.primary_key) > 1:
        exps.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(contract.primary_key)))
    elif contract.primary_key and not contract.columns[contract.primary_key[0]].unique:
        exps.append(gxe.ExpectColumnValuesToBeUnique(column=contract.primary_key[0]))
    for extra in contract.expectations:
        exps.append(get_expectation_impl(extra.expectation)(**extra.kwargs))
    return exps


def _to_check(result: Any) -> CheckResult:
    config = result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or None
    info = result.result or {}
    rows = info.get("unexpected_index_list") or []
    values = info.get("unexpected_list") or info.get("partial_unexpected_list") or []
    examples = [
        {"row": int(r) + 1, "value": _plain(v)} for r, v in zip(rows, values, strict=False)
    ][:MAX_EXAMPLES]
    raised = (result.exception_info or {}).get("exception_message")
    message = f"error: {raised}" if raised else _describe_kwargs(kwargs)
    count = int(info.get("unexpected_count") or 0)
    return CheckResult(config.type, bool(result.success), column, count, examples, message)


def _describe_kwargs(kwargs: dict[str, Any]) -> str:
    shown = {k: v for k, v in kwargs.items() if k not in ("column", "column_list", "batch_id")}
    return ", ".join(f"{k}={_plain(v)}" for k, v in shown.items())


def _plain(value: Any) -> Any:
    """A JSON-friendly version of a cell value."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value if isinstance(value, int | float | str | bool) else str(value)


def check_references(
    df: pd.DataFrame, contract: DatasetContract, known: dict[str, set[str] | None]
) -> list[CheckResult]:
    """Foreign keys against the referenced snapshots (``known['items.item_id']``).

    Unknown keys within the contract's tolerance are reported but pass; a
    reference whose snapshot does not exist yet (None) is noted, not checked.
    """
    checks = []
    for ref in contract.references:
        name = f"references {ref.dataset}.{ref.key}"
        keys = known.get(f"{ref.dataset}.{ref.key}")
        if keys is None:
            checks.append(
                CheckResult(name, True, ref.column, message="no snapshot yet: not checked")
            )
            continue
        values = df[ref.column].astype(str)
        unknown = ~values.isin(keys).to_numpy()
        share = float(unknown.mean()) if len(values) else 0.0
        examples = [
            {"row": int(i) + 1, "value": values.iloc[i]} for i in np.flatnonzero(unknown)[:5]
        ]
        msg = f"{share:.2%} of rows name unknown keys (tolerance {ref.max_unknown_share:.2%})"
        ok = share <= ref.max_unknown_share
        checks.append(CheckResult(name, ok, ref.column, int(unknown.sum()), examples, msg))
    return checks


def validate_file(
    data: bytes,
    file: str,
    contract: DatasetContract,
    now: datetime,
    known_keys: dict[str, set[str] | None] | None = None,
) -> tuple[pd.DataFrame | None, ValidationReport]:
    """Read, coerce and validate one landing file.

    Args:
        known_keys: key sets of the referenced snapshots (see :func:`check_references`).

    Returns:
        The coerced frame (None when the file was rejected) and the report.
    """
    raw = read_table(data, contract.source.format)
    if isinstance(raw, CheckResult):
        return None, ValidationReport(file, contract.name, False, 0, [raw])
    df, checks, extra = coerce_frame(raw, contract)
    if any(c.check == "expect_column_to_exist" for c in checks):
        return None, ValidationReport(file, contract.name, False, len(raw), checks, extra)
    checks += validate_frame(df, contract, now)
    checks += check_references(df, contract, known_keys or {})
    ok = all(c.success for c in checks)
    return (df if ok else None), ValidationReport(file, contract.name, ok, len(df), checks, extra)
