"""Validate a coerced landing file with Great Expectations, derived from its contract.

Everything here is derived from a :class:`~schemas.contracts.DatasetContract`:
the dtype coercion (``reading.py``) and the GX suite (here). The outcome is a
:class:`ValidationReport` that names the file, the failing check, the column and
example rows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.contracts import ColumnType, DatasetContract
from tasks.core.ingest.checks import MAX_EXAMPLES, CheckResult, ValidationReport, plain
from tasks.core.ingest.limits import column_limit_check
from tasks.core.ingest.reading import coerce_frame, missing_columns, read_table
from tasks.core.ingest.tables import read_csv_fast, to_frame, to_gx_frame, with_pandas_metadata

T = TypeVar("T")


class ExpectationRunner:
    """One Great Expectations context, reused for every file a process validates.

    The suite runs twice at most: once in GX's BOOLEAN_ONLY format (success alone: no
    unexpected rows are looked up, which on a 1M-row file is most of GX's time), then,
    only for the expectations that failed or tolerate failures (``mostly``), in its
    SUMMARY format: counts and at most :data:`MAX_EXAMPLES` unexpected values with their
    rows, never every unexpected value. A lock serialises validations from threads
    sharing the runner.
    """

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GX fingerprints every in-memory batch under HASH_THRESHOLD bytes (1e9) by hashing
        # all of it (pandas.util.hash_pandas_object: 1.75 s of a 1M-row file's 4.7 s of
        # validation). The fingerprint is a batch marker nothing here reads (the file's
        # sha256 identifies it), so no batch is fingerprinted.
        pandas_execution_engine.HASH_THRESHOLD = 0
        _numeric_arrays_hold_no_decimals()
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._source = context.data_sources.add_pandas("landing")
        self._definitions: dict[str, Any] = {}
        self._lock = threading.Lock()

    def check(self, df: pd.DataFrame, name: str, expectations: list[Any]) -> list[CheckResult]:
        """Run these expectations of dataset ``name`` on a coerced frame; results in their
        order (GX returns them in its own)."""
        import great_expectations as gx

        if not expectations:
            return []
        summary = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES}
        with self._lock:
            definition = self._definitions.get(name)
            if definition is None:
                asset = self._source.add_dataframe_asset(name)
                definition = asset.add_batch_definition_whole_dataframe("file")
                self._definitions[name] = definition
            batch = definition.get_batch(batch_parameters={"dataframe": df})
            suite = gx.ExpectationSuite(name=name, expectations=expectations)
            first = batch.validate(suite, result_format={"result_format": "BOOLEAN_ONLY"}).results
            again = [r for r in first if _needs_details(r)]
            detailed = {}
            if again:
                recheck = [_expectation(r) for r in again]
                suite = gx.ExpectationSuite(name=name, expectations=recheck)
                rerun = batch.validate(suite, result_format=summary).results
                detailed = {_identity(r.expectation_config): r for r in rerun}
        by_identity: dict[tuple[str, str], list[Any]] = {}
        for r in first:
            by_identity.setdefault(_identity(r.expectation_config), []).append(r)
        in_order = [by_identity[_identity(e.configuration)].pop(0) for e in expectations]
        return [_to_check(detailed.get(_identity(r.expectation_config), r)) for r in in_order]


def _numeric_arrays_hold_no_decimals() -> None:
    """GX's column mean, sum and standard deviation first ask, in a Python loop over every
    value, whether a column holds ``decimal.Decimal`` objects (0.3 s a column at 1M rows).
    Only an object array can: for numeric ones the answer is known without the loop.
    Idempotent; object arrays still get GX's own check."""
    from great_expectations import util

    check = util.does_ndarray_contain_decimal_dtype
    if getattr(check, "numeric_shortcut", False):
        return

    def does_ndarray_contain_decimal_dtype(data: Any) -> Any:
        return data.dtype == object and check(data)

    does_ndarray_contain_decimal_dtype.numeric_shortcut = True  # type: ignore[attr-defined]
    util.does_ndarray_contain_decimal_dtype = does_ndarray_contain_decimal_dtype  # type: ignore[assignment]


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


