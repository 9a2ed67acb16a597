"""The adapters a run needs, opened once per process from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.settings import Settings, load_settings
from tasks.io.registry import Registry
from tasks.io.stores import ObjectStore, open_store


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: ObjectStore
    registry: Registry


_OPEN: dict[Settings, Runtime] = {}


def runtime(settings: Settings | None = None) -> Runtime:
    """Store and registry for these settings (the environment's when omitted), cached per process.

    Raises:
        StoreError, RegistryError: the store URL or the database is unusable.
    """
    key = settings or load_settings()
    if key not in _OPEN:
        store = open_store(key.object_store_url)
        _OPEN[key] = Runtime(key, store, Registry.open(key.registry_url))
    return _OPEN[key]


def close_all() -> None:
    """Close every cached registry (tests, end of a CLI command)."""
    for rt in _OPEN.values():
        rt.registry.close()
    _OPEN.clear()
