"""``retrain listen`` against moto's S3 + SQS server on 127.0.0.1, and the file:// watcher."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.helpers.services import wait_for

pytestmark = pytest.mark.integration

BUCKET, PREFIX = "retrain-listen", "prod"
STORE_URL = f"s3://{BUCKET}/{PREFIX}"
TX_KEY = f"{PREFIX}/landing/transactions/2026-10-01/x.csv"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
Emitted = list[tuple[str, str, dict[str, Any]]]


def cli(*args: str) -> Any:
    """Invoke the typer app in-process (exceptions are left in ``result.exception``)."""
    from flows.cli import app

    return CliRunner().invoke(app, ["listen", *args])


def cli_json(*args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, (args, result.output, result.exception)
    return json.loads(result.stdout)


@pytest.fixture
def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """The console entry point in-process: (exit code, stdout, stderr)."""
    from flows.cli import main

    def run(*args: str) -> tuple[Any, str, str]:
        monkeypatch.setattr(sys, "argv", ["retrain", "listen", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        return exited.value.code, captured.out, captured.err

    return run


@pytest.fixture
def aws(
    retrain_home: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, Any]]:
    """RETRAIN_STORE_URL on a fresh bucket of moto's server; (s3, sqs) boto3 clients."""
    import boto3

    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_SQS",
        "RETRAIN_SQS_QUEUE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("RETRAIN_STORE_URL", STORE_URL)
    session = boto3.session.Session()
    s3 = session.client("s3", endpoint_url=moto_endpoint)
    sqs = session.client("sqs", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket=BUCKET)
    yield s3, sqs
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
    s3.delete_bucket(Bucket=BUCKET)
    for url in sqs.list_queues().get("QueueUrls", []):
        sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def queue_url(aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> str:
    """``retrain listen --setup`` done, its s3:TestEvent consumed; RETRAIN_SQS_QUEUE_URL set."""
    _s3, sqs = aws
    url = str(cli_json("--setup")["queue_url"])
    drain(sqs, url)
    monkeypatch.setenv("RETRAIN_SQS_QUEUE_URL", url)
    return url


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch, prefect_harness: None) -> Emitted:
    """Record events instead of emitting them (the harness answers ``listen``'s API check)."""
    import tasks.io.events

    calls: Emitted = []

    def record(event: str, resource_id: str, payload: dict[str, Any]) -> str:
        calls.append((event, resource_id, payload))
        return f"event-{len(calls)}"

    monkeypatch.setattr(tasks.io.events, "emit", record)
    return calls


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete everything waiting; return the messages."""
    got: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        got += batch
        for m in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def depth(sqs: Any, url: str) -> int:
    """Messages in the queue, visible or in flight."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attrs[n]) for n in names)


def visible(sqs: Any, url: str) -> int:
    """Messages in the queue that a receive would get now."""
    names = ["ApproximateNumberOfMessages"]
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"][names[0]])


def s3_body(key: str, event: str = "ObjectCreated:Put", bucket: str = BUCKET) -> str:
    """A notification body shaped as S3 sends it (key URL-encoded)."""
    from urllib.parse import quote_plus

    obj = {"key": quote_plus(key), "size": 3, "eTag": "abc"}
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": event,
        "s3": {"bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"}, "object": obj},
    }
    return json.dumps({"Records": [record]})


# ---------------------------------------------------------------- setup


