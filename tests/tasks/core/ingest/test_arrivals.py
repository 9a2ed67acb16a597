"""Parsing S3 notifications into landing-file arrivals (pure, no network)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

import pytest

from tasks.core.ingest.arrivals import (
    Arrival,
    ObjectCreated,
    changed_keys,
    match_dataset,
    parse_message,
    s3_arrivals,
    store_key,
)

pytestmark = pytest.mark.unit

BUCKET, PREFIX = "acme-ml", "prod"
LANDING = {
    "transactions": "landing/transactions/",
    "items": "landing/items/",
    "items_eu": "landing/items/eu/",  # nested under another dataset's prefix
}


def s3_record(
    key: str,
    event: str = "ObjectCreated:Put",
    bucket: str = BUCKET,
    size: int = 1024,
    etag: str = "0123456789abcdef0123456789abcdef",
) -> dict[str, Any]:
    """One record shaped as S3 sends it (notification-content-structure, version 2.1)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-10-01T00:05:12.345Z",
        "eventName": event,
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "10.0.0.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "retrain-landing-arrivals",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": quote_plus(key),  # S3 URL-encodes keys: '/' as %2F, ' ' as '+'
                "size": size,
                "eTag": etag,
                "sequencer": "0055AED6DCD90281E5",
            },
        },
    }


def body(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


def test_single_record_is_parsed_with_its_key_decoded() -> None:
    parsed = parse_message(body(s3_record("prod/landing/transactions/2026-10-01/tx.csv")))

    assert parsed.dropped == ()
    assert parsed.records == (
        ObjectCreated(
            BUCKET,
            "prod/landing/transactions/2026-10-01/tx.csv",
            1024,
            "0123456789abcdef0123456789abcdef",
            "ObjectCreated:Put",
        ),
    )


def test_multiple_records_keep_their_order_and_drop_removals() -> None:
    parsed = parse_message(
        body(
            s3_record("prod/landing/items/2026-10-01/a.csv"),
            s3_record("prod/landing/items/2026-10-01/old.csv", event="ObjectRemoved:Delete"),
            s3_record(
                "prod/landing/items/2026-10-01/b.csv", event="ObjectCreated:CompleteMultipartUpload"
            ),
        )
    )

    assert [r.key.rsplit("/", 1)[-1] for r in parsed.records] == ["a.csv", "b.csv"]
    assert len(parsed.dropped) == 1
    assert "ObjectRemoved:Delete" in parsed.dropped[0] and "old.csv" in parsed.dropped[0]


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        (
            "prod%2Flanding%2Ftransactions%2F2026-10-01%2Fmy+file.csv",
            "prod/landing/transactions/2026-10-01/my file.csv",
        ),
        (
            "prod/landing/transactions/2026-10-01/a%2Bb.csv",
            "prod/landing/transactions/2026-10-01/a+b.csv",
        ),
        (
            "prod/landing/transactions/2026-10-01/caf%C3%A9.csv",
            "prod/landing/transactions/2026-10-01/café.csv",
        ),
    ],
)
def test_url_encoded_keys_are_decoded_like_s3_encodes_them(encoded: str, decoded: str) -> None:
    record = s3_record("placeholder")
    record["s3"]["object"]["key"] = encoded

    (parsed,) = parse_message(body(record)).records

    assert parsed.key == decoded


def test_quote_plus_round_trip_of_spaces_plus_and_slashes() -> None:
    key = "prod/landing/transactions/2026-10-01/a b+c.csv"

    (parsed,) = parse_message(body(s3_record(key))).records

    assert parsed.key == key


def test_s3_test_event_is_dropped_with_a_reason() -> None:
    message = json.dumps(
        {
            "Service": "Amazon S3",
            "Event": "s3:TestEvent",
            "Time": "2026-10-01T00:00:00.000Z",
            "Bucket": BUCKET,
            "RequestId": "5582815E1AEA5ADF",
            "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
        }
    )

    parsed = parse_message(message)

    assert parsed.records == ()
    assert parsed.dropped == (f"s3:TestEvent for bucket {BUCKET}",)


@pytest.mark.parametrize(
    "raw", ["not json at all", "", "{truncated", "[1, 2]", '"a string"', '{"Records": []}', "{}"]
)
def test_non_notification_bodies_are_dropped_not_raised(raw: str) -> None:
    parsed = parse_message(raw)

    assert parsed.records == ()
    assert len(parsed.dropped) == 1


