"""SQS adapter: the queue S3 notifies of new landing files, and its one-time setup.

``SqsQueue`` receives (long polling) and deletes messages. ``setup_notifications``
creates the queue if missing, lets the bucket send to it, and points the bucket's
``s3:ObjectCreated:*`` notifications under a prefix at it, keeping every other
statement and notification already there. Clients are built when called, from the
standard ``AWS_*`` environment (``AWS_ENDPOINT_URL`` for moto or LocalStack).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from schemas.errors import RetrainError

NOTIFICATION_ID = "retrain-landing-arrivals"
POLICY_SID = "retrain-s3-notifications"
DEFAULT_QUEUE_NAME = "retrain-landing"
MAX_BATCH = 10  # SQS receive and delete-batch limit


class QueueError(RetrainError):
    """SQS (or the bucket's notification setup) is unreachable or refused an operation."""


@dataclass(frozen=True)
class Message:
    """One received message: its id, body, and the receipt handle that deletes it."""

    id: str
    body: str
    receipt: str


class MessageQueue(Protocol):
    """What the listener needs from a queue."""

    url: str

    def receive(self, max_messages: int, wait_seconds: int) -> list[Message]:
        """Up to ``max_messages`` (1-10) messages, waiting at most ``wait_seconds`` for one."""

    def delete(self, messages: Sequence[Message]) -> None:
        """Delete ``messages``; ``QueueError`` if any could not be deleted."""


@contextlib.contextmanager
def _errors(op: str, where: str, client: Any) -> Iterator[None]:
    """Turn a botocore failure into a one-line ``QueueError`` naming the operation."""
    try:
        yield
    except EndpointConnectionError:
        endpoint = getattr(client.meta, "endpoint_url", "?")
        raise QueueError(
            f"cannot reach {op.split(maxsplit=1)[0]} at {endpoint} ({op} {where})"
        ) from None
    except ClientError as exc:
        err = exc.response.get("Error", {})
        msg = f"{op} failed for {where}: {err.get('Code')}: {err.get('Message', '')}"
        raise QueueError(" ".join(msg.split())) from None
    except BotoCoreError as exc:
        msg = f"{op} failed for {where}: {type(exc).__name__}: {exc}"
        raise QueueError(" ".join(msg.split())) from None


def make_client(service: str, read_timeout: int = 30, region: str | None = None) -> Any:
    """A boto3 client for ``service`` from the AWS_* environment as it is now.

    Few retries and a short connect timeout, so an unreachable endpoint is an
    error within seconds; ``read_timeout`` must exceed the long-poll wait.
    ``region`` overrides the environment's (a queue lives in one region).
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=read_timeout,
    )
    return boto3.session.Session().client(service, config=config, region_name=region)


def region_of(url: str) -> str | None:
    """The region of an AWS queue URL (``https://sqs.<region>.amazonaws.com/...``), else None."""
    host = urlsplit(url).hostname or ""
    parts = host.split(".")
    if (
        len(parts) >= 4
        and parts[0] == "sqs"
        and host.endswith((".amazonaws.com", ".amazonaws.com.cn"))
    ):
        return parts[1]
    return None


class SqsQueue:
    """An SQS queue addressed by URL."""

    def __init__(self, url: str, client: Any = None) -> None:
        """Address ``url``; ``client`` defaults to one whose read timeout covers a 20 s poll."""
        self.url = url
        if client is None:
            client = make_client("sqs", read_timeout=40, region=region_of(url))
        self._client = client

    def check(self) -> None:
        """Ask for the queue's ARN: ``QueueError`` if it does not exist or SQS is unreachable."""
        with _errors("sqs get-queue-attributes", self.url, self._client):
            self._client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])

    def receive(self, max_messages: int, wait_seconds: int) -> list[Message]:
        """receive_message with long polling (``wait_seconds`` 0-20)."""
        with _errors("sqs receive", self.url, self._client):
            resp = self._client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=max(1, min(MAX_BATCH, max_messages)),
                WaitTimeSeconds=max(0, min(20, wait_seconds)),
            )
        return [
            Message(str(m["MessageId"]), str(m.get("Body", "")), str(m["ReceiptHandle"]))
            for m in resp.get("Messages", [])
        ]

    def delete(self, messages: Sequence[Message]) -> None:
        """delete_message_batch, 10 at a time; a failed entry is a ``QueueError``."""
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start : start + MAX_BATCH]
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt} for i, m in enumerate(chunk)]
            with _errors("sqs delete", self.url, self._client):
                resp = self._client.delete_message_batch(QueueUrl=self.url, Entries=entries)
            failed = resp.get("Failed", [])
            if failed:
                first = failed[0]
                raise QueueError(
                    f"sqs delete failed for {len(failed)} message(s) of {self.url}: "
                    f"{first.get('Code')}: {first.get('Message', '')}"
                )


