"""Write generated sample data into a dataset's landing prefix (what producers would do)."""

from __future__ import annotations

import datetime as dt

from schemas.contracts import load_contract
from schemas.settings import Settings
from tasks.core import generate
from tasks.errors import SpecError
from tasks.runtime import runtime

GENERATED = ("transactions",)


def landing_file_key(prefix: str, day: dt.date, name: str) -> str:
    return f"{prefix}{day.isoformat()}/{name}"


def transaction_files(
    days: int,
    start: dt.date,
    seed: int,
    rows_per_day: int = 4000,
    drift_from_day: int | None = None,
    corrupt: str | None = None,
    corrupt_day: int | None = None,
) -> dict[dt.date, dict[str, bytes]]:
    """Daily transaction CSVs by day and file name (pure: nothing is written).

    With ``corrupt``, one extra bad file of that kind is added on ``corrupt_day``
    (0-based; default: the last day) beside the good one.
    """
    frames = generate.generate_transactions(
        days, start, seed, rows_per_day=rows_per_day, drift_from_day=drift_from_day
    )
    out: dict[dt.date, dict[str, bytes]] = {}
    for k, (day, frame) in enumerate(sorted(frames.items())):
        files = {f"transactions-{day.isoformat()}.csv": generate.to_csv_bytes(frame)}
        if corrupt is not None and k == (days - 1 if corrupt_day is None else corrupt_day):
            bad = generate.corrupt_transactions(frame, corrupt, seed)
            files[f"transactions-{day.isoformat()}-{corrupt}.csv"] = bad
        out[day] = files
    return out


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


def check_generated(dataset: str) -> None:
    """Raise SpecError for datasets without a sample generator."""
    if dataset not in GENERATED:
        raise SpecError(
            f"no sample generator for dataset {dataset!r} (have: {', '.join(GENERATED)})"
        )
