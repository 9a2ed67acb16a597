"""What a landing file may be before it is parsed: its name, its size, its width (pure).

A file refused here is never read into memory: a name with control characters (shown
escaped, so a log line or a terminal cannot be forged), or more bytes than the contract's
``limits.max_file_bytes``. A file with more columns than ``limits.max_columns`` is refused
from its header (CSV) or schema (Parquet) before any row is parsed.
"""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.contracts import DatasetContract
from schemas.text import CONTROL, shown
from tasks.core.ingest.checks import CheckResult

COLUMN_COUNT_CHECK = "expect_table_column_count_to_be_between"
HEADER_BYTES = 1 << 20  # a header longer than this is a wide file by itself


def refusal(key: str, size: int, contract: DatasetContract) -> str | None:
    """Why the landing file at ``key`` of ``size`` bytes is refused unread, or None."""
    if CONTROL.search(key):
        return f"file name has control characters: {shown(key)}"
    limit = contract.limits.max_file_bytes
    if size > limit:
        return (
            f"file is {size:,} bytes, over limits.max_file_bytes {limit:,}:"
            " quarantined by reference, not read"
        )
    return None


def column_count(data: bytes, fmt: str) -> int | None:
    """Columns the file's header (CSV) or schema (Parquet) declares; None if unreadable
    (the reader then reports the file as it always has)."""
    if fmt == "parquet":
        try:
            return len(pq.read_schema(pa.BufferReader(data)).names)
        except (pa.ArrowInvalid, OSError):
            return None
    end = data.find(b"\n", 0, HEADER_BYTES)
    head = data[: end if end >= 0 else HEADER_BYTES].decode("utf-8", errors="replace")
    try:
        return len(next(csv.reader(io.StringIO(head)), []))
    except csv.Error:  # not a CSV header (a stray carriage return, binary bytes)
        return None


def column_limit_check(data: bytes, contract: DatasetContract) -> CheckResult | None:
    """A failed check when the file has more columns than the contract allows, else None."""
    count = column_count(data, contract.source.format)
    limit = contract.max_columns
    if count is None or count <= limit:
        return None
    setting = "limits.max_columns" if contract.limits.max_columns else "4x the contract's columns"
    message = f"{count} columns, more than {limit} ({setting})"
    return CheckResult(COLUMN_COUNT_CHECK, False, None, 0, [], message)
