"""The Arrow fast path agrees with the careful reader: same tables, same partition bytes.

A file the fast path declines goes through ``reading.py`` unchanged, so every case
here checks that the two readers accept the same files as the same rows.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from schemas.contracts import DatasetContract, load_contract
from tasks.core.ingest.manifests import from_parquet, plan_partitions, plan_table_partitions
from tasks.core.ingest.reading import coerce_frame, read_table
from tasks.core.ingest.tables import read_csv_fast, to_frame, with_pandas_metadata
from tasks.core.ingest.validation import ExpectationRunner, validate_file, validate_table
from tasks.samples import generate_transactions, to_csv_bytes

pytestmark = pytest.mark.unit

DAY = dt.date(2024, 3, 1)
NOW = dt.datetime(2024, 3, 2, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def contract() -> DatasetContract:
    return load_contract("transactions")


@pytest.fixture(scope="module")
def clean() -> bytes:
    return to_csv_bytes(generate_transactions(1, DAY, 5, rows_per_day=300)[DAY])


def _careful(data: bytes, contract: DatasetContract) -> pd.DataFrame:
    raw = read_table(data, "csv")
    assert isinstance(raw, pd.DataFrame)
    frame, checks, _ = coerce_frame(raw, contract)
    assert checks == []
    return frame


def test_clean_file_takes_the_fast_path_with_identical_partitions(
    clean: bytes, contract: DatasetContract
) -> None:
    fast = read_csv_fast(clean, contract)
    assert fast is not None
    table, extra = fast
    assert extra == []
    assert table.column_names == list(contract.columns)
    typed = with_pandas_metadata(table, contract)
    by_arrow = plan_table_partitions(typed, "transactions", "event_time", "d", "u")
    by_pandas = plan_partitions(_careful(clean, contract), "transactions", "event_time", "d", "u")
    assert [p for p, _ in by_arrow] == [p for p, _ in by_pandas]
    assert [b for _, b in by_arrow] == [b for _, b in by_pandas]
    back = from_parquet(by_arrow[0][1])
    assert back["customer_age"].dtype == "Int64"
    assert back["amount"].dtype == "Float64"


@pytest.mark.parametrize(
    ("cell", "why"),
    [
        ("30.0", "an integral float in an int column"),
        ("+30", "a signed int Arrow does not parse"),
        ("3e1", "an exponent in an int column"),
    ],
)
def test_values_arrow_refuses_are_read_carefully_to_the_same_rows(
    cell: str, why: str, contract: DatasetContract
) -> None:
    frame = generate_transactions(1, DAY, 5, rows_per_day=20)[DAY]
    text = frame.astype({"customer_age": object})
    text.loc[3, "customer_age"] = cell
    data = to_csv_bytes(text)
    assert read_csv_fast(data, contract) is None, why
    table, report = validate_table(data, "f.csv", contract, NOW)
    assert report.success, report.summary()
    assert table is not None
    assert table.column("customer_age")[3].as_py() == 30


@pytest.mark.parametrize(
    "data",
    [
        b"a,a\n1,2\n",  # duplicate names
        b" transaction_id,amount\nx,1\n",  # a header the careful reader strips
        b"transaction_id,amount\nx,inf\n",  # non-finite: coerce_type names the row
        b"transaction_id,amount\nx,1\ny\n",  # ragged
    ],
)
def test_fast_path_declines_what_needs_the_careful_reader(
    data: bytes, contract: DatasetContract
) -> None:
    assert read_csv_fast(data, contract) is None


def test_strings_are_trimmed_and_blank_cells_are_missing(contract: DatasetContract) -> None:
    frame = generate_transactions(1, DAY, 5, rows_per_day=20)[DAY].astype({"country": object})
    frame.loc[2, "country"] = "  DE "
    frame.loc[4, "merchant_id"] = "   "
    data = to_csv_bytes(frame)
    fast = read_csv_fast(data, contract)
    assert fast is not None
    table = fast[0]
    careful = _careful(data, contract)
    assert table.column("country").to_pylist() == careful["country"].tolist()
    assert table.column("merchant_id")[4].as_py() is None
    assert careful["merchant_id"][4] is None


def test_empty_quoted_cells_are_missing_in_a_file_with_nothing_to_trim(
    contract: DatasetContract,
) -> None:
    frame = generate_transactions(1, DAY, 5, rows_per_day=20)[DAY]
    frame.loc[3, "customer_id"] = "EMPTY-QUOTED"
    data = to_csv_bytes(frame).replace(b"EMPTY-QUOTED", b'""')
    fast = read_csv_fast(data, contract)
    assert fast is not None
    assert fast[0].column("customer_id")[3].as_py() is None
    assert _careful(data, contract)["customer_id"][3] is None


def test_bool_columns_accept_the_same_spellings(contract: DatasetContract) -> None:
    raw = contract.model_dump(mode="json")
    raw["columns"]["flag"] = {"type": "bool", "nullable": True}
    with_flag = DatasetContract.model_validate(raw)
    frame = generate_transactions(1, DAY, 5, rows_per_day=6)[DAY]
    frame["flag"] = ["TRUE", "no", "1", "", "Yes", "false"]
    fast = read_csv_fast(to_csv_bytes(frame), with_flag)
    assert fast is not None
    assert fast[0].column("flag").to_pylist() == [True, False, True, None, True, False]
    frame.loc[0, "flag"] = "maybe"
    assert read_csv_fast(to_csv_bytes(frame), with_flag) is None
    _, report = validate_file(to_csv_bytes(frame), "f.csv", with_flag, NOW)
    assert ("coerce_type", "flag") in {(c.check, c.column) for c in report.failures}


def test_one_runner_validates_many_files_as_fresh_contexts_do(
    clean: bytes, contract: DatasetContract
) -> None:
    runner = ExpectationRunner()
    bad = clean.replace(b",online,", b",telepathy,", 1)
    outcomes = []
    for data in (clean, bad, clean):
        _, shared = validate_table(data, "f.csv", contract, NOW, runner=runner)
        _, fresh = validate_table(data, "f.csv", contract, NOW)
        assert shared.to_dict() == fresh.to_dict()
        outcomes.append(shared.success)
    assert outcomes == [True, False, True]


def test_to_frame_gives_the_contract_nullable_dtypes(contract: DatasetContract) -> None:
    table = pa.table({"customer_age": pa.array([1, None]), "amount": pa.array([1.5, None])})
    frame = to_frame(table)
    assert frame["customer_age"].dtype == "Int64"
    assert frame["amount"].dtype == "Float64"
    assert frame["customer_age"].isna().tolist() == [False, True]


def test_nullable_int_column_reports_int_examples() -> None:
    """A missing age keeps the column nullable for GX; the bad value is shown as written."""
    data = b"user_id,age,gender,occupation\nu1,30,F,x\nu2,,M,y\nu3,150,F,z\n"
    _, report = validate_table(data, "users.csv", load_contract("users"), NOW)
    (result,) = report.failures
    assert (result.check, result.column) == ("expect_column_values_to_be_between", "age")
    assert result.examples == [{"row": 3, "value": 150}]
    assert isinstance(result.examples[0]["value"], int)
