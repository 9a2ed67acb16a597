"""What a run shows in Prefect: its name, its final state's message, the ingestion table,
the retraining report and its checks, and no-op runs that bury nothing."""

from __future__ import annotations

import asyncio
import json
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
    assert table.description.startswith("transactions v1 (")
    assert "accepted" in str(table.data)
    report = latest_artifact("retrain-fraud")
    assert report is not None and report.type == "markdown"
    assert f"# fraud: {result['outcome']} v1" in report.data
    assert "`file://" in report.data and "models/fraud/v1/model.txt`" in report.data
    assert "](file://" not in report.data  # a local path is text, not a link the UI can't open
    assert "- report: `file://" in report.data and "reports/fraud/v1/report.html`" in report.data
    checks = latest_artifact("retrain-fraud-checks")
    assert checks is not None and checks.type == "table"
    rows = json.loads(checks.data) if isinstance(checks.data, str) else checks.data
    assert {row["check"] for row in rows} >= {"floor pr_auc", "latency", "size"}
    assert {row["passed"] for row in rows} <= {"yes", "NO", "not tested"}


def test_no_op_runs_leave_the_last_real_artifact_in_place(
    env: Path, sample: Sample, ingest: Callable[[], Any], retrain: Callable[..., Any]
) -> None:
    sample.land(sample.backfill)
    ingest()
    retrain()
    assert ingest()["files"] == []  # nothing new
    skipped = retrain()
    assert skipped["outcome"] == "skipped"

    assert latest_artifact("ingest-transactions").description.startswith("transactions v1")
    assert "no new files" in latest_artifact("ingest-transactions-idle").description
    assert "# fraud: promoted v1" in latest_artifact("retrain-fraud").data
    assert "# fraud: skipped" in latest_artifact("retrain-fraud-skipped").data


def _runs(flow_name: str) -> list[Any]:
    """The flow's newest runs. The harness is shared by the whole session, whose runs can
    outnumber the API's default page (200): ask for the newest, not the first page."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    async def read() -> list[Any]:
        async with get_client() as client:
            flows = FlowFilter(name=FlowFilterName(any_=[flow_name]))
            found = await client.read_flow_runs(
                flow_filter=flows, sort=FlowRunSort.START_TIME_DESC, limit=20
            )
            return list(found)

    return asyncio.run(read())


def test_runs_are_named_for_what_they_run_and_end_with_the_outcome(
    env: Path, sample: Sample, ingest: Callable[[], Any], retrain: Callable[..., Any]
) -> None:
    sample.land(sample.backfill)
    ingest()
    first = retrain()
    sample.land([sample.new_day])
    ingest()
    second = retrain()

    runs = sorted(_runs("retrain-model"), key=lambda r: r.created)
    assert [r.name.rsplit("-", 4)[0] for r in runs[-2:]] == ["retrain-fraud", "retrain-fraud"]
    messages = [r.state.message for r in runs[-2:]]
    assert messages[0].startswith(f"{first['outcome']} v1: pr_auc ")
    iv = second["interval"]
    assert messages[1].startswith(f"{second['outcome']} v2: pr_auc {iv['estimate']:+.4f}")
    assert f"[{iv['low']:+.4f}, {iv['high']:+.4f}]" in messages[1]
    ingests = _runs("ingest-dataset")
    assert all(r.name.startswith("ingest-transactions-") for r in ingests)
    assert any("v2 (" in (r.state.message or "") for r in ingests)
