"""End to end through S3 notifications: files land in a bucket, a fraud champion appears.

A real `prefect server`, `retrain serve`, moto's S3 + SQS server on 127.0.0.1 and
`retrain listen` as subprocesses: `retrain listen --setup` wires the bucket to a
queue, landing files are uploaded with boto3, S3 notifies the queue, `listen` emits
`retrain.data.arrived`, the served ingestion deployment runs, its
`retrain.dataset.updated` starts retraining, and the champion is registered. No
human step. Every wait is bounded; every subprocess is stopped in `finally`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.samples import Landing, relaxed_fraud_spec
from tests.helpers.services import (
    BIN,
    ROOT,
    Api,
    Service,
    base_env,
    served_counts,
    settled,
    start,
    wait_for,
)

pytestmark = pytest.mark.e2e

BUCKET, PREFIX = "retrain-e2e", "prod"
START_DAY, SEED, ROWS_PER_DAY, DAYS = "2026-10-01", 7, 1500, 3
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    """moto's S3 + SQS server on 127.0.0.1 (in this process, reached over HTTP by the others)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def retrain_env(
    base: dict[str, str], api: str, endpoint: str, home: Path, specs: Path
) -> dict[str, str]:
    """What `retrain serve`, its flow runs and `retrain listen` share: S3 store, SQLite registry."""
    env = {k: v for k, v in base.items() if not k.startswith("AWS_")}
    return {
        **env,
        **FAKE_AWS,
        "AWS_ENDPOINT_URL": endpoint,
        "PREFECT_API_URL": api,
        "RETRAIN_HOME": str(home),
        "RETRAIN_SPECS_DIR": str(specs),
        "RETRAIN_STORE_URL": f"s3://{BUCKET}/{PREFIX}",
    }


def test_files_uploaded_to_s3_are_ingested_and_train_a_champion(
    tmp_path: Path,
    prefect_api: str,
    moto_endpoint: str,
) -> None:
    import datetime as dt

    import boto3

    from tasks.io.runtime import close_all
    from tasks.samples import transaction_files

    specs = tmp_path / "specs"
    (specs / "models").mkdir(parents=True)
    (specs / "models" / "fraud.yaml").write_text(yaml.safe_dump(relaxed_fraud_spec()), "utf-8")
    landing = Landing(tmp_path / "home", specs)  # its registry() is the one serve writes
    env = retrain_env(
        base_env(tmp_path / "client-home"), prefect_api, moto_endpoint, landing.home, specs
    )
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    s3 = session.client("s3", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    setup = subprocess.run(
        [str(BIN / "retrain"), "listen", "--setup", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    queue_url = json.loads(setup.stdout)["queue_url"]

    api = Api(prefect_api)
    services: list[Service] = []
    try:
        services.append(
            start(
                "retrain serve",
                [str(BIN / "retrain"), "serve"],
                {**env, "PREFECT_RUNNER_POLL_FREQUENCY": "1", "PREFECT_LOGGING_LEVEL": "INFO"},
                tmp_path / "serve.log",
            )
        )
        listen_cmd = ["listen", "--queue-url", queue_url, "--wait-seconds", "2"]
        services.append(
            start(
                "retrain listen", [str(BIN / "retrain"), *listen_cmd], env, tmp_path / "listen.log"
            )
        )
        wait_for(
            "the served deployments, their triggers and the crash-recovery automation",
            lambda: (len(api.deployments()), len(api.automations())) == served_counts(),
            90,
            *services,
        )
        wait_for(
            "retrain listen to start",
            lambda: "listening to SQS" in _log(services[1]),
            60,
            *services,
        )

        # Producers upload the backfill, plus a file no dataset claims.
        files = transaction_files(
            DAYS, dt.date.fromisoformat(START_DAY), SEED, rows_per_day=ROWS_PER_DAY
        )
        uris = []
        for day, named in sorted(files.items()):
            for name, body in named.items():
                key = f"{PREFIX}/landing/transactions/{day.isoformat()}/{name}"
                s3.put_object(Bucket=BUCKET, Key=key, Body=body)
                uris.append(f"s3://{BUCKET}/{key}")
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/landing/nosuch/{START_DAY}/x.csv", Body=b"x")

        registry = landing.registry()
        runs = wait_for(
            "a fraud champion and every run finished",
            lambda: registry.champion("fraud") and settled(api, len(uris)),
            240,
            *services,
        )

        listened = _log(services[1])
        assert listened.count("emitted retrain.data.arrived for transactions") == len(uris)
        assert "not under the landing prefix of a known dataset" in listened  # nosuch/x.csv
        assert "s3:TestEvent" in listened  # sent when --setup configured the bucket
        ingested = registry.list_files("transactions")
        assert sorted(f.uri for f in ingested) == sorted(uris)
        assert {f.status for f in ingested} == {"accepted"}
        latest = registry.latest_dataset_version("transactions")
        champion = registry.champion("fraud")
        assert champion.dataset_versions == {"transactions": latest.version}
        assert champion.artifact_uri.startswith(f"s3://{BUCKET}/{PREFIX}/models/fraud/")
        deployments = [r["deployment"] for r in runs]
        assert deployments.count("ingest-transactions") == len(uris), runs
        assert deployments.count("retrain-fraud") >= 1, runs
        retrains = [r for r in runs if r["deployment"] == "retrain-fraud"]
        assert {r["state_type"] for r in retrains} == {"COMPLETED"}, runs
        # A burst coalesces: an ingestion run queued before another one started is cancelled
        # as superseded (that run ingests every new file); every other run completes.
        ingests = [r for r in runs if r["deployment"] == "ingest-transactions"]
        assert {r["state_type"] for r in ingests} <= {"COMPLETED", "CANCELLED"}, runs
        assert any(r["state_type"] == "COMPLETED" for r in ingests), runs
        sqs = session.client("sqs", endpoint_url=moto_endpoint)
        wait_for("the queue to be empty", lambda: _depth(sqs, queue_url) == 0, 30, *services)
    finally:
        for service in reversed(services):
            service.stop()
        close_all()


def _log(service: Service) -> str:
    return service.log.read_text(encoding="utf-8", errors="replace")


def _depth(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attrs[n]) for n in names)
