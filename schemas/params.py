"""Flow parameter models: what the CLI, deployments and the Prefect UI form accept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from prefect.input import RunInput


# Hard ceiling of RetrainParams.recovery_attempt; deployments/automations.yaml's
# max_recoveries stays below it (flows/automations.py).
MAX_RECOVERY_ATTEMPT = 10


class IngestParams(BaseModel):
    """Ingest every landing file of a dataset that was not ingested before."""

    model_config = ConfigDict(extra="forbid", title="Ingest a dataset")

    dataset: str = Field(
        description="Dataset contract name (the file schemas/datasets/NAME.yaml).",
        pattern=r"^[a-z][a-z0-9_]{0,62}$",
        examples=["transactions"],
    )


class RetrainParams(BaseModel):
    """Retrain a model, compare it with the champion, and promote it if it passes the policy."""

    model_config = ConfigDict(extra="forbid", title="Retrain a model")

    model: str = Field(
        description="Model spec name (the file schemas/models/NAME.yaml).",
        pattern=r"^[a-z][a-z0-9_]{0,62}$",
        examples=["fraud"],
    )
    dataset_version: str | None = Field(
        default=None,
        description="Version of the model's first dataset to train on (default: the latest).",
        pattern=r"^v[0-9]+$",
    )
    recovery_attempt: int = Field(
        default=0,
        ge=0,
        le=MAX_RECOVERY_ATTEMPT,
        description="Set by the crash-recovery automation: n for the n-th re-run after a crash"
        " (0: an ordinary run). Above max_recoveries the run is refused (skipped).",
    )


class MonitorParams(BaseModel):
    """Watch a model's champion: drift of its inputs and score, matured-label performance."""

    model_config = ConfigDict(extra="forbid", title="Monitor a model")

    model: str = Field(
        description="Model spec name (the file schemas/models/NAME.yaml).",
        pattern=r"^[a-z][a-z0-9_]{0,62}$",
        examples=["fraud"],
    )


class QuickstartParams(BaseModel):
    """Run the whole loop on generated sample data, day by day."""

    model_config = ConfigDict(extra="forbid", title="Quickstart")

    days: int = Field(default=14, ge=8, le=60, description="Days of sample data.")
    seed: int = Field(default=7, description="Random seed: same seed, same data.")


def approval_input_model() -> type[RunInput]:
    """The form shown in the Prefect UI when a retraining run waits for approval.

    Built on demand so importing this module does not import Prefect.
    """
    from prefect.input import RunInput

    class ApprovalInput(RunInput):
        """Approve or reject the challenger described above."""

        approve: bool = Field(default=False, description="Promote this challenger?")
        approver: str = Field(
            min_length=1, max_length=200, description="Your name or e-mail (kept in the ledger)."
        )
        comment: str = Field(default="", max_length=2000, description="Why (kept in the ledger).")

    return ApprovalInput
