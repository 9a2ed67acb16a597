"""Sample data shared by the flow, CLI and end-to-end tests, and small readers of its files.

A few days of generated transactions, and a copy of the shipped ``fraud`` spec with
thresholds fit for it (fewer rows per split, low floors, no fairness guard,
day-fraction windows), so three landing files are enough to train, a first model is
promoted and a later one is compared and promoted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

START = dt.date(2026, 10, 1)
SEED = 7
DAYS = 4  # the first 3 days are the backfill, the 4th is "new data"
ROWS_PER_DAY = 1500

Files = dict[dt.date, dict[str, bytes]]


def relaxed_fraud_spec() -> dict[str, Any]:
    """The shipped fraud spec, sized for a few days of ~1500 rows (windows in fractions of days)."""
    from schemas.loader import SHIPPED_DIR

    spec = yaml.safe_load((SHIPPED_DIR / "models" / "fraud.yaml").read_text(encoding="utf-8"))
    spec["split"].update(
        {"validation_days": 0.75, "test_days": 0.75, "label_maturity_days": 0.25, "min_rows": 300}
    )
    spec["lightgbm"]["num_boost_round"] = 60
    spec["lightgbm"]["early_stopping_rounds"] = 20
    policy = spec["policy"]
    policy["margin"] = 0.5
    policy["bootstrap_resamples"] = 200
    policy["floors"] = {"pr_auc": 0.02, "roc_auc": 0.55}
    guards = policy["guards"]
    guards.pop("fairness", None)
    guards["slices"]["max_regression"] = 1.0
    guards["max_calibration_error"] = 0.5
    guards["max_latency_p99_ms"] = 1000
    guards["robustness"]["max_mean_shift"] = 0.5
    # Windows of a fraction of a day hold part of the daily cycle: the hour of day (and the
    # score, which uses it) differ between the holdout and the recent rows by construction.
    spec["monitoring"] = {
        "features": ["amount", "customer_age", "merchant_category", "channel", "country",
                     "amount_vs_usual", "foreign_country"],
        "watch_score": False,
        "bootstrap_resamples": 200,
    }  # fmt: skip
    return spec


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_json(path: Path) -> Any:
    return json.loads(path.read_bytes())


def csv_rows(data: bytes) -> int:
    """Data rows of a generated landing CSV (header excluded)."""
    return len(data.decode("utf-8").strip().splitlines()) - 1


@dataclass(frozen=True)
class Sample:
    """DAYS days of generated transaction CSVs and a way to drop them into landing/."""

    files: Files

    @property
    def days(self) -> list[dt.date]:
        return sorted(self.files)

    @property
    def backfill(self) -> list[dt.date]:
        return self.days[: DAYS - 1]

    @property
    def new_day(self) -> dt.date:
        return self.days[DAYS - 1]

    def rows(self, days: list[dt.date]) -> int:
        return sum(csv_rows(body) for d in days for body in self.files[d].values())

    def land(self, days: list[dt.date]) -> list[str]:
        """Write the files of ``days`` as a producer would (environment's settings)."""
        from schemas.settings import load_settings
        from tasks.io.landing import write_landing

        settings = load_settings()
        return [
            uri
            for day in days
            for uri in write_landing(settings, "transactions", day, self.files[day])
        ]

    def land_renamed(self, day: dt.date, name: str, ids: list[str], rows: list[int]) -> None:
        """Land legitimate rows of ``day`` (positions ``rows``: they pass every check) as a
        file ``transactions-<day>-<name>.csv``, their transaction ids replaced by ``ids``."""
        import io

        import pandas as pd

        from schemas.settings import load_settings
        from tasks.io.landing import write_landing

        frame = pd.read_csv(io.BytesIO(self.files[day][f"transactions-{day}.csv"]))
        picked = frame.query("is_fraud == 0").iloc[rows].assign(transaction_id=ids)
        body = picked.to_csv(index=False).encode()
        named = {f"transactions-{day}-{name}.csv": body}
        write_landing(load_settings(), "transactions", day, named)


@dataclass(frozen=True)
class Landing:
    """Sample transaction files, dropped into the store as a producer would."""

    home: Path
    specs: Path

    def drop(self, day: dt.date, files: dict[str, bytes]) -> list[dict[str, Any]]:
        """Write one day's files; returns their arrival events (payload: uri, size, etag)."""
        from tasks.io.landing import write_landing
        from tasks.io.runtime import runtime

        settings = self.settings()
        store = runtime(settings).store
        events = []
        for uri in write_landing(settings, "transactions", day, files):
            info = store.head(store.key_of(uri))
            assert info is not None
            events.append(
                {
                    "event": "retrain.data.arrived",
                    "resource": "retrain.dataset.transactions",
                    "payload": {"uri": uri, "size": info.size, "etag": info.etag},
                }
            )
        return events

    def settings(self) -> Any:
        from schemas.settings import Settings

        return Settings(home=self.home, specs_dir=self.specs)

    def registry(self) -> Any:
        from tasks.io.runtime import runtime

        return runtime(self.settings()).registry
