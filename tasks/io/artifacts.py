"""Model artifacts in the store: verified loading, integrity checks, registration."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import lightgbm as lgb

from schemas.errors import StoreError
from schemas.settings import Settings
from schemas.specs import Features
from tasks.core import layout
from tasks.core.documents import to_json_bytes
from tasks.core.gate.measure import Scorer
from tasks.core.train.booster import load_booster
from tasks.core.train.features import Encoding
from tasks.io import claims, faults
from tasks.io.registry import AlreadyRegisteredError, ModelVersionRecord, NewModelVersion
from tasks.io.runtime import runtime
from tasks.io.stores import sha256_hex


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


def load_scorer(record: ModelVersionRecord, settings: Settings) -> tuple[Scorer, dict[str, Any]]:
    """A registered version ready to score data with its own features and encoding (verified),
    and its card."""
    booster, encoding, card = load_model(record, settings)
    return Scorer(booster, encoding, Features.model_validate(card["features"]["spec"])), card


def load_reference(
    record: ModelVersionRecord, card: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    """The version's drift reference (``reference.json``), checked against its card's sha256.

    Raises:
        StoreError: the card lists no reference, or the file is missing or damaged.
    """
    rt = runtime(settings)
    listed = card.get("artifacts", {}).get("reference.json")
    if not listed:
        raise StoreError(f"{record.model} {record.version}: the card lists no reference.json")
    data = rt.store.get_bytes(rt.store.key_of(listed["uri"]), sha256=listed["sha256"])
    reference: dict[str, Any] = json.loads(data)
    return reference


def verify_version(record: ModelVersionRecord, settings: Settings) -> dict[str, Any]:
    """Check model.txt and card.json against the registry, and the card's own artifact list."""
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


CardBuilder = Callable[[str, dict[str, Any]], dict[str, Any]]


def register_version(
    fields: dict[str, Any],
    files: dict[str, bytes],
    card_for: CardBuilder,
    run_id: int,
    settings: Settings,
) -> ModelVersionRecord | None:
    """Reserve a version for training run ``run_id``, upload ``files`` and the card there,
    then register them as a candidate.

    ``fields`` are the :class:`NewModelVersion` fields other than the version and the
    artifact URIs; ``card_for(version, artifacts)`` builds the card. Returns None, having
    uploaded nothing, when another run holds or registered these inputs (it lost the race).
    """
    reserved = claims.claim_version(fields["model"], fields["training_key"], run_id, settings)
    if reserved is None:
        return None
    try:
        return _upload_and_register(fields, reserved.version, files, card_for, settings)
    except AlreadyRegisteredError:
        return None


def _upload_and_register(
    fields: dict[str, Any],
    version: str,
    files: dict[str, bytes],
    card_for: CardBuilder,
    settings: Settings,
) -> ModelVersionRecord:
    rt = runtime(settings)
    model = fields["model"]
    uploaded: dict[str, dict[str, Any]] = {}
    for name, body in files.items():
        info = rt.store.put_bytes(layout.model_key(model, version, name), body)
        uploaded[name] = {"uri": info.uri, "sha256": sha256_hex(body), "bytes": len(body)}
    card = to_json_bytes(card_for(version, uploaded))
    card_info = rt.store.put_bytes(layout.model_key(model, version, "card.json"), card)
    faults.fault_point("after_upload", settings)
    return rt.registry.register_model_version(
        NewModelVersion(
            **fields,
            version=version,
            artifact_uri=uploaded["model.txt"]["uri"],
            artifact_sha256=uploaded["model.txt"]["sha256"],
            card_uri=card_info.uri,
            card_sha256=sha256_hex(card),
        )
    )
