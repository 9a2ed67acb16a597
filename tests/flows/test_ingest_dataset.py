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
        # a page for people next to the JSON: every check, what it found, example rows
        outcome = next(f for f in result["files"] if f["key"].endswith("/" + name))
        page_path = qdir / f"{name}.validation.html"
        assert outcome["report_uri"] == page_path.as_uri()
        assert outcome["rows"] == report["rows"]  # rows read, though none were kept
        page = page_path.read_text("utf-8")
        assert all(c["check"] in page for c in report["checks"])
        for check in (c for c in report["checks"] if c["examples"]):
            assert f"Example rows: {check['check']}" in page
            assert f"<td>{check['examples'][0]['row']}</td>" in page
    negative = next(f for f in result["files"] if f["key"].endswith("-negative_amount.csv"))
    assert negative["rows"] == csv_rows(files[negative["key"].rsplit("/", 1)[-1]]) > 0
    accepted = next(f for f in result["files"] if f["status"] == "accepted")
    accepted_page = Path(accepted["report_uri"].removeprefix("file://"))
    assert accepted_page.is_relative_to(store_root / "validation/transactions" / day.isoformat())
    assert "0 failed" in accepted_page.read_text("utf-8")

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


def test_files_over_the_batch_size_get_the_same_verdicts_and_rows_in_batches(
    env: Path,
    store_root: Path,
    ingest: Run,
    registry: Any,
    bad_day_files: tuple[dt.date, dict[str, bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RETRAIN_INGEST_WHOLE_MB and _BATCH_MB below every file: each is validated and written
    in batches of a few dozen rows, with the verdicts, reports and rows of one piece."""
    from schemas.contracts import load_contract
    from schemas.settings import load_settings
    from tasks.core.ingest.validation import validate_table
    from tasks.io.landing import write_landing

    day, files = bad_day_files
    monkeypatch.setenv("RETRAIN_INGEST_BATCH_MB", "0.004")  # 4 KB: about 40 rows a batch
    monkeypatch.setenv("RETRAIN_INGEST_WHOLE_MB", "0.004")  # every file in batches
    settings = load_settings()
    assert all(len(body) > settings.ingest_whole_bytes for body in files.values())
    write_landing(settings, "transactions", day, files)
    good = f"transactions-{day.isoformat()}.csv"

    result = ingest()

    status = {f["key"].rsplit("/", 1)[-1]: f["status"] for f in result["files"]}
    assert status == {name: "accepted" if name == good else "quarantined" for name in files}
    assert result["version"]["rows"] == csv_rows(files[good])
    manifest = read_json(store_root / "datasets/transactions/v1.json")
    check_partitions(store_root, manifest)
    assert sum(p["rows"] for p in manifest["partitions"]) == csv_rows(files[good])
    qdir = store_root / "quarantine/transactions" / day.isoformat()
    contract = load_contract("transactions", settings.specs_dir)
    for name in (n for n in files if n != good):
        assert (qdir / name).read_bytes() == files[name]
        report = read_json(qdir / f"{name}.validation.json")
        _, one_piece = validate_table(
            files[name], report["file"], contract, dt.datetime.now(dt.UTC)
        )
        assert report["rows"] == one_piece.rows
        assert _found(report["checks"]) == _found(one_piece.to_dict()["checks"]), name


def _found(checks: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What each check found (its message names the ingestion time: left out)."""
    return [(c["check"], c["column"], c["success"], c["unexpected_count"], c["examples"])
            for c in checks]  # fmt: skip


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


def corrected_resend(sample: Sample) -> tuple[Any, bytes, str]:
    """A day re-sent as another file: rows reordered and one label corrected (a chargeback
    confirmed late). Returns the day, the bytes and the corrected transaction id."""
    import io

    import pandas as pd

    day = sample.days[0]
    frame = pd.read_csv(io.BytesIO(sample.files[day][f"transactions-{day}.csv"]))
    frame = frame.iloc[::-1].reset_index(drop=True)
    target = str(frame.loc[0, "transaction_id"])
    frame.loc[0, "is_fraud"] = 1 - int(frame.loc[0, "is_fraud"])
    return day, frame.to_csv(index=False).encode(), target


def test_a_resent_day_repeating_keys_is_quarantined_naming_key_and_earlier_file(
    env: Path, store_root: Path, sample: Sample, ingest: Run, registry: Any
) -> None:
    from schemas.settings import load_settings
    from tasks.io.landing import write_landing

    sample.land([sample.days[0]])
    first = ingest()["version"]
    day, body, _target = corrected_resend(sample)
    write_landing(load_settings(), "transactions", day, {f"transactions-{day}-fix.csv": body})

    result = ingest()

    assert result["version"] is None
    (outcome,) = result["files"]
    assert outcome["status"] == "quarantined"
    assert outcome["rows"] == first["rows"]  # every row read, none kept
    assert "repeat a primary key (transaction_id) already in the dataset" in outcome["reasons"]
    assert registry.latest_dataset_version("transactions").rows == first["rows"]
    report = next((store_root / "quarantine/transactions").rglob("*-fix.csv.validation.json"))
    (check,) = read_json(report)["checks"]
    assert check["check"] == "primary_key_unique_across_versions"
    assert check["examples"][0]["earlier_file"].endswith(f"transactions-{day}.csv")


def test_with_replace_the_corrected_rows_supersede_the_old_ones(
    env: Path, store_root: Path, sample: Sample, ingest: Run, registry: Any,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:  # fmt: skip
    import shutil

    import yaml

    from schemas.loader import SHIPPED_DIR
    from schemas.settings import load_settings
    from tasks.io.datasets import load_dataset_frame
    from tasks.io.landing import write_landing

    specs = tmp_path / "specs"  # the session's spec folder is shared: change a copy
    shutil.copytree(Path(str(load_settings().specs_dir)), specs)
    contract = yaml.safe_load((SHIPPED_DIR / "datasets" / "transactions.yaml").read_text())
    contract["on_duplicate_key"] = "replace"
    (specs / "datasets").mkdir(exist_ok=True)
    (specs / "datasets" / "transactions.yaml").write_text(yaml.safe_dump(contract), "utf-8")
    monkeypatch.setenv("RETRAIN_SPECS_DIR", str(specs))
    sample.land([sample.days[0]])
    first = ingest()["version"]
    day, body, target = corrected_resend(sample)
    write_landing(load_settings(), "transactions", day, {f"transactions-{day}-fix.csv": body})

    second = ingest()["version"]

    assert second["rows"] == first["rows"]  # every row replaced, none added
    frame = load_dataset_frame("transactions", second["version"], load_settings())
    assert frame["transaction_id"].is_unique
    old = load_dataset_frame("transactions", first["version"], load_settings())
    corrected = frame.set_index("transaction_id").loc[target, "is_fraud"]
    assert corrected == 1 - old.set_index("transaction_id").loc[target, "is_fraud"]
    manifest = read_json(store_root / f"datasets/transactions/{second['version']}.json")
    assert {s["replaced_by_file"].rsplit("/", 1)[-1] for s in manifest["superseded"]} == {
        f"transactions-{day}-fix.csv"
    }
    assert sum(s["rows"] for s in manifest["superseded"]) == first["rows"]


def test_limits_refuse_large_wide_and_oddly_named_files_before_reading_them(
    env: Path, store_root: Path, sample: Sample, ingest: Run, registry: Any,
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    import shutil

    import yaml

    from schemas.loader import SHIPPED_DIR
    from schemas.settings import load_settings
    from tasks.core.ingest.limits import COLUMN_COUNT_CHECK
    from tasks.io.landing import write_landing

    day = sample.days[0]
    good = sample.files[day][f"transactions-{day}.csv"]
    specs = tmp_path / "specs"  # the session's spec folder is shared: change a copy
    shutil.copytree(Path(str(load_settings().specs_dir)), specs)
    contract = yaml.safe_load((SHIPPED_DIR / "datasets" / "transactions.yaml").read_text())
    contract["limits"] = {"max_file_bytes": len(good) + 10}
    (specs / "datasets").mkdir(exist_ok=True)
    (specs / "datasets" / "transactions.yaml").write_text(yaml.safe_dump(contract), "utf-8")
    monkeypatch.setenv("RETRAIN_SPECS_DIR", str(specs))
    header = good.split(b"\n", 1)[0]
    wide = header + b"".join(b",x%d" % i for i in range(4 * len(contract["columns"]))) + b"\n"
    oddly_named = f"transactions-{day}-\x1b[2Jcleared\n.csv"
    files = {
        f"transactions-{day}.csv": good,
        f"transactions-{day}-large.csv": good + good.split(b"\n", 1)[1],
        f"transactions-{day}-wide.csv": wide,
        oddly_named: header + b"\n",
        "README.txt": b"not a landing file",
    }
    write_landing(load_settings(), "transactions", day, files)

    result = ingest()

    outcome = {f["key"].rsplit("/", 1)[-1]: f for f in result["files"]}
    assert {n: f["status"] for n, f in outcome.items()} == {
        f"transactions-{day}.csv": "accepted",
        f"transactions-{day}-large.csv": "quarantined",
        f"transactions-{day}-wide.csv": "quarantined",
        oddly_named: "quarantined",
    }
    large = outcome[f"transactions-{day}-large.csv"]
    assert "over limits.max_file_bytes" in large["reasons"]
    assert "file name has control characters" in outcome[oddly_named]["reasons"]
    assert "\\x1b[2Jcleared\\n.csv" in outcome[oddly_named]["reasons"]
    assert COLUMN_COUNT_CHECK in outcome[f"transactions-{day}-wide.csv"]["reasons"]
    qdir = store_root / "quarantine/transactions" / day.isoformat()
    copied = {p.name for p in qdir.iterdir()}
    # the wide file was read (it is small) and kept; the large and the oddly named were not
    assert {n for n in copied if n.endswith(".csv")} == {f"transactions-{day}-wide.csv"}
    records = {r.uri.rsplit("/", 1)[-1]: r for r in registry.list_files("transactions")}
    by_reference = records[f"transactions-{day}-large.csv"]
    assert by_reference.details["quarantine"] == "by reference"
    assert by_reference.sha256 == sha256_hex(files[f"transactions-{day}-large.csv"])
    page = Path(large["report_uri"].removeprefix("file://"))
    shown_page = page.read_text("utf-8")
    assert page.is_relative_to(qdir) and "over limits.max_file_bytes" in shown_page
    assert "No check ran" in shown_page and "Every check" not in shown_page
    from tasks.io.catalog import datasets_data  # what `retrain datasets` lists

    listed = {f["uri"]: f for f in datasets_data(load_settings(), "transactions")["quarantined"]}
    assert listed[by_reference.uri]["details"]["reasons"] == [large["reasons"]]
    assert result["version"]["rows"] == csv_rows(good)
    assert any("README.txt" in r.getMessage() and "left alone" in r.getMessage()
               for r in caplog.records)  # fmt: skip

    assert ingest()["files"] == []  # refused files are known: not announced again
