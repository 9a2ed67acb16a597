"""Steps an operator runs by hand: verify artifacts, datasets and the registry, collect
garbage, roll the champion back, describe it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.errors import IntegrityError, RetrainError
from schemas.loader import list_specs
from schemas.settings import Settings
from schemas.specs import load_model_spec
from tasks.io import artifacts, audit, catalog, cleanup, faults, pointer
from tasks.io.runtime import runtime


@task(cache_policy=NO_CACHE)
def verify_model(
    model: str, version: str | None, settings: Settings, datasets: bool = True
) -> dict[str, Any]:
    """Check every artifact's sha256 against the registry; repair a lagging ``champion.json``;
    check the registry's champion story and (``datasets``) the manifests and partitions of
    the datasets the model trains on. Each problem is a named finding."""
    records = runtime(settings).registry.list_model_versions(model)
    if version is not None:
        records = [r for r in records if r.version == version]
        if not records:
            raise RetrainError(f"model {model} has no version {version}")
    checks = [artifacts.verify_version(r, settings) for r in records]
    synced = pointer.reconcile(model, settings)
    findings = audit.registry_findings(model, synced, settings)
    checked: list[dict[str, Any]] = []
    if datasets:
        for name in load_model_spec(model, settings.specs_dir).datasets:
            summaries, found = audit.dataset_findings(name, settings)
            checked += summaries
            findings += found
    ok = all(c["ok"] for c in checks) and not findings
    return {
        "model": model, "ok": ok, "versions": checks, "champion_pointer": synced.pointer,
        "pointer_repaired": synced.repaired, "pointer_detail": synced.detail,
        "datasets": checked, "findings": findings,
    }  # fmt: skip


@task(cache_policy=NO_CACHE)
def verify_everything(settings: Settings) -> dict[str, Any]:
    """``verify`` of every model spec, and every dataset's manifests and partitions."""
    models = [
        verify_model.fn(m, None, settings, False) for m in list_specs("models", settings.specs_dir)
    ]
    seen: set[tuple[str, str]] = set()
    checked: list[dict[str, Any]] = []
    findings: list[dict[str, str]] = []
    for name in list_specs("datasets", settings.specs_dir):
        summaries, found = audit.dataset_findings(name, settings, seen)
        checked += summaries
        findings += found
    ok = all(m["ok"] for m in models) and not findings
    return {"ok": ok, "models": models, "datasets": checked, "findings": findings}


@task(cache_policy=NO_CACHE)
def rollback_champion(
    model: str,
    to: str | None,
    actor: str,
    reason: str,
    settings: Settings,
    expected: str | None = None,
) -> dict[str, Any]:
    """Restore an earlier champion (a new ledger entry), then the pointer.

    Every artifact of the target is re-read against its sha256 before the
    compare-and-swap: a damaged one is refused, naming the file. ``expected`` (the
    champion to replace) makes a retry of a rollback that already happened a no-op
    (``moved`` false) instead of a second move.
    """
    registry = runtime(settings).registry

    def intact(version: str) -> None:
        record = registry.get_model_version(model, version)
        found = artifacts.verify_version(record, settings) if record else None
        if found is not None and not found["ok"]:
            problems = "; ".join(found["problems"])
            raise IntegrityError(f"model {model} {version} is damaged, not restored: {problems}")

    entry, moved = registry.rollback(model, to, actor, reason, expected=expected, check=intact)
    faults.fault_point("after_cas", settings)
    faults.fault_point("before_pointer", settings)
    synced = pointer.reconcile(model, settings)
    faults.fault_point("after_pointer", settings)
    return asdict(entry) | {"moved": moved, "pointer": synced.detail}


@task(cache_policy=NO_CACHE)
def describe_champion(model: str, settings: Settings) -> dict[str, Any] | None:
    """The champion of ``model`` (lineage, metrics, artifacts), or None if it has none."""
    return catalog.champion_data(settings, model)


@task(cache_policy=NO_CACHE)
def collect_garbage(dry_run: bool, settings: Settings) -> dict[str, Any]:
    """Remove unregistered version folders, orphan manifests and stale checkpoints (never
    anything registered); with ``dry_run``, only list them."""
    return cleanup.collect(settings, dry_run).to_dict()
