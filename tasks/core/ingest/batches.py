"""A large landing CSV validated a batch of lines at a time, with the whole file's verdict (pure).

Memory is then bounded by the batch, not the file: each batch (the header and a run of whole
lines, about ``batch_bytes`` long) is parsed, coerced and checked like a small file, and its
rows go to the partitions as they pass (:class:`~tasks.core.ingest.manifests.PartitionWriter`).
The report is the one the whole file would get:

- expectations about single rows (:data:`ROW_LOCAL`: not null, between, in a set, a regex,
  lengths...) run on each batch; their counts add up and their examples are the file's
  first ones, numbered in the file;
- every other expectation (uniqueness, row count, a mean, anything with ``mostly``), and
  the references to other datasets, runs once on the file's rows of just the columns it
  reads, kept from every batch; so a key repeated across batches is found as in one piece.
  A column that must be unique is first sorted in Arrow: with no value twice the check has
  passed, and GX (which hashes every value) only counts and shows repeats when there are.

A line never holds a row break here, as Arrow's reader assumes too: a quoted field with a
line break in it makes its batch malformed, reported by the careful reader.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from schemas.contracts import DatasetContract
from tasks.core.ingest.checks import MAX_EXAMPLES, CheckResult, ValidationReport
from tasks.core.ingest.limits import column_limit_check
from tasks.core.ingest.manifests import PartitionWriter
from tasks.core.ingest.reading import not_utf8_at
from tasks.core.ingest.tables import to_gx_frame
from tasks.core.ingest.validation import (
    ExpectationRunner,
    build_expectations,
    check_references,
    decided_by_sorting,
    in_order,
    read_coerced,
)

ROW_LOCAL = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_values_to_match_strftime_format",
        "expect_column_values_to_be_json_parseable",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
    }
)


def line_batches(
    source: bytes | Iterable[bytes], batch_bytes: int
) -> Iterator[tuple[bytes, int, int]]:
    """The header line followed by each run of whole lines of about ``batch_bytes``, where
    that run starts in the file and how many lines come before it. ``source``: the file's
    bytes, or its chunks in order (read from the store: a batch and a chunk in memory)."""
    if isinstance(source, bytes):
        yield from _in_memory(source, batch_bytes)
    else:
        yield from _streamed(source, batch_bytes)


def _in_memory(data: bytes, batch_bytes: int) -> Iterator[tuple[bytes, int, int]]:
    header_end = data.find(b"\n") + 1
    if header_end == 0:  # one line: a file of its own
        yield data, 0, 0
        return
    header, start, lines = data[:header_end], header_end, 1
    if start == len(data):  # a header alone
        yield header, start, lines
    while start < len(data):
        end = data.rfind(b"\n", start, start + batch_bytes) + 1
        if end <= start:  # a line longer than a batch: the batch is that line
            end = data.find(b"\n", start + batch_bytes) + 1 or len(data)
        yield header + data[start:end], start, lines
        lines += data.count(b"\n", start, end)
        start = end


def _streamed(chunks: Iterable[bytes], batch_bytes: int) -> Iterator[tuple[bytes, int, int]]:
    """Cut where :func:`_in_memory` cuts; the chunks not yet in a batch are held as they
    came and joined once, into their batch (no growing buffer copied as it fills)."""
    prefix, header, start, lines, sent = bytearray(), b"", 0, 0, False
    pending: list[bytes] = []  # after the header, not yet in a batch
    held = 0
    for read in chunks:
        chunk = read
        if not header:
            prefix += read
            cut = prefix.find(b"\n") + 1
            if not cut:
                continue
            header, start, lines = bytes(prefix[:cut]), cut, 1
            chunk = bytes(prefix[cut:])
        pending.append(chunk)
        held += len(chunk)
        while held >= batch_bytes:
            end = _line_end(pending, batch_bytes)
            if end is None:  # a line longer than a batch, not ended yet: read on
                break
            i, at = end
            batch = b"".join([header, *pending[:i], memoryview(pending[i])[:at]])
            rest = pending[i][at:]  # part of one chunk
            pending = ([rest] if rest else []) + pending[i + 1 :]
            size = len(batch) - len(header)
            held -= size
            yield batch, start, lines
            start, lines, sent = start + size, lines + batch.count(b"\n") - 1, True
    if not header:  # no line break at all: a file of its own
        yield bytes(prefix), 0, 0
    elif pending or not sent:  # the last lines; or a header alone
        yield b"".join([header, *pending]), start, lines


def _line_end(pending: list[bytes], batch_bytes: int) -> tuple[int, int] | None:
    """(chunk, offset) just after the last line break in the first ``batch_bytes`` bytes of
    ``pending``, else just after the first one past them; None: none past them yet."""
    offsets = list(itertools.accumulate((len(c) for c in pending[:-1]), initial=0))
    first = [i for i, offset in enumerate(offsets) if offset < batch_bytes]
    for i in reversed(first):  # the last line break in the first batch_bytes bytes
        found = pending[i].rfind(b"\n", 0, batch_bytes - offsets[i])
        if found >= 0:
            return i, found + 1
    for i, chunk in enumerate(pending):  # none: a line longer than a batch, to its end
        found = chunk.find(b"\n", max(0, batch_bytes - offsets[i]))
        if found >= 0:
            return i, found + 1
    return None


def validate_in_batches(
    source: bytes | Iterable[bytes],
    file: str,
    contract: DatasetContract,
    now: datetime,
    batch_bytes: int,
    writer: PartitionWriter | None = None,
    known_keys: dict[str, set[str] | None] | None = None,
    runner: ExpectationRunner | None = None,
) -> ValidationReport:
    """Validate a CSV in batches (see the module); batches go to ``writer`` until one fails
    (use its partitions only when the report succeeds)."""
    runner = runner or ExpectationRunner()
    batches = line_batches(source, batch_bytes)
    first = next(batches)
    too_wide = column_limit_check(first[0], contract)  # the header is in every batch
    if too_wide is not None:
        return ValidationReport(file, contract.name, False, 0, [too_wide])
    suite = build_expectations(contract, now)
    local = [e for e in suite if _row_local(e)]
    kept_columns = _columns_read([e for e in suite if not _row_local(e)], contract)
    reads: dict[tuple[str, str | None], list[CheckResult]] = {}
    checked: list[list[CheckResult]] = [[] for _ in local]
    kept: list[pa.Table] = []
    rows, clean = 0, True
    extra: list[str] = []
    # a batch's rows are encoded to Parquet in a thread while GX checks them (Arrow releases
    # the GIL GX holds), one batch at a time, in order; none after a batch that failed
    with ThreadPoolExecutor(1, thread_name_prefix="partitions") as pool:
        encoding: Future[None] | None = None
        for batch, start, lines in itertools.chain([first], batches):
            read = read_coerced(batch, file, contract)
            if isinstance(read, ValidationReport):  # not a table of the contract's columns
                return _refused(read, rows, batches, (batch, start, lines), contract)
            table, coercion, extra = read
            if encoding is not None:
                encoding.result()
            encoding = pool.submit(writer.add, table) if clean and writer else None
            for check in coercion:
                reads.setdefault((check.check, check.column), []).append(_numbered(check, rows))
            results = runner.check(to_gx_frame(table), contract.name, local)
            for found, result in zip(checked, results, strict=True):
                found.append(_numbered(result, rows))
            clean = clean and all(c.success for c in [*coercion, *results])
            kept.append(table.select(kept_columns))
            rows += table.num_rows
        if encoding is not None:
            encoding.result()
    table = _concatenated(kept, kept_columns)
    overall = [e for e in suite if not _row_local(e)]
    sorted_out, for_gx = decided_by_sorting(overall, table)
    whole = _whole_file_frame(table.select(_columns_read(for_gx, contract)), rows)
    del table  # only the columns GX reads stay
    decided = iter(in_order(sorted_out, runner.check(whole, contract.name, for_gx)))
    in_suite_order = [
        _merged(checked[local.index(e)]) if _row_local(e) else next(decided) for e in suite
    ]
    checks = [_merged(found) for found in reads.values()] + in_suite_order
    checks += check_references(whole, contract, known_keys or {})
    ok = all(c.success for c in checks)
    return ValidationReport(file, contract.name, ok, rows, checks, extra)


def _refused(
    report: ValidationReport,
    rows_before: int,
    later: Iterator[tuple[bytes, int, int]],
    batch: tuple[bytes, int, int],
    contract: DatasetContract,
) -> ValidationReport:
    """The refusal of a file one batch of which is not a table of the contract's columns.

    Unreadable (no rows): as the whole file would be, a bad byte placed in the file.
    Missing columns (every batch has the header): rows counted to the end, as the whole
    file's rows are."""
    checks = [_numbered(c, rows_before) for c in report.checks]
    if not report.rows:
        return replace(report, checks=[_in_file(c, *batch) for c in checks])
    rows = rows_before + report.rows
    for more, _, _ in later:
        read = read_coerced(more, report.file, contract)
        rows += read.rows if isinstance(read, ValidationReport) else read[0].num_rows
    return replace(report, rows=rows, checks=checks)


