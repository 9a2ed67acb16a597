"""Sample landing files by day and file name, for every shipped dataset (pure)."""

from __future__ import annotations

import datetime as dt

from schemas.errors import SpecError
from tasks.samples import corruptions
from tasks.samples.recs import generate_interactions, generate_items, generate_users
from tasks.samples.recs_sparse import (
    RATINGS_PER_WEEK,
    generate_sparse_interactions,
    sparse_items,
    sparse_users,
)
from tasks.samples.transactions import generate_transactions

GENERATED = ("transactions", "interactions", "items", "users")
PROFILES = ("dense", "sparse")
SPARSE_DATASETS = ("interactions", "items", "users")
Files = dict[dt.date, dict[str, bytes]]


def sample_files(
    dataset: str,
    days: int,
    start: dt.date,
    seed: int,
    rows_per_day: int | None = None,
    drift_from_day: int | None = None,
    corrupt: str | None = None,
    corrupt_day: int | None = None,
    profile: str = "dense",
) -> Files:
    """Sample files by day and file name (pure: nothing is written).

    Events datasets get one file a day; snapshots (items, users) one file on
    the first day. With ``corrupt``, one extra bad file of that kind is added
    on ``corrupt_day`` (0-based; default: the last day) beside the good one.
    Profile ``sparse`` (the ranker's datasets only): one interactions file per
    week over ``days`` days, sparse users and a long-tail catalogue.
    """
    if dataset not in GENERATED:
        raise SpecError(
            f"no sample generator for dataset {dataset!r} (have: {', '.join(GENERATED)})"
        )
    if profile not in PROFILES:
        raise SpecError(f"unknown profile {profile!r} (have: {', '.join(PROFILES)})")
    if profile == "sparse":
        return _sparse_files(dataset, days, start, seed, rows_per_day)
    if dataset in ("items", "users"):
        frame = generate_items(seed) if dataset == "items" else generate_users(seed)
        return {start: {f"{dataset}-{start.isoformat()}.csv": corruptions.to_csv_bytes(frame)}}
    if dataset == "transactions":
        frames = generate_transactions(
            days, start, seed, rows_per_day=rows_per_day or 4000, drift_from_day=drift_from_day
        )
        corrupt_fn = corruptions.corrupt_transactions
    else:
        frames = generate_interactions(
            days,
            start,
            seed,
            generate_users(seed),
            generate_items(seed),
            rows_per_day=rows_per_day or 3000,
            drift_from_day=drift_from_day,
        )
        corrupt_fn = corruptions.corrupt_interactions
    out: Files = {}
    for k, (day, frame) in enumerate(sorted(frames.items())):
        files = {f"{dataset}-{day.isoformat()}.csv": corruptions.to_csv_bytes(frame)}
        if corrupt is not None and k == (days - 1 if corrupt_day is None else corrupt_day):
            files[f"{dataset}-{day.isoformat()}-{corrupt}.csv"] = corrupt_fn(frame, corrupt, seed)
        out[day] = files
    return out


def _sparse_files(
    dataset: str, days: int, start: dt.date, seed: int, rows_per_day: int | None
) -> Files:
    if dataset not in SPARSE_DATASETS:
        raise SpecError(f"profile sparse covers {', '.join(SPARSE_DATASETS)}, not {dataset!r}")
    if dataset in ("items", "users"):
        frame = sparse_items(seed) if dataset == "items" else sparse_users(seed)
        return {start: {f"{dataset}-{start.isoformat()}.csv": corruptions.to_csv_bytes(frame)}}
    weekly = 7 * rows_per_day if rows_per_day else RATINGS_PER_WEEK
    frames = generate_sparse_interactions(max(days // 7, 1), start, seed, weekly)
    return {
        day: {f"{dataset}-week-{day.isoformat()}.csv": corruptions.to_csv_bytes(frame)}
        for day, frame in sorted(frames.items())
    }


def corruption_kinds(dataset: str) -> tuple[str, ...]:
    """Bad-file kinds the generator can write for a dataset."""
    if dataset == "transactions":
        return tuple(corruptions.CORRUPTION_KINDS)
    if dataset == "interactions":
        return tuple(corruptions.INTERACTION_CORRUPTION_KINDS)
    return ()


def transaction_files(
    days: int,
    start: dt.date,
    seed: int,
    rows_per_day: int = 4000,
    drift_from_day: int | None = None,
    corrupt: str | None = None,
    corrupt_day: int | None = None,
) -> Files:
    """Daily transaction CSVs (see :func:`sample_files`)."""
    return sample_files(
        "transactions", days, start, seed, rows_per_day, drift_from_day, corrupt, corrupt_day
    )
