"""Training-run accounting: every run is recorded with its duration, capacity and cost."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from schemas.settings import Settings
from tasks.core.costs import RunCost, run_cost
from tasks.io.prices import load_price_table
from tasks.io.runtime import runtime


def price_run(wall_seconds: float, settings: Settings) -> RunCost:
    """The cost of a run of this length on the configured capacity and instance type."""
    table = load_price_table(settings)
    return run_cost(wall_seconds, settings.capacity_type, settings.instance_type, table)


def start_run(model: str, training_key: str, settings: Settings) -> int:
    """Open a ``running`` training run; returns its id."""
    record = runtime(settings).registry.start_training_run(
        model, training_key, settings.capacity_type, settings.instance_type
    )
    return record.id


def finish_run(
    run_id: int,
    status: str,
    outcome: str | None,
    version: str | None,
    times: tuple[float, float],
    settings: Settings,
    cost: RunCost | None = None,
) -> None:
    """Close a training run with its wall/CPU seconds and cost (priced now when not given)."""
    cost = cost or price_run(times[0], settings)
    details: dict[str, Any] = {**asdict(cost), "on_demand_usd": cost.on_demand_usd}
    runtime(settings).registry.finish_training_run(
        run_id, status, outcome, version, times[0], times[1], cost.cost_usd, details
    )


def record_skipped_run(model: str, training_key: str, reason: str, settings: Settings) -> None:
    """A run that had nothing to learn from: recorded, and it costs nothing."""
    run_id = start_run(model, training_key, settings)
    runtime(settings).registry.finish_training_run(
        run_id, "skipped", "skipped", None, 0.0, 0.0, 0.0, {"reason": reason, "on_demand_usd": 0.0}
    )


def spent_this_month(model: str, settings: Settings, now: datetime | None = None) -> float:
    """Training cost of ``model`` since the first day of the current month (UTC)."""
    now = now or datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    runs = runtime(settings).registry.list_training_runs(model)
    return sum(r.cost_usd or 0.0 for r in runs if r.started_at >= start)
