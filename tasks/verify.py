"""Artifact integrity: every file of a model version against the sha256 in the registry."""

from __future__ import annotations

from typing import Any

from schemas.settings import Settings
from tasks.errors import StoreError
from tasks.io.registry import ModelVersionRecord
from tasks.runtime import runtime


def verify_version(record: ModelVersionRecord, settings: Settings) -> dict[str, Any]:
    """Check model.txt and card.json against the registry, and the card's own artifact list."""
    import json

    store = runtime(settings).store
    problems: list[str] = []
    wanted = [(record.artifact_uri, record.artifact_sha256), (record.card_uri, record.card_sha256)]
    for uri, sha in wanted:
        if uri is None or sha is None:
            problems.append("artifact not recorded")
            continue
        try:
            store.get_bytes(store.key_of(uri), sha256=sha)
        except StoreError as exc:
            problems.append(str(exc))
    if not problems and record.card_uri:
        card = json.loads(store.get_bytes(store.key_of(record.card_uri)))
        for name, art in card.get("artifacts", {}).items():
            try:
                store.get_bytes(store.key_of(art["uri"]), sha256=art["sha256"])
            except StoreError as exc:
                problems.append(f"{name}: {exc}")
    return {"version": record.version, "ok": not problems, "problems": problems}
