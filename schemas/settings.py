"""Runtime configuration from environment variables (DESIGN section 8).

Every variable the system reads is a field here (``RETRAIN_`` prefix), read once
when a command or flow starts (:func:`load_settings`); nothing is read at import.
The standard ``AWS_*`` and ``PREFECT_*`` variables are read by boto3 and Prefect
themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.errors import SpecError


class Settings(BaseSettings):
    """Where the registry, the object store, specs and deployments live, and how runs bill."""

    model_config = SettingsConfigDict(env_prefix="RETRAIN_", extra="ignore", frozen=True)

    home: Path = Field(default=Path(".retrain"), description="Local state folder.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the registry (default: SQLite in home)."
    )
    store_url: str | None = Field(
        default=None, description="Object store: s3://bucket/prefix or file:///path."
    )
    specs_dir: Path | None = Field(
        default=None, description="Folder searched before the shipped schemas/ for specs."
    )
    deployments_dir: Path = Field(
        default=Path("deployments"),
        description="Folder holding prefect.yaml and automations.yaml (relative to the"
        " working directory, like `prefect deploy --prefect-file`).",
    )
    s3_kms_key_id: str | None = Field(
        default=None, description="Encrypt S3 writes with SSE-KMS and this key (default SSE-S3)."
    )
    sqs_queue_url: str | None = Field(
        default=None, description="Queue `retrain listen` reads S3 notifications from."
    )
    capacity_type: str = Field(
        default="on-demand", description="spot or on-demand: what training runs are billed as."
    )
    instance_type: str | None = Field(
        default=None, description="Instance type in the price table (default: the table's)."
    )
    prices_file: Path | None = Field(
        default=None,
        description="Price table (default: the dated table shipped as package data).",
    )
    dask_address: str | None = Field(
        default=None,
        description="Dask scheduler address (tcp://host:8786): ingestion validates each file"
        " as a task on that cluster, and models train there with lightgbm.dask (a binary"
        " model's partitions are read and prepared by the workers; README, Beyond one"
        " machine). Unset: everything runs on this machine.",
    )
    ingest_batch_mb: float = Field(
        default=64.0,
        gt=0,
        description="Landing CSVs over RETRAIN_INGEST_WHOLE_MB are validated and written a"
        " batch of about this many MB at a time, with the whole file's verdict (memory"
        " follows the batch, not the file).",
    )
    ingest_whole_mb: float | None = Field(
        default=None,
        gt=0,
        description="Landing CSVs up to this many MB are validated whole, in one Great"
        " Expectations run (each batch is a run of its own); default: twice"
        " RETRAIN_INGEST_BATCH_MB (a file of at most two batches saves little memory in"
        " batches).",
    )
    fault_at: str | None = Field(
        default=None,
        description="Test only (tests/reliability): end the process with exit code 137 at"
        " this step boundary (tasks/io/faults.py lists them). Never set it in production.",
    )

    @property
    def ingest_whole_bytes(self) -> int:
        """Landing CSVs up to this size are validated whole (``ingest_whole_mb``)."""
        return int((self.ingest_whole_mb or 2 * self.ingest_batch_mb) * 1e6)

    @property
    def registry_url(self) -> str:
        """The registry URL, defaulting to SQLite under ``home``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home.resolve() / 'registry.db'}"

    @property
    def object_store_url(self) -> str:
        """The object store URL, defaulting to a folder under ``home``."""
        if self.store_url:
            return self.store_url
        return (self.home.resolve() / "store").as_uri()


def load_settings() -> Settings:
    """Read settings from the environment now.

    Raises:
        SpecError: a variable's value is invalid: each one named, with its value and why.
    """
    try:
        return Settings()
    except ValidationError as exc:
        raise SpecError("invalid setting: " + "; ".join(map(_problem, exc.errors()))) from None


def _problem(error: Any) -> str:
    """``RETRAIN_X='value': why`` (the value left out where it may hold a credential)."""
    name = "_".join(str(part) for part in error["loc"])
    secret = any(word in name for word in ("url", "key", "password", "secret", "token"))
    shown = "" if secret else f"={error.get('input')!r}"
    return f"RETRAIN_{name.upper()}{shown}: {error['msg']}"
