"""Prefect's API: is it there, what it already holds, and applying automations to it.

Light on imports (the client only), so a command can check the API without
loading Prefect's flow machinery; ``tasks/io/deployments.py`` builds the objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect.client.orchestration import get_client

from schemas.errors import RetrainError

if TYPE_CHECKING:
    from prefect.automations import AutomationCore
    from prefect.deployments.runner import RunnerDeployment

START_SERVER = (
    "start one with `prefect server start --host 127.0.0.1`, then"
    " `export PREFECT_API_URL=http://127.0.0.1:4200/api`"
)


def deployed_to_pools(deployments: list[RunnerDeployment]) -> list[str]:
    """Deployments the Prefect API already holds on a work pool (made by ``prefect deploy``).

    Serving one of them would update it only half-way (it keeps its work pool, and
    its runs can crash looking for code at ``path=None``), so ``retrain serve``
    refuses them. Returns ``flow/deployment (pool)`` labels.
    """
    from prefect.exceptions import ObjectNotFound

    bound = []
    with get_client(sync_client=True) as client:
        for deployment in deployments:
            full_name = f"{deployment.flow_name}/{deployment.name}"
            try:
                existing = client.read_deployment_by_name(full_name)
            except ObjectNotFound:
                continue
            if existing.work_pool_name:
                bound.append(f"{full_name} ({existing.work_pool_name})")
    return bound


def apply_automations(automations: list[AutomationCore]) -> list[tuple[str, str]]:
    """Create or update each automation on the configured Prefect API, matched by name.

    Extra automations with the same name (left by older tools) are deleted.
    Returns ``(name, "created" | "updated")`` pairs.
    """
    done = []
    with get_client(sync_client=True) as client:
        for automation in automations:
            existing = client.read_automations_by_name(automation.name)
            if existing:
                client.update_automation(existing[0].id, automation)
                for extra in existing[1:]:
                    client.delete_automation(extra.id)
                done.append((automation.name, "updated"))
            else:
                client.create_automation(automation)
                done.append((automation.name, "created"))
    return done


def check_api() -> str:
    """The configured Prefect API's URL, checked to answer.

    Raises:
        RetrainError: no ``PREFECT_API_URL``, or the API does not answer (one line saying
            how to start a server).
    """
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise RetrainError(f"no Prefect API configured (PREFECT_API_URL is unset): {START_SERVER}")
    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        reason = " ".join(str(failure).split())[:200]
        raise RetrainError(f"cannot reach the Prefect API at {url} ({reason}): {START_SERVER}")
    return str(url)


def deployment_parameters(deployment_id: str) -> dict[str, Any]:
    """The parameters a deployment was defined with (its defaults, not one run's)."""
    from uuid import UUID

    with get_client(sync_client=True) as client:
        return dict(client.read_deployment(UUID(deployment_id)).parameters or {})


def cancel_waiting_runs(deployment_id: str, flow_run_id: str, reason: str) -> list[str]:
    """Cancel the runs of a deployment that wait to start and were created before this run
    started (``flow_run_id``); returns their names.

    For ingestion: a burst of arrival events creates one run per event, queued one at a
    time. The first to start lists every landing file, including those the waiting runs
    were created for, so they would only find nothing, one after another. Runs created
    after this one started, and cron runs, are left alone.
    """
    from uuid import UUID

    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Cancelled

    waiting = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
    )
    mine = DeploymentFilter(id=DeploymentFilterId(any_=[UUID(deployment_id)]))
    cancelled = []
    with get_client(sync_client=True) as client:
        me = client.read_flow_run(UUID(flow_run_id))
        started = me.start_time or me.created
        if started is None:
            return []
        for run in client.read_flow_runs(flow_run_filter=waiting, deployment_filter=mine):
            due = run.expected_start_time is None or run.expected_start_time <= started
            before = run.created is not None and run.created <= started
            if run.id == me.id or run.auto_scheduled or not (due and before):
                continue
            client.set_flow_run_state(run.id, Cancelled(message=reason), force=True)
            cancelled.append(run.name)
    return cancelled
