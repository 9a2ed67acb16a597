"""Reading the file store's folder in tests: every file with its sha256, partition checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers.samples import sha256_hex

CURATED = "curated/transactions/"


def tree(root: Path, prefix: str = "") -> dict[str, str]:
    """Every object under ``root/prefix`` as {key: sha256} (not the store's digest cache)."""
    from tasks.io.stores import DIGESTS

    base = root / prefix
    if not base.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): sha256_hex(p.read_bytes())
        for p in sorted(base.rglob("*"))
        if p.is_file() and p != root / DIGESTS
    }


def check_partitions(store_root: Path, manifest: dict[str, Any]) -> None:
    """Each partition is curated/transactions/date=D/<sha256>.parquet holding those bytes."""
    for part in manifest["partitions"]:
        key = part["key"]
        assert key == f"{CURATED}date={part['date']}/{part['sha256']}.parquet"
        body = (store_root / key).read_bytes()
        assert sha256_hex(body) == part["sha256"], key


def record_key_reads(monkeypatch: Any) -> list[list[str]]:
    """Record the partitions each key read of a commit asks for (one list per read), while
    the reads still happen: ``tasks.io.dataset_keys._key_tables`` spied on."""
    from tasks.io import dataset_keys

    reads: list[list[str]] = []
    key_tables = dataset_keys._key_tables

    def recording(store: Any, parts: list[tuple[str, str]], key_cols: list[str]) -> Any:
        reads.append([key for key, _ in parts])
        return key_tables(store, parts, key_cols)

    monkeypatch.setattr(dataset_keys, "_key_tables", recording)
    return reads


def read_keys(reads: list[list[str]]) -> list[str]:
    """Every partition key read, in order (``record_key_reads``' lists joined)."""
    return [key for read in reads for key in read]


def refuse_loading(monkeypatch: Any) -> None:
    """Make the flow's own loading of a dataset fail: a run that passes did not load it
    (on a Dask cluster, the workers read the partitions)."""
    from tasks.io import datasets

    def not_here(*args: Any) -> None:
        raise AssertionError("the flow loaded the dataset: the cluster's workers read it")

    monkeypatch.setattr(datasets, "load_frames", not_here)
    monkeypatch.setattr(datasets, "load_dataset_frame", not_here)
