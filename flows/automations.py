"""Prefect automations, read from ``deployments/automations.yaml``: crash recovery.

A retraining run that ends ``Crashed`` (its node or container disappeared) is
re-run through its deployment with the same parameters and
``params.recovery_attempt`` one higher; the flow refuses an attempt above
``max_recoveries`` (:func:`recovery_refusal`), recording a ``skipped`` decision.
``retrain serve`` and ``retrain automations`` apply the file (:func:`apply_automations`):
automations are matched by name, so applying again updates rather than duplicates.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect.automations import AutomationCore, EventTrigger, Posture, RunDeployment
from pydantic import Field

from schemas.contracts import Frozen
from schemas.loader import load_yaml_model
from schemas.params import MAX_RECOVERY_ATTEMPT
from tasks.errors import SpecError

_PARAMS = "flow_run.parameters['params']"
# One Jinja expression, so Prefect renders it with `| tojson` and the parameter stays a dict.
_NEXT_ATTEMPT = f"({_PARAMS}.get('recovery_attempt') or 0) + 1"
RECOVERY_PARAMS_TEMPLATE = f"{{{{ dict({_PARAMS}, recovery_attempt={_NEXT_ATTEMPT}) }}}}"


class CrashRecoverySpec(Frozen):
    """Re-run crashed runs of ``flow`` (deployment runs only), at most ``max_recoveries`` times."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")
    description: str = ""
    enabled: bool = True
    flow: str = Field(min_length=1, description="Prefect flow name, e.g. retrain-model.")
    # The re-run refused by the flow carries max_recoveries + 1, which must still validate.
    max_recoveries: int = Field(ge=0, le=MAX_RECOVERY_ATTEMPT - 1)
    schedule_after_seconds: int = Field(default=0, ge=0)
    job_variables: dict[str, Any] | None = None


class AutomationFile(Frozen):
    crash_recovery: CrashRecoverySpec


def automations_path(root: Path | None = None) -> Path:
    """``deployments/automations.yaml`` under ``root`` (default: this repository)."""
    base = root if root is not None else Path(__file__).resolve().parents[1]
    return base / "deployments" / "automations.yaml"


def load_automations(path: Path | None = None) -> AutomationFile:
    """Read and validate the automations file.

    Raises:
        SpecError: missing file, invalid YAML or a bad field (file and field named).
    """
    path = path or automations_path()
    if not path.is_file():
        raise SpecError(f"{path}: no automations file there")
    return load_yaml_model(path, AutomationFile)


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


def build_automations(path: Path | None = None) -> list[AutomationCore]:
    """Every automation of the file (today: crash recovery)."""
    return [build_crash_recovery(load_automations(path).crash_recovery)]


def apply_automations(path: Path | None = None) -> list[tuple[str, str]]:
    """Create or update each automation on the configured Prefect API, matched by name.

    Extra automations with the same name (left by older tools) are deleted.
    Returns ``(name, "created" | "updated")`` pairs.
    """
    from prefect.client.orchestration import get_client

    done = []
    with get_client(sync_client=True) as client:
        for automation in build_automations(path):
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


def recovery_refusal(attempt: int, path: Path | None = None) -> str | None:
    """Why a crash-recovery re-run must not train (``None``: go ahead).

    ``attempt`` is ``RetrainParams.recovery_attempt``: 0 for an ordinary run, n for
    the n-th re-run after consecutive crashes.
    """
    if attempt == 0:
        return None
    limit = load_automations(path).crash_recovery.max_recoveries
    if attempt <= limit:
        return None
    return (
        f"crash recovery attempt {attempt} refused: max_recoveries is {limit}"
        f" (deployments/automations.yaml) and the run crashed {attempt} times in a row;"
        " find the cause of the crashes, then run it again by hand"
    )
