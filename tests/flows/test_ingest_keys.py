"""Primary keys across versions at scale: each partition's key range is recorded in the
manifest, and a commit reads only the earlier partitions whose range meets the new files'."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from hashlib import sha256
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.helpers.samples import Sample, read_json
from tests.helpers.store import read_keys, record_key_reads

pytestmark = pytest.mark.integration

Run = Callable[..., dict[str, Any]]


def true_range(store_root: Path, part: dict[str, Any]) -> list[Any]:
    ids = pq.read_table(io.BytesIO((store_root / part["key"]).read_bytes()))["transaction_id"]
    extremes = pc.min_max(ids)
    return [extremes["min"].as_py(), extremes["max"].as_py()]


def test_a_later_day_is_committed_without_reading_an_earlier_partition(
    env: Path, store_root: Path, sample: Sample, ingest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:

    sample.land([sample.days[0]])
    assert ingest()["version"]["version"] == "v1"
    v1 = read_json(store_root / "datasets/transactions/v1.json")
    for part in v1["partitions"]:  # the ids carry their day: ranges that never meet
        assert part["key_range"] == {"transaction_id": true_range(store_root, part)}
    calls = record_key_reads(monkeypatch)
    sample.land([sample.days[1]])

    assert ingest()["version"]["version"] == "v2"

    v2 = read_json(store_root / "datasets/transactions/v2.json")
    added = v2["partitions"][len(v1["partitions"]) :]
    assert sorted(read_keys(calls)) == sorted(p["key"] for p in added)  # none of v1's
    assert v2["partitions"][: len(v1["partitions"])] == v1["partitions"]
    for part in added:
        assert part["key_range"] == {"transaction_id": true_range(store_root, part)}


def test_a_partition_without_a_recorded_range_is_read_then_gets_one(
    env: Path, store_root: Path, sample: Sample, ingest: Run
) -> None:
    """Manifests written before ranges were recorded: their partitions are read at the next
    commit (they could hold any key) and the new manifest carries their ranges, and their
    hashed keys (stored beside them, named with their sha256)."""
    from schemas.contracts import load_contract
    from schemas.settings import load_settings
    from tasks.core.ingest import key_index
    from tasks.core.ingest.landing import FileOutcome
    from tasks.core.ingest.manifests import Partition
    from tasks.io.dataset_keys import resolve_keys

    sample.land(sample.days[:2])
    ingest()
    v1 = read_json(store_root / "datasets/transactions/v1.json")
    day_one = {p["source_uri"] for p in v1["partitions"]}.pop()
    older = [p for p in v1["partitions"] if p["source_uri"] == day_one]
    newer = [Partition(**p) for p in v1["partitions"] if p["source_uri"] != day_one]
    parent = {**v1, "partitions": [{**p, "key_range": None} for p in older]}
    file = FileOutcome("new.csv", "file:///new.csv", "x", 1, "accepted", partitions=newer)
    blank = [replace(p, key_range=None) for p in newer]

    kept, clashes, swaps, superseded = resolve_keys(
        load_contract("transactions"), parent, [replace(file, partitions=blank)], load_settings()
    )

    assert (clashes, superseded) == ([], [])
    assert [p.key_range for p in kept[0].partitions] == [p.key_range for p in newer]
    assert sorted(swaps) == sorted(p["key"] for p in older)
    for part in older:
        swap = swaps[part["key"]]
        assert replace(swap, key_index=None) == Partition(**part)  # the same object, ranged
        assert swap.key_index is not None
        body = (store_root / swap.key_index["key"]).read_bytes()
        assert sha256(body).hexdigest() == swap.key_index["sha256"]
        ids = pq.read_table(io.BytesIO((store_root / part["key"]).read_bytes()))
        expected = key_index.hashes(ids.select(["transaction_id"]))
        assert list(key_index.from_bytes(body)) == list(expected)
        assert swap.key_index["types"] == ["string"]


def test_an_indexed_partition_is_read_only_when_its_hashed_keys_meet_a_new_key(
    env: Path, store_root: Path, sample: Sample, ingest: Run, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Keys whose range meets every partition (a file holding "0..." and "z..." ids): the
    first commit reads each earlier partition and indexes it; the next reads none of them
    when no new key is there, and only the one holding a repeated key when one is."""
    import logging

    caplog.set_level(logging.INFO, logger="prefect")  # the suite runs Prefect at WARNING
    sample.land(sample.days[:2])
    ingest()
    v1 = read_json(store_root / "datasets/transactions/v1.json")
    earlier = [p["key"] for p in v1["partitions"]]
    calls = record_key_reads(monkeypatch)
    day = sample.days[1]
    sample.land_renamed(day, "wide", ["0-first", "z-first"], [0, 1])
    assert ingest()["version"]["version"] == "v2"
    assert sorted(r for r in read_keys(calls) if r in earlier) == sorted(earlier)  # once
    v2 = read_json(store_root / "datasets/transactions/v2.json")
    indexed = {p["key"]: p["key_index"] for p in v2["partitions"] if p["key"] in earlier}
    assert all(entry is not None for entry in indexed.values())

    calls.clear()
    sample.land_renamed(day, "wider", ["0-second", "z-second"], [2, 3])
    assert ingest()["version"]["version"] == "v3"
    assert [r for r in read_keys(calls) if r in earlier] == []  # hashed keys hold neither
    said = [r.getMessage() for r in caplog.records if "keys checked against" in r.getMessage()]
    n, m = len(earlier), len(earlier) + 1  # v3 extends v2: v1's and the "wide" file's
    assert said == [
        f"transactions: keys checked against {n} earlier partition(s): {n} read ({n} indexed"
        f" now), 0 passed by their hashed keys",
        f"transactions: keys checked against {m} earlier partition(s): 1 read (1 indexed"
        f" now), {n} passed by their hashed keys",
    ]
    v3 = read_json(store_root / "datasets/transactions/v3.json")
    assert {p["key"]: p["key_index"] for p in v3["partitions"] if p["key"] in earlier} == indexed

    calls.clear()
    frame = pq.read_table(io.BytesIO((store_root / earlier[-1]).read_bytes())).to_pandas()
    held = frame.query("is_fraud == 0")["transaction_id"].iloc[0]
    sample.land_renamed(day, "again", ["0-third", held, "z-third"], [4, 5, 6])
    (outcome,) = ingest()["files"]
    assert outcome["status"] == "quarantined"
    assert "1 row(s) repeat a primary key (transaction_id)" in outcome["reasons"]
    assert [r for r in read_keys(calls) if r in earlier] == [earlier[-1]]  # the one holding it


