"""Model artifacts in the store: verified loading, champion pointer, JSON helpers."""

from __future__ import annotations

import json
import math
from typing import Any

import lightgbm as lgb

from schemas.settings import Settings
from tasks.core import layout
from tasks.core.features import Encoding
from tasks.core.training import load_booster
from tasks.io.registry import ModelVersionRecord
from tasks.runtime import runtime


def to_json_bytes(data: Any) -> bytes:
    """Canonical, strict JSON (NaN and infinities become null)."""
    return json.dumps(_clean(data), sort_keys=True, indent=1, default=str).encode()


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def load_card(record: ModelVersionRecord, settings: Settings) -> dict[str, Any]:
    """The version's card.json, after checking its sha256 against the registry."""
    rt = runtime(settings)
    if record.card_uri is None or record.card_sha256 is None:
        raise ValueError(f"{record.model} {record.version} has no card recorded")
    data = rt.store.get_bytes(rt.store.key_of(record.card_uri), sha256=record.card_sha256)
    card: dict[str, Any] = json.loads(data)
    return card


def load_model(
    record: ModelVersionRecord, settings: Settings
) -> tuple[lgb.Booster, Encoding, dict[str, Any]]:
    """Booster, feature encoding and card of a registered version, each verified first.

    The model text is parsed only after its sha256 matches the registry: a
    damaged LightGBM file can abort the process while parsing.
    """
    rt = runtime(settings)
    card = load_card(record, settings)
    text = rt.store.get_bytes(rt.store.key_of(record.artifact_uri), sha256=record.artifact_sha256)
    return load_booster(text.decode()), Encoding.from_dict(card["features"]["encoding"]), card


def champion_pointer(record: ModelVersionRecord, promoted_at: str) -> dict[str, Any]:
    """The content of ``champion.json`` for a champion record."""
    return {
        "model": record.model,
        "version": record.version,
        "artifact_uri": record.artifact_uri,
        "sha256": record.artifact_sha256,
        "card_uri": record.card_uri,
        "card_sha256": record.card_sha256,
        "dataset_versions": record.dataset_versions,
        "promoted_at": promoted_at,
    }


def sync_champion_pointer(model: str, settings: Settings) -> dict[str, Any] | None:
    """Make ``champion.json`` match the registry (the truth); rewrite it only when it lags.

    Returns the pointer now in the store, or None when the model has no champion.
    """
    rt = runtime(settings)
    record = rt.registry.champion(model)
    key = layout.champion_key(model)
    if record is None:
        return None
    history = rt.registry.history(model)
    promoted_at = next(
        (e.created_at.isoformat() for e in reversed(history) if e.to_version == record.version), ""
    )
    pointer = champion_pointer(record, promoted_at)
    if _read_pointer(key, settings) == pointer:
        return pointer
    rt.store.put_bytes(key, to_json_bytes(pointer))
    return pointer


def _read_pointer(key: str, settings: Settings) -> Any:
    """The current champion.json, or None when it is missing or not valid JSON (then rewritten)."""
    store = runtime(settings).store
    if not store.exists(key):
        return None
    try:
        return json.loads(store.get_bytes(key))
    except ValueError:
        return None
