"""The quickstart's demo: which models it runs, its days, its bad files and its drift (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from tasks.samples.files import Files, sample_files

START = dt.date(2026, 10, 1)
BACKFILL_DAYS = 7  # the first step lands this many days at once: enough history to train


@dataclass(frozen=True)
class Pipeline:
    """One model of the demo: its events dataset and the bad file it gets."""

    model: str
    events: str
    corruption: str


PIPELINES = (
    Pipeline("fraud", "transactions", "truncated"),
    Pipeline("recs", "interactions", "duplicate_rows"),
)
SNAPSHOTS = ("items", "users")  # land once, before the events that reference them


def demo_batches(days: int) -> list[list[dt.date]]:
    """The days landed at each step: the backfill at once, then one day per step."""
    every = [START + dt.timedelta(days=k) for k in range(days)]
    return [every[:BACKFILL_DAYS]] + [[d] for d in every[BACKFILL_DAYS:]]


@lru_cache(maxsize=8)
def demo_files(dataset: str, days: int, seed: int) -> Files:
    """The demo's files of ``dataset``: a drift from the day after the backfill, one bad file
    the day after that (events); one file on the first day (snapshots)."""
    pipeline = next((p for p in PIPELINES if p.events == dataset), None)
    if pipeline is None:
        return sample_files(dataset, 1, START, seed)
    return sample_files(
        dataset,
        days,
        START,
        seed,
        drift_from_day=BACKFILL_DAYS + 1,
        corrupt=pipeline.corruption,
        corrupt_day=BACKFILL_DAYS + 2,
    )