def queue_name_of(url: str) -> str:
    """The queue name: the last segment of its URL."""
    return url.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class NotificationSetup:
    """What ``setup_notifications`` configured."""

    queue_url: str
    queue_arn: str
    bucket: str
    prefix: str


def setup_notifications(
    bucket: str, prefix: str, queue_name: str, s3: Any = None, sqs: Any = None
) -> NotificationSetup:
    """Create the queue if missing and route the bucket's new objects under ``prefix`` to it.

    Idempotent: the queue policy statement ``retrain-s3-notifications`` and the
    bucket notification ``retrain-landing-arrivals`` are replaced, every other
    statement and notification configuration is kept (S3's put replaces the whole
    configuration, so it is read first).

    Raises:
        QueueError: SQS or S3 is unreachable or refused (the operation is named).
    """
    s3 = s3 if s3 is not None else make_client("s3")
    sqs = sqs if sqs is not None else make_client("sqs")
    url = ensure_queue(sqs, queue_name)
    with _errors("sqs get-queue-attributes", url, sqs):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "Policy"])
    arn, policy = attrs["Attributes"]["QueueArn"], attrs["Attributes"].get("Policy")
    new_policy = merge_policy(policy, arn, f"arn:aws:s3:::{bucket}")
    with _errors("sqs set-queue-attributes", url, sqs):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(new_policy)})
    where = f"s3://{bucket}"
    with _errors("s3 get-bucket-notification-configuration", where, s3):
        current = s3.get_bucket_notification_configuration(Bucket=bucket)
    config = merge_notification(current, arn, prefix)
    with _errors("s3 put-bucket-notification-configuration", where, s3):
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    return NotificationSetup(url, arn, bucket, prefix)


def ensure_queue(sqs: Any, name: str) -> str:
    """The URL of queue ``name``, created (with SQS defaults) if it does not exist."""
    with _errors("sqs get-queue-url", name, sqs):
        try:
            return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if "NonExistentQueue" not in code and "QueueDoesNotExist" not in code:
                raise
    with _errors("sqs create-queue", name, sqs):
        return str(sqs.create_queue(QueueName=name)["QueueUrl"])


def merge_policy(current: str | None, queue_arn: str, bucket_arn: str) -> dict[str, Any]:
    """The queue policy with one statement letting S3 send from ``bucket_arn`` (others kept)."""
    doc: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}
    if current:
        doc = json.loads(current)
    kept = [s for s in doc.get("Statement", []) if s.get("Sid") != POLICY_SID]
    ours = {
        "Sid": POLICY_SID,
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnLike": {"aws:SourceArn": bucket_arn}},
    }
    return {**doc, "Statement": [*kept, ours]}


def merge_notification(current: dict[str, Any], queue_arn: str, prefix: str) -> dict[str, Any]:
    """The bucket's notification configuration with ours replaced or added (others kept)."""
    config = {k: v for k, v in current.items() if k != "ResponseMetadata"}
    queues = [q for q in config.get("QueueConfigurations", []) if q.get("Id") != NOTIFICATION_ID]
    queues.append(
        {
            "Id": NOTIFICATION_ID,
            "QueueArn": queue_arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
        }
    )
    return {**config, "QueueConfigurations": queues}
