"""Fixtures for the flow, CLI and S3 integration tests.

Small sample data, and a user spec folder holding a copy of the shipped ``fraud``
spec with thresholds fit for it (fewer rows per split, low floors, no fairness
guard, day-fraction windows), so three landing files are enough to train, a first
model is promoted and a later one is compared and promoted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
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


@pytest.fixture(scope="session")
def specs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A RETRAIN_SPECS_DIR with the relaxed fraud spec (datasets come from the shipped ones)."""
    root = tmp_path_factory.mktemp("specs")
    (root / "models").mkdir()
    text = yaml.safe_dump(relaxed_fraud_spec(), sort_keys=False)
    (root / "models" / "fraud.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def sample() -> Sample:
    """Sample transactions, generated once per session (pure)."""
    from tasks.samples import transaction_files

    return Sample(transaction_files(DAYS, START, SEED, rows_per_day=ROWS_PER_DAY))


@pytest.fixture(scope="session")
def pinned_code_version() -> str:
    """The code version, read once: other engineers edit tasks/ while the tests run."""
    from tasks.io.lineage import code_version

    return code_version()


@pytest.fixture
def env(
    prefect_harness: None,
    retrain_home: Path,
    specs_dir: Path,
    pinned_code_version: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Prefect harness + a fresh RETRAIN_HOME + the relaxed specs; returns the home.

    The training code version is pinned for the test so that a concurrent edit of
    tasks/ cannot change the training key between two runs of one test.
    """
    import tasks.steps.train

    monkeypatch.setenv("RETRAIN_SPECS_DIR", str(specs_dir))
    monkeypatch.setattr(tasks.steps.train, "code_version", lambda: pinned_code_version)
    return retrain_home


@pytest.fixture
def ingest() -> Callable[[], dict[str, Any]]:
    """Run the ingestion flow for transactions."""

    def run() -> dict[str, Any]:
        from flows.ingest_dataset import ingest_dataset
        from schemas.params import IngestParams

        return ingest_dataset(IngestParams(dataset="transactions"))

    return run


@pytest.fixture
def retrain() -> Callable[..., dict[str, Any]]:
    """Run the retraining flow for fraud."""

    def run(dataset_version: str | None = None) -> dict[str, Any]:
        from flows.retrain_model import retrain_model
        from schemas.params import RetrainParams

        return retrain_model(RetrainParams(model="fraud", dataset_version=dataset_version))

    return run


@pytest.fixture
def store_root(env: Path) -> Path:
    """The file store's root folder under the test's RETRAIN_HOME."""
    return env / "store"


@pytest.fixture
def registry(env: Path) -> Any:
    """The registry of the test's RETRAIN_HOME."""
    from schemas.settings import load_settings
    from tasks.io.runtime import runtime

    return runtime(load_settings()).registry


@pytest.fixture
def champion_home(
    env: Path,
    sample: Sample,
    ingest: Callable[[], dict[str, Any]],
    retrain: Callable[..., dict[str, Any]],
) -> Path:
    """A home where the backfill is ingested (transactions v1) and fraud v1 is champion."""
    sample.land(sample.backfill)
    assert ingest()["version"]["version"] == "v1"
    result = retrain()
    assert (result["outcome"], result["champion"]) == ("promoted", "v1"), result
    return env
