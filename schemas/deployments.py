"""The deployment definitions file, ``deployments/prefect.yaml`` (DESIGN section 7).

That file is the single source of truth for both deploy paths: ``prefect deploy
--prefect-file deployments/prefect.yaml`` sends the deployments to work pools, and
``retrain serve`` serves the same entries without a worker (``tasks/io/prefect_api.py``
turns them into Prefect objects). These models validate the fields this project uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field

from schemas.contracts import Frozen
from schemas.errors import SpecError
from schemas.loader import load_yaml_model

_NAME = r"^[a-z][a-z0-9-]{0,62}$"
_ENTRYPOINT = r"^flows/[a-z_][a-z0-9_]*\.py:[a-z_][a-z0-9_]*$"
DEFINITIONS_FILE = "prefect.yaml"


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


def definitions_path(deployments_dir: Path) -> Path:
    """``prefect.yaml`` in the deployments folder (``Settings.deployments_dir``)."""
    return deployments_dir / DEFINITIONS_FILE


def load_definitions(path: Path) -> list[DeploymentSpec]:
    """Read and validate the deployment definitions.

    Raises:
        SpecError: missing file, invalid YAML, an unknown or bad field, or two
            deployments with the same name (the file and field are named).
    """
    if not path.is_file():
        raise SpecError(
            f"{path}: no deployment definitions there (run from the repository root,"
            " or pass the prefect.yaml path)"
        )
    specs = load_yaml_model(path, DeploymentFile).deployments
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError(f"{path}: deployment name(s) used twice: {', '.join(duplicates)}")
    return specs
