"""A CSV validated in batches gets the whole file's report, and the whole file's rows."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pyarrow.parquet as pq
import pytest

from schemas.contracts import DatasetContract, load_contract
from tasks.core.ingest.batches import line_batches, validate_in_batches
from tasks.core.ingest.manifests import PartitionWriter, plan_table_partitions
from tasks.core.ingest.validation import ExpectationRunner, validate_table
from tasks.samples import CORRUPTION_KINDS, corrupt_transactions, generate_transactions

pytestmark = pytest.mark.unit

DAY = dt.date(2024, 3, 1)
NOW = dt.datetime(2024, 3, 3, 6, 0, tzinfo=dt.UTC)
BATCH = 2_000  # bytes: a 300-row file is about 15 batches


@pytest.fixture(scope="module")
def runner() -> ExpectationRunner:
    return ExpectationRunner()


@pytest.fixture(scope="module")
def contract() -> DatasetContract:
    return load_contract("transactions")


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    days = generate_transactions(2, DAY, 5, rows_per_day=150)
    return pd.concat(days.values(), ignore_index=True)


def test_batches_are_the_header_and_whole_lines_covering_the_file() -> None:
    data = b"a,b\n" + b"".join(f"{i},{'x' * (i % 7)}\n".encode() for i in range(500))
    batches = list(line_batches(data, 100))
    assert len(batches) > 10
    assert all(b.startswith(b"a,b\n") and b.endswith(b"\n") for b, _, _ in batches)
    assert b"a,b\n" + b"".join(b[4:] for b, _, _ in batches) == data
    assert all(data[start:].startswith(b[4:]) for b, start, _ in batches)
    assert all(lines == data.count(b"\n", 0, start) for _, start, lines in batches)
    assert list(line_batches(b"no newline", 3)) == [(b"no newline", 0, 0)]
    assert list(line_batches(b"h1,h2\n", 3)) == [(b"h1,h2\n", 6, 1)]
    long = b"h\n" + b"y" * 50 + b"\nz\n"
    assert [b[2:] for b, _, _ in line_batches(long, 10)] == [b"y" * 50 + b"\n", b"z\n"]


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000, 100_000])
@pytest.mark.parametrize(
    "data",
    [
        b"a,b\n" + b"".join(f"{i},{'x' * (i % 7)}\n".encode() for i in range(500)),
        b"a,b\n1,2",  # no final line break
        b"h1,h2\n",
        b"no newline",
        b"",
        b"h\n" + b"y" * 250 + b"\nz\n",
    ],
)
def test_batches_read_from_a_stream_are_those_of_the_bytes(data: bytes, chunk: int) -> None:
    """A file read from the store in chunks of any size is cut where its bytes are."""
    chunks = (data[i : i + chunk] for i in range(0, len(data), chunk))
    assert list(line_batches(chunks, 100)) == list(line_batches(data, 100))


@pytest.mark.parametrize("kind", [k for k in CORRUPTION_KINDS if k not in ("empty",)])
def test_a_bad_file_in_batches_fails_as_in_one_piece(
    kind: str, clean: pd.DataFrame, contract: DatasetContract, runner: ExpectationRunner
) -> None:
    """Same checks, outcomes, counts and example rows (numbered in the file)."""
    data = corrupt_transactions(clean, kind, seed=3)
    _, whole = validate_table(data, "f.csv", contract, NOW, runner=runner)
    batched = validate_in_batches(data, "f.csv", contract, NOW, BATCH, runner=runner)
    assert not batched.success
    assert batched.to_dict() == whole.to_dict()
    streamed = (data[i : i + 777] for i in range(0, len(data), 777))  # as read from a store
    from_store = validate_in_batches(streamed, "f.csv", contract, NOW, BATCH, runner=runner)
    assert from_store.to_dict() == whole.to_dict()


def test_a_key_repeated_in_two_batches_is_found(
    clean: pd.DataFrame, contract: DatasetContract, runner: ExpectationRunner
) -> None:
    repeated = clean.copy()
    repeated.loc[len(repeated) - 1, "transaction_id"] = repeated.loc[0, "transaction_id"]
    data = repeated.to_csv(index=False).encode()
    assert len(list(line_batches(data, BATCH))) > 2  # first and last row batches apart
    _, whole = validate_table(data, "f.csv", contract, NOW, runner=runner)
    batched = validate_in_batches(data, "f.csv", contract, NOW, BATCH, runner=runner)
    (unique,) = [c for c in batched.failures if c.check == "expect_column_values_to_be_unique"]
    assert unique.unexpected_count == 2
    assert [e["row"] for e in unique.examples] == [1, len(repeated)]
    assert batched.to_dict() == whole.to_dict()


def test_a_clean_file_in_batches_is_written_as_the_same_rows(
    clean: pd.DataFrame, contract: DatasetContract, runner: ExpectationRunner
) -> None:
    data = clean.to_csv(index=False).encode()
    table, whole = validate_table(data, "f.csv", contract, NOW, runner=runner)
    assert table is not None
    writer = PartitionWriter("transactions", "event_time", str(DAY), "file:///f.csv")
    batched = validate_in_batches(data, "f.csv", contract, NOW, BATCH, writer, runner=runner)
    assert batched.success and batched.to_dict() == whole.to_dict()

    parts = writer.finish()
    one_piece = plan_table_partitions(table, "transactions", "event_time", str(DAY), "u")
    assert (
        [p.date for p, _ in parts] == [p.date for p, _ in one_piece] == ["2024-03-01", "2024-03-02"]
    )
    for (part, body), (same, same_body) in zip(parts, one_piece, strict=True):
        assert pq.ParquetFile(io.BytesIO(body)).num_row_groups > 1  # a row group per batch
        assert pq.read_table(io.BytesIO(body)).equals(pq.read_table(io.BytesIO(same_body)))
        assert (part.rows, part.min_time, part.max_time) == (
            same.rows,
            same.min_time,
            same.max_time,
        )
        assert part.key.endswith(f"{part.sha256}.parquet")


def test_a_file_failing_after_its_first_batches_writes_nothing_usable(
    clean: pd.DataFrame, contract: DatasetContract, runner: ExpectationRunner
) -> None:
    bad = clean.copy()
    bad.loc[len(bad) // 2, "channel"] = "telepathy"  # a batch in the middle fails
    writer = PartitionWriter("transactions", "event_time", str(DAY), "file:///f.csv")
    data = bad.to_csv(index=False).encode()
    report = validate_in_batches(data, "f.csv", contract, NOW, BATCH, writer, runner=runner)
    assert not report.success
    assert sum(p.rows for p, _ in writer.finish()) < len(bad)  # none after the bad batch
