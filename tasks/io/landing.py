"""Dropping files into a dataset's landing prefix, as a producer would."""

from __future__ import annotations

import datetime as dt

from schemas.contracts import load_contract
from schemas.settings import Settings
from tasks.io.runtime import runtime


def landing_file_key(prefix: str, day: dt.date, name: str) -> str:
    """``<prefix><YYYY-MM-DD>/<name>``: where producers drop a day's file."""
    return f"{prefix}{day.isoformat()}/{name}"


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
