"""Primary keys across files and versions: reject names the clash, replace keeps the newest."""

from __future__ import annotations

import pandas as pd
import pytest

from tasks.core.ingest.keys import PARTITION, SOURCE, clash_report, resolve, without_keys

pytestmark = pytest.mark.unit
KEYS = ["id"]


def existing(ids: list[str], partition: str = "p1", source: str = "old.csv") -> pd.DataFrame:
    return pd.DataFrame({"id": ids, PARTITION: partition, SOURCE: source})


def new(ids: list[str], partition: str) -> pd.DataFrame:
    return pd.DataFrame({"id": ids, PARTITION: partition})


def test_reject_names_the_repeated_key_and_the_earlier_file() -> None:
    found = resolve(existing(["a", "b"]), [("new.csv", new(["b", "c"], "p2"))], KEYS, "reject")
    (clash,) = found.rejected
    assert (clash.uri, clash.count) == ("new.csv", 1)
    assert clash.examples == [{"key": {"id": "b"}, "earlier_file": "old.csv"}]
    assert found.superseded == {}
    message = clash_report(clash, "landing/t/new.csv", "t", KEYS)["checks"][0]["message"]
    assert "(b) in old.csv" in message and "on_duplicate_key: reject" in message


def test_two_new_files_in_one_commit_are_checked_against_each_other() -> None:
    files = [("one.csv", new(["x"], "p2")), ("two.csv", new(["x"], "p3"))]
    found = resolve(existing(["a"]), files, KEYS, "reject")
    assert [c.uri for c in found.rejected] == ["two.csv"]
    assert found.rejected[0].examples[0]["earlier_file"] == "one.csv"


def test_replace_supersedes_the_older_rows_of_each_repeated_key() -> None:
    files = [("fix.csv", new(["b"], "p2")), ("fix2.csv", new(["b", "c"], "p3"))]
    found = resolve(existing(["a", "b", "c"]), files, KEYS, "replace")
    assert found.rejected == []
    assert sorted(found.superseded) == ["p1", "p2"]
    assert sorted(found.superseded["p1"]["id"]) == ["b", "c"]  # both keys left p1
    assert list(found.superseded["p2"]["id"]) == ["b"]  # fix2 supersedes fix's row too
    assert found.replaced_by == {"p1": "fix2.csv", "p2": "fix2.csv"}


def test_without_keys_drops_exactly_those_rows_in_order() -> None:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "v": [1, 2, 3]})
    left = without_keys(frame, pd.DataFrame({"id": ["b"]}), KEYS)
    assert list(left["id"]) == ["a", "c"] and list(left["v"]) == [1, 3]


@pytest.mark.parametrize("mode", ["reject", "replace"])
def test_a_first_version_with_a_timestamp_in_its_key_has_nothing_to_clash_with(mode: str) -> None:
    """interactions: (user_id, item_id, event_time); the first commit has no earlier rows."""
    cols = ["user_id", "event_time"]
    empty = pd.DataFrame(columns=[*cols, PARTITION, SOURCE])  # object columns
    stamp = pd.to_datetime(["2026-10-01T10:00:00Z", "2026-10-01T11:00:00Z"], utc=True)
    day1 = pd.DataFrame({"user_id": ["u1", "u2"], "event_time": stamp, PARTITION: "p1"})
    day2 = pd.DataFrame({"user_id": ["u1"], "event_time": stamp[:1], PARTITION: "p2"})

    found = resolve(empty, [("d1.csv", day1), ("d2.csv", day2)], cols, mode)

    if mode == "reject":
        assert [c.uri for c in found.rejected] == ["d2.csv"]  # d2 repeats d1's (u1, 10:00)
    else:
        assert found.replaced_by == {"p1": "d2.csv"}


def test_a_first_version_of_several_files_keeps_timestamp_keys_comparable() -> None:
    """A new dataset's (empty, untyped) key set must not turn later files' times into objects."""
    t = pd.Timestamp("2026-01-05 10:00", tz="UTC")
    empty = pd.DataFrame(columns=["id", "event_time", PARTITION, SOURCE])
    files = [
        (f"week{k}.csv", pd.DataFrame({"id": ["a"], "event_time": [t], PARTITION: f"p{k}"}))
        for k in range(3)
    ]
    found = resolve(empty, files, ["id", "event_time"], "reject")
    assert [c.uri for c in found.rejected] == ["week1.csv", "week2.csv"]


def test_key_ranges_cover_strings_and_integers_and_say_when_rows_cannot_share_a_key() -> None:
    import datetime as dt

    import pyarrow as pa

    from tasks.core.ingest.keys import key_range, may_share_keys, union_range

    table = pa.table({
        "id": ["b", "a", None, "c"], "n": [3, 1, 2, None],
        "at": [dt.datetime(2026, 1, d) for d in (1, 2, 3, 4)],
    })  # fmt: skip
    assert key_range(table, ["id", "n", "at"]) == {"id": ["a", "c"], "n": [1, 3]}
    assert key_range(table, ["at"]) is None  # timestamps: no range, always read
    assert key_range(pa.table({"id": pa.array([None], pa.string())}), ["id"]) is None
    day1, day2 = {"id": ["tx-1-0", "tx-1-9"]}, {"id": ["tx-2-0", "tx-2-9"]}
    assert not may_share_keys(day1, day2) and not may_share_keys(day2, day1)
    assert may_share_keys(day1, {"id": ["tx-1-5", "tx-3"]})  # overlapping
    assert may_share_keys(day1, {"id": ["tx-1-9", "tx-2"]})  # touching: one key in both
    assert may_share_keys(None, day2) and may_share_keys(day1, None)  # unknown: read it
    assert may_share_keys({"id": [1, 5]}, {"id": ["a", "b"]})  # types differ: cannot tell
    # composite keys: disjoint in any one column is enough
    assert not may_share_keys({"a": [1, 5], "b": [1, 2]}, {"a": [1, 5], "b": [3, 4]})
    assert union_range([day1, day2]) == {"id": ["tx-1-0", "tx-2-9"]}
    assert union_range([day1, None]) is None and union_range([]) is None
    assert union_range([{"id": [1, 2]}, {"id": ["a", "b"]}]) is None
