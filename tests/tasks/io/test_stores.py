"""Object store behaviour, run over FileStore, S3Store on in-process moto and on moto's server."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from schemas.errors import ImmutableObjectError, IntegrityError, StoreError
from tasks.io.s3 import S3Store
from tasks.io.stores import FileStore, ObjectStore, open_store, sha256_hex

CURATED = "curated/transactions/date=2026-01-01/abc.parquet"
LANDING = "landing/transactions/2026-01-01/a.csv"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class Backend:
    store: ObjectStore
    raw_put: Callable[[str, bytes], None]  # overwrite a key behind the store's back
    client: Any = None  # the S3 client, for S3 backends


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "RETRAIN_S3_KMS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def server_client(moto_endpoint: str) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _s3_backend(client: Any, store: S3Store) -> Backend:
    client.create_bucket(Bucket=store.bucket)

    def raw_put(key: str, data: bytes) -> None:
        client.put_object(Bucket=store.bucket, Key=f"{store.prefix}/{key}", Body=data)

    return Backend(store, raw_put, client)


@pytest.fixture
def file_backend(tmp_path: Path) -> Backend:
    root = tmp_path / "store"

    def raw_put(key: str, data: bytes) -> None:
        (root / key).write_bytes(data)

    return Backend(open_store(root.as_uri()), raw_put)


@pytest.fixture
def moto_backend(aws_env: None) -> Iterator[Backend]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        yield _s3_backend(client, S3Store("bucket", "root/prefix", client=client))


@pytest.fixture
def server_backend(server_client: Any) -> Backend:
    store = S3Store(f"b-{uuid.uuid4().hex[:12]}", "root", client=server_client)
    return _s3_backend(server_client, store)


@pytest.fixture(
    params=[
        "file",
        pytest.param("moto", marks=pytest.mark.integration),
        pytest.param("server", marks=pytest.mark.integration),
    ]
)
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


# ---- behaviour shared by every backend ------------------------------------------------


def test_put_get_roundtrip(backend: Backend) -> None:
    store = backend.store
    info = store.put_bytes(LANDING, b"a,b\n1,2\n")
    assert (info.key, info.size, info.uri) == (LANDING, 8, store.uri(LANDING))
    assert store.get_bytes(LANDING) == b"a,b\n1,2\n"
    assert store.get_bytes(LANDING, sha256=sha256_hex(b"a,b\n1,2\n")) == b"a,b\n1,2\n"
    assert store.exists(LANDING)
    assert store.head(LANDING) == info
    assert not store.exists("landing/transactions/2026-01-01/other.csv")
    assert store.head("landing/transactions/2026-01-01/other.csv") is None


def test_purge_removes_even_a_write_once_object_and_delete_still_refuses(
    backend: Backend,
) -> None:
    store, key = backend.store, "models/fraud/v2/model.txt"
    store.put_bytes(key, b"tree")
    with pytest.raises(ImmutableObjectError):
        store.delete(key)
    store.purge(key)
    assert not store.exists(key)
    store.purge(key)  # absent: a no-op


def test_sha256_of_streams_the_content_and_names_a_missing_object(backend: Backend) -> None:
    body = bytes(range(256)) * 9000  # over 2 MiB: more than one chunk
    backend.store.put_bytes(LANDING, body)
    assert backend.store.sha256_of(LANDING) == sha256_hex(body)
    with pytest.raises(StoreError, match="object not found"):
        backend.store.sha256_of("landing/nothing/here.csv")


def test_read_chunks_streams_the_content_in_order(backend: Backend) -> None:
    body = bytes(range(256)) * 9000
    backend.store.put_bytes(LANDING, body)
    chunks = list(backend.store.read_chunks(LANDING, 1 << 20))
    assert len(chunks) > 1 and b"".join(chunks) == body
    with pytest.raises(StoreError, match="object not found"):
        list(backend.store.read_chunks("landing/nothing/here.csv", 1024))


def test_copy_checks_the_content_it_copies(backend: Backend) -> None:
    """Quarantine copies a large file rather than holding it: the copy is the bytes whose
    sha256 was recorded, or an IntegrityError (the source changed meanwhile)."""
    store, body = backend.store, b"x,y\n" + b"1,2\n" * 300_000
    store.put_bytes(LANDING, body)
    target = "quarantine/transactions/2026-01-01/a.csv"
    info = store.copy(LANDING, target, sha256_hex(body))
    assert store.get_bytes(target) == body and info.size == len(body)
    assert info.key == target
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        store.copy(LANDING, "quarantine/transactions/2026-01-01/b.csv", sha256_hex(b"other"))
    assert not store.exists("quarantine/transactions/2026-01-01/b.csv")  # no failed copy


def test_get_missing_names_the_uri(backend: Backend) -> None:
    missing = "landing/nothing/here.csv"
    with pytest.raises(StoreError, match="object not found") as err:
        backend.store.get_bytes(missing)
    assert backend.store.uri(missing) in str(err.value)


def test_uri_and_key_of_are_inverse(backend: Backend) -> None:
    store = backend.store
    uri = store.uri(LANDING)
    assert uri.startswith(store.url + "/")
    assert store.key_of(uri) == LANDING
    assert store.key_of(store.uri("models/m/v 1/card.json")) == "models/m/v 1/card.json"
    for foreign in ("s3://elsewhere/x.csv", "file:///elsewhere/x.csv", store.url):
        with pytest.raises(StoreError, match="not in store"):
            store.key_of(foreign)


def test_list_is_recursive_sorted_and_filtered_by_prefix(backend: Backend) -> None:
    store = backend.store
    keys = [
        "landing/tx/2026-01-02/b.csv",
        "landing/tx/2026-01-01/z.csv",
        "landing/tx/2026-01-01/a.csv",
        "landing/txn/2026-01-01/c.csv",
        "quarantine/tx/2026-01-01/a.csv",
    ]
    for key in keys:
        store.put_bytes(key, key.encode())
    assert [i.key for i in store.list("landing/tx/")] == sorted(keys[:3])
    assert [i.key for i in store.list("landing/tx")] == sorted(keys[:4])
    assert [i.key for i in store.list("")] == sorted(keys)
    assert store.list("landing/none/") == []
    info = store.list("quarantine/")[0]
    assert (info.size, info.uri) == (len(keys[4]), store.uri(keys[4]))


def test_list_on_a_store_that_was_never_written(backend: Backend) -> None:
    assert backend.store.list("curated/") == []


def test_immutable_same_bytes_is_idempotent(backend: Backend) -> None:
    first = backend.store.put_bytes(CURATED, b"parquet-bytes")
    again = backend.store.put_bytes(CURATED, b"parquet-bytes")
    assert again == first
    assert backend.store.get_bytes(CURATED) == b"parquet-bytes"


def test_immutable_different_bytes_refused_and_original_kept(backend: Backend) -> None:
    backend.store.put_bytes(CURATED, b"original")
    with pytest.raises(ImmutableObjectError, match="curated/transactions"):
        backend.store.put_bytes(CURATED, b"tampered")
    assert backend.store.get_bytes(CURATED, sha256=sha256_hex(b"original")) == b"original"


def test_mutable_key_can_be_overwritten_and_deleted(backend: Backend) -> None:
    store = backend.store
    store.put_bytes("models/ranker/champion.json", b'{"version": "1"}')
    store.put_bytes("models/ranker/champion.json", b'{"version": "2"}')
    assert store.get_bytes("models/ranker/champion.json") == b'{"version": "2"}'
    store.delete("models/ranker/champion.json")
    assert not store.exists("models/ranker/champion.json")
    store.delete("models/ranker/champion.json")  # absent: no-op


@pytest.mark.parametrize("key", [CURATED, "datasets/tx/v1.json", "models/ranker/v1/model.txt"])
def test_delete_refused_for_immutable(backend: Backend, key: str) -> None:
    backend.store.put_bytes(key, b"x")
    with pytest.raises(ImmutableObjectError, match=key):
        backend.store.delete(key)
    assert backend.store.exists(key)


def test_sha256_mismatch_raises_integrity_error(backend: Backend) -> None:
    store = backend.store
    store.put_bytes(LANDING, b"good")
    good = sha256_hex(b"good")
    backend.raw_put(LANDING, b"evil")  # changed behind the store's back
    with pytest.raises(IntegrityError) as err:
        store.get_bytes(LANDING, sha256=good)
    assert LANDING in str(err.value)
    assert good in str(err.value)
    assert sha256_hex(b"evil") in str(err.value)


class _NoCalls:
    """A client that fails the test if the store reaches for it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"client.{name} used for an invalid key")


