"""Cost accounting end to end: recorded runs, `retrain cost`, the monthly budget."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.helpers.samples import Sample, relaxed_fraud_spec

pytestmark = pytest.mark.integration


@pytest.fixture
def spot(env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RETRAIN_CAPACITY_TYPE", "spot")
    monkeypatch.setenv("RETRAIN_INSTANCE_TYPE", "c6i.xlarge")
    return env


def test_runs_are_costed_and_cost_reports_them(
    spot: Path,
    sample: Sample,
    ingest: Callable[[], Any],
    retrain: Callable[..., Any],
    registry: Any,
) -> None:
    from flows.cli import app

    sample.land(sample.backfill)
    ingest()
    assert retrain()["outcome"] == "promoted"
    assert retrain()["outcome"] == "skipped"
    runs = registry.list_training_runs("fraud")
    trained = next(r for r in runs if r.status == "succeeded")
    skipped = next(r for r in runs if r.status == "skipped")
    assert (trained.capacity_type, trained.instance_type) == ("spot", "c6i.xlarge")
    assert trained.cost_usd == pytest.approx(trained.wall_seconds / 3600 * 0.064, rel=1e-3)
    assert trained.details["on_demand_usd"] == pytest.approx(
        trained.wall_seconds / 3600 * 0.17, rel=1e-3
    )
    assert skipped.cost_usd == 0.0
    card = json.loads((spot / "store/models/fraud/v1/card.json").read_text())
    assert card["training"]["cost"]["cost_usd"] == pytest.approx(trained.cost_usd)

    out = CliRunner().invoke(app, ["cost", "fraud", "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["spend_usd"] == pytest.approx(sum(r.cost_usd or 0 for r in runs))
    assert report["savings_usd"] > 0
    assert report["promotions"] == 1
    assert report["cost_per_promotion_usd"] == pytest.approx(report["spend_usd"])


def test_monthly_budget_refuses_training_once_spent(
    spot: Path,
    sample: Sample,
    ingest: Callable[[], Any],
    retrain: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = relaxed_fraud_spec()
    spec["policy"]["monthly_budget_usd"] = 1e-9
    (tmp_path / "budget" / "models").mkdir(parents=True)
    (tmp_path / "budget" / "models" / "fraud.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setenv("RETRAIN_SPECS_DIR", str(tmp_path / "budget"))
    sample.land(sample.backfill)
    ingest()
    assert retrain()["outcome"] in ("promoted", "rejected")
    sample.land([sample.new_day])
    ingest()
    refused = retrain()
    assert refused["outcome"] == "skipped"
    assert "monthly training budget spent" in refused["reasons"][0]
