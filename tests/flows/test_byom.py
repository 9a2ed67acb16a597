"""Bring your own model: a dataset and model the shipped specs know nothing about, YAML only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.integration

CONTRACT = """\
name: loans
kind: events
event_time: applied_at
source: {format: csv, prefix: landing/loans/}
columns:
  applied_at: {type: timestamp}
  income: {type: float, min: 0}
  debt_ratio: {type: float, min: 0, max: 10}
  term_months: {type: int, min: 1, max: 480}
  defaulted: {type: int, allowed: [0, 1]}
"""
MODEL = """\
name: default_risk
task: binary
datasets: [loans]
target: defaulted
features:
  numeric: [income, debt_ratio, term_months]
split: {training_window_days: 90, validation_days: 7, test_days: 7, label_maturity_days: 3,
        min_rows: 200}
policy:
  primary_metric: roc_auc
  mode: non_inferiority
  margin: 0.01
  floors: {roc_auc: 0.6}
"""


def _loans(day: dt.date, rng: np.random.Generator, n: int = 150) -> bytes:
    income = rng.lognormal(10.5, 0.5, n)
    debt = rng.gamma(2.0, 0.4, n)
    term = rng.choice([12, 24, 36, 60], n)
    logit = -3 + 1.8 * debt - 0.8 * np.log(income / 36000) + 0.01 * term
    seconds = np.sort(rng.integers(0, 86_400, n))
    frame = pd.DataFrame(
        {
            "applied_at": [
                f"{day}T{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}Z" for s in seconds
            ],
            "income": income.round(2),
            "debt_ratio": debt.round(3),
            "term_months": term,
            "defaulted": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )
    return frame.to_csv(index=False).encode()


def test_new_dataset_and_model_from_yaml_only(
    prefect_harness: None, retrain_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest_dataset import ingest_dataset
    from flows.retrain_model import retrain_model
    from schemas.loader import list_specs
    from schemas.params import IngestParams, RetrainParams
    from schemas.settings import load_settings
    from tasks.io.runtime import runtime

    specs = tmp_path / "specs"
    (specs / "datasets").mkdir(parents=True)
    (specs / "models").mkdir()
    (specs / "datasets" / "loans.yaml").write_text(CONTRACT)
    (specs / "models" / "default_risk.yaml").write_text(MODEL)
    assert "loans" not in list_specs("datasets", None)  # unknown to the shipped specs
    monkeypatch.setenv("RETRAIN_SPECS_DIR", str(specs))

    store = runtime(load_settings()).store
    rng = np.random.default_rng(5)
    start = dt.date(2025, 1, 1)
    for k in range(30):
        day = start + dt.timedelta(days=k)
        store.put_bytes(f"landing/loans/{day}/loans.csv", _loans(day, rng))

    ingested = ingest_dataset(IngestParams(dataset="loans"))
    assert ingested["version"]["rows"] == 30 * 150
    result = retrain_model(RetrainParams(model="default_risk"))
    assert result["outcome"] == "promoted", result["reasons"]
    assert result["metrics"]["roc_auc"] > 0.6
    champion = runtime(load_settings()).registry.champion("default_risk")
    assert champion is not None and champion.dataset_versions == {"loans": "v1"}
    again = retrain_model(RetrainParams(model="default_risk"))
    assert again["outcome"] == "skipped"