def test_setup_creates_the_queue_and_routes_new_landing_objects_to_it(
    aws: tuple[Any, Any],
) -> None:
    s3, sqs = aws
    other = sqs.create_queue(QueueName="someone-elses")["QueueUrl"]
    other_arn = sqs.get_queue_attributes(QueueUrl=other, AttributeNames=["QueueArn"])
    other_config = {
        "Id": "audit",
        "QueueArn": other_arn["Attributes"]["QueueArn"],
        "Events": ["s3:ObjectRemoved:*"],
    }
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [other_config]}
    )

    first = cli_json("--setup")
    again = cli_json("--setup")  # idempotent

    url = first["queue_url"]
    assert again["queue_url"] == url
    assert url.endswith("/retrain-landing")
    assert sqs.get_queue_url(QueueName="retrain-landing")["QueueUrl"] == url
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == first["queue_arn"]
    assert statement["Condition"] == {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{BUCKET}"}}
    configs = s3.get_bucket_notification_configuration(Bucket=BUCKET)["QueueConfigurations"]
    by_id = {c["Id"]: c for c in configs}
    assert set(by_id) == {"audit", "retrain-landing-arrivals"}  # the other one is kept
    ours = by_id["retrain-landing-arrivals"]
    assert ours["QueueArn"] == first["queue_arn"]
    assert ours["Events"] == ["s3:ObjectCreated:*"]
    assert ours["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "prod/landing/"}]
    # S3 (and moto) announce the configuration with an s3:TestEvent.
    bodies = [json.loads(m["Body"]) for m in drain(sqs, url)]
    assert bodies and all(b.get("Event") == "s3:TestEvent" for b in bodies)


def test_setup_with_a_local_store_says_none_is_needed(retrain_home: Path, run_main: Any) -> None:
    code, out, err = run_main("--setup")

    assert code == 1
    assert out == ""
    assert err.startswith("error: --setup configures S3 notifications") and err.count("\n") == 1


# ---------------------------------------------------------------- S3 -> SQS -> event


def test_a_landing_file_becomes_one_event_read_back_from_prefect(
    aws: tuple[Any, Any], queue_url: str, prefect_harness: None
) -> None:
    """The real emit: the event reaches the Prefect API and is read back from it."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    s3, sqs = aws
    put = s3.put_object(Bucket=BUCKET, Key=TX_KEY, Body=b"a,b\n1,2\n")
    assert depth(sqs, queue_url) == 1

    summary = cli_json("--once", "--wait-seconds", "1")

    assert (summary["events"], summary["dropped"], summary["kept"]) == (1, 0, 0)
    assert summary["datasets"] == {"transactions": 1}
    assert depth(sqs, queue_url) == 0  # deleted once emitted
    wanted = EventFilter(
        event=EventNameFilter(name=["retrain.data.arrived"]),
        resource=EventResourceFilter(id=["retrain.dataset.transactions"]),
    )
    events: list[Any] = []
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            events = [
                e
                for e in client.read_events(filter=wanted, limit=50).events
                if e.payload.get("uri") == f"s3://{BUCKET}/{TX_KEY}"
            ]
            if events:
                break
            time.sleep(0.5)
    assert len(events) == 1, "the event did not reach the Prefect API within 60 s"
    assert events[0].payload == {
        "uri": f"s3://{BUCKET}/{TX_KEY}",
        "size": 8,
        "etag": put["ETag"].strip('"'),
    }


def test_url_encoded_keys_arrive_decoded(
    aws: tuple[Any, Any], queue_url: str, emitted: Emitted
) -> None:
    s3, _sqs = aws
    key = f"{PREFIX}/landing/transactions/2026-10-01/day one+extra.csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")

    summary = cli_json("--once", "--wait-seconds", "1")

    assert summary["events"] == 1
    assert emitted[0][2]["uri"] == f"s3://{BUCKET}/{key}"


def test_other_keys_and_unknown_datasets_are_dropped_and_deleted(
    aws: tuple[Any, Any], queue_url: str, emitted: Emitted
) -> None:
    s3, sqs = aws
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/landing/nosuch/2026-10-01/x.csv", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/curated/x.parquet", Body=b"x")  # not notified
    for body in (
        s3_body(f"{PREFIX}/curated/transactions/date=2026-10-01/x.parquet"),
        s3_body(TX_KEY, event="ObjectRemoved:Delete"),
        s3_body(TX_KEY, bucket="another-bucket"),
        "this is not JSON",
    ):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    assert depth(sqs, queue_url) == 5

    summary = cli_json("--once", "--wait-seconds", "1")

    assert emitted == []
    assert (summary["events"], summary["dropped"], summary["kept"]) == (0, 5, 0)
    assert depth(sqs, queue_url) == 0


@pytest.mark.parametrize("failure", ["raises", "returns None"])
def test_a_message_whose_emit_fails_stays_for_redelivery(
    aws: tuple[Any, Any],
    queue_url: str,
    emitted: Emitted,
    monkeypatch: pytest.MonkeyPatch,
    run_main: Any,
    failure: str,
) -> None:
    import tasks.io.events

    s3, sqs = aws
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "1"})
    s3.put_object(Bucket=BUCKET, Key=TX_KEY, Body=b"a,b\n1,2\n")
    working = tasks.io.events.emit

    def broken(event: str, resource_id: str, payload: dict[str, Any]) -> str | None:
        if failure == "raises":
            raise RuntimeError("Prefect API unreachable")
        return None

    monkeypatch.setattr(tasks.io.events, "emit", broken)

    code, out, err = run_main("--once", "--wait-seconds", "1")

    assert code == 1
    assert "1 message(s) kept for redelivery" in err.strip().splitlines()[-1]
    assert "0 retrain.data.arrived event(s)" in out
    assert depth(sqs, queue_url) == 1
    wait_for("the message to be visible again", lambda: visible(sqs, queue_url) == 1, 30)

    monkeypatch.setattr(tasks.io.events, "emit", working)
    summary = cli_json("--once", "--wait-seconds", "1")

    assert summary["events"] == 1
    assert [(e, r, p["uri"]) for e, r, p in emitted] == [
        ("retrain.data.arrived", "retrain.dataset.transactions", f"s3://{BUCKET}/{TX_KEY}")
    ]
    assert depth(sqs, queue_url) == 0


def test_no_queue_for_an_s3_store_is_a_one_line_error(aws: tuple[Any, Any], run_main: Any) -> None:
    code, out, err = run_main("--once")

    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"error: no SQS queue configured for the store {STORE_URL}")
    assert "RETRAIN_SQS_QUEUE_URL" in err


def test_unreachable_sqs_is_a_one_line_error(
    aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch, run_main: Any
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")

    code, out, err = run_main("--once", "--queue-url", "http://127.0.0.1:1/123456789012/q")

    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: cannot reach sqs at http://127.0.0.1:1")


def test_a_missing_queue_is_a_one_line_error(
    aws: tuple[Any, Any], moto_endpoint: str, run_main: Any
) -> None:
    code, _out, err = run_main("--once", "--queue-url", f"{moto_endpoint}/123456789012/nope")

    assert code == 1
    assert err.count("\n") == 1
    assert "nope" in err and "NonExistentQueue" in err


# ---------------------------------------------------------------- file:// watcher


@pytest.fixture
def watcher(settings: Any) -> Any:
    from tasks.io.arrivals import FolderWatcher, landing_prefixes
    from tasks.io.stores import open_store

    store = open_store(settings.object_store_url)
    return FolderWatcher(store, landing_prefixes(settings.specs_dir), interval_s=0.1)


def poll(watcher: Any, calls: Emitted) -> list[str]:
    """One poll with a recording emit; the file names announced."""

    def record(event: str, resource_id: str, payload: dict[str, Any]) -> str:
        calls.append((event, resource_id, payload))
        return "id"

    before = len(calls)
    watcher.poll(record, lambda: True)
    return [p["uri"].rsplit("/", 1)[-1] for _e, _r, p in calls[before:]]


def write(path: Path, data: bytes, mtime_ns: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def test_watcher_emits_once_per_new_file_and_again_when_it_changes(
    retrain_home: Path, watcher: Any
) -> None:
    from tasks.io.stores import sha256_hex

    day = retrain_home / "store" / "landing" / "transactions" / "2026-10-01"
    calls: Emitted = []
    write(day / "a.csv", b"a,b\n1,2\n")

    assert poll(watcher, calls) == ["a.csv"]
    assert poll(watcher, calls) == []  # nothing new
    write(day / "b.csv", b"b\n")
    write(retrain_home / "store" / "landing" / "nosuch" / "x.csv", b"x")  # unknown dataset
    write(retrain_home / "store" / "curated" / "x.parquet", b"x")  # not landing
    write(day / ".tmp-abc.partial", b"half")  # a store write in progress
    assert poll(watcher, calls) == ["b.csv"]
    write(day / "a.csv", b"a,b\n1,2\n3,4\n")  # changed size
    assert poll(watcher, calls) == ["a.csv"]
    stat = (day / "b.csv").stat()
    write(day / "b.csv", b"c\n", mtime_ns=stat.st_mtime_ns + 10**9)  # same size, newer
    assert poll(watcher, calls) == ["b.csv"]
    assert poll(watcher, calls) == []

    event, resource, payload = calls[0]
    assert (event, resource) == ("retrain.data.arrived", "retrain.dataset.transactions")
    assert payload == {
        "uri": (day / "a.csv").as_uri(),
        "size": 8,
        "etag": sha256_hex(b"a,b\n1,2\n"),  # the file store's ETag
    }


def test_watcher_retries_a_file_whose_emit_failed(retrain_home: Path, watcher: Any) -> None:
    day = retrain_home / "store" / "landing" / "items" / "2026-10-01"
    write(day / "items.csv", b"x\n")

    def broken(event: str, resource_id: str, payload: dict[str, Any]) -> str:
        raise RuntimeError("Prefect API unreachable")

    failed = watcher.poll(broken, lambda: True)
    calls: Emitted = []

    assert (failed.events, failed.kept) == (0, 1)
    assert poll(watcher, calls) == ["items.csv"]
    assert calls[0][1] == "retrain.dataset.items"


def test_listen_once_on_a_local_store_emits_for_the_landing_files(
    settings: Any, emitted: Emitted
) -> None:
    from tasks.io.landing import write_landing

    uris = write_landing(settings, "transactions", dt.date(2026, 10, 1), {"t.csv": b"a\n"})
    write_landing(settings, "users", dt.date(2026, 10, 1), {"u.csv": b"b\n"})

    summary = cli_json("--once")

    assert summary["datasets"] == {"transactions": 1, "users": 1}
    assert (summary["events"], summary["kept"]) == (2, 0)
    assert emitted[0][2]["uri"] == uris[0]  # the URI ingestion records


def test_a_restarted_watcher_announces_only_new_files(retrain_home: Path, settings: Any) -> None:
    from tasks.io.arrivals import FolderWatcher, landing_prefixes, watcher_state
    from tasks.io.stores import open_store

    store, landing = open_store(settings.object_store_url), landing_prefixes(settings.specs_dir)
    state = watcher_state(settings)
    day = retrain_home / "store" / "landing" / "transactions" / "2026-10-01"
    for name in ("a.csv", "b.csv", "c.csv"):
        write(day / name, name.encode())
    calls: Emitted = []
    assert poll(FolderWatcher(store, landing, 0.1, state), calls) == ["a.csv", "b.csv", "c.csv"]
    assert state == retrain_home.resolve() / "listen" / "folders.json"

    write(day / "d.csv", b"d")
    restarted = FolderWatcher(store, landing, 0.1, state)

    assert poll(restarted, calls) == ["d.csv"]  # not a, b, c again
    assert poll(FolderWatcher(store, landing, 0.1, state), calls) == []
    (day / "a.csv").unlink()
    write(day / "a.csv", b"a again")  # re-sent: announced again
    assert poll(FolderWatcher(store, landing, 0.1, state), calls) == ["a.csv"]
    state.write_text("{not json")
    assert len(poll(FolderWatcher(store, landing, 0.1, state), calls)) == 4  # memory lost: all


def test_listen_once_says_one_pass_not_every_n_seconds(
    watcher: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from tasks.io.arrivals import listen

    with caplog.at_level(logging.INFO, logger="tasks.io.arrivals"):
        listen(watcher, lambda *a: "id", once=True, flush=lambda: True)

    (line,) = [r.getMessage() for r in caplog.records if "landing folders" in r.getMessage()]
    assert line.startswith("one pass over landing folders of file://")
    assert "every" not in line


def test_listen_loop_stops_only_when_asked(retrain_home: Path, watcher: Any) -> None:
    """Without --once the watcher sleeps ``interval`` between scans and keeps going."""
    from tasks.io.arrivals import listen

    naps: list[float] = []

    class StopError(Exception):
        pass

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            raise StopError

    with pytest.raises(StopError):
        listen(watcher, lambda *a: "id", once=False, flush=lambda: True, sleep=sleep)

    assert naps == [0.1, 0.1, 0.1]


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/retrain-landing", "eu-west-1"),
        ("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "cn-north-1"),
        ("http://127.0.0.1:4566/123456789012/retrain-landing", None),  # moto, LocalStack
    ],
)
def test_the_queue_client_uses_the_queue_urls_region(url: str, region: str | None) -> None:
    from tasks.io.queues import region_of

    assert region_of(url) == region
