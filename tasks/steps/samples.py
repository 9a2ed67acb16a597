"""Sample data landed as a producer would land it (the quickstart's first step each day)."""

from __future__ import annotations

import datetime as dt

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.settings import Settings
from tasks.io.landing import write_landing
from tasks.samples import corruption_kinds, sample_files
from tasks.samples.demo import PIPELINES, SNAPSHOTS, START, Pipeline, demo_batches, demo_files

__all__ = [
    "PIPELINES", "SNAPSHOTS", "START", "Pipeline", "corruption_kinds", "land_demo_files",
    "land_sample_files", "plan_demo",
]  # fmt: skip


@task(cache_policy=NO_CACHE)
def plan_demo(days: int) -> list[list[dt.date]]:
    """The days the quickstart lands at each step (the backfill first, then one a step)."""
    return demo_batches(days)


@task(cache_policy=NO_CACHE)
def land_demo_files(
    dataset: str, batch: list[dt.date], days: int, seed: int, settings: Settings
) -> list[str]:
    """Write the demo's files of ``dataset`` for the days of ``batch``; returns their URIs."""
    files = demo_files(dataset, days, seed)
    return [uri for day in batch for uri in write_landing(settings, dataset, day, files[day])]


@task(cache_policy=NO_CACHE)
def land_sample_files(
    dataset: str,
    days: int,
    start: dt.date,
    seed: int,
    settings: Settings,
    rows_per_day: int | None = None,
    drift_from_day: int | None = None,
    corrupt: str | None = None,
    corrupt_day: int | None = None,
    profile: str = "dense",
) -> list[str]:
    """Generate sample files of ``dataset`` and land them day by day; returns their URIs."""
    files = sample_files(
        dataset, days, start, seed, rows_per_day, drift_from_day, corrupt, corrupt_day, profile
    )
    return [
        uri for day, named in files.items() for uri in write_landing(settings, dataset, day, named)
    ]
