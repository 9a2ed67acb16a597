"""What a run shows in the Prefect UI: the ingestion table and the retraining report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.prefect import latest_artifact
from tests.helpers.samples import Sample

pytestmark = pytest.mark.integration


def test_runs_publish_their_reports_as_artifacts(
    env: Path, sample: Sample, ingest: Callable[[], Any], retrain: Callable[..., Any]
) -> None:
    sample.land(sample.backfill)
    ingest()
    result = retrain()
    table = latest_artifact("ingest-transactions")
    assert table is not None and table.type == "table"
    assert "new version v1" in table.description
    assert "accepted" in str(table.data)
    report = latest_artifact("retrain-fraud")
    assert report is not None and report.type == "markdown"
    assert f"# fraud: {result['outcome']}" in report.data
    assert "models/fraud/v1/model.txt" in report.data
