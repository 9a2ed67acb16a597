"""A landing file's name, size and width are checked before it is parsed."""

from __future__ import annotations

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemas.contracts import load_contract
from schemas.text import shown
from tasks.core.ingest.limits import (
    COLUMN_COUNT_CHECK,
    column_count,
    column_limit_check,
    refusal,
)
from tasks.core.ingest.validation import validate_table

pytestmark = pytest.mark.unit
NOW = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def contract():  # type: ignore[no-untyped-def]
    return load_contract("transactions")


def test_control_characters_are_shown_escaped_and_refused(contract) -> None:  # type: ignore[no-untyped-def]
    key = "landing/transactions/2026-10-01/a\x1b[31mred\nfake log line\x7f.csv"
    assert shown(key) == "landing/transactions/2026-10-01/a\\x1b[31mred\\nfake log line\\x7f.csv"
    reason = refusal(key, 10, contract)
    assert reason == f"file name has control characters: {shown(key)}"
    assert "\n" not in reason and "\x1b" not in reason
    assert refusal("landing/transactions/2026-10-01/ünïcode ok.csv", 10, contract) is None


def test_a_file_over_max_file_bytes_is_refused_unread(contract) -> None:  # type: ignore[no-untyped-def]
    small = contract.model_copy(
        update={"limits": contract.limits.model_copy(update={"max_file_bytes": 1000})}
    )
    assert refusal("landing/transactions/x.csv", 1000, small) is None
    reason = refusal("landing/transactions/x.csv", 1001, small)
    assert reason == (
        "file is 1,001 bytes, over limits.max_file_bytes 1,000: quarantined by reference, not read"
    )
    assert contract.limits.max_file_bytes == 4 * 1024**3  # the default


def test_width_comes_from_the_csv_header_or_the_parquet_schema() -> None:
    assert column_count(b'a,"b,c",d\n1,2,3\n', "csv") == 3
    assert column_count(b"a,b", "csv") == 2  # no newline: the header is the file
    buf = io.BytesIO()
    pq.write_table(pa.table({f"c{i}": [1] for i in range(7)}), buf)
    assert column_count(buf.getvalue(), "parquet") == 7
    assert column_count(b"not parquet", "parquet") is None  # the reader reports it
    assert column_count(b"a,b\rc,\xff\n", "csv") is None  # not a header: likewise


def test_a_wider_file_than_the_contract_allows_is_quarantined_before_parsing(contract) -> None:  # type: ignore[no-untyped-def]
    width = len(contract.columns)
    assert contract.max_columns == 4 * width
    header = ",".join([*contract.columns, *(f"extra_{i}" for i in range(3 * width + 1))])
    data = (header + "\n" + "x," * (4 * width) + "x\n").encode()

    check = column_limit_check(data, contract)
    assert check is not None and check.check == COLUMN_COUNT_CHECK and not check.success
    assert (
        check.message
        == f"{4 * width + 1} columns, more than {4 * width} (4x the contract's columns)"
    )
    table, report = validate_table(data, "wide.csv", contract, NOW)
    assert table is None and report.rows == 0
    assert [c.check for c in report.checks] == [COLUMN_COUNT_CHECK]
    assert COLUMN_COUNT_CHECK in report.summary()

    narrow = contract.model_copy(
        update={"limits": contract.limits.model_copy(update={"max_columns": width})}
    )
    one_extra = (",".join([*contract.columns, "extra"]) + "\n").encode()
    assert column_limit_check(one_extra, narrow).message == (  # type: ignore[union-attr]
        f"{width + 1} columns, more than {width} (limits.max_columns)"
    )
    assert column_limit_check(one_extra, contract) is None


def test_the_cli_prints_a_control_character_name_escaped() -> None:
    from flows.cli.render import ingest_text

    key = "landing/transactions/2026-10-01/evil\x1b[2J\nname.csv"
    data = {
        "dataset": "transactions",
        "files": [
            {"key": key, "status": "quarantined", "rows": 0, "reasons": "r", "report_uri": None}
        ],
        "version": None,
    }
    text = ingest_text(data)
    assert "evil\\x1b[2J\\nname.csv" in text and "\x1b" not in text
