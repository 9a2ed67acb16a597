"""Landing keys: which count, their landing date, and a file outcome as JSON (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tasks.core.ingest.landing import FileOutcome, is_landing_file, landing_date
from tasks.core.ingest.manifests import Partition

pytestmark = pytest.mark.unit
NOW = datetime(2026, 10, 9, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "fmt", "counts"),
    [
        ("landing/t/2026-10-01/a.csv", "csv", True),
        ("landing/t/2026-10-01/A.CSV", "csv", True),
        ("landing/t/2026-10-01/a.parquet", "parquet", True),
        ("landing/t/2026-10-01/a.pq", "parquet", True),
        ("landing/t/2026-10-01/a.csv", "parquet", False),
        ("landing/t/2026-10-01/a.csv.tmp", "csv", False),
    ],
)
def test_only_the_contracts_format_counts(key: str, fmt: str, counts: bool) -> None:
    assert is_landing_file(key, fmt) is counts


def test_the_landing_date_is_the_dated_folder_else_the_ingestion_day() -> None:
    assert landing_date("landing/t/2026-10-01/a.csv", NOW) == "2026-10-01"
    assert landing_date("2026-10-02/a.csv", NOW) == "2026-10-02"
    assert landing_date("landing/t/a.csv", NOW) == "2026-10-09"


def test_a_file_outcome_as_json_counts_partitions_and_drops_details() -> None:
    part = Partition("curated/t/date=2026-10-01/x.parquet", "x", 3, "2026-10-01", "file:///l")
    outcome = FileOutcome(
        "k", "u", "s", 10, "accepted", rows=3, partitions=[part, part], details={"big": "x"}
    )
    data = outcome.to_dict()
    assert data["partitions"] == 2
    assert "details" not in data
    assert (data["status"], data["rows"]) == ("accepted", 3)
