"""Hashed primary keys of a partition: what a commit may trust instead of the partition."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest


def test_the_same_keys_hash_alike_whatever_their_nulls_and_order() -> None:
    from tasks.core.ingest.key_index import hashes, may_hold

    whole = hashes(pa.table({"id": pa.array([3, 1, 2], pa.int64())}))
    with_null = hashes(pa.table({"id": pa.array([2, None, 3, 3], pa.int64())}))
    assert list(whole) == sorted(whole) and len(whole) == 3  # sorted, distinct
    assert np.isin(with_null, whole).sum() == 2  # 2 and 3: one pandas dtype or another
    assert may_hold(whole, with_null)
    assert not may_hold(whole, hashes(pa.table({"id": pa.array([4, 5], pa.int64())})))
    assert not may_hold(whole[:0], whole)


def test_two_key_columns_hash_as_a_pair() -> None:
    from tasks.core.ingest.key_index import hashes, may_hold

    held = hashes(pa.table({"user": ["a", "b"], "n": [1, 2]}))
    assert may_hold(held, hashes(pa.table({"user": ["b"], "n": [2]})))
    assert not may_hold(held, hashes(pa.table({"user": ["a"], "n": [2]})))  # crossed


def test_an_index_for_other_types_or_another_hashing_is_not_used() -> None:
    from tasks.core.ingest.key_index import entry, usable

    recorded = entry("curated/x/keys/abc.parquet", "abc", ["string"])
    assert usable(recorded, ["string"])
    assert not usable(recorded, ["int64"])
    assert not usable({**recorded, "hashing": "0" * 16}, ["string"])
    assert not usable(None, ["string"])


def test_the_stored_form_reads_back_as_written() -> None:
    from tasks.core.ingest.key_index import from_bytes, hashes, to_bytes

    values = hashes(pa.table({"id": [f"k{i}" for i in range(1000)]}))
    assert list(from_bytes(to_bytes(values))) == list(values)


def test_hashing_a_chunk_at_a_time_gives_the_whole_tables_hashes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tasks.core.ingest import key_index

    table = pa.table({"id": [f"k{i % 700}" for i in range(1000)]})  # repeats across chunks
    whole = key_index.hashes(table)
    monkeypatch.setattr(key_index, "CHUNK", 64)
    assert list(key_index.hashes(table)) == list(whole)
    assert len(whole) == 700


def test_timestamps_in_a_key_hash_by_their_value() -> None:
    """interactions' key is (user_id, item_id, event_time): no range, so always indexed."""
    import datetime as dt

    from tasks.core.ingest.key_index import hashes, may_hold

    at = pa.array(
        [dt.datetime(2026, 1, 1, h, tzinfo=dt.UTC) for h in range(3)], pa.timestamp("us", "UTC")
    )
    held = hashes(pa.table({"user_id": ["u1", "u1", "u2"], "event_time": at}))
    again = pa.table({"user_id": ["u1"], "event_time": at.slice(1, 1)})
    assert may_hold(held, hashes(again))
    assert not may_hold(held, hashes(pa.table({"user_id": ["u2"], "event_time": at.slice(1, 1)})))
