"""The fenced champion pointer: generation-stamped, written with a compare-and-swap, never
moved backwards; a lagging one is repaired and says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.errors import ConditionFailedError
from tasks.io.registry import NewModelVersion
from tasks.io.stores import FileStore

pytestmark = pytest.mark.integration


def version(model: str, name: str) -> NewModelVersion:
    return NewModelVersion(
        model=model, version=name, training_key=f"key-{name}", dataset_versions={"t": "v1"},
        spec_hash="s", params={}, code_version="c", artifact_uri=f"file:///m/{name}/model.txt",
        artifact_sha256="0" * 64,
    )  # fmt: skip


@pytest.fixture
def registry(settings: Any) -> Any:
    from tasks.io.runtime import runtime

    reg = runtime(settings).registry
    for name in ("v1", "v2"):
        reg.register_model_version(version("fraud", name))
    reg.promote("fraud", "v1", None, "ci", "first")
    return reg


def pointer_file(settings: Any) -> Path:
    return Path(settings.home).resolve() / "store" / "models" / "fraud" / "champion.json"


def test_the_pointer_carries_the_generation_and_is_repaired_when_it_lags(
    settings: Any, registry: Any
) -> None:
    from tasks.io.pointer import reconcile

    first = reconcile("fraud", settings)
    assert first.repaired and first.pointer["version"] == "v1"
    assert first.pointer["generation"] == 1
    assert not reconcile("fraud", settings).repaired  # in step: no write

    registry.promote("fraud", "v2", "v1", "ci", "second")  # a crash before the pointer write
    healed = reconcile("fraud", settings)

    assert healed.repaired and healed.detail == "was v1 (generation 1), now v2 (generation 2)"
    assert json.loads(pointer_file(settings).read_text())["generation"] == 2


def test_a_pointer_ahead_of_the_registry_is_never_moved_back(settings: Any, registry: Any) -> None:
    from tasks.io.pointer import reconcile

    reconcile("fraud", settings)
    path = pointer_file(settings)
    ahead = {**json.loads(path.read_text()), "version": "v2", "generation": 9}
    path.write_text(json.dumps(ahead))

    result = reconcile("fraud", settings)

    assert not result.repaired and "ahead" in result.detail
    assert json.loads(path.read_text())["generation"] == 9


@pytest.mark.unit
def test_a_local_conditional_write_refuses_a_stale_etag(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    first = store.put_if("models/fraud/champion.json", b"one", None)
    with pytest.raises(ConditionFailedError, match="changed"):
        store.put_if("models/fraud/champion.json", b"two", None)  # it exists now
    second = store.put_if("models/fraud/champion.json", b"two", first.etag)
    with pytest.raises(ConditionFailedError):
        store.put_if("models/fraud/champion.json", b"three", first.etag)  # stale
    assert store.get_bytes("models/fraud/champion.json") == b"two"
    assert second.etag != first.etag


def test_an_s3_conditional_write_refuses_a_stale_etag(moto_endpoint: str) -> None:
    import uuid

    import boto3

    from tasks.io.s3 import S3Store

    client = boto3.session.Session().client(
        "s3", endpoint_url=moto_endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    store = S3Store(bucket, "p", client=client)
    first = store.put_if("models/fraud/champion.json", b"one", None)
    with pytest.raises(ConditionFailedError):
        store.put_if("models/fraud/champion.json", b"two", None)
    store.put_if("models/fraud/champion.json", b"two", first.etag)
    with pytest.raises(ConditionFailedError):
        store.put_if("models/fraud/champion.json", b"three", first.etag)
    assert store.get_bytes("models/fraud/champion.json") == b"two"
