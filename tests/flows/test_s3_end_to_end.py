"""The ingest + retrain loop on an S3 store (moto's server on 127.0.0.1), SQLite registry."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.helpers.samples import Sample, sha256_hex
from tests.helpers.store import read_keys, record_key_reads

pytestmark = pytest.mark.integration

BUCKET, PREFIX = "retrain-test", "prod"
STORE_URL = f"s3://{BUCKET}/{PREFIX}"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
Run = Callable[..., dict[str, Any]]


@pytest.fixture
def s3(env: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """RETRAIN_STORE_URL on a fresh bucket of moto's server; returns a boto3 client."""
    import boto3

    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "RETRAIN_S3_KMS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("RETRAIN_STORE_URL", STORE_URL)
    client = boto3.session.Session().client("s3", endpoint_url=moto_endpoint)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def get(client: Any, key: str) -> bytes:
    body: bytes = client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}")["Body"].read()
    return body


def keys(client: Any, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=f"{PREFIX}/{prefix}"
    )
    return [o["Key"][len(PREFIX) + 1 :] for p in pages for o in p.get("Contents", [])]


def test_ingest_and_retrain_on_s3(
    s3: Any, sample: Sample, ingest: Run, retrain: Run, registry: Any
) -> None:
    from flows.cli import app
    from tasks.samples import transaction_files

    bad_day = sample.backfill[1]
    bad = transaction_files(2, sample.days[0], 7, 200, corrupt="truncated", corrupt_day=1)
    bad_name = f"transactions-{bad_day.isoformat()}-truncated.csv"
    assert sorted(bad)[1] == bad_day
    uris = sample.land(sample.backfill)
    assert all(u.startswith(f"{STORE_URL}/landing/transactions/") for u in uris)
    s3.put_object(
        Bucket=BUCKET,
        Key=f"{PREFIX}/landing/transactions/{bad_day}/{bad_name}",
        Body=bad[bad_day][bad_name],
    )

    ingested = ingest()

    assert ingested["version"]["version"] == "v1"
    assert ingested["version"]["manifest_uri"] == f"{STORE_URL}/datasets/transactions/v1.json"
    assert sum(f["status"] == "quarantined" for f in ingested["files"]) == 1
    qkey = f"quarantine/transactions/{bad_day}/{bad_name}"
    assert get(s3, qkey) == bad[bad_day][bad_name]
    assert json.loads(get(s3, qkey + ".validation.json"))["success"] is False
    manifest = json.loads(get(s3, "datasets/transactions/v1.json"))
    assert manifest["rows"] == sample.rows(sample.backfill)
    for part in manifest["partitions"]:
        assert part["key"].startswith("curated/transactions/date=")
        assert sha256_hex(get(s3, part["key"])) == part["sha256"]
        assert bad_name not in part["source_uri"]

    first = retrain()

    assert (first["outcome"], first["champion"]) == ("promoted", "v1"), first
    model_key = f"{PREFIX}/models/fraud/v1/model.txt"
    head = s3.head_object(Bucket=BUCKET, Key=model_key, ChecksumMode="ENABLED")
    body = get(s3, "models/fraud/v1/model.txt")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(sha256_hex(body))).decode()
    record = registry.champion("fraud")
    assert record.artifact_uri == f"s3://{BUCKET}/{model_key}"
    assert record.artifact_sha256 == sha256_hex(body)
    pointer = json.loads(get(s3, "models/fraud/champion.json"))
    assert (pointer["version"], pointer["artifact_uri"]) == ("v1", record.artifact_uri)
    assert pointer["sha256"] == sha256_hex(body)

    assert retrain()["outcome"] == "skipped"
    assert sorted(keys(s3, "models/fraud/")) == [
        "models/fraud/champion.json",
        "models/fraud/v1/card.json",
        "models/fraud/v1/model.txt",
        "models/fraud/v1/reference.json",
    ]

    sample.land([sample.new_day])
    assert ingest()["version"]["version"] == "v2"
    second = retrain()

    assert (second["version"], second["previous_champion"]) == ("v2", "v1"), second
    assert second["interval"] is not None
    champion = registry.champion("fraud")
    pointer = json.loads(get(s3, "models/fraud/champion.json"))
    assert pointer["version"] == champion.version
    assert pointer["artifact_uri"] == champion.artifact_uri
    assert pointer["sha256"] == sha256_hex(get(s3, f"models/fraud/{champion.version}/model.txt"))

    runner = CliRunner()
    verified = runner.invoke(app, ["verify", "fraud", "--json"])
    assert verified.exit_code == 0, (verified.output, verified.exception)
    report = json.loads(verified.stdout)
    assert report["ok"] is True
    assert [v["version"] for v in report["versions"]] == ["v2", "v1"]

    # tampered behind the store's back: verify names the version and fails
    s3.put_object(Bucket=BUCKET, Key=model_key, Body=body.replace(b"tree", b"tref", 1))
    tampered = runner.invoke(app, ["verify", "fraud"])
    assert tampered.exit_code == 1, tampered.output
    assert any(
        ln.startswith("fraud v1: FAILED") and "sha256 mismatch" in ln
        for ln in tampered.stdout.splitlines()
    ), tampered.stdout


