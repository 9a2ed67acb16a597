"""The Prefect API adapter against Prefect's test harness: a deployment's own parameters,
and cancelling the runs a starting ingestion supersedes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def deployment(prefect_harness: None) -> Any:
    """A deployment of a throwaway flow, fixed to dataset ``transactions``."""
    from prefect import flow
    from prefect.client.orchestration import get_client

    @flow(name="harness-ingest")
    def harness_ingest(params: dict[str, Any]) -> None:  # pragma: no cover - never run
        del params

    with get_client(sync_client=True) as client:
        flow_id = client.create_flow(harness_ingest)
        params = {"params": {"dataset": "transactions"}}
        name = f"ingest-{UUID(int=len(client.read_deployments()) + 1).hex[-6:]}"
        return client.create_deployment(flow_id=flow_id, name=name, parameters=params)


def _run(deployment_id: UUID, state: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = client.create_flow_run_from_deployment(deployment_id, state=state)
        return client.read_flow_run(run.id)


def test_a_deployment_s_own_parameters_are_read(deployment: UUID) -> None:
    from tasks.io.prefect_api import deployment_parameters

    assert deployment_parameters(str(deployment)) == {"params": {"dataset": "transactions"}}


def test_runs_queued_before_the_start_are_cancelled_later_ones_kept(deployment: UUID) -> None:
    from prefect.client.orchestration import get_client
    from prefect.states import Running, Scheduled

    from tasks.io.prefect_api import cancel_waiting_runs

    queued = [_run(deployment, Scheduled()) for _ in range(3)]
    me = _run(deployment, Scheduled())
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(me.id, Running(), force=True)
    later = _run(deployment, Scheduled())  # an event while this run works: kept

    cancelled = cancel_waiting_runs(str(deployment), str(me.id), "superseded by me")

    assert sorted(cancelled) == sorted(r.name for r in queued)
    with get_client(sync_client=True) as client:
        states = {r.id: client.read_flow_run(r.id).state for r in [*queued, later, me]}
    for run in queued:
        assert states[run.id].type.value == "CANCELLED"
        assert states[run.id].message == "superseded by me"
    assert states[later.id].type.value == "SCHEDULED"
    assert states[me.id].type.value == "RUNNING"