def test_malformed_record_is_dropped_and_the_good_one_kept() -> None:
    good = s3_record("prod/landing/items/2026-10-01/a.csv")
    bad = {"eventName": "ObjectCreated:Put", "s3": {"bucket": {}}}

    parsed = parse_message(body(bad, good))

    assert [r.key for r in parsed.records] == ["prod/landing/items/2026-10-01/a.csv"]
    assert parsed.dropped[0].startswith("malformed record")


def test_a_notification_wrapped_by_sns_is_unwrapped() -> None:
    inner = body(s3_record("prod/landing/items/2026-10-01/a.csv"))
    wrapped = json.dumps({"Type": "Notification", "MessageId": "m-1", "Message": inner})

    (record,) = parse_message(wrapped).records

    assert record.key == "prod/landing/items/2026-10-01/a.csv"


@pytest.mark.parametrize(
    ("key", "dataset"),
    [
        ("landing/transactions/2026-10-01/tx.csv", "transactions"),
        ("landing/items/2026-10-01/items.csv", "items"),
        ("landing/items/eu/2026-10-01/items.csv", "items_eu"),  # longest prefix wins
        ("landing/items/", None),  # the folder itself
        ("landing/itemsx/2026-10-01/a.csv", None),  # prefixes end with '/'
        ("landing/users/2026-10-01/users.csv", None),  # no such dataset here
        ("curated/transactions/date=2026-10-01/abc.parquet", None),
    ],
)
def test_dataset_matching_by_longest_landing_prefix(key: str, dataset: str | None) -> None:
    assert match_dataset(key, LANDING) == dataset


@pytest.mark.parametrize(
    ("full_key", "prefix", "key"),
    [
        ("prod/landing/a.csv", "prod", "landing/a.csv"),
        ("prod/landing/a.csv", "prod/", "landing/a.csv"),
        ("landing/a.csv", "", "landing/a.csv"),
        ("production/landing/a.csv", "prod", None),
        ("staging/landing/a.csv", "prod", None),
    ],
)
def test_store_key_is_relative_to_the_store_prefix(
    full_key: str, prefix: str, key: str | None
) -> None:
    assert store_key(full_key, prefix) == key


def created(key: str, bucket: str = BUCKET) -> ObjectCreated:
    return ObjectCreated(bucket, key, 10, "e" * 32, "ObjectCreated:Put")


def test_arrivals_of_known_datasets_carry_the_event_payload() -> None:
    records = [created("prod/landing/transactions/2026-10-01/my file.csv")]

    arrivals, dropped = s3_arrivals(records, BUCKET, PREFIX, LANDING)

    assert dropped == []
    assert arrivals == [
        Arrival(
            "transactions",
            "landing/transactions/2026-10-01/my file.csv",
            f"s3://{BUCKET}/prod/landing/transactions/2026-10-01/my file.csv",
            10,
            "e" * 32,
        )
    ]
    assert arrivals[0].payload() == {
        "uri": f"s3://{BUCKET}/prod/landing/transactions/2026-10-01/my file.csv",
        "size": 10,
        "etag": "e" * 32,
    }


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (created("prod/curated/transactions/x.parquet"), "not under the landing prefix"),
        (created("prod/landing/unknown/2026-10-01/x.csv"), "not under the landing prefix"),
        (created("staging/landing/transactions/2026-10-01/x.csv"), "outside the store"),
        (
            created("prod/landing/transactions/2026-10-01/x.csv", "other-bucket"),
            "outside the store",
        ),
        (created("prod/landing/transactions/2026-10-01/"), "folder marker"),
        (created("prod/landing/transactions/../../secrets.csv"), "folder marker or a key"),
    ],
)
def test_keys_outside_any_landing_prefix_are_dropped_with_a_reason(
    record: ObjectCreated, reason: str
) -> None:
    arrivals, dropped = s3_arrivals([record], BUCKET, PREFIX, LANDING)

    assert arrivals == []
    assert len(dropped) == 1 and reason in dropped[0]
    assert record.key in dropped[0]


def test_changed_keys_are_new_or_resized_or_touched_files() -> None:
    before = {"a": (10, 1), "b": (20, 2), "gone": (5, 5)}
    after = {"a": (10, 1), "b": (20, 3), "c": (1, 1)}

    assert changed_keys(before, after) == ["b", "c"]
    assert changed_keys(after, after) == []
    assert changed_keys({}, after) == ["a", "b", "c"]
