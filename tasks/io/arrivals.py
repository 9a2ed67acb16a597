"""``retrain listen``: announce new landing files as ``retrain.data.arrived`` events.

For an ``s3://`` store the files are announced by S3 notifications delivered to an
SQS queue; for a ``file://`` store the landing folders are polled. Each landing file
of a known dataset becomes one event (resource ``retrain.dataset.<dataset>``,
payload ``{uri, size, etag}``); anything else is logged and dropped.

Delivery is at least once, end to end: a queue message is deleted only after every
event it carries was handed to Prefect and the event buffer was flushed, so a crash
or a failed emit leaves the message for redelivery, and SQS itself may deliver a
message twice. The folder watcher remembers what it announced in RETRAIN_HOME
(``listen/folders.json``), so a restarted watcher announces only new or changed files.
Duplicates are harmless: ingestion is idempotent by (uri, sha256), so a second event
for the same file starts an ingestion that finds nothing new.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from schemas.contracts import load_contract
from schemas.errors import RetrainError
from schemas.loader import list_specs
from schemas.settings import Settings
from tasks.core.ingest.arrivals import (
    Arrival,
    FileState,
    addressable,
    changed_keys,
    match_dataset,
    parse_message,
    s3_arrivals,
)
from tasks.io import stores
from tasks.io.events import dataset_resource
from tasks.io.queues import (
    Message,
    MessageQueue,
    NotificationSetup,
    SqsQueue,
    queue_name_of,
    setup_notifications,
)
from tasks.io.s3 import S3Store

log = logging.getLogger(__name__)
EVENT = "retrain.data.arrived"
QUEUE_ENV = "RETRAIN_SQS_QUEUE_URL"
Emit = Callable[[str, str, dict[str, Any]], str | None]
Flush = Callable[[], bool]


class ListenError(RetrainError):
    """``retrain listen`` is not configured to run (no queue for an S3 store, ...)."""


@dataclass
class ListenSummary:
    """Counts of one or more polls."""

    messages: int = 0  # queue messages received (files seen, for a folder)
    events: int = 0  # retrain.data.arrived events emitted
    dropped: int = 0  # records or messages dropped (not a landing file of a known dataset)
    kept: int = 0  # messages (files) left for redelivery because emitting failed
    datasets: dict[str, int] = field(default_factory=dict)

    def add(self, other: ListenSummary) -> None:
        """Add ``other``'s counts to these."""
        self.messages += other.messages
        self.events += other.events
        self.dropped += other.dropped
        self.kept += other.kept
        for name, count in other.datasets.items():
            self.datasets[name] = self.datasets.get(name, 0) + count


class Source(Protocol):
    """Where arrivals come from: a queue or the landing folders."""

    description: str
    pause_s: float  # sleep between polls (a queue long-polls instead)

    def poll(self, emit: Emit, flush: Flush) -> ListenSummary:
        """Announce what arrived since the last poll."""

    def finished(self, last: ListenSummary) -> bool:
        """With ``--once``: True when nothing more is waiting."""


def landing_prefixes(specs_dir: Path | None) -> dict[str, str]:
    """Landing prefix (relative to the store root) of every known dataset contract."""
    return {
        name: load_contract(name, specs_dir).landing_prefix
        for name in list_specs("datasets", specs_dir)
    }


def announce(arrival: Arrival, emit: Emit) -> None:
    """Emit one ``retrain.data.arrived`` event; ``ListenError`` if Prefect did not take it."""
    if emit(EVENT, dataset_resource(arrival.dataset), arrival.payload()) is None:
        raise ListenError(f"the event for {arrival.uri} was not emitted (no events client)")
    log.info("emitted %s for %s: %s (%d bytes)", EVENT, arrival.dataset, arrival.uri, arrival.size)


def flush_events(timeout_s: float = 30.0) -> bool:
    """Wait until Prefect's event buffer has been sent; False if it did not empty in time."""
    from prefect.events.worker import EventsWorker

    waited = EventsWorker.drain_all(timeout=timeout_s, at_exit=False)
    _done, not_done = waited if isinstance(waited, tuple) else (set(), set())
    return not not_done