def test_files_over_the_batch_size_are_read_from_s3_in_chunks_and_copied_to_quarantine(
    s3: Any, sample: Sample, ingest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RETRAIN_INGEST_WHOLE_MB below every file: each is validated from S3 a batch at a time
    (never held whole), a bad one is copied to quarantine within S3 (encrypted, its bytes)."""
    from tasks.samples import transaction_files

    monkeypatch.setenv("RETRAIN_INGEST_BATCH_MB", "0.004")
    monkeypatch.setenv("RETRAIN_INGEST_WHOLE_MB", "0.004")
    day = sample.days[0]
    files = transaction_files(2, day, 7, 300, corrupt="unknown_channel", corrupt_day=0)[day]
    for name, body in files.items():
        assert len(body) > 4_000
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/landing/transactions/{day}/{name}", Body=body)

    ingested = ingest()

    status = {f["key"].rsplit("/", 1)[-1]: f["status"] for f in ingested["files"]}
    bad_name = next(n for n in files if "unknown_channel" in n)
    assert status == {n: "quarantined" if n == bad_name else "accepted" for n in files}
    qkey = f"quarantine/transactions/{day}/{bad_name}"
    assert get(s3, qkey) == files[bad_name]
    head = s3.head_object(Bucket=BUCKET, Key=f"{PREFIX}/{qkey}", ChecksumMode="ENABLED")
    assert head["ServerSideEncryption"] == "AES256"
    report = json.loads(get(s3, qkey + ".validation.json"))
    (failed,) = [c for c in report["checks"] if not c["success"]]
    assert (failed["check"], failed["column"]) == ("expect_column_values_to_be_in_set", "channel")
    manifest = json.loads(get(s3, "datasets/transactions/v1.json"))
    good = next(n for n in files if n != bad_name)
    assert manifest["rows"] == len(files[good].splitlines()) - 1
    for part in manifest["partitions"]:
        assert sha256_hex(get(s3, part["key"])) == part["sha256"]


def test_partitions_hashed_keys_are_stored_encrypted_and_spare_the_next_commit_on_s3(
    s3: Any, sample: Sample, ingest: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose keys meet every partition's range ("0..." to "z..."): the commit reads
    the earlier partitions from S3 and stores their hashed keys beside them (encrypted,
    checksummed); the next such commit reads those, not the partitions."""

    sample.land(sample.days[:2])
    ingest()
    day = sample.days[1]
    sample.land_renamed(day, "wide", ["0-first", "z-first"], [0, 1])
    assert ingest()["version"]["version"] == "v2"
    manifest = json.loads(get(s3, "datasets/transactions/v2.json"))
    indexed = [p for p in manifest["partitions"] if p["key_index"]]
    assert len(indexed) == len(manifest["partitions"]) - 1  # all but the new file's
    for part in indexed:
        key = part["key_index"]["key"]
        assert key.startswith("curated/transactions/keys/")
        head = s3.head_object(Bucket=BUCKET, Key=f"{PREFIX}/{key}", ChecksumMode="ENABLED")
        assert head["ServerSideEncryption"] == "AES256"
        assert sha256_hex(get(s3, key)) == part["key_index"]["sha256"]
    calls = record_key_reads(monkeypatch)
    sample.land_renamed(day, "wider", ["0-second", "z-second"], [2, 3])
    assert ingest()["version"]["version"] == "v3"
    assert not set(read_keys(calls)) & {p["key"] for p in indexed}


def test_the_cluster_s_workers_read_the_partitions_from_s3_and_a_damaged_one_is_refused(
    s3: Any, sample: Sample, ingest: Run, retrain: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster started with the store's credentials and endpoint in its environment (as
    the README asks of workers) trains from the S3 partitions; the flow never loads them."""
    from schemas.errors import IntegrityError
    from tests.helpers.services import local_cluster
    from tests.helpers.store import refuse_loading

    sample.land(sample.backfill)
    assert ingest()["version"]["version"] == "v1"
    refuse_loading(monkeypatch)
    with local_cluster() as cluster:
        monkeypatch.setenv("RETRAIN_DASK_ADDRESS", cluster.scheduler_address)
        manifest = json.loads(get(s3, "datasets/transactions/v1.json"))
        damaged = manifest["partitions"][-1]["key"]  # the flow reads the first for its types
        body = get(s3, damaged)
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{damaged}", Body=body[:-8])
        refused = f"sha256 mismatch for '{re.escape(damaged)}'.*read by Dask worker tcp://"
        with pytest.raises(IntegrityError, match=refused):
            retrain()
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/{damaged}", Body=body)

        result = retrain()

    assert result["outcome"] == "promoted", result
    card = json.loads(get(s3, "models/fraud/v1/card.json"))
    assert card["training"]["engine"]["kind"] == "dask"
