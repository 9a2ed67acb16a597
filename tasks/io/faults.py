"""A test-only fault hook: end the process abruptly at a named step boundary.

``RETRAIN_FAULT_AT=<point>`` (the ``fault_at`` setting) makes the process exit at once with
code 137 (what a SIGKILL'd process reports) when it reaches that point: no ``finally``
blocks, no handlers, no flushing, as when a node disappears. ``tests/reliability`` uses it
to check that every rerun heals what the killed run left. Unset (the default), nothing
happens. Never set it in production.
"""

from __future__ import annotations

import os

from schemas.settings import Settings

TRAINING_POINTS = ("after_upload", "after_register", "after_cas", "before_pointer", "after_pointer")
INGESTION_POINTS = ("after_manifest",)  # the manifest written, the version not committed
POINTS = TRAINING_POINTS + INGESTION_POINTS
EXIT_CODE = 137


def fault_point(name: str, settings: Settings) -> None:
    """Exit the process now if ``settings.fault_at`` names this boundary."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r}: use one of {', '.join(POINTS)}")
    if settings.fault_at == name:
        os._exit(EXIT_CODE)
