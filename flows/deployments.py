"""Deployments for ``retrain serve``, read from ``deployments/prefect.yaml`` (DESIGN section 7).

That file is the single source of truth: ``prefect deploy --prefect-file
deployments/prefect.yaml`` sends the deployments to work pools, and this module
turns the same entries into :class:`RunnerDeployment` objects that
``prefect.serve`` runs without a worker (``work_pool``, ``build`` and ``pull``
only matter to ``prefect deploy``).
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any, Literal, cast

from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentTriggerTypes
from prefect.exceptions import ParameterTypeError
from prefect.schedules import Cron
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from schemas.contracts import Frozen
from schemas.loader import load_yaml_model
from tasks.errors import SpecError

_NAME = r"^[a-z][a-z0-9-]{0,62}$"
_ENTRYPOINT = r"^flows/[a-z_][a-z0-9_]*\.py:[a-z_][a-z0-9_]*$"


class ScheduleSpec(Frozen):
    """A cron schedule; the time zone is explicit so both deploy paths agree."""

    cron: str = Field(description="Five-field cron expression.")
    timezone: str = Field(description="IANA time zone, e.g. UTC.")
    active: bool = True


class ConcurrencySpec(Frozen):
    """Deployment concurrency: at most ``limit`` runs; the others wait or are cancelled."""

    limit: int = Field(ge=1)
    collision_strategy: Literal["ENQUEUE", "CANCEL_NEW"] = "ENQUEUE"


class WorkPoolSpec(Frozen):
    """Where ``prefect deploy`` sends the runs (ignored by ``retrain serve``)."""

    name: str
    work_queue_name: str | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)


class DeploymentSpec(Frozen):
    """One entry of ``deployments:``, restricted to the fields this project uses."""

    name: str = Field(pattern=_NAME)
    entrypoint: str = Field(pattern=_ENTRYPOINT, description="flows/<module>.py:<flow function>")
    description: str = ""
    version: str | None = None
    tags: list[str] = Field(default_factory=list)
    paused: bool = False
    parameters: dict[str, Any] = Field(default_factory=dict)
    enforce_parameter_schema: bool = True
    schedules: list[ScheduleSpec] = Field(default_factory=list)
    concurrency_limit: int | ConcurrencySpec | None = None
    triggers: list[dict[str, Any]] = Field(default_factory=list)
    work_pool: WorkPoolSpec | None = None


class DeploymentFile(Frozen):
    """The whole ``prefect.yaml``: Prefect's top-level keys plus our ``definitions``."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str | None = None
    prefect_version: str | None = Field(default=None, alias="prefect-version")
    definitions: dict[str, Any] = Field(default_factory=dict)
    build: list[dict[str, Any]] | None = None
    push: list[dict[str, Any]] | None = None
    pull: list[dict[str, Any]] | None = None
    deployments: list[DeploymentSpec] = Field(min_length=1)


def definitions_path(root: Path | None = None) -> Path:
    """``deployments/prefect.yaml`` under ``root`` (default: the repository holding ``flows/``)."""
    base = root if root is not None else Path(__file__).resolve().parents[1]
    return base / "deployments" / "prefect.yaml"


def load_definitions(path: Path | None = None) -> list[DeploymentSpec]:
    """Read and validate the deployment definitions.

    Raises:
        SpecError: missing file, invalid YAML, an unknown or bad field, or two
            deployments with the same name (the file and field are named).
    """
    path = path or definitions_path()
    if not path.is_file():
        raise SpecError(f"{path}: no deployment definitions there (pass the prefect.yaml path)")
    specs = load_yaml_model(path, DeploymentFile).deployments
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError(f"{path}: deployment name(s) used twice: {', '.join(duplicates)}")
    return specs


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


def build_deployments(path: Path | None = None) -> list[RunnerDeployment]:
    """Every deployment of ``path`` (default :func:`definitions_path`), ready for ``serve``."""
    return [build_deployment(spec) for spec in load_definitions(path)]


def deployed_to_pools(deployments: list[RunnerDeployment]) -> list[str]:
    """Deployments the Prefect API already holds on a work pool (made by ``prefect deploy``).

    Serving one of them would update it only half-way (it keeps its work pool, and
    its runs can crash looking for code at ``path=None``), so ``retrain serve``
    refuses them. Returns ``flow/deployment (pool)`` labels.
    """
    from prefect.client.orchestration import get_client
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
