"""Prefect automations, declared in ``deployments/automations.yaml``: crash recovery.

A retraining run that ends ``Crashed`` (its node or container disappeared) is
re-run through its deployment with the same parameters and
``params.recovery_attempt`` one higher; the flow refuses an attempt above
``max_recoveries`` (:meth:`CrashRecoverySpec.refusal`), recording a ``skipped``
decision. ``tasks/io/prefect_api.py`` turns the file into Prefect automations and
applies them (matched by name, so applying again updates rather than duplicates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from schemas.contracts import Frozen
from schemas.errors import SpecError
from schemas.loader import load_yaml_model
from schemas.params import MAX_RECOVERY_ATTEMPT

AUTOMATIONS_FILE = "automations.yaml"


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

    def refusal(self, attempt: int) -> str | None:
        """Why a crash-recovery re-run must not train (``None``: go ahead).

        ``attempt`` is ``RetrainParams.recovery_attempt``: 0 for an ordinary run, n for
        the n-th re-run after consecutive crashes.
        """
        if attempt <= self.max_recoveries:
            return None
        return (
            f"crash recovery attempt {attempt} refused: max_recoveries is {self.max_recoveries}"
            f" (deployments/{AUTOMATIONS_FILE}) and the run crashed {attempt} times in a row;"
            " find the cause of the crashes, then run it again by hand"
        )


class AutomationFile(Frozen):
    crash_recovery: CrashRecoverySpec


def automations_path(deployments_dir: Path) -> Path:
    """``automations.yaml`` in the deployments folder (``Settings.deployments_dir``)."""
    return deployments_dir / AUTOMATIONS_FILE


def load_automations(path: Path) -> AutomationFile:
    """Read and validate the automations file.

    Raises:
        SpecError: missing file, invalid YAML or a bad field (file and field named).
    """
    if not path.is_file():
        raise SpecError(f"{path}: no automations file there")
    return load_yaml_model(path, AutomationFile)
