"""Flow-run names that say what runs: ``retrain-fraud-2026-10-14-0200`` (UTC)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any


def run_name(kind: str, field: str) -> Callable[[], str]:
    """A ``flow_run_name`` callable: ``<kind>-<params.field>-<UTC date and time>``."""

    def name() -> str:
        from prefect.runtime import flow_run

        params: Any = flow_run.parameters.get("params")
        value = params.get(field) if isinstance(params, dict) else getattr(params, field, None)
        return f"{kind}-{value or 'unknown'}-{datetime.now(UTC):%Y-%m-%d-%H%M}"

    return name