class QueueSource:
    """S3 notifications of a bucket, read from an SQS queue."""

    pause_s = 0.0

    def __init__(
        self,
        queue: MessageQueue,
        store: S3Store,
        landing: Mapping[str, str],
        max_messages: int = 10,
        wait_seconds: int = 20,
    ) -> None:
        """Read ``queue`` for new files of ``store`` under the ``landing`` prefixes."""
        self.queue, self.store, self.landing = queue, store, dict(landing)
        self.max_messages, self.wait_seconds = max_messages, wait_seconds
        self.description = f"SQS queue {queue.url} for new files in {store.url}"

    def poll(self, emit: Emit, flush: Flush) -> ListenSummary:
        """Receive one batch; delete each message whose events were all emitted and flushed."""
        messages = self.queue.receive(self.max_messages, self.wait_seconds)
        summary, done = ListenSummary(messages=len(messages)), []
        for message in messages:
            if self._handle(message, emit, summary):
                done.append(message)
        if done and not flush():
            log.error("events not confirmed sent: %d message(s) kept for redelivery", len(done))
            summary.kept, done = summary.kept + len(done), []
        self.queue.delete(done)
        return summary

    def _handle(self, message: Message, emit: Emit, summary: ListenSummary) -> bool:
        """Emit the message's arrivals; False (keep the message) if an emit failed."""
        parsed = parse_message(message.body)
        bucket, prefix = self.store.bucket, self.store.prefix
        arrivals, dropped = s3_arrivals(parsed.records, bucket, prefix, self.landing)
        for reason in (*parsed.dropped, *dropped):
            log.info("dropped message %s: %s", message.id, reason)
        summary.dropped += len(parsed.dropped) + len(dropped)
        try:
            for arrival in arrivals:
                announce(arrival, emit)
                summary.events += 1
                summary.datasets[arrival.dataset] = summary.datasets.get(arrival.dataset, 0) + 1
        except Exception as exc:  # noqa: BLE001 - any emit failure keeps the message, logged
            log.error("message %s kept for redelivery: emitting failed: %s", message.id, exc)
            summary.kept += 1
            return False
        return True

    def finished(self, last: ListenSummary) -> bool:
        """The queue is drained when a receive returns nothing."""
        return last.messages == 0


