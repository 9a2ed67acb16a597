"""Prefect objects built from the deployments folder: served deployments and automations.

``deployments/prefect.yaml`` is the single source of truth (``schemas/deployments.py``
validates it): ``prefect deploy`` sends its entries to work pools, and this module
turns the same entries into :class:`RunnerDeployment` objects that ``prefect.serve``
runs without a worker (``work_pool``, ``build`` and ``pull`` only matter to
``prefect deploy``). ``deployments/automations.yaml`` becomes Prefect automations.
Importing this module imports Prefect's flow machinery (and its logging setup).
"""

from __future__ import annotations

import importlib
import importlib.util
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from prefect import Flow
from prefect.automations import AutomationCore, EventTrigger, Posture, RunDeployment
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentTriggerTypes
from prefect.exceptions import ParameterTypeError
from prefect.schedules import Cron
from pydantic import TypeAdapter, ValidationError

from schemas.automations import CrashRecoverySpec, load_automations
from schemas.deployments import ConcurrencySpec, DeploymentSpec, load_definitions
from schemas.errors import SpecError

_PARAMS = "flow_run.parameters['params']"
# One Jinja expression, so Prefect renders it with `| tojson` and the parameter stays a dict.
_NEXT_ATTEMPT = f"({_PARAMS}.get('recovery_attempt') or 0) + 1"
RECOVERY_PARAMS_TEMPLATE = f"{{{{ dict({_PARAMS}, recovery_attempt={_NEXT_ATTEMPT}) }}}}"


def load_entrypoint_flow(entrypoint: str) -> Flow[Any, Any]:
    """Import the flow ``flows/<module>.py:<function>`` as the package module (cwd-independent).

    Raises:
        SpecError: the module or function does not exist, or is not a Prefect flow
            (an error inside an existing module propagates as it is).
    """
    path, _, attr = entrypoint.partition(":")
    module_name = path.removesuffix(".py").replace("/", ".")
    if importlib.util.find_spec(module_name) is None:
        raise SpecError(f"entrypoint {entrypoint!r}: no module {module_name}")
    found = getattr(importlib.import_module(module_name), attr, None)
    if not isinstance(found, Flow):
        raise SpecError(f"entrypoint {entrypoint!r}: {attr} is not a Prefect flow")
    return found


def check_parameters(flow: Flow[Any, Any], parameters: dict[str, Any], where: str) -> None:
    """Validate parameters against the flow's signature (its pydantic parameter model).

    Raises:
        SpecError: a missing, unknown or invalid parameter, naming ``where``.
    """
    try:
        flow.validate_parameters(parameters)
    except ParameterTypeError as exc:
        reason = " ".join(str(exc).split())
        raise SpecError(f"{where}: parameters {parameters} do not fit the flow: {reason}") from exc


def build_triggers(spec: DeploymentSpec) -> list[Any]:
    """Prefect deployment triggers of ``spec`` (named like ``prefect deploy`` names them)."""
    adapter: TypeAdapter[Any] = TypeAdapter(DeploymentTriggerTypes)
    triggers = []
    for i, raw in enumerate(spec.triggers, start=1):
        try:
            triggers.append(
                adapter.validate_python({"name": f"{spec.name}__automation_{i}", **raw})
            )
        except ValidationError as exc:
            raise SpecError(
                f"deployment {spec.name}: trigger {i}: {exc.errors()[0]['msg']}"
            ) from exc
    return triggers


def _concurrency(spec: DeploymentSpec) -> int | ConcurrencyLimitConfig | None:
    limit = spec.concurrency_limit
    if isinstance(limit, ConcurrencySpec):
        return ConcurrencyLimitConfig(
            limit=limit.limit, collision_strategy=ConcurrencyLimitStrategy(limit.collision_strategy)
        )
    return limit


def build_deployment(spec: DeploymentSpec) -> RunnerDeployment:
    """The served form of one definition: schedules, triggers, concurrency and parameters.

    Trigger parameters are checked against the flow too, unless they are
    templated from the event (``{{ event.payload... }}``): those resolve per event.
    """
    flow = load_entrypoint_flow(spec.entrypoint)
    check_parameters(flow, spec.parameters, f"deployment {spec.name}")
    triggers = build_triggers(spec)
    for i, raw in enumerate(spec.triggers, start=1):
        if raw.get("parameters") is not None and "{{" not in str(raw["parameters"]):
            check_parameters(flow, raw["parameters"], f"deployment {spec.name}: trigger {i}")
    deployment = flow.to_deployment(  # sync here: a coroutine only inside an event loop
        name=spec.name,
        description=spec.description or None,
        version=spec.version,
        tags=spec.tags,
        paused=spec.paused,
        parameters=spec.parameters,
        enforce_parameter_schema=spec.enforce_parameter_schema,
        schedules=[Cron(s.cron, timezone=s.timezone, active=s.active) for s in spec.schedules],
        concurrency_limit=_concurrency(spec),
        triggers=triggers,
    )
    return cast(RunnerDeployment, deployment)


def build_deployments(path: Path) -> list[RunnerDeployment]:
    """Every deployment of the definitions file ``path``, ready for ``serve``."""
    return [build_deployment(spec) for spec in load_definitions(path)]


def build_crash_recovery(spec: CrashRecoverySpec) -> AutomationCore:
    """The Prefect automation: on a Crashed run of ``spec.flow``, run its deployment again."""
    return AutomationCore(
        name=spec.name,
        description=f"{spec.description} At most {spec.max_recoveries} re-run(s).".strip(),
        enabled=spec.enabled,
        trigger=EventTrigger(
            expect={"prefect.flow-run.Crashed"},
            match={"prefect.resource.id": "prefect.flow-run.*"},
            # every spec must match one related resource: the flow, and a deployment
            match_related=[
                {"prefect.resource.role": "flow", "prefect.resource.name": spec.flow},
                {
                    "prefect.resource.role": "deployment",
                    "prefect.resource.id": "prefect.deployment.*",
                },
            ],
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[
            RunDeployment(
                source="inferred",
                deployment_id=None,
                parameters={"params": RECOVERY_PARAMS_TEMPLATE},
                job_variables=spec.job_variables,
                schedule_after=timedelta(seconds=spec.schedule_after_seconds),
            )
        ],
    )


def build_automations(path: Path) -> list[AutomationCore]:
    """Every automation of the file ``path`` (today: crash recovery)."""
    return [build_crash_recovery(load_automations(path).crash_recovery)]