def _in_file(check: CheckResult, batch: bytes, start: int, lines: int) -> CheckResult:
    """A batch's UTF-8 failure at its byte and line in the file (other checks as they are);
    the batch starts at byte ``start`` of the file, after ``lines`` lines."""
    if check.check != "file_is_utf8":
        return check
    header = batch.find(b"\n") + 1 if start else 0
    try:
        batch.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < header or not start:  # in the header: where it is in the file
            at, line = exc.start, batch.count(b"\n", 0, exc.start) + 1
        else:
            at = start + exc.start - header
            line = lines + batch.count(b"\n", header, exc.start) + 1
        return not_utf8_at(at, line, batch[exc.start])
    return check


def _row_local(expectation: Any) -> bool:
    """Decided by each row alone, so by each batch alone (no tolerance to pool)."""
    config = expectation.configuration
    return config.type in ROW_LOCAL and not config.kwargs.get("mostly")


def _columns_read(expectations: list[Any], contract: DatasetContract) -> list[str]:
    """The contract columns these expectations and the references read, in contract order."""
    named: set[str] = {r.column for r in contract.references}
    for expectation in expectations:
        kwargs = expectation.configuration.kwargs
        named |= {kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)}
        named |= set(kwargs.get("column_list") or [])
    return [c for c in contract.columns if c in named]


