"""Object store adapter (DESIGN section 4): one interface (``objects.py``) over a local
directory (here) and S3 (``s3.py``).

Keys are '/'-separated and relative to the store root. Writes are atomic; keys the
layout marks immutable are write-once: the same bytes again is a no-op, other bytes are
refused. Nothing runs at import: clients are built when a store is opened, directories
when it is first written.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from schemas.errors import ConditionFailedError, ImmutableObjectError, StoreError
from tasks.core.layout import is_immutable
from tasks.io.objects import (
    ObjectInfo,
    ObjectStore,
    _check_key,
    _check_prefix,
    _key_in,
    _refuse_delete,
    _valid_key,
    _verify,
    _verify_digest,
    sha256_hex,
)

__all__ = ["FileStore", "ObjectInfo", "ObjectStore", "open_store", "sha256_hex"]

TMP_PREFIX, TMP_SUFFIX = ".tmp-", ".partial"  # a FileStore write in progress
COPY_CHUNK = 8 << 20
# at a FileStore's root: the sha256 of each file hashed, with the stat it had then
DIGESTS = ".retrain-digests.json"
HEX = "0123456789abcdef"
log = logging.getLogger(__name__)


def open_store(url: str, kms_key_id: str | None = None) -> ObjectStore:
    """Open the store addressed by ``url``.

    Args:
        url: ``file:///abs/path`` for a local directory or ``s3://bucket[/prefix]``.
        kms_key_id: an S3 store encrypts with this KMS key (``Settings.s3_kms_key_id``)
            when given, else with AES256.

    Raises:
        StoreError: the URL has another scheme or is malformed (the URL is named).
    """
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.scheme == "file" and parts.netloc in ("", "localhost") and os.path.isabs(path):
        return FileStore(Path(path))
    prefix = parts.path.strip("/")
    s3_ok = parts.scheme == "s3" and parts.netloc and not (parts.query or parts.fragment)
    if s3_ok and (not prefix or _valid_key(prefix)):
        from tasks.io.s3 import S3Store

        return S3Store(parts.netloc, prefix, kms_key_id=kms_key_id or None)
    raise StoreError(f"unsupported store URL {url!r}: use file:///abs/path or s3://bucket[/prefix]")


class FileStore:
    """Objects as files under a local root directory; the ETag is the content's sha256."""

    def __init__(self, root: Path) -> None:
        """Address ``root`` (made absolute); nothing is created until the first write."""
        self.root = Path(os.path.abspath(root))
        # each file's sha256 as of its (size, mtime, ctime, inode): listing, head and
        # sha256_of hash an unchanged file once, not once per call nor per process (kept in
        # DIGESTS; any change to a file changes its ctime, every write here makes a new
        # inode; reads that check content still hash what they read)
        self._digests: dict[Path, tuple[tuple[int, int, int, int], str]] = {}
        self._digests_read, self._digests_changed = False, False
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*_check_key(key).split("/"))

    def uri(self, key: str) -> str:
        """Return the ``file://`` URI of ``key`` (percent-encoded)."""
        return self._path(key).as_uri()

    def key_of(self, uri: str) -> str:
        """Return the key of a ``file://`` URI under this root."""
        return _key_in(self.url, uri, unquote)

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Write a temp file, fsync, then rename (mutable) or hard-link (immutable) it."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=TMP_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            self._place(tmp, path, key, sha256_hex(data))
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return ObjectInfo(key, len(data), sha256_hex(data), path.as_uri())

    def _place(self, tmp: str, path: Path, key: str, sha256: str) -> None:
        """Rename a written temp file onto ``path`` (mutable) or hard-link it (immutable:
        never replaces an existing file, first writer wins; other content is refused)."""
        if is_immutable(key):
            try:
                os.link(tmp, path)
            except FileExistsError:
                if self.sha256_of(key) != sha256:
                    raise ImmutableObjectError(
                        f"immutable object {key!r} already exists with other content"
                    ) from None
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)

    def put_if(self, key: str, data: bytes, etag: str | None) -> ObjectInfo:
        """Compare-and-rename under a lock file beside it (the ETag is the content's sha256)."""
        if is_immutable(key):
            raise StoreError(f"conditional write of immutable object {key!r} refused")
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.parent / f".lock-{path.name}", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.head(key)
            if (current.etag if current else None) != etag:
                found = current.etag if current else "no object"
                raise ConditionFailedError(
                    f"{path.as_uri()} changed: expected {etag}, found {found}"
                )
            return self.put_bytes(key, data)

    def get_bytes(self, key: str, sha256: str | None = None) -> bytes:
        """Read the file, checking ``sha256`` when given."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StoreError(f"object not found: {path.as_uri()}") from None
        except OSError as exc:
            raise StoreError(f"cannot read {path.as_uri()}: {exc.strerror}") from exc
        return _verify(key, data, sha256)

    def read_chunks(self, key: str, size: int) -> Iterator[bytes]:
        """The file's bytes, ``size`` at a time."""
        path = self._path(key)
        try:
            fh = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StoreError(f"object not found: {path.as_uri()}") from None
        with fh:
            while chunk := fh.read(size):
                yield chunk

    def copy(self, source: str, key: str, sha256: str) -> ObjectInfo:
        """Stream ``source`` into a temp file beside ``key``, check its sha256, fsync, then
        rename or hard-link it as :meth:`put_bytes` does."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TMP_PREFIX, suffix=TMP_SUFFIX)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in self.read_chunks(source, COPY_CHUNK):
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            _verify_digest(source, digest.hexdigest(), sha256)
            self._place(tmp, path, key, sha256)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return ObjectInfo(key, size, sha256, path.as_uri())

    def sha256_of(self, key: str) -> str:
        """The file's sha256, streamed (its ETag here)."""
        info = self.head(key)
        if info is None:
            raise StoreError(f"object not found: {self._path(key).as_uri()}")
        return info.etag

    def head(self, key: str) -> ObjectInfo | None:
        """Return the file's info (hashes its content), or None if absent."""
        path = self._path(key)
        return self._info(key, path) if path.is_file() else None

    def _info(self, key: str, path: Path) -> ObjectInfo:
        self._read_digests()
        before = _stamp(path)
        known = self._digests.get(path)
        if known is not None and known[0] == before:
            return ObjectInfo(key, before[0], known[1], path.as_uri())
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        after = _stamp(path)
        if after == before:  # not changed while hashed
            self._digests[path] = (after, digest)
            self._digests_changed = True
        return ObjectInfo(key, after[0], digest, path.as_uri())

    def _read_digests(self) -> None:
        """Take in the digests earlier processes recorded (once; a cache: an unreadable or
        malformed file, or entry, is ignored and its files are hashed again)."""
        if self._digests_read:
            return
        self._digests_read = True
        try:
            doc = json.loads((self.root / DIGESTS).read_bytes())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("%s: ignored (%s); files are hashed again", self.root / DIGESTS, exc)
            return
        for key, entry in doc.items() if isinstance(doc, dict) else ():
            if _valid_key(key) and _is_digest_entry(entry):
                self._digests.setdefault(self._path(key), (tuple(entry[:4]), entry[4]))

    def _write_digests(self) -> None:
        """Record the digests for the next process (atomically; a failure costs only that
        the next process hashes again)."""
        if not self._digests_changed:
            return
        doc = {
            path.relative_to(self.root).as_posix(): [*stamp, digest]
            for path, (stamp, digest) in sorted(self._digests.items())
        }
        try:
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=TMP_PREFIX, suffix=TMP_SUFFIX)
            with os.fdopen(fd, "w") as fh:
                json.dump(doc, fh, separators=(",", ":"))
            os.replace(tmp, self.root / DIGESTS)
            self._digests_changed = False
        except OSError as exc:
            log.warning("%s: not written (%s)", self.root / DIGESTS, exc)

    def exists(self, key: str) -> bool:
        """True if ``key`` is a file."""
        return self._path(key).is_file()

    def list(self, prefix: str) -> list[ObjectInfo]:
        """Walk the directory holding ``prefix``; a missing directory lists as []."""
        directory = self.root.joinpath(*_check_prefix(prefix).rpartition("/")[0].split("/"))
        found = []
        for dirpath, _dirnames, filenames in os.walk(directory):
            for name in filenames:
                if name.startswith(TMP_PREFIX) and name.endswith(TMP_SUFFIX):
                    continue  # a write in progress
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix) and key != DIGESTS:
                    found.append(self._info(key, Path(dirpath, name)))
        listed = {self._path(info.key) for info in found}
        for path in [p for p in self._digests if p.is_relative_to(directory)]:
            if path not in listed and path.relative_to(self.root).as_posix().startswith(prefix):
                del self._digests[path]  # gone
                self._digests_changed = True
        self._write_digests()
        return sorted(found, key=lambda info: info.key)

    def delete(self, key: str) -> None:
        """Unlink a mutable object's file."""
        _refuse_delete(key)
        self._path(key).unlink(missing_ok=True)

    def purge(self, key: str) -> None:
        """Unlink the file even if immutable (unregistered leftovers only)."""
        self._path(key).unlink(missing_ok=True)

    def link(self, key: str, expires_s: int) -> str | None:
        """None: a local file has no HTTP link (show its path instead)."""
        return None


def _is_digest_entry(entry: object) -> bool:
    """[size, mtime_ns, ctime_ns, inode, sha256 hex]."""
    if not isinstance(entry, list) or len(entry) != 5:
        return False
    stamp, digest = entry[:4], entry[4]
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in stamp)
    return ints and isinstance(digest, str) and len(digest) == 64 and not digest.strip(HEX)


def _stamp(path: Path) -> tuple[int, int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
