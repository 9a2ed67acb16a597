"""Training checkpoints in the object store, and SIGTERM (the spot notice) handling.

Layout: ``checkpoints/<model>/<run_key>/round-<n>.txt`` (LightGBM text) and
``latest.json`` naming the newest one with its sha256 and early-stopping state.
The run key is the training key: same model, data, spec and code.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from tasks.core import layout
from tasks.core.train.booster import Progress
from tasks.io.stores import ObjectStore, sha256_hex


class StoreCheckpoints:
    """Checkpoints of one training run (see the module docstring)."""

    def __init__(self, store: ObjectStore, model: str, run_key: str, every: int) -> None:
        self.store, self.every = store, every
        self.prefix = layout.checkpoint_prefix(model, run_key)
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

    def load(self) -> tuple[str, Progress] | None:
        """The newest checkpoint (verified against its sha256), or None."""
        pointer = self.prefix + "latest.json"
        if not self.store.exists(pointer):
            return None
        latest = json.loads(self.store.get_bytes(pointer))
        text = self.store.get_bytes(latest["key"], sha256=latest["sha256"]).decode()
        return text, Progress.from_dict(latest["progress"])

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
