"""Fixtures for the flow, CLI and S3 integration tests (sample data: tests/helpers/samples.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.samples import DAYS, ROWS_PER_DAY, SEED, START, Sample, relaxed_fraud_spec


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
