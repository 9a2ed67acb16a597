"""Taking a model version number before uploading: reserve, or reclaim a stale reservation.

A run that finds its inputs reserved by a live run (or already registered) lost the race
and uploads nothing. A reservation whose run is no longer running is stale: the next run
of the same inputs takes it over, and first clears what the dead holder uploaded (files
no registry row refers to).
"""

from __future__ import annotations

from schemas.errors import LostRaceError, RetrainError
from schemas.settings import Settings
from tasks.core import layout
from tasks.io import accounting
from tasks.io.registry import ReservationRecord
from tasks.io.runtime import runtime

ATTEMPTS = 5


def claim_version(
    model: str, training_key: str, run_id: int, settings: Settings
) -> ReservationRecord | None:
    """The version ``run_id`` may upload to, or None: another run holds or registered these
    inputs (this run lost the race)."""
    registry = runtime(settings).registry
    for _attempt in range(ATTEMPTS):
        try:
            held = registry.reserve_version(model, training_key, run_id)
        except LostRaceError:
            continue  # another run reserved the same number at once: read again
        if held.run_id == run_id:
            clear_leftovers(model, held.version, settings)
            return held
        if registry.find_model_version(model, training_key) is not None:
            return None
        if accounting.is_live(held.run_id, settings):
            return None
        registry.move_reservation(held, run_id)  # stale: take it over (read again either way)
    raise RetrainError(f"{model}: could not reserve a version after {ATTEMPTS} attempts")


def clear_leftovers(model: str, version: str, settings: Settings) -> list[str]:
    """Delete what sits under ``models/<model>/<version>/`` when no registered version owns
    it (a dead holder's uploads); returns the keys deleted."""
    rt = runtime(settings)
    if rt.registry.get_model_version(model, version) is not None:
        return []
    keys = [o.key for o in rt.store.list(layout.model_key(model, version, ""))]
    for key in keys:
        rt.store.purge(key)
    return keys
