"""Landing files: dropped into a dataset's landing prefix as a producer would, read and
looked up in the registry as ingestion does."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from schemas.contracts import load_contract
from schemas.errors import IntegrityError
from schemas.settings import Settings
from tasks.io.objects import ObjectInfo
from tasks.io.registry import FileRecord
from tasks.io.runtime import runtime
from tasks.io.stores import sha256_hex

READ_CHUNK = 8 << 20  # a landing file not held is read this much at a time


def landing_file_key(prefix: str, day: dt.date, name: str) -> str:
    """``<prefix><YYYY-MM-DD>/<name>``: where producers drop a day's file."""
    return f"{prefix}{day.isoformat()}/{name}"


def write_landing(
    settings: Settings, dataset: str, day: dt.date, files: dict[str, bytes]
) -> list[str]:
    """Drop files into ``landing/<dataset>/<day>/`` as a producer would; returns their URIs."""
    store = runtime(settings).store
    prefix = load_contract(dataset, settings.specs_dir).landing_prefix
    return [
        store.put_bytes(landing_file_key(prefix, day, name), body).uri
        for name, body in files.items()
    ]


@dataclass(frozen=True)
class Landed:
    """One landing file (its bytes, when held) and what the registry already knows of it."""

    key: str
    uri: str
    data: bytes  # empty when the file is not held: read in chunks (``landed_chunks``)
    sha256: str
    etag: str | None
    recorded: FileRecord | None  # the same (uri, sha256) was ingested before
    same_content: FileRecord | None  # other URI, same bytes, already accepted
    size: int

    @property
    def held(self) -> bool:
        """Whether ``data`` holds the file (else it stays in the store)."""
        return len(self.data) == self.size

    def base(self) -> dict[str, Any]:
        """The identifying fields of a :class:`FileOutcome`."""
        return {"key": self.key, "uri": self.uri, "sha256": self.sha256, "size": self.size}


def read_landed(
    dataset: str, key: str, settings: Settings, info: ObjectInfo | None = None, hold: bool = True
) -> Landed:
    """Read a landing file (``hold=False``: only hash it, streamed) and look it up in the
    registry by URI and by content.

    ``info``: the file's ``head`` when the caller has it (the file store hashes the whole
    file for it: not twice).
    """
    rt = runtime(settings)
    info = info or rt.store.head(key)
    if hold:
        data = rt.store.get_bytes(key)
        sha, size = sha256_hex(data), len(data)
    else:
        data, sha = b"", rt.store.sha256_of(key)
        size = info.size if info else 0
    uri = rt.store.uri(key)
    files = rt.registry.list_files(dataset)
    recorded = next((f for f in files if (f.uri, f.sha256) == (uri, sha)), None)
    same = next((f for f in files if f.sha256 == sha and f.status == "accepted"), None)
    return Landed(key, uri, data, sha, info.etag if info else None, recorded, same, size)


@contextmanager
def landed_chunks(landed: Landed, settings: Settings) -> Iterator[Iterator[bytes]]:
    """The bytes of a landing file not held, chunk by chunk, as its reader asks for them.

    On leaving, the rest is read and the whole must hash to the sha256 the registry was
    asked about (``IntegrityError`` otherwise: the file changed while it was read). Each
    chunk is hashed in a thread while its reader works on it (hashlib releases the GIL),
    one chunk at a time.
    """
    digest = hashlib.sha256()

    def hashed(pool: ThreadPoolExecutor) -> Iterator[bytes]:
        hashing: Future[None] | None = None
        for chunk in runtime(settings).store.read_chunks(landed.key, READ_CHUNK):
            if hashing is not None:
                hashing.result()
            hashing = pool.submit(digest.update, chunk)
            yield chunk
        if hashing is not None:
            hashing.result()

    with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
        chunks = hashed(pool)
        yield chunks
        for _ in chunks:  # what validation did not need to read (a file refused early)
            pass
    if digest.hexdigest() != landed.sha256:
        raise IntegrityError(
            f"{landed.uri} changed while it was read: sha256 {landed.sha256} when looked up,"
            f" {digest.hexdigest()} when validated"
        )


def known_landing_files(dataset: str, settings: Settings) -> set[tuple[str, str | None]]:
    """(uri, etag) of every landing file the registry has seen for ``dataset``."""
    return {(f.uri, f.details.get("etag")) for f in runtime(settings).registry.list_files(dataset)}
