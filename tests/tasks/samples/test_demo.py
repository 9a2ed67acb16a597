"""The quickstart's demo plan: a backfill, then one day a step; a drift and a bad file."""

from __future__ import annotations

import datetime as dt

import pytest

from tasks.samples.demo import BACKFILL_DAYS, PIPELINES, START, demo_batches, demo_files

pytestmark = pytest.mark.unit


def test_the_backfill_lands_at_once_then_one_day_per_step() -> None:
    batches = demo_batches(10)
    assert [len(b) for b in batches] == [BACKFILL_DAYS, 1, 1, 1]
    days = [d for b in batches for d in b]
    assert days == [START + dt.timedelta(days=k) for k in range(10)]


def test_each_events_dataset_gets_its_bad_file_the_day_after_the_drift_starts() -> None:
    bad_day = START + dt.timedelta(days=BACKFILL_DAYS + 2)
    for pipeline in PIPELINES:
        files = demo_files(pipeline.events, 12, 7)
        names = [n for day, named in files.items() for n in named if day == bad_day]
        assert any(pipeline.corruption in n for n in names), names
        assert all(len(files[d]) == 1 for d in files if d != bad_day)


def test_snapshots_land_once_on_the_first_day() -> None:
    assert list(demo_files("items", 12, 7)) == [START]
