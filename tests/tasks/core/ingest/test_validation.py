"""Landing-file validation against the shipped ``transactions`` contract, and partition planning.

Every bad input the product must reject is built with the sample generator's corruptions;
the expected (check, column) per kind lives in ``EXPECTED`` so a new corruption kind fails
here until someone states what it must be reported as.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from schemas.contracts import DatasetContract, load_contract
from tasks.core.ingest.manifests import (
    build_manifest,
    from_parquet,
    latest_event_time,
    manifest_bytes,
    plan_partitions,
)
from tasks.core.ingest.validation import ValidationReport, validate_file, validate_then
from tasks.samples import (
    CORRUPTION_KINDS,
    corrupt_transactions,
    generate_transactions,
    to_csv_bytes,
)

pytestmark = pytest.mark.unit

DAY = dt.date(2024, 3, 1)
NOW = dt.datetime(2024, 3, 2, 6, 0, tzinfo=dt.UTC)
SEED = 7

# kind -> (failing check, failing column or None for whole-file problems)
EXPECTED: dict[str, tuple[str, str | None]] = {
    "missing_column": ("expect_column_to_exist", "amount"),
    "renamed_column": ("expect_column_to_exist", "amount"),
    "wrong_type": ("coerce_type", "customer_age"),
    "negative_amount": ("expect_column_values_to_be_between", "amount"),
    "duplicate_id": ("expect_column_values_to_be_unique", "transaction_id"),
    "empty": ("file_is_readable", None),
    "header_only": ("expect_table_row_count_to_be_between", None),
    "non_utf8": ("file_is_utf8", None),
    "truncated": ("rows_match_header", None),
    "unknown_channel": ("expect_column_values_to_be_in_set", "channel"),
    "bad_label": ("expect_column_values_to_be_in_set", "is_fraud"),
    "bad_timestamp": ("coerce_type", "event_time"),
    "future_timestamp": ("expect_column_values_to_be_between", "event_time"),
    "random_bytes": ("file_is_utf8", None),
}

# kind -> which data rows of the corrupted CSV (read as text) carry the corruption
BAD_ROWS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "wrong_type": lambda t: t["customer_age"] == "abc",
    "negative_amount": lambda t: t["amount"].str.startswith("-"),
    "duplicate_id": lambda t: t["transaction_id"].duplicated(keep=False),
    "unknown_channel": lambda t: t["channel"] == "telepathy",
    "bad_label": lambda t: t["is_fraud"] == "2",
    "bad_timestamp": lambda t: t["event_time"] == "not-a-time",
    "future_timestamp": lambda t: t["event_time"].str.startswith("2999"),
}


@pytest.fixture(scope="module")
def contract() -> DatasetContract:
    return load_contract("transactions")


@pytest.fixture(scope="module")
def parquet_contract(contract: DatasetContract) -> DatasetContract:
    raw = contract.model_dump(mode="json")
    raw["source"]["format"] = "parquet"
    return DatasetContract.model_validate(raw)


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return generate_transactions(1, DAY, SEED, rows_per_day=200)[DAY]


def _validate(
    data: bytes, contract: DatasetContract, name: str = "file.csv", now: dt.datetime = NOW
) -> tuple[pd.DataFrame | None, ValidationReport]:
    return validate_file(data, f"landing/transactions/2024-03-01/{name}", contract, now)


def _as_text(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def _failing(report: ValidationReport) -> set[tuple[str, str | None]]:
    return {(c.check, c.column) for c in report.failures}


# -- bad inputs ------------------------------------------------------------------------


def test_every_corruption_kind_has_an_expectation() -> None:
    assert set(EXPECTED) == set(CORRUPTION_KINDS)


@pytest.mark.parametrize("kind", CORRUPTION_KINDS)
def test_corrupted_file_is_rejected_naming_check_and_column(
    kind: str, clean: pd.DataFrame, contract: DatasetContract
) -> None:
    data = corrupt_transactions(clean, kind, seed=3)
    name = f"{kind}.csv"
    frame, report = _validate(data, contract, name)
    assert frame is None
    assert not report.success
    assert report.file.endswith(name)
    assert report.dataset == "transactions"
    if kind not in EXPECTED:
        pytest.fail(f"new corruption kind {kind!r}: add its (check, column) to EXPECTED")
    check, column = EXPECTED[kind]
    assert (check, column) in _failing(report), report.summary()
    summary = report.summary()
    assert check in summary
    if column is not None:
        assert f"column '{column}'" in summary
    # the report is stored as JSON beside the quarantined file
    stored = json.loads(json.dumps(report.to_dict()))
    assert stored["success"] is False
    assert (check, column) in {(c["check"], c["column"]) for c in stored["checks"]}
    if kind in BAD_ROWS:
        bad = BAD_ROWS[kind](_as_text(data))
        expected_rows = {int(i) + 1 for i in np.flatnonzero(bad.to_numpy())}
        result = next(c for c in report.failures if (c.check, c.column) == (check, column))
        assert result.unexpected_count == len(expected_rows)
        assert {e["row"] for e in result.examples} <= expected_rows
        assert len(result.examples) == min(len(expected_rows), 5)


@pytest.fixture(scope="module")
def several_problems(
    clean: pd.DataFrame, contract: DatasetContract
) -> tuple[pd.DataFrame | None, ValidationReport]:
    """One file, several row-level problems (one Great Expectations run for the tests below)."""
    bad = clean.copy()
    for col in ("channel", "amount"):
        bad[col] = bad[col].astype(object)
    bad.loc[0, "channel"] = "carrier-pigeon"  # first data row (line 2 of the file)
    bad.loc[199, "channel"] = "smoke-signal"  # last data row
    bad.loc[10, "amount"] = "inf"
    limit = pd.Timestamp(NOW) + pd.Timedelta(hours=contract.max_future_skew_hours)
    bad.loc[20, "event_time"] = limit  # exactly the allowed skew: fine
    bad.loc[21, "event_time"] = limit + pd.Timedelta(seconds=1)  # too far ahead
    return _validate(to_csv_bytes(bad), contract, "several.csv")


def _result(report: ValidationReport, check: str, column: str) -> Any:
    return next(c for c in report.failures if (c.check, c.column) == (check, column))


def test_row_numbers_are_one_based_data_rows(several_problems) -> None:
    frame, report = several_problems
    assert frame is None
    result = _result(report, "expect_column_values_to_be_in_set", "channel")
    assert result.examples == [
        {"row": 1, "value": "carrier-pigeon"},
        {"row": 200, "value": "smoke-signal"},
    ]
    assert "row 1: 'carrier-pigeon'" in report.summary()


def test_infinite_amount_is_rejected(several_problems) -> None:
    _, report = several_problems
    result = _result(report, "coerce_type", "amount")
    assert result.examples == [{"row": 11, "value": "inf"}]
    assert "values are not of type float" in result.describe()


def test_future_skew_boundary(several_problems) -> None:
    _, report = several_problems
    result = _result(report, "expect_column_values_to_be_between", "event_time")
    assert result.unexpected_count == 1
    assert [e["row"] for e in result.examples] == [22]


def test_truncated_file_names_the_last_row(clean: pd.DataFrame, contract: DatasetContract) -> None:
    _, report = _validate(corrupt_transactions(clean, "truncated", seed=1), contract)
    (result,) = report.failures
    assert result.examples[0]["row"] == len(clean)


def test_renamed_column_reports_the_new_name_as_extra(
    clean: pd.DataFrame, contract: DatasetContract
) -> None:
    _, report = _validate(corrupt_transactions(clean, "renamed_column", seed=1), contract)
    assert report.extra_columns == ["amt"]


def test_future_skew_is_measured_from_the_given_now(
    clean: pd.DataFrame, contract: DatasetContract
) -> None:
    """Not the wall clock: a day of data is in the future for an ingestion a month earlier."""
    month_before = dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    frame, report = _validate(to_csv_bytes(clean), contract, now=month_before)
    assert frame is None
    result = next(c for c in report.failures if c.column == "event_time")
    assert result.check == "expect_column_values_to_be_between"
    assert result.unexpected_count == len(clean)


# -- good inputs -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_result(
    clean: pd.DataFrame, contract: DatasetContract
) -> tuple[pd.DataFrame | None, ValidationReport]:
    return _validate(to_csv_bytes(clean), contract, "clean.csv")


@pytest.fixture(scope="module")
def variant_result(
    clean: pd.DataFrame, contract: DatasetContract
) -> tuple[pd.DataFrame | None, ValidationReport]:
    """Extra columns, columns in reverse order and a never-seen merchant category."""
    variant = clean.assign(note="free text", zz_score=1.5, a_flag=True)
    variant["merchant_category"] = variant["merchant_category"].astype(object)
    variant.loc[5, "merchant_category"] = "brand-new-category"
    variant = variant[list(reversed(variant.columns))]
    return _validate(to_csv_bytes(variant), contract, "variant.csv")


def test_clean_file_passes_with_contract_dtypes(clean_result, clean: pd.DataFrame) -> None:
    frame, report = clean_result
    assert report.success, report.summary()
    assert report.summary() == ""
    assert report.failures == []
    assert report.rows == len(clean)
    assert report.extra_columns == []
    assert frame is not None
    assert list(frame.columns) == list(load_contract("transactions").columns)
    assert frame["customer_age"].dtype == "Int64"
    assert frame["is_fraud"].dtype == "Int64"
    assert frame["amount"].dtype == "Float64"
    assert isinstance(frame["event_time"].dtype, pd.DatetimeTZDtype)
    assert str(frame["event_time"].dt.tz) == "UTC"
    assert frame["event_time"].tolist() == clean["event_time"].tolist()
    assert np.allclose(frame["amount"].to_numpy(dtype=float), clean["amount"].to_numpy())
    assert frame["transaction_id"].tolist() == clean["transaction_id"].tolist()


def test_extra_columns_are_reported_and_dropped(variant_result, contract: DatasetContract) -> None:
    frame, report = variant_result
    assert report.success, report.summary()
    assert report.extra_columns == ["a_flag", "note", "zz_score"]
    assert frame is not None
    assert list(frame.columns) == list(contract.columns)


def test_columns_in_any_order_are_accepted(variant_result, clean: pd.DataFrame) -> None:
    frame, report = variant_result
    assert report.success, report.summary()
    assert frame is not None
    assert frame["customer_id"].tolist() == clean["customer_id"].tolist()
    assert frame["customer_age"].tolist() == clean["customer_age"].tolist()


def test_category_without_allowed_values_accepts_any_value(
    variant_result, contract: DatasetContract
) -> None:
    assert contract.columns["merchant_category"].allowed is None
    frame, report = variant_result
    assert report.success, report.summary()
    assert frame is not None
    assert frame.loc[5, "merchant_category"] == "brand-new-category"


def test_parquet_file_passes(clean: pd.DataFrame, parquet_contract: DatasetContract) -> None:
    buf = io.BytesIO()
    clean.to_parquet(buf, index=False)
    frame, report = _validate(buf.getvalue(), parquet_contract, "day.parquet")
    assert report.success, report.summary()
    assert frame is not None
    assert frame["customer_age"].dtype == "Int64"
    assert str(frame["event_time"].dt.tz) == "UTC"
    assert len(frame) == len(clean)


@pytest.mark.parametrize("damage", ["truncated", "csv_bytes", "random"])
def test_corrupt_parquet_file_is_rejected(
    clean: pd.DataFrame, parquet_contract: DatasetContract, damage: str
) -> None:
    buf = io.BytesIO()
    clean.to_parquet(buf, index=False)
    good = buf.getvalue()
    data = {
        "truncated": good[: len(good) // 2],
        "csv_bytes": to_csv_bytes(clean),
        "random": np.random.default_rng(0).bytes(2048),
    }[damage]
    frame, report = _validate(data, parquet_contract, "day.parquet")
    assert frame is None
    assert not report.success
    assert _failing(report) == {("file_is_readable", None)}
    assert "Parquet" in report.summary()


def test_parquet_with_bad_values_is_rejected_naming_the_row(
    clean: pd.DataFrame, parquet_contract: DatasetContract
) -> None:
    bad = clean.copy()
    bad.loc[3, "amount"] = -5.0
    buf = io.BytesIO()
    bad.to_parquet(buf, index=False)
    frame, report = _validate(buf.getvalue(), parquet_contract, "day.parquet")
    assert frame is None
    result = next(c for c in report.failures if c.column == "amount")
    assert result.check == "expect_column_values_to_be_between"
    assert result.examples == [{"row": 4, "value": -5.0}]


# -- manifests -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_days() -> pd.DataFrame:
    days = generate_transactions(2, DAY, SEED, rows_per_day=60)
    return pd.concat(days.values(), ignore_index=True)


def test_plan_partitions_splits_by_event_date(two_days: pd.DataFrame) -> None:
    parts = plan_partitions(two_days, "transactions", "event_time", "2024-03-05", "s3://b/l/f.csv")
    assert [p.date for p, _ in parts] == ["2024-03-01", "2024-03-02"]
    assert [p.rows for p, _ in parts] == [60, 60]
    for part, data in parts:
        assert part.sha256 == hashlib.sha256(data).hexdigest()
        assert part.key == f"curated/transactions/date={part.date}/{part.sha256}.parquet"
        assert part.source_uri == "s3://b/l/f.csv"
        stored = from_parquet(data)
        assert len(stored) == part.rows
        assert (stored["event_time"].dt.strftime("%Y-%m-%d") == part.date).all()
        assert pd.Timestamp(part.min_time) == stored["event_time"].min()
        assert pd.Timestamp(part.max_time) == stored["event_time"].max()


def test_partitions_are_content_addressed(two_days: pd.DataFrame) -> None:
    first = plan_partitions(two_days, "transactions", "event_time", "2024-03-05", "a")
    again = plan_partitions(two_days.copy(), "transactions", "event_time", "2024-03-06", "b")
    assert [p.key for p, _ in first] == [p.key for p, _ in again]
    assert [d for _, d in first] == [d for _, d in again]
    changed = two_days.copy()
    changed.loc[len(changed) - 1, "amount"] += 1.0  # a row of the second day
    other = plan_partitions(changed, "transactions", "event_time", "2024-03-05", "a")
    assert other[0][0].sha256 == first[0][0].sha256
    assert other[1][0].sha256 != first[1][0].sha256
    assert other[1][0].key != first[1][0].key


def test_snapshot_is_one_partition_at_the_landing_date(two_days: pd.DataFrame) -> None:
    parts = plan_partitions(two_days, "items", None, "2024-03-05", "s3://b/items.csv")
    ((part, data),) = parts
    assert part.date == "2024-03-05"
    assert part.rows == len(two_days)
    assert part.key.startswith("curated/items/date=2024-03-05/")
    assert (part.min_time, part.max_time) == (None, None)
    assert len(from_parquet(data)) == len(two_days)


def test_rows_without_event_time_are_never_lost_silently(
    contract: DatasetContract, two_days: pd.DataFrame
) -> None:
    raw = contract.model_dump(mode="json")
    raw["columns"]["event_time"]["nullable"] = True
    try:
        DatasetContract.model_validate(raw)
    except ValueError:
        return  # rejecting such a contract is a fine answer too
    frame = two_days.copy()
    frame.loc[0, "event_time"] = pd.NaT  # what coercion gives for an empty cell
    parts = plan_partitions(frame, "transactions", "event_time", "2024-03-05", "u")
    assert sum(p.rows for p, _ in parts) == len(frame)


def _manifest(parts: list, version: str, parent: dict[str, Any] | None, kind: str) -> dict:
    return build_manifest(
        "transactions", version, parent, kind, [p for p, _ in parts], "2024-03-05T00:00:00+00:00"
    )


def test_events_manifest_keeps_parent_partitions(two_days: pd.DataFrame) -> None:
    day1 = plan_partitions(two_days.iloc[:60], "transactions", "event_time", "d", "u1")
    day2 = plan_partitions(two_days.iloc[60:], "transactions", "event_time", "d", "u2")
    v1 = _manifest(day1, "v1", None, "events")
    v2 = _manifest(day2, "v2", v1, "events")
    assert v1["parent"] is None
    assert v2["parent"] == "v1"
    assert v2["rows"] == 120
    assert [p["key"] for p in v2["partitions"]] == [day1[0][0].key, day2[0][0].key]
    assert latest_event_time(v1) == two_days["event_time"].iloc[:60].max()
    assert latest_event_time(v2) == two_days["event_time"].max()


def test_snapshot_manifest_holds_only_the_new_partition(two_days: pd.DataFrame) -> None:
    old = plan_partitions(two_days.iloc[:60], "items", None, "2024-03-01", "u1")
    new = plan_partitions(two_days.iloc[60:90], "items", None, "2024-03-02", "u2")
    v1 = _manifest(old, "v1", None, "snapshot")
    v2 = _manifest(new, "v2", v1, "snapshot")
    assert v2["parent"] == "v1"
    assert v2["rows"] == 30
    assert [p["key"] for p in v2["partitions"]] == [new[0][0].key]
    assert latest_event_time(v2) is None


def test_latest_event_time_is_the_newest_partition_not_the_last() -> None:
    manifest = {
        "partitions": [
            {"max_time": "2024-03-02T23:59:59.500000+00:00"},
            {"max_time": "2024-03-01T10:00:00+00:00"},
            {"max_time": None},
            {"max_time": "2024-03-02T23:59:59+00:00"},
        ]
    }
    assert latest_event_time(manifest) == pd.Timestamp("2024-03-02T23:59:59.5Z")
    assert latest_event_time({"partitions": []}) is None


def test_manifest_bytes_are_canonical(two_days: pd.DataFrame) -> None:
    parts = plan_partitions(two_days, "transactions", "event_time", "d", "u")
    manifest = _manifest(parts, "v1", None, "events")
    reordered = dict(reversed(list(manifest.items())))
    assert manifest_bytes(manifest) == manifest_bytes(reordered)
    assert json.loads(manifest_bytes(manifest)) == manifest


def test_only_failing_or_tolerant_expectations_carry_counts_and_examples(
    clean: pd.DataFrame, contract: DatasetContract
) -> None:
    """GX first runs the suite for success alone; the counts and example rows a report
    shows come from a second run of just the expectations that need them: the failed
    ones and those passing within a ``mostly`` tolerance."""
    raw = contract.model_dump(mode="json")
    raw["expectations"] += [
        {
            "expectation": "expect_column_values_to_be_between",
            "kwargs": {"column": "customer_age", "max_value": 30, "mostly": 0.01},
        },
        {
            "expectation": "expect_column_values_to_be_between",
            "kwargs": {"column": "customer_age", "max_value": 30},
        },
    ]
    tolerant = DatasetContract.model_validate(raw)
    older = int((clean["customer_age"] > 30).sum())
    assert 0 < older < len(clean)

    _, report = _validate(clean.to_csv(index=False).encode(), tolerant)

    within, beyond = [
        c for c in report.checks if c.check == "expect_column_values_to_be_between"
        and c.column == "customer_age" and "max_value=30" in c.message
    ]  # fmt: skip
    assert (within.success, within.unexpected_count) == (True, older)
    assert (beyond.success, beyond.unexpected_count) == (False, older)
    assert beyond.examples and all(e["value"] > 30 for e in beyond.examples)
    assert within.examples == beyond.examples
    passing = [c for c in report.checks if c.success and c is not within]
    assert passing and all(c.unexpected_count == 0 and not c.examples for c in passing)


def test_work_alongside_validation_is_kept_only_for_a_file_that_passes(
    clean: pd.DataFrame, contract: DatasetContract
) -> None:
    """``validate_then`` runs ``then`` on the coerced table while GX checks it (ingestion
    encodes the partitions so): a passing file returns the table and its result, a
    rejected one neither, with the same report as ``validate_table``."""
    seen: list[int] = []

    def rows(table: Any) -> int:
        seen.append(table.num_rows)
        return int(table.num_rows)

    good = clean.to_csv(index=False).encode()
    passed, report = validate_then(good, "good.csv", contract, NOW, rows)
    assert report.success and passed is not None
    table, result = passed
    assert result == table.num_rows == len(clean) == seen[0]

    bad = corrupt_transactions(clean, "negative_amount", seed=3)
    refused, bad_report = validate_then(bad, "bad.csv", contract, NOW, rows)
    assert refused is None and not bad_report.success
    _, same = _validate(bad, contract, "bad.csv")
    assert _failing(bad_report) == _failing(same)


def test_an_error_alongside_validation_of_a_passing_file_is_raised(
    clean: pd.DataFrame, contract: DatasetContract
) -> None:
    def broken(table: Any) -> None:
        raise OSError("disk full while encoding")

    with pytest.raises(OSError, match="disk full"):
        validate_then(clean.to_csv(index=False).encode(), "f.csv", contract, NOW, broken)
