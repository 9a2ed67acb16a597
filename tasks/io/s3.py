"""The S3 object store: boto3 against a bucket and prefix (AWS, MinIO, moto)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import time
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, FlexibleChecksumError

from schemas.errors import ConditionFailedError, IntegrityError, StoreError
from tasks.core.layout import is_immutable
from tasks.io.objects import (
    ObjectInfo,
    _check_key,
    _check_prefix,
    _key_in,
    _refuse_delete,
    _refuse_different,
    _valid_key,
    _verify,
    _verify_digest,
)


def _status_code(exc: ClientError) -> tuple[int, str]:
    """HTTP status and S3 error code of a botocore ``ClientError``."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return int(status), str(exc.response.get("Error", {}).get("Code", ""))


class S3Store:
    """Objects in an S3 bucket under an optional prefix, reached with boto3."""

    CONFLICT_ATTEMPTS = 4  # tries of a conditional put answered 409 before comparing
    CONFLICT_BACKOFF_S = 0.2

    def __init__(
        self, bucket: str, prefix: str = "", client: Any = None, kms_key_id: str | None = None
    ) -> None:
        """Address ``s3://bucket/prefix``; ``client`` defaults to one built from AWS_* env."""
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self._sse = {"ServerSideEncryption": "AES256"}
        if kms_key_id:
            self._sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
        self._client = client if client is not None else _make_client()

    def _s3key(self, key: str) -> str:
        return f"{self.prefix}/{_check_key(key)}" if self.prefix else _check_key(key)

    def uri(self, key: str) -> str:
        """Return ``s3://bucket/prefix/key``."""
        return f"s3://{self.bucket}/{self._s3key(key)}"

    def key_of(self, uri: str) -> str:
        """Return the key of an ``s3://`` URI under this bucket and prefix."""
        return _key_in(self.url, uri)

    @contextlib.contextmanager
    def _errors(self, op: str, s3key: str) -> Iterator[None]:
        """Turn any botocore failure left unhandled into a one-line ``StoreError``."""
        where = f"s3://{self.bucket}/{s3key}"
        try:
            yield
        except FlexibleChecksumError as exc:
            raise IntegrityError(f"S3 checksum mismatch on {op} {where}: {exc}") from None
        except ClientError as exc:
            err = exc.response.get("Error", {})
            msg = f"S3 {op} failed for {where}: {err.get('Code')}: {err.get('Message', '')}"
            raise StoreError(msg.replace("\n", " ")) from None
        except BotoCoreError as exc:
            msg = f"S3 {op} failed for {where}: {type(exc).__name__}: {exc}"
            raise StoreError(msg.replace("\n", " ")) from None

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """One encrypted put_object carrying a SHA-256 checksum for S3 to verify.

        Immutable keys are written with ``IfNoneMatch='*'``; on 412 (or 409 that persists
        over retries) the stored bytes are fetched and compared.
        """
        digest = hashlib.sha256(data).digest()
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._s3key(key),
            "Body": data,
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": base64.b64encode(digest).decode("ascii"),
            "Metadata": {"sha256": digest.hex()},
            **self._sse,
        }
        immutable = is_immutable(key)
        if immutable:
            params["IfNoneMatch"] = "*"
        for attempt in range(self.CONFLICT_ATTEMPTS):
            with self._errors("put", params["Key"]):
                try:
                    resp = self._client.put_object(**params)
                    return ObjectInfo(key, len(data), str(resp["ETag"]).strip('"'), self.uri(key))
                except ClientError as exc:
                    status, code = _status_code(exc)
                    if immutable and (status == 412 or code == "PreconditionFailed"):
                        break
                    if not immutable or (status != 409 and code != "ConditionalRequestConflict"):
                        raise
            if attempt + 1 < self.CONFLICT_ATTEMPTS:
                time.sleep(self.CONFLICT_BACKOFF_S * 2**attempt)
        info = self.head(key)
        if info is None:
            raise StoreError(f"S3 put failed for {self.uri(key)}: conditional writes conflicted")
        _refuse_different(key, self.get_bytes(key), data)
        return info

    def put_if(self, key: str, data: bytes, etag: str | None) -> ObjectInfo:
        """A conditional put: ``IfMatch`` the ETag read (``IfNoneMatch='*'`` when absent)."""
        if is_immutable(key):
            raise StoreError(f"conditional write of immutable object {key!r} refused")
        digest = hashlib.sha256(data).digest()
        params: dict[str, Any] = {
            "Bucket": self.bucket, "Key": self._s3key(key), "Body": data,
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": base64.b64encode(digest).decode("ascii"),
            "Metadata": {"sha256": digest.hex()}, **self._sse,
        }  # fmt: skip
        params |= {"IfMatch": f'"{etag}"'} if etag else {"IfNoneMatch": "*"}
        with self._errors("put", params["Key"]):
            try:
                resp = self._client.put_object(**params)
            except ClientError as exc:
                status, code = _status_code(exc)
                if status in (404, 409, 412) or code in ("PreconditionFailed", "NoSuchKey"):
                    raise ConditionFailedError(
                        f"{self.uri(key)} changed: expected {etag or 'no object'} ({code})"
                    ) from None
                raise
        return ObjectInfo(key, len(data), str(resp["ETag"]).strip('"'), self.uri(key))

    def get_bytes(self, key: str, sha256: str | None = None) -> bytes:
        """get_object with ``ChecksumMode='ENABLED'``, then check ``sha256`` when given."""
        with self._body(key) as body:
            data: bytes = body.read()  # botocore checks the stored checksum here
        return _verify(key, data, sha256)

    def read_chunks(self, key: str, size: int) -> Iterator[bytes]:
        """get_object's body, ``size`` bytes at a time (botocore checks the stored checksum
        once the body has been read to its end)."""
        with self._body(key) as body:
            yield from body.iter_chunks(size)

    @contextlib.contextmanager
    def _body(self, key: str) -> Iterator[Any]:
        """get_object's streaming body (``ChecksumMode='ENABLED'``), S3 errors mapped while
        it is read; a missing object is ``StoreError`` naming its URI."""
        s3key = self._s3key(key)
        with self._errors("get", s3key):
            try:
                resp = self._client.get_object(
                    Bucket=self.bucket, Key=s3key, ChecksumMode="ENABLED"
                )
            except ClientError as exc:
                if _status_code(exc)[1] in ("NoSuchKey", "404"):
                    raise StoreError(f"object not found: {self.uri(key)}") from None
                raise
            yield resp["Body"]

    def copy(self, source: str, key: str, sha256: str) -> ObjectInfo:
        """copy_object in S3 (encrypted, a SHA-256 checksum asked for, ``IfNoneMatch='*'``
        on immutable keys), then the copy's sha256 checked by reading it back (a copy that
        fails the check is removed)."""
        params: dict[str, Any] = {
            "Bucket": self.bucket, "Key": self._s3key(key),
            "CopySource": {"Bucket": self.bucket, "Key": self._s3key(source)},
            "ChecksumAlgorithm": "SHA256", "MetadataDirective": "REPLACE",
            "Metadata": {"sha256": sha256.lower()}, **self._sse,
        }  # fmt: skip
        if is_immutable(key):
            params["IfNoneMatch"] = "*"
        created = True
        with self._errors("copy", params["Key"]):
            try:
                self._client.copy_object(**params)
            except ClientError as exc:
                status, code = _status_code(exc)
                if not (is_immutable(key) and (status == 412 or code == "PreconditionFailed")):
                    raise
                created = False  # an earlier writer's object: checked, never removed
        try:
            _verify_digest(source, self.sha256_of(key), sha256)
        except IntegrityError:
            if created:
                self.purge(key)
            raise
        info = self.head(key)
        if info is None:
            raise StoreError(f"S3 copy to {self.uri(key)} left no object")
        return info

    def sha256_of(self, key: str) -> str:
        """The object's sha256, streamed in 1 MiB chunks (memory stays bounded)."""
        s3key = self._s3key(key)
        digest = hashlib.sha256()
        with self._errors("get", s3key):
            try:
                resp = self._client.get_object(Bucket=self.bucket, Key=s3key)
            except ClientError as exc:
                if _status_code(exc)[1] in ("NoSuchKey", "404"):
                    raise StoreError(f"object not found: {self.uri(key)}") from None
                raise
            for chunk in resp["Body"].iter_chunks(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def head(self, key: str) -> ObjectInfo | None:
        """head_object; a 404 (no such key, or no such bucket: HEAD can't tell) is None."""
        s3key = self._s3key(key)
        with self._errors("head", s3key):
            try:
                resp = self._client.head_object(Bucket=self.bucket, Key=s3key)
            except ClientError as exc:
                if _status_code(exc)[0] == 404:
                    return None
                raise
        return ObjectInfo(key, int(resp["ContentLength"]), resp["ETag"].strip('"'), self.uri(key))

    def exists(self, key: str) -> bool:
        """True if head finds the object."""
        return self.head(key) is not None

    def list(self, prefix: str) -> list[ObjectInfo]:
        """list_objects_v2 under the prefix; keys this store can't address are left out."""
        root = f"{self.prefix}/" if self.prefix else ""
        full = root + _check_prefix(prefix)
        found = []
        with self._errors("list", full):
            pager = self._client.get_paginator("list_objects_v2")
            for page in pager.paginate(Bucket=self.bucket, Prefix=full):
                for obj in page.get("Contents", []):
                    key = str(obj["Key"])[len(root) :]
                    if _valid_key(key):  # skips "folder/" markers
                        etag = str(obj["ETag"]).strip('"')
                        found.append(ObjectInfo(key, int(obj["Size"]), etag, self.uri(key)))
        return sorted(found, key=lambda info: info.key)

    def delete(self, key: str) -> None:
        """delete_object for a mutable key."""
        _refuse_delete(key)
        self.purge(key)

    def purge(self, key: str) -> None:
        """delete_object even for a write-once key (unregistered leftovers only)."""
        with self._errors("delete", self._s3key(key)):
            self._client.delete_object(Bucket=self.bucket, Key=self._s3key(key))

    def link(self, key: str, expires_s: int) -> str | None:
        """A presigned GET URL of ``key``, valid for ``expires_s`` seconds."""
        s3key = self._s3key(key)
        with self._errors("presign", s3key):
            url: str = self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": s3key}, ExpiresIn=expires_s
            )
        return url


def _make_client() -> Any:
    """Build an S3 client from the AWS_* environment as it is now (incl. AWS_ENDPOINT_URL).

    A fresh session, not boto3's default one: that one caches the credentials it first
    found for the life of the process and is not safe to share between threads.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30
    )
    return boto3.session.Session().client("s3", config=config)
