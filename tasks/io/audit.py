"""Integrity audits beyond model artifacts: dataset manifests and partitions, and the
registry's own consistency (champions row, model versions, ledger, pointer).

Each finding names what is wrong and where (a URI or a table row); any finding makes
``retrain verify`` exit 1.
"""

from __future__ import annotations

import json
from typing import Any

from schemas.errors import StoreError
from schemas.settings import Settings
from tasks.io.pointer import PointerSync
from tasks.io.runtime import runtime

_PROMOTING = ("promote", "rollback", "approve")


def finding(what: str, where: str, detail: str) -> dict[str, str]:
    """One named problem: what is wrong, where, and the detail."""
    return {"what": what, "where": where, "detail": detail}


def dataset_findings(
    dataset: str, settings: Settings, seen: set[tuple[str, str]] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Check every version of ``dataset``: its manifest against the registry's sha256, its
    rows and partition counts, and every partition against the manifest's sha256.

    ``seen`` holds (key, sha256) pairs already verified (partitions are shared across
    versions). Returns one summary per version and the findings.
    """
    rt, seen = runtime(settings), seen if seen is not None else set()
    summaries, found = [], []
    for rec in sorted(rt.registry.list_dataset_versions(dataset), key=lambda r: r.seq):
        mine: list[dict[str, str]] = []
        try:
            data = rt.store.get_bytes(rt.store.key_of(rec.manifest_uri), rec.manifest_sha256)
            manifest = json.loads(data)
        except (StoreError, ValueError) as exc:
            mine.append(finding("dataset manifest damaged", rec.manifest_uri, str(exc)))
            manifest = None
        if manifest is not None:
            mine += _manifest_findings(rec.manifest_uri, manifest, rec.rows, rec.partitions)
            mine += _partition_findings(manifest, seen, settings)
        summaries.append({
            "dataset": dataset, "version": rec.version, "ok": not mine,
            "problems": [f"{f['what']}: {f['where']}" for f in mine],
        })  # fmt: skip
        found += mine
    return summaries, found


def _manifest_findings(
    uri: str, manifest: dict[str, Any], rows: int, partitions: int
) -> list[dict[str, str]]:
    parts = manifest.get("partitions", [])
    found = []
    if manifest.get("rows") != rows:
        detail = f"manifest says {manifest.get('rows')} rows, the registry {rows}"
        found.append(finding("dataset manifest rows disagree", uri, detail))
    if len(parts) != partitions:
        detail = f"manifest lists {len(parts)} partitions, the registry {partitions}"
        found.append(finding("dataset manifest partitions disagree", uri, detail))
    return found


def _partition_findings(
    manifest: dict[str, Any], seen: set[tuple[str, str]], settings: Settings
) -> list[dict[str, str]]:
    store, found = runtime(settings).store, []
    for part in manifest.get("partitions", []):
        objects = [("curated partition damaged", part)]
        if part.get("key_index"):  # unused when damaged (commits read the partition instead)
            objects.append(("partition key index damaged", part["key_index"]))
        for what, recorded in objects:
            key, sha = str(recorded.get("key")), str(recorded.get("sha256"))
            if (key, sha) in seen:
                continue
            try:
                store.get_bytes(key, sha256=sha)
                seen.add((key, sha))
            except StoreError as exc:
                found.append(finding(what, store.uri(key), str(exc)))
    return found


def registry_findings(model: str, sync: PointerSync, settings: Settings) -> list[dict[str, str]]:
    """The champions row, the champion's ``model_versions`` status, the ledger and the
    pointer of ``model``: do they tell the same story?"""
    registry = runtime(settings).registry
    row, generation = registry.champion_row(model)
    crowned = registry.champion(model)
    status = crowned.version if crowned else None
    promotions = [e for e in registry.history(model) if e.action in _PROMOTING]
    last = promotions[-1].to_version if promotions else None
    found = []
    if row != status:
        detail = f"champions row names {row}, model_versions has {status} as champion"
        found.append(finding("champion row disagrees with model_versions", "champions", detail))
    if row != last:
        detail = f"champions row names {row}, the ledger's last promotion {last}"
        found.append(finding("champion changed without a ledger entry", "ledger", detail))
    if generation != len(promotions):
        detail = f"generation {generation}, but {len(promotions)} promotion(s) in the ledger"
        found.append(finding("champion generation disagrees with the ledger", "champions", detail))
    pointed = sync.pointer or {}
    if row is not None and (pointed.get("version"), pointed.get("generation")) != (
        row,
        generation,
    ):
        where = runtime(settings).store.uri(f"models/{model}/champion.json")
        detail = (
            f"pointer at {pointed.get('version')} (generation {pointed.get('generation')}),"
            f" registry at {row} (generation {generation}): {sync.detail}"
        )
        found.append(finding("champion pointer disagrees with the registry", where, detail))
    return found
