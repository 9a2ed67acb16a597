"""What every object store is and shares: the interface, object info, key checks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from schemas.errors import ImmutableObjectError, IntegrityError, StoreError
from tasks.core.layout import is_immutable


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object: key relative to the store root, size, ETag (unquoted), full URI."""

    key: str
    size: int
    etag: str
    uri: str


class ObjectStore(Protocol):
    """What every store offers. Invalid keys raise ``StoreError`` naming the key."""

    url: str

    def uri(self, key: str) -> str:
        """Return the full URI of ``key``."""

    def key_of(self, uri: str) -> str:
        """Return the key of a URI of this store; ``StoreError`` if it lies elsewhere."""

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Write ``data`` atomically: readers see the old object or the new one, never half.

        Raises:
            ImmutableObjectError: ``key`` is immutable and already holds other bytes (the
                same bytes again succeed and return the existing object).
            StoreError: the store refused the write or could not be reached.
        """

    def get_bytes(self, key: str, sha256: str | None = None) -> bytes:
        """Read ``key``; when ``sha256`` is given, check the content against it.

        Raises:
            StoreError: ``object not found: <uri>``, or the store could not be reached.
            IntegrityError: the content does not match ``sha256`` (or S3's stored checksum).
        """

    def read_chunks(self, key: str, size: int) -> Iterator[bytes]:
        """The object's bytes in order, about ``size`` at a time (never all in memory).

        Raises:
            StoreError: ``object not found: <uri>``, or the store could not be reached.
        """

    def copy(self, source: str, key: str, sha256: str) -> ObjectInfo:
        """Copy the object at ``source`` to ``key``, whose content must hash to ``sha256``
        (``IntegrityError`` otherwise: the source changed); as :meth:`put_bytes` for
        immutable keys and encryption."""

    def sha256_of(self, key: str) -> str:
        """The object's sha256, read in chunks (never the whole object in memory).

        Raises:
            StoreError: ``object not found: <uri>``, or the store could not be reached.
        """

    def head(self, key: str) -> ObjectInfo | None:
        """Return the object's info, or None if there is no object at ``key``."""

    def exists(self, key: str) -> bool:
        """True if ``key`` holds an object."""

    def list(self, prefix: str) -> list[ObjectInfo]:
        """Return every object whose key starts with ``prefix`` (recursive), sorted by key."""

    def put_if(self, key: str, data: bytes, etag: str | None) -> ObjectInfo:
        """Write ``data`` only if the object's ETag is still ``etag`` (None: only if absent).

        Raises:
            ConditionFailedError: the object changed (or appeared, or vanished) meanwhile.
        """

    def delete(self, key: str) -> None:
        """Remove a mutable object (no-op if absent); ``ImmutableObjectError`` if immutable."""

    def purge(self, key: str) -> None:
        """Remove an object even where the layout marks it write-once (no-op if absent).

        Only for leftovers no registry row refers to: ``retrain gc``, or a reclaimed
        version reservation clearing what its dead holder uploaded.
        """

    def link(self, key: str, expires_s: int) -> str | None:
        """An HTTP link a browser can open for ``expires_s`` seconds (None: no such link)."""


def sha256_hex(data: bytes) -> str:
    """Return the lower-case hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _valid_key(key: str) -> bool:
    return bool(key) and not ({"", ".", ".."} & set(key.split("/")) or {"\\", "\x00"} & set(key))


def _check_key(key: str) -> str:
    if not _valid_key(key):
        raise StoreError(
            f"invalid object key {key!r}: use '/'-separated relative segments, "
            "no leading '/', no empty, '.' or '..' segments, no backslashes"
        )
    return key


def _check_prefix(prefix: str) -> str:
    """A list prefix is empty, or a valid key optionally followed by one '/'."""
    if prefix:
        _check_key(prefix.removesuffix("/"))
    return prefix


def _key_in(url: str, uri: str, decode: Callable[[str], str] = str) -> str:
    base = url.rstrip("/") + "/"
    if not uri.startswith(base):
        raise StoreError(f"URI {uri!r} is not in store {url}")
    return _check_key(decode(uri[len(base) :]))


def _refuse_different(key: str, existing: bytes, data: bytes) -> None:
    if sha256_hex(existing) != sha256_hex(data):
        raise ImmutableObjectError(f"immutable object {key!r} already exists with other content")


def _verify(key: str, data: bytes, expected: str | None) -> bytes:
    if expected is not None and (actual := sha256_hex(data)) != expected.lower():
        raise IntegrityError(f"sha256 mismatch for {key!r}: expected {expected}, got {actual}")
    return data


def _verify_digest(key: str, actual: str, expected: str) -> None:
    if actual != expected.lower():
        raise IntegrityError(f"sha256 mismatch for {key!r}: expected {expected}, got {actual}")


def _refuse_delete(key: str) -> None:
    if is_immutable(_check_key(key)):
        raise ImmutableObjectError(f"refusing to delete immutable object {key!r}")
