"""Flow parameter models: what the CLI, deployments and the Prefect UI form accept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from prefect.input import RunInput


# Hard ceiling of RetrainParams.recovery_attempt; deployments/automations.yaml's
# max_recoveries stays below it (flows/automations.py).
MAX_RECOVERY_ATTEMPT = 10


def as_run_form(schema: dict[str, Any]) -> None:
    """Shape a parameter model's JSON schema for the Prefect UI's run form (in place).

    Fields starting with ``recovery_`` are internal (set by automations): left out of the
    form. ``X | None`` fields become plain optional ``X`` inputs (no "str / None" toggle):
    leaving one empty omits it, and the model's default (None) applies. The model itself
    still refuses unknown keys (``extra="forbid"``); the schema lets the internal ones
    through so that the automations' runs pass the server's parameter check.
    """
    properties = schema.get("properties", {})
    for name in [n for n in properties if n.startswith(INTERNAL_PREFIX)]:
        del properties[name]
    schema.pop("additionalProperties", None)
    for prop in properties.values():
        variants = prop.get("anyOf") or []
        typed = [v for v in variants if v != {"type": "null"}]
        if len(variants) == 2 and len(typed) == 1:  # X | None
            del prop["anyOf"]
            prop.update(typed[0])
            if prop.get("default", ...) is None:
                del prop["default"]


INTERNAL_PREFIX = "recovery_"


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

    model_config = ConfigDict(
        extra="forbid", title="Retrain a model", json_schema_extra=as_run_form
    )

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
        description="Internal, not in the run form: set by the crash-recovery automation, n for"
        " the n-th re-run after a crash (0: an ordinary run). Above max_recoveries the run is"
        " refused (skipped).",
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

    days: int = Field(default=11, ge=8, le=60, description="Days of sample data.")
    seed: int = Field(default=7, description="Random seed: same seed, same data.")


APPROVE, REJECT = "approve", "reject"


def approval_input_model() -> type[RunInput]:
    """The form shown in the Prefect UI when a retraining run waits for approval.

    Nothing is preset: the decision (approve or reject) must be chosen and the approver
    named (not blank), or the server refuses the answer and the run stays paused; an
    accidental Submit records nothing. Built on demand so importing this module does not
    import Prefect.
    """
    from prefect.input import RunInput

    class ApprovalInput(RunInput):
        """Approve or reject the challenger described above."""

        decision: Literal["approve", "reject"] = Field(
            description="approve: promote this challenger; reject: keep the champion."
        )
        approver: str = Field(
            min_length=1,
            max_length=200,
            pattern=r"\S",
            description="Your name or e-mail (kept in the ledger).",
        )
        comment: str = Field(default="", max_length=2000, description="Why (kept in the ledger).")

    return ApprovalInput