@pytest.mark.parametrize("kind", ["file", "s3"])
@pytest.mark.parametrize(
    "key",
    ["", "/abs/key", "a/../b", "..", "a//b", "a/b/", "a\\b", "./a", "a/./b", "a\x00b"],
)
def test_invalid_keys_refused_before_any_io(kind: str, key: str, tmp_path: Path) -> None:
    store = FileStore(tmp_path / "s") if kind == "file" else S3Store("b", "p", client=_NoCalls())
    for call in (
        lambda: store.put_bytes(key, b"x"),
        lambda: store.get_bytes(key),
        lambda: store.head(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.uri(key),
        lambda: store.key_of(f"{store.url}/{key}"),
    ):
        with pytest.raises(StoreError, match="invalid object key") as err:
            call()
        assert repr(key) in str(err.value)
    if key not in ("", "a/b/"):  # '' and 'a/b/' are valid list prefixes
        with pytest.raises(StoreError, match="invalid object key"):
            store.list(key)
    assert not (tmp_path / "s").exists()


# ---- factory ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://example.com/x", "gs://bucket/x", "file://relative/path", "s3://", "bucket"]
)
def test_open_store_refuses_unknown_urls(url: str) -> None:
    with pytest.raises(StoreError, match="unsupported store URL") as err:
        open_store(url)
    assert url in str(err.value)


