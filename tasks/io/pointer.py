"""The fenced champion pointer: ``models/<model>/champion.json``, derived from the registry.

It carries the registry's champion generation (a counter every champion change bumps), is
written only with a compare-and-swap on what was read (S3 ``IfMatch``/``IfNoneMatch``, a
locked compare-and-rename locally), and is never replaced by a lower generation: a slow
writer cannot put an older champion back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from schemas.errors import ConditionFailedError
from schemas.settings import Settings
from tasks.core import layout
from tasks.core.documents import to_json_bytes
from tasks.io.registry import ModelVersionRecord
from tasks.io.runtime import runtime

ATTEMPTS = 5


@dataclass(frozen=True)
class PointerSync:
    """What reconciling the pointer found and did."""

    pointer: dict[str, Any] | None  # now in the store (None: the model has no champion)
    repaired: bool
    detail: str  # what was wrong, or "in step"


def pointer_for(record: ModelVersionRecord, generation: int, promoted_at: str) -> dict[str, Any]:
    """The content of ``champion.json`` for a champion record at ``generation``."""
    return {
        "model": record.model,
        "version": record.version,
        "generation": generation,
        "artifact_uri": record.artifact_uri,
        "sha256": record.artifact_sha256,
        "card_uri": record.card_uri,
        "card_sha256": record.card_sha256,
        "dataset_versions": record.dataset_versions,
        "promoted_at": promoted_at,
    }


def reconcile(model: str, settings: Settings) -> PointerSync:
    """Make ``champion.json`` match the registry (the truth), with a conditional write.

    A pointer already at a higher generation than the registry shows is left alone and
    reported (the registry moved on between the read and now: the next sync catches up).
    """
    rt, key = runtime(settings), layout.champion_key(model)
    for _attempt in range(ATTEMPTS):
        record, generation = rt.registry.champion_state(model)
        current, etag = _read(key, settings)
        if record is None:
            return PointerSync(current, False, "no champion")
        want = pointer_for(record, generation, _promoted_at(model, record.version, settings))
        if current == want:
            return PointerSync(want, False, "in step")
        seen = _generation(current)
        if seen is not None and seen > generation:
            return PointerSync(
                current, False, f"pointer at generation {seen} is ahead of {generation}"
            )
        try:
            rt.store.put_if(key, to_json_bytes(want), etag)
        except ConditionFailedError:
            continue  # another writer moved it: read again
        return PointerSync(want, True, _what_was_wrong(current, want))
    return PointerSync(_read(key, settings)[0], False, "gave up: the pointer kept changing")


def _read(key: str, settings: Settings) -> tuple[dict[str, Any] | None, str | None]:
    """The pointer and its ETag (a missing or unreadable pointer reads as None)."""
    store = runtime(settings).store
    info = store.head(key)
    if info is None:
        return None, None
    try:
        data = json.loads(store.get_bytes(key))
    except ValueError:
        return None, info.etag
    return (data if isinstance(data, dict) else None), info.etag


def _generation(pointer: dict[str, Any] | None) -> int | None:
    value = (pointer or {}).get("generation")
    return value if isinstance(value, int) else None


def _promoted_at(model: str, version: str, settings: Settings) -> str:
    history = runtime(settings).registry.history(model)
    return next(
        (e.created_at.isoformat() for e in reversed(history) if e.to_version == version), ""
    )


def _what_was_wrong(current: dict[str, Any] | None, want: dict[str, Any]) -> str:
    if current is None:
        return (
            f"missing or unreadable: written at {want['version']} (generation {want['generation']})"
        )
    return (
        f"was {current.get('version')} (generation {current.get('generation', 'none')}),"
        f" now {want['version']} (generation {want['generation']})"
    )