def test_keys_meeting_every_range_are_matched_one_partition_at_a_time(
    env: Path, store_root: Path, sample: Sample, ingest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random keys (UUIDs) meet every earlier range: each earlier partition is read alone and
    only its rows whose key a new file holds reach the resolution (not the history's keys),
    which still names every repeat and the file it came from."""
    import pandas as pd

    from schemas.settings import load_settings
    from tasks.core.ingest import keys
    from tasks.io.landing import write_landing

    sample.land(sample.days[:2])
    ingest()
    first, second = (
        pd.read_csv(io.BytesIO(sample.files[d][f"transactions-{d}.csv"])).query("is_fraud == 0")
        for d in sample.days[:2]
    )  # legitimate rows: the file passes the contract's checks and fails on its keys alone
    repeats = pd.concat([first.iloc[[5, 1]], second.iloc[[3]]], ignore_index=True)
    fresh = second.iloc[[0, 1]].assign(transaction_id=["new-a", "new-b"])
    body = pd.concat([repeats, fresh], ignore_index=True).to_csv(index=False).encode()
    seen: list[pd.DataFrame] = []
    resolve = keys.resolve

    def spying(existing: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
        seen.append(existing)
        return resolve(existing, *args, **kwargs)

    reads = record_key_reads(monkeypatch)
    monkeypatch.setattr(keys, "resolve", spying)
    day = sample.days[1]
    write_landing(load_settings(), "transactions", day, {f"transactions-{day}-mix.csv": body})

    result = ingest()

    v1 = read_json(store_root / "datasets/transactions/v1.json")
    earlier = [p["key"] for p in v1["partitions"]]
    assert [r for r in reads if r[0] in earlier] == [[k] for k in earlier]  # one at a time
    (existing,) = seen
    assert sorted(existing["transaction_id"]) == sorted(repeats["transaction_id"])
    (outcome,) = result["files"]
    assert outcome["status"] == "quarantined"
    assert "3 row(s) repeat a primary key (transaction_id)" in outcome["reasons"]
    report = next((store_root / "quarantine/transactions").rglob("*-mix.csv.validation.json"))
    (check,) = read_json(report)["checks"]
    assert [e["key"]["transaction_id"] for e in check["examples"]] == list(
        repeats["transaction_id"]
    )  # in the file's order, each naming the file it repeats
    days = [str(d) for d in (sample.days[0], sample.days[0], sample.days[1])]
    assert [e["earlier_file"].rsplit("/", 1)[-1] for e in check["examples"]] == [
        f"transactions-{d}.csv" for d in days
    ]


def test_a_damaged_key_index_is_named_by_the_audit_and_not_trusted_by_a_commit(
    env: Path, store_root: Path, sample: Sample, ingest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schemas.settings import load_settings
    from tasks.io import audit

    sample.land(sample.days[:2])
    ingest()
    day = sample.days[1]
    sample.land_renamed(day, "wide", ["0-first", "z-first"], [0, 1])
    ingest()
    v2 = read_json(store_root / "datasets/transactions/v2.json")
    part = next(p for p in v2["partitions"] if p["key_index"])
    index = store_root / part["key_index"]["key"]
    body = bytearray(index.read_bytes())
    body[len(body) // 2] ^= 0x01
    index.write_bytes(bytes(body))

    _, findings = audit.dataset_findings("transactions", load_settings())
    assert [(f["what"], f["where"]) for f in findings] == [
        ("partition key index damaged", index.as_uri())
    ]
    calls = record_key_reads(monkeypatch)
    sample.land_renamed(day, "wider", ["0-second", "z-second"], [2, 3])
    assert ingest()["version"]["version"] == "v3"
    assert part["key"] in read_keys(calls)  # its index failed its sha256: partition read
    v3 = read_json(store_root / "datasets/transactions/v3.json")
    (again,) = [p for p in v3["partitions"] if p["key"] == part["key"]]
    assert again["key_index"] is None  # the store never replaces it: no longer named
    assert index.read_bytes() == bytes(body)

    index.unlink()  # what an operator does with the object verify names
    calls.clear()
    sample.land_renamed(day, "widest", ["0-third", "z-third"], [4, 5])
    assert ingest()["version"]["version"] == "v4"
    assert part["key"] in read_keys(calls)
    v4 = read_json(store_root / "datasets/transactions/v4.json")
    (healed,) = [p for p in v4["partitions"] if p["key"] == part["key"]]
    assert healed["key_index"] == part["key_index"]  # the same hashes, written again
    assert sha256(index.read_bytes()).hexdigest() == part["key_index"]["sha256"]
