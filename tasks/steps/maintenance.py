"""Steps an operator runs by hand: verify artifacts, roll the champion back, describe it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.errors import RetrainError
from schemas.settings import Settings
from tasks.io import artifacts, catalog, pointer
from tasks.io.runtime import runtime


@task(cache_policy=NO_CACHE)
def verify_model(model: str, version: str | None, settings: Settings) -> dict[str, Any]:
    """Check every artifact's sha256 against the registry; repair a lagging ``champion.json``."""
    records = runtime(settings).registry.list_model_versions(model)
    if version is not None:
        records = [r for r in records if r.version == version]
        if not records:
            raise RetrainError(f"model {model} has no version {version}")
    checks = [artifacts.verify_version(r, settings) for r in records]
    synced = pointer.reconcile(model, settings)
    ok = all(c["ok"] for c in checks)
    return {
        "model": model, "ok": ok, "versions": checks, "champion_pointer": synced.pointer,
        "pointer_repaired": synced.repaired, "pointer_detail": synced.detail,
    }  # fmt: skip


@task(cache_policy=NO_CACHE)
def rollback_champion(
    model: str, to: str | None, actor: str, reason: str, settings: Settings
) -> dict[str, Any]:
    """Restore an earlier champion (a new ledger entry), then the pointer."""
    entry = runtime(settings).registry.rollback(model, to, actor=actor, reason=reason)
    pointer.reconcile(model, settings)
    return asdict(entry)


@task(cache_policy=NO_CACHE)
def describe_champion(model: str, settings: Settings) -> dict[str, Any] | None:
    """The champion of ``model`` (lineage, metrics, artifacts), or None if it has none."""
    return catalog.champion_data(settings, model)