def _needs_details(result: Any) -> bool:
    """Failed, or passed while tolerating failures (``mostly``): its counts are news."""
    return not result.success or bool(result.expectation_config.kwargs.get("mostly"))


def _expectation(result: Any) -> Any:
    """The expectation a result is about (to run it again, in another format)."""
    return result.expectation_config.to_domain_obj()


def _identity(config: Any) -> tuple[str, str]:
    """An expectation's type and arguments (not its batch), to pair results and expectations."""
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return config.type, json.dumps(kwargs, sort_keys=True, default=str)


def _to_check(result: Any) -> CheckResult:
    config = result.expectation_config
    kwargs = config.kwargs
    column = kwargs.get("column") or ",".join(kwargs.get("column_list") or []) or None
    info = result.result or {}
    rows = info.get("partial_unexpected_index_list") or []
    values = info.get("partial_unexpected_list") or []
    examples = [{"row": int(r) + 1, "value": plain(v)} for r, v in zip(rows, values, strict=False)][
        :MAX_EXAMPLES
    ]
    raised = (result.exception_info or {}).get("exception_message")
    message = f"error: {raised}" if raised else describe_kwargs(kwargs)
    count = int(info.get("unexpected_count") or 0)
    return CheckResult(config.type, bool(result.success), column, count, examples, message)


def describe_kwargs(kwargs: dict[str, Any]) -> str:
    """An expectation's arguments in a check's message (not its column or batch)."""
    shown = {k: v for k, v in kwargs.items() if k not in ("column", "column_list", "batch_id")}
    return ", ".join(f"{k}={plain(v)}" for k, v in shown.items())


def decided_by_sorting(
    expectations: list[Any], table: pa.Table
) -> tuple[list[CheckResult | None], list[Any]]:
    """Each expectation's result where an Arrow sort decides it (:func:`unique_by_sorting`,
    else None), and the expectations left for GX, in order; :func:`in_order` merges
    GX's results back."""
    decided = [unique_by_sorting(e, table) for e in expectations]
    return decided, [e for e, d in zip(expectations, decided, strict=True) if d is None]


def in_order(decided: list[CheckResult | None], by_gx: list[CheckResult]) -> list[CheckResult]:
    """The sorted-out results with GX's (for the Nones, in order) filled in."""
    rest = iter(by_gx)
    return [d or next(rest) for d in decided]


def unique_by_sorting(expectation: Any, table: pa.Table) -> CheckResult | None:
    """``expect_column_values_to_be_unique`` passed, when sorting the column in Arrow finds
    no value twice; None otherwise (GX then counts and shows the repeats). GX's search for
    duplicates hashes every value: over 5M ids that took 800 MB more than a sort does."""
    config = expectation.configuration
    if config.type != "expect_column_values_to_be_unique" or config.kwargs.get("mostly"):
        return None
    column = config.kwargs["column"]
    values = pc.drop_null(table.column(column))
    if len(values) > 1:
        ranked = pc.take(values, pc.sort_indices(values))
        if pc.any(pc.equal(ranked.slice(1), ranked.slice(0, len(ranked) - 1))).as_py():
            return None
    return CheckResult(config.type, True, column, 0, [], describe_kwargs(config.kwargs))


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


def validate_table(
    data: bytes,
    file: str,
    contract: DatasetContract,
    now: datetime,
    known_keys: dict[str, set[str] | None] | None = None,
    runner: ExpectationRunner | None = None,
) -> tuple[pa.Table | None, ValidationReport]:
    """Read, coerce (:func:`read_coerced`) and validate one landing file into an Arrow table.

    Args:
        known_keys: key sets of the referenced snapshots (see :func:`check_references`).
        runner: the process's GX runner (default: a new context for this file).

    Returns:
        The coerced table (None when the file was rejected) and the report.
    """
    return _validated(data, file, contract, now, known_keys, runner, None)


