"""What a run shows in the Prefect UI: the ingestion table and the retraining report."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.samples import Sample

pytestmark = pytest.mark.integration


def _latest(key: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    async def read() -> Any:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
                limit=1,
            )
            return found[0] if found else None

    return asyncio.run(read())


def test_runs_publish_their_reports_as_artifacts(
    env: Path, sample: Sample, ingest: Callable[[], Any], retrain: Callable[..., Any]
) -> None:
    sample.land(sample.backfill)
    ingest()
    result = retrain()
    table = _latest("ingest-transactions")
    assert table is not None and table.type == "table"
    assert "new version v1" in table.description
    assert "accepted" in str(table.data)
    report = _latest("retrain-fraud")
    assert report is not None and report.type == "markdown"
    assert f"# fraud: {result['outcome']}" in report.data
    assert "models/fraud/v1/model.txt" in report.data
