"""Landing-file arrivals from S3 event notifications and folder scans (pure).

S3 delivers ``ObjectCreated`` notifications to SQS as JSON with the object key
URL-encoded (``/`` as ``%2F``, a space as ``+``); on setup it also sends an
``s3:TestEvent``. These functions turn a message body into records, and records
(or a folder scan) into :class:`Arrival` values: one per landing file of a known
dataset, with what the ``retrain.data.arrived`` event carries. Everything else
comes back as a one-line reason for dropping it. No boto3, no Prefect, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

CREATED = "ObjectCreated:"
TEST_EVENT = "s3:TestEvent"
FileState = tuple[int, int]  # (size in bytes, mtime in ns)


@dataclass(frozen=True)
class ObjectCreated:
    """One ``ObjectCreated:*`` record: bucket, decoded key, size and unquoted ETag."""

    bucket: str
    key: str
    size: int
    etag: str
    event_name: str


@dataclass(frozen=True)
class Parsed:
    """What one message holds: its object-created records, and why anything else was dropped."""

    records: tuple[ObjectCreated, ...] = ()
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Arrival:
    """A landing file of a known dataset (``key`` is relative to the store root)."""

    dataset: str
    key: str
    uri: str
    size: int
    etag: str

    def payload(self) -> dict[str, Any]:
        """The ``retrain.data.arrived`` payload (DESIGN section 7)."""
        return {"uri": self.uri, "size": self.size, "etag": self.etag}


def parse_message(body: str) -> Parsed:
    """Parse an SQS message body holding an S3 event notification.

    Accepts S3's own JSON and the same JSON wrapped in an SNS notification
    (``{"Type": "Notification", "Message": "..."}``). Records of other event names
    (``ObjectRemoved:*``, ...) and malformed records are dropped with a reason.
    """
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and doc.get("Type") == "Notification":
            doc = json.loads(str(doc.get("Message", "")))
    except ValueError:
        return Parsed(dropped=(f"not JSON: {_excerpt(body)}",))
    if not isinstance(doc, dict):
        return Parsed(dropped=(f"not an S3 notification: {_excerpt(body)}",))
    if doc.get("Event") == TEST_EVENT:
        return Parsed(dropped=(f"{TEST_EVENT} for bucket {doc.get('Bucket')}",))
    raw_records = doc.get("Records")
    if not isinstance(raw_records, list) or not raw_records:
        return Parsed(dropped=(f"no Records: {_excerpt(body)}",))
    records, dropped = [], []
    for raw in raw_records:
        record = _parse_record(raw)
        if isinstance(record, ObjectCreated):
            records.append(record)
        else:
            dropped.append(record)
    return Parsed(tuple(records), tuple(dropped))


def _parse_record(raw: Any) -> ObjectCreated | str:
    """One record, or the reason it is dropped."""
    try:
        name = str(raw["eventName"])
        s3 = raw["s3"]
        bucket, obj = str(s3["bucket"]["name"]), s3["object"]
        key = unquote_plus(str(obj["key"]))
    except (KeyError, TypeError):
        return f"malformed record: {_excerpt(json.dumps(raw, default=str))}"
    if not name.startswith(CREATED):
        return f"{name} s3://{bucket}/{key}: not an object creation"
    try:
        size = int(obj.get("size", 0))
    except (TypeError, ValueError):
        return f"malformed size in record for s3://{bucket}/{key}"
    return ObjectCreated(bucket, key, size, str(obj.get("eTag", "")).strip('"'), name)


def match_dataset(key: str, landing: Mapping[str, str]) -> str | None:
    """The dataset whose landing prefix holds ``key`` (the longest prefix wins), or None.

    ``landing`` maps dataset names to landing prefixes relative to the store root
    (``landing/<dataset>/``). A key equal to a prefix (a folder marker) matches nothing.
    """
    found = [(len(p), d) for d, p in landing.items() if key.startswith(p) and key != p]
    return max(found)[1] if found else None


def store_key(full_key: str, store_prefix: str) -> str | None:
    """The key relative to a store at ``store_prefix`` of a bucket, or None if outside it."""
    root = f"{store_prefix.strip('/')}/" if store_prefix.strip("/") else ""
    if not full_key.startswith(root):
        return None
    return full_key[len(root) :]


def addressable(key: str) -> bool:
    """False for folder markers (``a/b/``) and keys the store cannot address (``..``, ``\\``)."""
    bad_segment = {"", ".", ".."} & set(key.split("/"))
    return bool(key) and not bad_segment and "\\" not in key and "\x00" not in key


def s3_arrivals(
    records: Iterable[ObjectCreated], bucket: str, store_prefix: str, landing: Mapping[str, str]
) -> tuple[list[Arrival], list[str]]:
    """Arrivals of known datasets among ``records`` of a store ``s3://bucket/store_prefix``.

    Returns the arrivals and one reason per record dropped (another bucket, outside
    the store prefix, a folder marker, or outside every landing prefix).
    """
    arrivals, dropped = [], []
    for rec in records:
        where = f"s3://{rec.bucket}/{rec.key}"
        key = store_key(rec.key, store_prefix) if rec.bucket == bucket else None
        dataset = match_dataset(key, landing) if key and addressable(key) else None
        if key is None:
            store = f"s3://{bucket}/{store_prefix}".rstrip("/")
            dropped.append(f"{where}: outside the store {store}")
        elif not addressable(key):
            dropped.append(f"{where}: a folder marker or a key the store cannot address")
        elif dataset is None:
            dropped.append(f"{where}: not under the landing prefix of a known dataset")
        else:
            arrivals.append(Arrival(dataset, key, where, rec.size, rec.etag))
    return arrivals, dropped


def changed_keys(previous: Mapping[str, FileState], current: Mapping[str, FileState]) -> list[str]:
    """Keys of ``current`` that are new or whose (size, mtime) differ from ``previous``, sorted."""
    return sorted(key for key, state in current.items() if previous.get(key) != state)


def _excerpt(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
