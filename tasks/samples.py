"""Sample landing files for every shipped dataset, and dropping them into landing/."""

from __future__ import annotations

import datetime as dt

from schemas.contracts import load_contract
from schemas.settings import Settings
from tasks.core import generate
from tasks.errors import SpecError
from tasks.runtime import runtime

GENERATED = ("transactions", "interactions", "items", "users")
Files = dict[dt.date, dict[str, bytes]]


def landing_file_key(prefix: str, day: dt.date, name: str) -> str:
    return f"{prefix}{day.isoformat()}/{name}"


def sample_files(
    dataset: str,
    days: int,
    start: dt.date,
    seed: int,
    rows_per_day: int | None = None,
    drift_from_day: int | None = None,
    corrupt: str | None = None,
    corrupt_day: int | None = None,
) -> Files:
    """Sample files by day and file name (pure: nothing is written).

    Events datasets get one file a day; snapshots (items, users) one file on
    the first day. With ``corrupt``, one extra bad file of that kind is added
    on ``corrupt_day`` (0-based; default: the last day) beside the good one.
    """
    if dataset not in GENERATED:
        raise SpecError(
            f"no sample generator for dataset {dataset!r} (have: {', '.join(GENERATED)})"
        )
    if dataset in ("items", "users"):
        frame = (
            generate.generate_items(seed) if dataset == "items" else generate.generate_users(seed)
        )
        return {start: {f"{dataset}-{start.isoformat()}.csv": generate.to_csv_bytes(frame)}}
    if dataset == "transactions":
        frames = generate.generate_transactions(
            days, start, seed, rows_per_day=rows_per_day or 4000, drift_from_day=drift_from_day
        )
        corrupt_fn = generate.corrupt_transactions
    else:
        frames = generate.generate_interactions(
            days,
            start,
            seed,
            generate.generate_users(seed),
            generate.generate_items(seed),
            rows_per_day=rows_per_day or 3000,
            drift_from_day=drift_from_day,
        )
        corrupt_fn = generate.corrupt_interactions
    out: Files = {}
    for k, (day, frame) in enumerate(sorted(frames.items())):
        files = {f"{dataset}-{day.isoformat()}.csv": generate.to_csv_bytes(frame)}
        if corrupt is not None and k == (days - 1 if corrupt_day is None else corrupt_day):
            files[f"{dataset}-{day.isoformat()}-{corrupt}.csv"] = corrupt_fn(frame, corrupt, seed)
        out[day] = files
    return out


def corruption_kinds(dataset: str) -> tuple[str, ...]:
    """Bad-file kinds the generator can write for a dataset."""
    if dataset == "transactions":
        return tuple(generate.CORRUPTION_KINDS)
    if dataset == "interactions":
        return tuple(generate.INTERACTION_CORRUPTION_KINDS)
    return ()


def write_landing(
    settings: Settings, dataset: str, day: dt.date, files: dict[str, bytes]
) -> list[str]:
    """Drop files into ``landing/<dataset>/<day>/`` as a producer would; returns their URIs."""
    store = runtime(settings).store
    prefix = load_contract(dataset, settings.specs_dir).landing_prefix
    return [
        store.put_bytes(landing_file_key(prefix, day, name), body).uri
        for name, body in files.items()
    ]


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
