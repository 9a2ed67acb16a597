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
