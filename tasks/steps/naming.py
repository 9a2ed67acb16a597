"""What a run is about: its name (``retrain-fraud-2026-10-14-0200``, UTC) and, from a
deployment, the model or dataset that deployment is fixed to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from schemas.errors import RetrainError


def run_name(kind: str, field: str) -> Callable[[], str]:
    """A ``flow_run_name`` callable: ``<kind>-<params.field>-<UTC date and time>``."""

    def name() -> str:
        from prefect.runtime import flow_run

        params: Any = flow_run.parameters.get("params")
        value = params.get(field) if isinstance(params, dict) else getattr(params, field, None)
        return f"{kind}-{value or 'unknown'}-{datetime.now(UTC):%Y-%m-%d-%H%M}"

    return name


def deployment_id() -> str | None:
    """The running flow's deployment, None outside one, read from the run's context.

    ``prefect.runtime.deployment.id`` looks for it on the context itself, not on its flow
    run, so it asks the API for the flow run on every call (about 30 ms on the temporary
    API); the flow run the engine loaded already holds it. Outside a flow run: Prefect's.
    """
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is not None and context.flow_run is not None:
        found = context.flow_run.deployment_id
        return str(found) if found is not None else None
    from prefect.runtime import deployment

    return deployment.id


def refuse_foreign_target(field: str, value: str) -> None:
    """From a deployment, refuse a ``params.<field>`` other than the deployment's own.

    ``retrain-fraud`` retrains fraud: a run form or trigger asking it for ``recs`` fails
    at once, saying which deployment to use, instead of training under the wrong name.

    Raises:
        RetrainError: the run's ``field`` differs from the deployment's.
    """
    from prefect.runtime import deployment

    here = deployment_id()
    if here is None:
        return
    from tasks.io.prefect_api import deployment_parameters

    fixed = (deployment_parameters(here).get("params") or {}).get(field)
    if fixed is not None and fixed != value:
        kind = "retrain" if field == "model" else "ingest"
        raise RetrainError(
            f"deployment {deployment.name} is for {field} {fixed}, not {value}: leave"
            f" {field} at {fixed}, or run the {kind}-{value} deployment"
        )
