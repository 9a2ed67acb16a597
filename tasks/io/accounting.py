"""Training-run accounting: every run is recorded with its duration, capacity and cost."""

from __future__ import annotations

import os
import socket
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.settings import Settings
from tasks.core.costs import RunCost, run_cost
from tasks.io.prices import load_price_table
from tasks.io.registry import TrainingRunRecord
from tasks.io.runtime import runtime

# A run on another host that has not finished after this long is taken for lost (its host's
# process cannot be checked from here); on this host, its process is checked directly.
LOST_AFTER = timedelta(hours=24)


def price_run(wall_seconds: float, settings: Settings) -> RunCost:
    """The cost of a run of this length on the configured capacity and instance type."""
    table = load_price_table(settings)
    return run_cost(wall_seconds, settings.capacity_type, settings.instance_type, table)


def start_run(model: str, training_key: str, settings: Settings) -> int:
    """Open a ``running`` training run (with this host and process id); returns its id."""
    here = {"host": socket.gethostname(), "pid": os.getpid()}
    record = runtime(settings).registry.start_training_run(
        model, training_key, settings.capacity_type, settings.instance_type, here
    )
    return record.id


def is_abandoned(run: TrainingRunRecord, now: datetime | None = None) -> bool:
    """True for a ``running`` run whose process is gone: on this host, no process with its
    pid; elsewhere, still running after :data:`LOST_AFTER`."""
    if run.status != "running":
        return False
    host, pid = run.details.get("host"), run.details.get("pid")
    if host != socket.gethostname() or not isinstance(pid, int):
        return (now or datetime.now(UTC)) - run.started_at > LOST_AFTER
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's live process
        return False
    return False


def is_live(run_id: int | None, settings: Settings) -> bool:
    """True if training run ``run_id`` is running and its process is still there."""
    run = runtime(settings).registry.get_training_run(run_id) if run_id is not None else None
    return run is not None and run.status == "running" and not is_abandoned(run)


def close_abandoned_runs(model: str, settings: Settings) -> list[int]:
    """Close every ``running`` run of ``model`` whose process is gone as ``interrupted``.

    A killed process cannot close its own run; the next run of the model (or ``retrain
    gc``) does. Returns the ids closed.
    """
    registry, closed = runtime(settings).registry, []
    for run in registry.list_training_runs(model):
        if not is_abandoned(run):
            continue
        reason = (
            f"process {run.details.get('pid')} on {run.details.get('host')} ended"
            " without closing the run (duration and cost unknown)"
        )
        if close_if_running(run.id, "interrupted", reason, settings):
            closed.append(run.id)
    return closed


def close_if_running(
    run_id: int,
    status: str,
    reason: str,
    settings: Settings,
    times: tuple[float, float] | None = None,
    outcome: str | None = None,
) -> bool:
    """Close run ``run_id`` with ``status`` unless it has already finished (then False).

    ``times`` (wall, CPU seconds) price the run; without them (a process that died
    unseen) the duration and cost are unknown and recorded as such.
    """
    from schemas.errors import RegistryError

    registry = runtime(settings).registry
    run = registry.get_training_run(run_id)
    if run is None or run.status != "running":
        return False
    details: dict[str, Any] = {"reason": reason}
    cost_usd = None
    if times is not None:
        cost = price_run(times[0], settings)
        details |= {**asdict(cost), "on_demand_usd": cost.on_demand_usd}
        cost_usd = cost.cost_usd
    wall, cpu = times or (0.0, 0.0)
    try:
        registry.finish_training_run(run_id, status, outcome, None, wall, cpu, cost_usd, details)
    except RegistryError:
        after = registry.get_training_run(run_id)
        if after is not None and after.status != "running":
            return False  # closed meanwhile by the run itself or another sweeper
        raise
    return True


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