def _concatenated(kept: list[pa.Table], columns: list[str]) -> pa.Table:
    """The batches' kept columns as one table (the batches' working memory released)."""
    table = pa.concat_tables(kept, promote_options="permissive") if columns else pa.table({})
    kept.clear()
    pa.default_memory_pool().release_unused()
    return table


def _whole_file_frame(table: pa.Table, rows: int) -> pd.DataFrame:
    """The file's rows of the table's columns as GX checks them (no columns: just rows)."""
    if not table.num_columns:
        return pd.DataFrame(index=pd.RangeIndex(rows))
    return to_gx_frame(table)


def _numbered(check: CheckResult, rows_before: int) -> CheckResult:
    """A batch's check with its example rows numbered in the file."""
    if not rows_before or not check.examples:
        return check
    examples = [
        {**e, "row": e["row"] + rows_before} if isinstance(e.get("row"), int) else e
        for e in check.examples
    ]
    return replace(check, examples=examples)


def _merged(parts: list[CheckResult]) -> CheckResult:
    """One check from its batches: passed if each did, counts summed, the first examples."""
    examples = [e for part in parts for e in part.examples][:MAX_EXAMPLES]
    return replace(
        parts[0],
        success=all(p.success for p in parts),
        unexpected_count=sum(p.unexpected_count for p in parts),
        examples=examples,
    )