def validate_then(
    data: bytes,
    file: str,
    contract: DatasetContract,
    now: datetime,
    then: Callable[[pa.Table], T],
    known_keys: dict[str, set[str] | None] | None = None,
    runner: ExpectationRunner | None = None,
) -> tuple[tuple[pa.Table, T] | None, ValidationReport]:
    """:func:`validate_table`, with ``then(table)`` run on the coerced table in a thread while
    Great Expectations checks it: Arrow work (writing Parquet) releases the GIL that GX's
    Python holds, so the two share the machine's cores.

    Returns:
        (table, what ``then`` returned) when the file passed (None when it was rejected:
        ``then``'s result, or its error, is not used), and the report.
    """
    return _validated(data, file, contract, now, known_keys, runner, then)


def _validated(
    data: bytes,
    file: str,
    contract: DatasetContract,
    now: datetime,
    known_keys: dict[str, set[str] | None] | None,
    runner: ExpectationRunner | None,
    then: Callable[[pa.Table], Any] | None,
) -> tuple[Any, ValidationReport]:
    too_wide = column_limit_check(data, contract)
    if too_wide is not None:  # refused from the header, before any row is parsed
        return None, ValidationReport(file, contract.name, False, 0, [too_wide])
    read = read_coerced(data, file, contract)
    if isinstance(read, ValidationReport):
        return None, read
    table, checks, extra = read
    with ThreadPoolExecutor(1, thread_name_prefix="alongside-gx") as pool:
        later = pool.submit(then, table) if then is not None else None
        frame = to_gx_frame(table)
        decided, for_gx = decided_by_sorting(build_expectations(contract, now), table)
        gx = (runner or ExpectationRunner()).check(frame, contract.name, for_gx)
        checks += in_order(decided, gx)
        checks += check_references(frame, contract, known_keys or {})
        ok = all(c.success for c in checks)
        report = ValidationReport(file, contract.name, ok, table.num_rows, checks, extra)
        if not ok:
            return None, report
        return ((table, later.result()) if later is not None else table), report


def read_coerced(
    data: bytes, file: str, contract: DatasetContract
) -> tuple[pa.Table, list[CheckResult], list[str]] | ValidationReport:
    """Parse and coerce a landing file: the typed table, the coercion checks and the extra
    columns; or the report of a file that is not a table of the contract's columns.

    CSVs take the Arrow fast path (:func:`~tasks.core.ingest.tables.read_csv_fast`); a
    file it declines, and Parquet, are read carefully, with the same checks.
    """
    fast = read_csv_fast(data, contract) if _fast_path_applies(data, contract) else None
    if fast is None:
        raw = read_table(data, contract.source.format)
        if isinstance(raw, CheckResult):
            return ValidationReport(file, contract.name, False, 0, [raw])
        df, checks, extra = coerce_frame(raw, contract)
        rows, table = len(raw), None
    else:
        table, extra = fast
        rows, checks = table.num_rows, missing_columns(table.column_names, contract)
    if checks and any(c.check == "expect_column_to_exist" for c in checks):
        return ValidationReport(file, contract.name, False, rows, checks, extra)
    if table is None:
        return pa.Table.from_pandas(df, preserve_index=False), checks, extra
    return with_pandas_metadata(table, contract), checks, extra


def _fast_path_applies(data: bytes, contract: DatasetContract) -> bool:
    """A non-empty CSV whose header line is UTF-8 (Arrow checks the string cells)."""
    if contract.source.format != "csv" or not data:
        return False
    try:
        data[: data.find(b"\n")].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def validate_file(
    data: bytes,
    file: str,
    contract: DatasetContract,
    now: datetime,
    known_keys: dict[str, set[str] | None] | None = None,
    runner: ExpectationRunner | None = None,
) -> tuple[pd.DataFrame | None, ValidationReport]:
    """Like :func:`validate_table`, with the accepted rows as a pandas frame.

    Returns:
        The coerced frame in the contract's nullable dtypes (None when rejected) and
        the report.
    """
    table, report = validate_table(data, file, contract, now, known_keys, runner)
    return (to_frame(table) if table is not None else None), report
