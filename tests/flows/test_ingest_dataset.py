"""The ingestion flow end to end on the file store, SQLite and Prefect's harness."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.samples import Sample, csv_rows, read_json, sha256_hex
from tests.helpers.store import check_partitions, tree

pytestmark = pytest.mark.integration

Run = Callable[..., dict[str, Any]]


# ---------------------------------------------------------------- ingestion


def test_ingestion_turns_new_files_into_one_dataset_version(
    env: Path, store_root: Path, sample: Sample, ingest: Run, registry: Any
) -> None:
    from tasks.core.ingest.manifests import from_parquet

    days = sample.days[:3]
    uris = sample.land(days)

    result = ingest()

    assert [f["status"] for f in result["files"]] == ["accepted"] * 3
    expected_rows = sample.rows(days)
    assert result["version"]["version"] == "v1"
    assert result["version"]["rows"] == expected_rows
    manifest = read_json(store_root / "datasets/transactions/v1.json")
    assert manifest["version"] == "v1"
    assert manifest["parent"] is None
    assert manifest["rows"] == expected_rows
    check_partitions(store_root, manifest)
    assert sum(p["rows"] for p in manifest["partitions"]) == expected_rows
    assert {p["source_uri"] for p in manifest["partitions"]} == set(uris)
    assert {p["date"] for p in manifest["partitions"]} >= {d.isoformat() for d in days}
    first = manifest["partitions"][0]
    assert len(from_parquet((store_root / first["key"]).read_bytes())) == first["rows"]
    # the registry agrees with the store
    [version] = registry.list_dataset_versions("transactions")
    assert (version.version, version.rows) == ("v1", expected_rows)
    assert version.manifest_sha256 == sha256_hex(
        (store_root / "datasets/transactions/v1.json").read_bytes()
    )
    assert {(f.uri, f.status) for f in registry.list_files("transactions")} == {
        (u, "accepted") for u in uris
    }


def test_ingestion_is_idempotent_and_versions_build_on_each_other(
    env: Path, store_root: Path, sample: Sample, ingest: Run, registry: Any
) -> None:
    sample.land(sample.days[:2])
    assert ingest()["version"]["version"] == "v1"
    before = tree(store_root, "curated") | tree(store_root, "datasets")

    again = ingest()

    assert again["files"] == []
    assert again["version"] is None
    assert [v.version for v in registry.list_dataset_versions("transactions")] == ["v1"]
    assert tree(store_root, "curated") | tree(store_root, "datasets") == before

    new_uris = sample.land([sample.days[2]])
    third = ingest()

    assert [f["status"] for f in third["files"]] == ["accepted"]
    assert third["version"]["version"] == "v2"
    v1 = read_json(store_root / "datasets/transactions/v1.json")
    v2 = read_json(store_root / "datasets/transactions/v2.json")
    assert v2["parent"] == "v1"
    assert v2["partitions"][: len(v1["partitions"])] == v1["partitions"]
    added = v2["partitions"][len(v1["partitions"]) :]
    assert added
    assert {p["source_uri"] for p in added} == set(new_uris)
    assert v2["rows"] == v1["rows"] + sample.rows([sample.days[2]]) == third["version"]["rows"]
    check_partitions(store_root, v2)
    assert [v.version for v in registry.list_dataset_versions("transactions")] == ["v2", "v1"]


BAD_KINDS = {
    # kind: the failing checks allowed in <file>.validation.json, with their column
    "truncated": {("rows_match_header", None)},
    "negative_amount": {("expect_column_values_to_be_between", "amount")},
    "non_utf8": {("file_is_utf8", None)},
    "random_bytes": {("file_is_utf8", None), ("file_is_readable", None)},
    "unknown_channel": {("expect_column_values_to_be_in_set", "channel")},
}


@pytest.fixture(scope="module")
def bad_day_files() -> tuple[dt.date, dict[str, bytes]]:
    """One day with its good file and one bad file of each kind in BAD_KINDS."""
    from tasks.samples import transaction_files

    files: dict[str, bytes] = {}
    day = None
    for kind in BAD_KINDS:
        generated = transaction_files(2, dt.date(2026, 10, 1), 11, 300, corrupt=kind, corrupt_day=1)
        day = sorted(generated)[1]
        files.update(generated[day])
    assert day is not None
    assert len(files) == len(BAD_KINDS) + 1
    return day, files


def test_bad_files_are_quarantined_and_never_reach_a_dataset_version(
    env: Path,
    store_root: Path,
    ingest: Run,
    registry: Any,
    bad_day_files: tuple[dt.date, dict[str, bytes]],
) -> None:
    from schemas.settings import load_settings
    from tasks.io.landing import write_landing

    day, files = bad_day_files
    write_landing(load_settings(), "transactions", day, files)
    good = f"transactions-{day.isoformat()}.csv"

    result = ingest()

    status = {f["key"].rsplit("/", 1)[-1]: f["status"] for f in result["files"]}
    assert status == {name: "accepted" if name == good else "quarantined" for name in files}, (
        result["files"]
    )
    assert result["version"]["version"] == "v1"
    assert result["version"]["rows"] == csv_rows(files[good])
    manifest = read_json(store_root / "datasets/transactions/v1.json")
    assert {p["source_uri"].rsplit("/", 1)[-1] for p in manifest["partitions"]} == {good}
    assert not (store_root / "quarantine/transactions" / day.isoformat() / good).exists()

    for kind, allowed in BAD_KINDS.items():
        name = f"transactions-{day.isoformat()}-{kind}.csv"
        qdir = store_root / "quarantine/transactions" / day.isoformat()
        assert (qdir / name).read_bytes() == files[name]
        report = read_json(qdir / f"{name}.validation.json")
        assert report["success"] is False
        failed = {(c["check"], c["column"]) for c in report["checks"] if not c["success"]}
        assert failed, report
        assert failed <= allowed, (kind, failed)
        reason = next(f["reasons"] for f in result["files"] if f["key"].endswith("/" + name))
        assert next(iter(failed))[0] in reason

    records = {r.uri.rsplit("/", 1)[-1]: r for r in registry.list_files("transactions")}
    assert {n: r.status for n, r in records.items()} == status
    assert all(
        r.details["quarantine_uri"].endswith(f"quarantine/transactions/{day}/{n}")
        for n, r in records.items()
        if r.status == "quarantined"
    )

    quarantine_before = tree(store_root, "quarantine")
    again = ingest()

    assert again["files"] == []
    assert again["version"] is None
    assert tree(store_root, "quarantine") == quarantine_before
    assert len(registry.list_files("transactions")) == len(files)


def test_the_same_file_landing_twice_under_another_name_adds_no_rows(
    env: Path, store_root: Path, sample: Sample, ingest: Run, registry: Any
) -> None:
    from schemas.settings import load_settings
    from tasks.io.landing import write_landing

    day = sample.days[0]
    body = sample.files[day][f"transactions-{day}.csv"]
    sample.land([day])
    assert ingest()["version"]["rows"] == csv_rows(body)

    write_landing(load_settings(), "transactions", day, {f"transactions-{day}-resent.csv": body})
    ingest()

    latest = registry.latest_dataset_version("transactions")
    manifest = read_json(store_root / f"datasets/transactions/{latest.version}.json")
    part_keys = [p["key"] for p in manifest["partitions"]]
    assert len(part_keys) == len(set(part_keys)), part_keys
    assert latest.rows == manifest["rows"] == csv_rows(body)


def test_quarantine_keeps_every_bad_file_even_when_names_repeat(
    env: Path, store_root: Path, ingest: Run, registry: Any, bad_day_files: Any
) -> None:
    from schemas.settings import load_settings
    from tasks.io.landing import write_landing
    from tasks.io.runtime import runtime

    day, files = bad_day_files
    first = files[f"transactions-{day}-negative_amount.csv"]
    second = files[f"transactions-{day}-truncated.csv"]
    write_landing(load_settings(), "transactions", day, {"bad.csv": first})
    ingest()
    write_landing(load_settings(), "transactions", day, {"bad.csv": second})  # re-sent, still bad
    assert [f["status"] for f in ingest()["files"]] == ["quarantined"]

    records = [f for f in registry.list_files("transactions") if f.status == "quarantined"]
    assert {r.sha256 for r in records} == {sha256_hex(first), sha256_hex(second)}
    for record in records:
        key = runtime(load_settings()).store.key_of(record.details["quarantine_uri"])
        assert sha256_hex((store_root / key).read_bytes()) == record.sha256, key
