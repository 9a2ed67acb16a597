"""Training checkpoints in the object store, and SIGTERM (the spot notice) handling.

Layout: ``checkpoints/<model>/<run_key>/round-<n>.txt`` (LightGBM text) and
``latest.json`` naming the newest one with its sha256 and early-stopping state.
The run key is the training key: same model, data, spec and code. Each checkpoint is
also recorded outside that folder (``known``: the registry's training runs), so a
damaged round file or ``latest.json`` costs the rounds since the previous good one,
never the ability to train these inputs again.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from schemas.errors import RetrainError
from tasks.core import layout
from tasks.core.train.booster import Progress
from tasks.io.stores import ObjectStore, sha256_hex

Noted = Callable[[dict[str, Any]], None]
log = logging.getLogger(__name__)


class StoreCheckpoints:
    """Checkpoints of one training run (see the module docstring)."""

    def __init__(
        self,
        store: ObjectStore,
        model: str,
        run_key: str,
        every: int,
        known: list[dict[str, Any]] | None = None,
        noted: Noted | None = None,
    ) -> None:
        """``known``: checkpoints recorded elsewhere (newest run first); ``noted`` records
        each new one there."""
        self.store, self.every = store, every
        self.prefix = layout.checkpoint_prefix(model, run_key)
        self.known, self.noted = list(known or []), noted
        self.skipped: list[str] = []  # why each unusable checkpoint was passed over
        self._stop = threading.Event()

    def interrupted(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        self._stop.set()

    def save(self, text: str, progress: Progress) -> None:
        """Write the model first, then the pointer: a reader never sees a pointer to nothing."""
        body = text.encode()
        key = f"{self.prefix}round-{progress.rounds:06d}.txt"
        self.store.put_bytes(key, body)
        latest = {"key": key, "sha256": sha256_hex(body), "progress": progress.to_dict()}
        self.store.put_bytes(self.prefix + "latest.json", json.dumps(latest).encode())
        if self.noted is not None:
            self.noted(latest)

    def load(self) -> tuple[str, Progress] | None:
        """The newest checkpoint that reads back intact (its sha256 verified), or None.

        Candidates are ``latest.json`` and every checkpoint recorded elsewhere, newest
        round first; each damaged, missing or unreadable one is skipped with a warning.
        """
        for entry in sorted(self._candidates(), key=_rounds, reverse=True):
            try:
                text = self.store.get_bytes(entry["key"], sha256=entry["sha256"]).decode()
                return text, Progress.from_dict(entry["progress"])
            except (RetrainError, KeyError, TypeError, ValueError) as exc:
                self._skip(f"{entry.get('key', '?')}: {exc}")
        return None

    def _candidates(self) -> list[dict[str, Any]]:
        found, pointer = list(self.known), self.prefix + "latest.json"
        if self.store.exists(pointer):
            try:
                latest = json.loads(self.store.get_bytes(pointer))
                found.append(latest if isinstance(latest, dict) else {})
            except (RetrainError, ValueError) as exc:
                self._skip(f"{pointer}: unreadable ({exc})")
        unique = {(e.get("key"), e.get("sha256")): e for e in found if isinstance(e, dict)}
        return [e for e in unique.values() if str(e.get("key", "")).startswith(self.prefix)]

    def _skip(self, why: str) -> None:
        self.skipped.append(why)
        log.warning("checkpoint skipped: %s", why)

    def clear(self) -> int:
        """Delete every object of this run's checkpoints; returns how many."""
        objects = self.store.list(self.prefix)
        for obj in objects:
            self.store.delete(obj.key)  # a missing key is not an error
        return len(objects)


@contextmanager
def stop_on_sigterm(checkpoints: StoreCheckpoints) -> Iterator[None]:
    """While training, turn SIGTERM into a checkpoint-then-stop request.

    The handler that was installed before (for example Prefect's, which may
    reschedule the run) is restored and, after the checkpoint, called with the
    signal it missed. Only the main thread can install signal handlers;
    elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        checkpoints.request_stop()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if received and callable(previous):
            previous(received[0], None)


def _rounds(entry: dict[str, Any]) -> int:
    try:
        return int(entry["progress"]["rounds"])
    except (KeyError, TypeError, ValueError):
        return -1
