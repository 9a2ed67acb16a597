"""Garbage collection of what failed runs left in the store: never anything registered.

Four kinds of leftovers, each found by comparing the store with the registry (listed
first, the registry read after, so a run that reserved and uploaded meanwhile is seen):

- ``unregistered_version``: ``models/<model>/<version>/`` with no registered version. Kept
  while a live run holds the number's reservation; a stale reservation is released (a
  compare-and-swap) before its files go, so a run reclaiming it at once is not robbed.
- ``unregistered_report``: ``reports/<model>/<version>/`` (an evaluation report) of a
  version that is not registered, kept likewise while a live run holds the reservation.
- ``orphan_manifest``: ``datasets/<dataset>/<version>.json`` with no committed version,
  numbered below the latest committed one (a higher one may be a commit in progress).
- ``stale_checkpoints``: ``checkpoints/<model>/<training key>/`` whose inputs are
  registered (nothing will resume from them) and that no live run is writing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from schemas.settings import Settings
from tasks.core.champions import version_name
from tasks.io import accounting
from tasks.io.runtime import runtime


@dataclass(frozen=True)
class Leftover:
    """One group of objects gc removes (or would remove), or keeps and says why."""

    kind: str
    where: str  # the folder or object's URI
    objects: int
    why: str
    keys: list[str] = field(default_factory=list, repr=False)


@dataclass(frozen=True)
class Collection:
    """What one gc pass found, removed and kept."""

    dry_run: bool
    removed: list[Leftover]
    kept: list[Leftover]
    runs_closed: list[int]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``retrain gc --json`` (object keys left out)."""

        def shown(items: list[Leftover]) -> list[dict[str, Any]]:
            return [{k: v for k, v in asdict(i).items() if k != "keys"} for i in items]

        return {
            "dry_run": self.dry_run, "removed": shown(self.removed), "kept": shown(self.kept),
            "runs_closed": self.runs_closed,
        }  # fmt: skip


def collect(settings: Settings, dry_run: bool) -> Collection:
    """Find every leftover; unless ``dry_run``, delete it. Returns what was found."""
    found = [
        *_versions(settings, "models/", "unregistered_version"),
        *_versions(settings, "reports/", "unregistered_report"),
        *_manifests(settings),
        *_checkpoints(settings),
    ]
    removed = [f for f in found if f.kind != "kept"]
    kept = [f for f in found if f.kind == "kept"]
    closed: list[int] = []
    if not dry_run:
        models = {r.model for r in runtime(settings).registry.list_training_runs()}
        for model in sorted(models):
            closed += accounting.close_abandoned_runs(model, settings)
        removed = [r for r in removed if _remove(r, settings)]
    return Collection(dry_run, removed, kept, sorted(closed))


def _folders(settings: Settings, prefix: str, depth: int) -> dict[tuple[str, ...], list[str]]:
    """Object keys under ``prefix`` grouped by their next ``depth`` path parts."""
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for obj in runtime(settings).store.list(prefix):
        parts = obj.key[len(prefix) :].split("/")
        if len(parts) > depth:
            groups[tuple(parts[:depth])].append(obj.key)
    return groups


def _folder_uri(prefix: str, keys: list[str], settings: Settings) -> str:
    """The URI of the folder ``prefix`` (of its first object's URI, less the object's name)."""
    uri = runtime(settings).store.uri(keys[0])
    return uri[: len(uri) - len(keys[0]) + len(prefix)]


def _versions(settings: Settings, prefix: str, kind: str) -> list[Leftover]:
    """Folders ``<prefix><model>/<version>/`` of versions the registry does not hold."""
    rt, out = runtime(settings), []
    for (model, version), keys in sorted(_folders(settings, prefix, 2).items()):
        if version_name(version) != version:
            continue  # reports/<model>/monitoring/: not a version's
        if rt.registry.get_model_version(model, version) is not None:
            continue
        where = _folder_uri(f"{prefix}{model}/{version}/", keys, settings)
        held = rt.registry.find_reservation(model, version)
        if held is not None and accounting.is_live(held.run_id, settings):
            why = f"reserved by training run {held.run_id}, still running"
            out.append(Leftover("kept", where, len(keys), why, keys))
            continue
        why = f"{model} {version} is not registered" + (
            f" (its reservation's run {held.run_id} is no longer running)" if held else ""
        )
        out.append(Leftover(kind, where, len(keys), why, keys))
    return out


def _manifests(settings: Settings) -> list[Leftover]:
    rt, out = runtime(settings), []
    for (dataset,), keys in sorted(_folders(settings, "datasets/", 1).items()):
        latest = rt.registry.latest_dataset_version(dataset)
        for key in keys:
            version = key.rsplit("/", 1)[-1].removesuffix(".json")
            if rt.registry.get_dataset_version(dataset, version) is not None:
                continue
            seq = int(version[1:]) if version[1:].isdigit() else 0
            if latest is None or seq > latest.seq:
                why = f"{dataset} {version} is not committed: it may be a commit in progress"
                out.append(Leftover("kept", rt.store.uri(key), 1, why, [key]))
                continue
            why = f"{dataset} {version} was never committed (latest is {latest.version})"
            out.append(Leftover("orphan_manifest", rt.store.uri(key), 1, why, [key]))
    return out


def _checkpoints(settings: Settings) -> list[Leftover]:
    rt, out = runtime(settings), []
    for (model, key), keys in sorted(_folders(settings, "checkpoints/", 2).items()):
        record = rt.registry.find_model_version(model, key)
        if record is None:
            continue  # a later run of these inputs resumes from them
        runs = rt.registry.list_training_runs(model)
        if any(r.training_key == key and accounting.is_live(r.id, settings) for r in runs):
            continue
        where = _folder_uri(f"checkpoints/{model}/{key}/", keys, settings)
        why = f"these inputs are registered as {model} {record.version}"
        out.append(Leftover("stale_checkpoints", where, len(keys), why, keys))
    return out


def _remove(leftover: Leftover, settings: Settings) -> bool:
    """Delete one leftover's objects (a stale reservation released first); False: kept."""
    rt = runtime(settings)
    if leftover.kind in ("unregistered_version", "unregistered_report"):
        model, version = leftover.keys[0].split("/")[1:3]
        held = rt.registry.find_reservation(model, version)
        if (
            held is not None
            and held.run_id is not None
            and not rt.registry.move_reservation(held, None)
        ):
            return False  # a run reclaimed it meanwhile: its files now
    for key in leftover.keys:
        rt.store.purge(key)
    return True