class FolderWatcher:
    """The landing folders of a ``file://`` store, polled for new or changed files."""

    def __init__(
        self,
        store: stores.FileStore,
        landing: Mapping[str, str],
        interval_s: float = 5.0,
        state: Path | None = None,
    ) -> None:
        """Watch ``landing`` prefixes under ``store``.

        ``state`` is the file where what was announced is kept (read now, rewritten after
        each poll that announced something); without it, the first poll announces all.
        """
        self.store, self.landing, self.pause_s = store, dict(landing), interval_s
        self.description = f"landing folders of {store.url}"
        self.state = state
        self._seen: dict[str, FileState] = self._load()

    def _load(self) -> dict[str, FileState]:
        if self.state is None or not self.state.is_file():
            return {}
        try:
            data = json.loads(self.state.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("%s unreadable, every landing file is announced again: %s", self.state, exc)
            return {}
        if data.get("store") != self.store.url:
            return {}  # another store's memory
        return {k: (int(v[0]), int(v[1])) for k, v in data.get("announced", {}).items()}

    def _save(self) -> None:
        if self.state is None:
            return
        self.state.parent.mkdir(parents=True, exist_ok=True)
        body = {"store": self.store.url, "announced": self._seen}
        tmp = self.state.with_name(self.state.name + ".tmp")
        tmp.write_text(json.dumps(body, indent=0, sort_keys=True), "utf-8")
        tmp.replace(self.state)  # atomic: a crash leaves the old memory or the new one

    def scan(self) -> dict[str, FileState]:
        """(size, mtime) of every landing file of a known dataset, by key."""
        found: dict[str, FileState] = {}
        for prefix in sorted(set(self.landing.values())):
            top = self.store.root.joinpath(*prefix.rstrip("/").split("/"))
            for dirpath, _dirs, names in os.walk(top):
                for name in names:
                    if name.startswith(stores.TMP_PREFIX) and name.endswith(stores.TMP_SUFFIX):
                        continue  # a store write in progress
                    path = Path(dirpath, name)
                    key = path.relative_to(self.store.root).as_posix()
                    if not addressable(key) or match_dataset(key, self.landing) is None:
                        continue
                    try:
                        st = path.stat()
                    except FileNotFoundError:
                        continue  # removed while scanning
                    found[key] = (st.st_size, st.st_mtime_ns)
        return found

    def poll(self, emit: Emit, flush: Flush) -> ListenSummary:
        """Emit for each file new or changed since the last poll; remember it once emitted."""
        current = self.scan()
        known = len(self._seen)
        self._seen = {k: v for k, v in self._seen.items() if k in current}  # forget removed
        summary, emitted = ListenSummary(), {}
        for key in changed_keys(self._seen, current):
            info, dataset = self.store.head(key), match_dataset(key, self.landing)
            if info is None or dataset is None:
                continue  # removed since the scan
            summary.messages += 1
            try:
                announce(Arrival(dataset, key, info.uri, info.size, info.etag), emit)
            except Exception as exc:  # noqa: BLE001 - retried at the next poll, logged
                log.error("%s: emitting failed, retried at the next poll: %s", info.uri, exc)
                summary.kept += 1
                continue
            emitted[key] = current[key]
            summary.events += 1
            summary.datasets[dataset] = summary.datasets.get(dataset, 0) + 1
        if emitted and not flush():
            log.error("events not confirmed sent: %d file(s) retried next poll", len(emitted))
            summary.kept, emitted = summary.kept + len(emitted), {}
        self._seen.update(emitted)
        if emitted or len(self._seen) != known:
            self._save()
        return summary

    def finished(self, last: ListenSummary) -> bool:
        """One scan is all there is."""
        return True


def watcher_state(settings: Settings) -> Path:
    """Where the folder watcher keeps what it announced: ``<RETRAIN_HOME>/listen/folders.json``."""
    return settings.home.resolve() / "listen" / "folders.json"


def open_source(
    settings: Settings, queue_url: str | None, max_messages: int, wait_seconds: int, interval: float
) -> Source:
    """The arrival source for the configured store, checked to answer.

    Raises:
        ListenError: an S3 store and no queue URL.
        QueueError: the queue does not exist or SQS is unreachable.
    """
    store = stores.open_store(settings.object_store_url, settings.s3_kms_key_id)
    landing = landing_prefixes(settings.specs_dir)
    if isinstance(store, stores.FileStore):
        return FolderWatcher(store, landing, interval, watcher_state(settings))
    if not isinstance(store, S3Store):
        raise ListenError(f"cannot listen to the store {store.url}: use s3:// or file://")
    if not queue_url:
        raise ListenError(
            f"no SQS queue configured for the store {store.url}: pass --queue-url or set"
            f" {QUEUE_ENV} (`retrain listen --setup` creates one and prints its URL)"
        )
    queue = SqsQueue(queue_url)
    queue.check()
    return QueueSource(queue, store, landing, max_messages, wait_seconds)


def listen(
    source: Source,
    emit: Emit,
    once: bool = False,
    flush: Flush = flush_events,
    sleep: Callable[[float], None] = time.sleep,
) -> ListenSummary:
    """Poll ``source`` until stopped (or, with ``once``, until nothing more is waiting)."""
    every = "" if once or not source.pause_s else f" every {source.pause_s:g} s"
    log.info("%s %s%s", "one pass over" if once else "listening to", source.description, every)
    total = ListenSummary()
    while True:
        last = source.poll(emit, flush)
        total.add(last)
        if once and source.finished(last):
            return total
        if source.pause_s:
            sleep(source.pause_s)


def setup_listener(
    settings: Settings, queue_url: str | None, queue_name: str
) -> tuple[NotificationSetup, list[str]]:
    """Route the S3 store's new landing objects to an SQS queue (created if missing).

    Returns what was configured and the datasets whose landing prefix lies outside
    ``landing/``, which the notification filter does not cover.

    Raises:
        ListenError: the store is not on S3.
        QueueError: S3 or SQS refused or could not be reached.
    """
    store = stores.open_store(settings.object_store_url, settings.s3_kms_key_id)
    if not isinstance(store, S3Store):
        raise ListenError(
            f"--setup configures S3 notifications, and the store is {store.url}: for a local"
            " store `retrain listen` watches the landing folders and needs no setup"
        )
    landing = landing_prefixes(settings.specs_dir)
    outside = sorted(d for d, p in landing.items() if not p.startswith("landing/"))
    prefix = f"{store.prefix}/landing/" if store.prefix else "landing/"
    name = queue_name_of(queue_url) if queue_url else queue_name
    return setup_notifications(store.bucket, prefix, name), outside


def summary_text(summary: ListenSummary) -> str:
    """One line: events emitted per dataset, drops, and messages kept for redelivery."""
    per = ", ".join(f"{d} {n}" for d, n in sorted(summary.datasets.items()))
    return (
        f"{summary.events} {EVENT} event(s){f' ({per})' if per else ''},"
        f" {summary.dropped} dropped, {summary.kept} kept for redelivery"
    )


def configure_logging() -> None:
    """One line per emitted event and per drop, on stderr (set up when the command starts)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    # flush_events drains Prefect's event worker on purpose: its "still processing" is noise.
    logging.getLogger("EventsWorker").setLevel(logging.ERROR)