def test_open_store_s3_url_parts(aws_env: None) -> None:
    store = open_store("s3://bucket/some/prefix/")
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.url) == (
        "bucket",
        "some/prefix",
        "s3://bucket/some/prefix",
    )
    assert store.uri("a/b.csv") == "s3://bucket/some/prefix/a/b.csv"
    assert open_store("s3://bucket").uri("a.csv") == "s3://bucket/a.csv"


def test_file_store_creates_root_only_on_first_write(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet"
    store = open_store(root.as_uri())
    assert store.list("") == []
    assert not root.exists()
    store.put_bytes(LANDING, b"x")
    assert (root / LANDING).read_bytes() == b"x"
    assert [p.name for p in (root / LANDING).parent.iterdir()] == ["a.csv"]  # no temp left
    (root / LANDING).with_name(".tmp-crashed.partial").write_bytes(b"half")  # dead writer
    assert [i.key for i in store.list("landing/")] == [LANDING]


def test_file_store_key_of_decodes_then_validates(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    assert store.key_of(f"{store.url}/a%20b/c.csv") == "a b/c.csv"
    with pytest.raises(StoreError, match="invalid object key"):
        store.key_of(f"{store.url}/a/%2E%2E/%2E%2E/etc/passwd")


def test_file_store_concurrent_immutable_writers_one_wins(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    writers = 16
    barrier = threading.Barrier(writers)
    outcomes: dict[int, str] = {}

    def write(i: int) -> None:
        barrier.wait()
        try:
            store.put_bytes(CURATED, f"content-{i}".encode() * 10_000)
            outcomes[i] = "won"
        except ImmutableObjectError:
            outcomes[i] = "refused"

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, outcome in outcomes.items() if outcome == "won"]
    assert len(outcomes) == writers
    assert len(winners) == 1
    assert store.get_bytes(CURATED) == f"content-{winners[0]}".encode() * 10_000


# ---- S3 specifics -------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("s3", ["moto_backend", "server_backend"])
def test_s3_put_requests_encryption_and_checksum(s3: str, request: pytest.FixtureRequest) -> None:
    backend: Backend = request.getfixturevalue(s3)
    store = backend.store
    assert isinstance(store, S3Store)
    store.put_bytes(CURATED, b"payload")
    head = backend.client.head_object(
        Bucket=store.bucket, Key=f"{store.prefix}/{CURATED}", ChecksumMode="ENABLED"
    )
    assert head["ServerSideEncryption"] == "AES256"
    expected = base64.b64encode(hashlib.sha256(b"payload").digest()).decode()
    assert head["ChecksumSHA256"] == expected
    assert head["Metadata"]["sha256"] == sha256_hex(b"payload")
    copied = "quarantine/transactions/2026-01-01/a.csv"  # copies are encrypted too
    store.copy(CURATED, copied, sha256_hex(b"payload"))
    head = backend.client.head_object(
        Bucket=store.bucket, Key=f"{store.prefix}/{copied}", ChecksumMode="ENABLED"
    )
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ChecksumSHA256"] == expected
    assert head["Metadata"]["sha256"] == sha256_hex(b"payload")


@pytest.mark.integration
def test_s3_kms_key_from_settings_is_requested(
    aws_env: None, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schemas.settings import load_settings

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("RETRAIN_S3_KMS_KEY_ID", "alias/retrain")
    client = boto3.client("s3")
    client.create_bucket(Bucket="kms-bucket")
    settings = load_settings()
    open_store("s3://kms-bucket", settings.s3_kms_key_id).put_bytes(LANDING, b"secret")
    head = client.head_object(Bucket="kms-bucket", Key=LANDING)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith("alias/retrain")


class _ConflictingClient:
    """Wraps a real client; conditional puts answer 409 ConditionalRequestConflict N times."""

    def __init__(self, client: Any, conflicts: int) -> None:
        self._client = client
        self.conflicts = conflicts
        self.conditional_puts = 0

    def put_object(self, **kwargs: Any) -> Any:
        if "IfNoneMatch" in kwargs:
            self.conditional_puts += 1
            if self.conflicts > 0:
                self.conflicts -= 1
                error = {"Code": "ConditionalRequestConflict", "Message": "conflict"}
                meta = {"HTTPStatusCode": 409}
                raise ClientError({"Error": error, "ResponseMetadata": meta}, "PutObject")
        return self._client.put_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.mark.integration
def test_s3_conflict_409_is_retried(moto_backend: Backend) -> None:
    wrapper = _ConflictingClient(moto_backend.client, conflicts=1)
    store = S3Store("bucket", "root/prefix", client=wrapper)
    store.put_bytes(CURATED, b"payload")
    assert wrapper.conditional_puts == 2
    assert store.get_bytes(CURATED) == b"payload"


@pytest.mark.integration
def test_s3_persistent_409_falls_back_to_compare(
    moto_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(S3Store, "CONFLICT_BACKOFF_S", 0.001)
    moto_backend.store.put_bytes(CURATED, b"payload")
    wrapper = _ConflictingClient(moto_backend.client, conflicts=100)
    store = S3Store("bucket", "root/prefix", client=wrapper)
    assert store.put_bytes(CURATED, b"payload") == moto_backend.store.head(CURATED)
    with pytest.raises(ImmutableObjectError):
        store.put_bytes(CURATED, b"different")
    assert wrapper.conditional_puts == 2 * S3Store.CONFLICT_ATTEMPTS
    with pytest.raises(StoreError, match="conflict"):
        store.put_bytes("curated/transactions/date=2026-01-02/x.parquet", b"payload")


@pytest.mark.integration
def test_s3_wrong_stored_checksum_is_caught(moto_backend: Backend) -> None:
    store, client = moto_backend.store, moto_backend.client
    bogus = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    client.put_object(
        Bucket="bucket",
        Key=f"root/prefix/{LANDING}",
        Body=b"data",
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=bogus,
    )
    with pytest.raises(IntegrityError, match=LANDING):
        store.get_bytes(LANDING)


@pytest.mark.integration
def test_s3_list_skips_folder_markers(moto_backend: Backend) -> None:
    moto_backend.raw_put("landing/", b"")  # what the AWS console's "create folder" leaves
    moto_backend.store.put_bytes(LANDING, b"x")
    assert [i.key for i in moto_backend.store.list("landing/")] == [LANDING]


@pytest.mark.integration
def test_s3_missing_bucket_is_a_store_error(moto_backend: Backend) -> None:
    store = S3Store("no-such-bucket", client=moto_backend.client)
    with pytest.raises(StoreError, match="no-such-bucket"):
        store.put_bytes(LANDING, b"x")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.integration
def test_s3_unreachable_endpoint_fails_fast(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    store = open_store("s3://bucket/prefix")
    started = time.monotonic()
    for call in (lambda: store.put_bytes(LANDING, b"x"), lambda: store.list("landing/")):
        with pytest.raises(StoreError, match="s3://bucket/prefix/landing") as err:
            call()
        assert "testing" not in str(err.value)  # no credentials in the message
        assert "\n" not in str(err.value)
    assert time.monotonic() - started < 15


@pytest.mark.integration
def test_s3_missing_credentials_is_a_store_error(
    aws_env: None, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StoreError, match="NoCredentialsError"):
        open_store("s3://bucket").get_bytes(LANDING)


@pytest.mark.integration
def test_an_s3_object_has_a_presigned_link_a_browser_can_open(server_client: Any) -> None:
    import httpx

    bucket = f"b-{uuid.uuid4().hex[:12]}"
    server_client.create_bucket(Bucket=bucket)
    store = S3Store(bucket, "root", client=server_client)
    store.put_bytes("reports/fraud/v1/report.html", b"<html>report</html>")

    link = store.link("reports/fraud/v1/report.html", 3600)

    assert link is not None and link.startswith("http") and "Expires" in link
    assert httpx.get(link, timeout=10).content == b"<html>report</html>"


@pytest.mark.unit
def test_a_local_file_has_no_http_link(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.put_bytes("reports/a.html", b"x")
    assert store.link("reports/a.html", 60) is None


def test_file_store_hashes_a_file_again_only_when_it_changed(tmp_path: Path) -> None:
    """Listing, head and sha256_of share one hash of an unchanged file; a file rewritten in
    place, even to the same size and modification time, is hashed again (its ctime moved)."""
    import os

    store = FileStore(tmp_path)
    store.put_bytes(LANDING, b"a,b\n1,2\n")
    path = tmp_path / LANDING
    assert store.head(LANDING).etag == sha256_hex(b"a,b\n1,2\n")
    before = path.stat()
    with open(path, "r+b") as fh:
        fh.write(b"x,y")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    while path.stat().st_ctime_ns == before.st_ctime_ns:  # file times tick coarsely
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # moves the ctime on
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert store.head(LANDING).etag == sha256_hex(b"x,y\n1,2\n")
    assert [o.etag for o in store.list("landing/")] == [sha256_hex(b"x,y\n1,2\n")]
    assert store.sha256_of(LANDING) == sha256_hex(b"x,y\n1,2\n")


def test_file_store_digests_outlive_the_process_and_a_bad_record_is_only_a_cache_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing records each file's sha256 with its stat at the root: the next process (a
    new FileStore) hashes only files added or changed since; a deleted file's entry goes;
    a digests file that is not JSON, or an entry of the wrong shape, is ignored."""
    import hashlib
    import json

    from tasks.io.stores import DIGESTS

    hashed: list[str] = []
    file_digest = hashlib.file_digest

    def counting(fh: Any, name: str) -> Any:
        hashed.append(Path(fh.name).name)
        return file_digest(fh, name)

    monkeypatch.setattr(hashlib, "file_digest", counting)
    first = FileStore(tmp_path)
    for day in ("01", "02"):
        first.put_bytes(f"landing/t/2026-10-{day}/t-{day}.csv", f"a\n{day}\n".encode())
    first.list("landing/")
    assert sorted(hashed) == ["t-01.csv", "t-02.csv"]
    assert DIGESTS not in [o.key for o in first.list("")]  # it is no object of the store

    hashed.clear()
    FileStore(tmp_path).put_bytes("landing/t/2026-10-03/t-03.csv", b"a\n03\n")
    (tmp_path / "landing/t/2026-10-01/t-01.csv").unlink()
    listed = FileStore(tmp_path).list("landing/")  # a new process, in effect

    assert hashed == ["t-03.csv"]
    assert [o.etag for o in listed] == [sha256_hex(b"a\n02\n"), sha256_hex(b"a\n03\n")]
    kept = json.loads((tmp_path / DIGESTS).read_text())
    assert sorted(k for k in kept if k.startswith("landing/")) == [
        "landing/t/2026-10-02/t-02.csv", "landing/t/2026-10-03/t-03.csv",
    ]  # fmt: skip

    for bad in ("{not json", json.dumps({"landing/t/2026-10-02/t-02.csv": [1, 2, "x"]})):
        (tmp_path / DIGESTS).write_text(bad)
        hashed.clear()
        etags = [o.etag for o in FileStore(tmp_path).list("landing/")]
        assert etags == [sha256_hex(b"a\n02\n"), sha256_hex(b"a\n03\n")]
        assert sorted(hashed) == ["t-02.csv", "t-03.csv"]
