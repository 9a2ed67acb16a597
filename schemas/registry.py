"""Registry tables (DESIGN section 5): SQLAlchemy 2 declarative models.

Portable across SQLite and PostgreSQL. The database enforces the invariants:
at most one champion per model (partial unique index), a model is registered at
most once per training key, and the ledger is append-only (triggers, created by
the Alembic migration in ``schemas/migrations``; never use ``create_all`` for a
real registry).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

FILE_STATUSES = ("accepted", "quarantined")
MODEL_STATUSES = ("candidate", "champion", "archived", "rejected")
DECISION_OUTCOMES = ("promoted", "rejected", "pending_approval", "skipped")
LEDGER_ACTIONS = ("promote", "rollback", "approve", "reject")
RUN_STATUSES = ("running", "succeeded", "failed", "interrupted", "lost_race", "skipped")
MONITORING_STATUSES = (
    "ok", "drift", "degraded", "insufficient_data", "no_champion", "champion_unverified",
    "reference_outdated",
)  # fmt: skip
MONITORING_ACTIONS = ("none", "retrain", "rollback", "alert")

NAME = String(128)
VERSION = String(32)
SHA256 = String(64)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and store everything in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: registry timestamps must be UTC-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime (SQLite gives back naive UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        dict[str, str]: JSON(),
        list[str]: JSON(),
    }


def _created_at() -> Mapped[datetime]:
    return mapped_column(default=utcnow, server_default=text("CURRENT_TIMESTAMP"))


class IngestedFile(Base):
    """One landing file seen by ingestion, accepted into a version or quarantined."""

    __tablename__ = "ingested_files"
    __table_args__ = (
        UniqueConstraint("dataset", "uri", "sha256"),
        ForeignKeyConstraint(
            ["dataset", "dataset_version"],
            ["dataset_versions.dataset", "dataset_versions.version"],
        ),
        _one_of("status", FILE_STATUSES, "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(NAME)
    uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(SHA256)
    size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    dataset_version: Mapped[str | None] = mapped_column(VERSION)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = _created_at()


class DatasetVersion(Base):
    """An immutable dataset version: a manifest of curated partitions."""

    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset", "seq"),
        UniqueConstraint("dataset", "version"),
        ForeignKeyConstraint(
            ["dataset", "parent_version"],
            ["dataset_versions.dataset", "dataset_versions.version"],
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(NAME)
    seq: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(VERSION)
    parent_version: Mapped[str | None] = mapped_column(VERSION)
    manifest_uri: Mapped[str] = mapped_column(Text)
    manifest_sha256: Mapped[str] = mapped_column(SHA256)
    rows: Mapped[int] = mapped_column(BigInteger)
    partitions: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created_at()


class ModelVersion(Base):
    """A trained model version with its lineage, artifacts and metrics."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model", "seq"),
        UniqueConstraint("model", "version"),
        UniqueConstraint("model", "training_key"),
        _one_of("status", MODEL_STATUSES, "status"),
        Index(
            "uq_model_versions_one_champion",
            "model",
            unique=True,
            sqlite_where=text("status = 'champion'"),
            postgresql_where=text("status = 'champion'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(NAME)
    seq: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(VERSION)
    training_key: Mapped[str] = mapped_column(SHA256)
    dataset_versions: Mapped[dict[str, str]] = mapped_column()
    spec_hash: Mapped[str] = mapped_column(SHA256)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    code_version: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="candidate")
    artifact_uri: Mapped[str] = mapped_column(Text)
    artifact_sha256: Mapped[str] = mapped_column(SHA256)
    card_uri: Mapped[str | None] = mapped_column(Text)
    card_sha256: Mapped[str | None] = mapped_column(SHA256)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    eval_fingerprint: Mapped[str | None] = mapped_column(SHA256)
    created_at: Mapped[datetime] = _created_at()


class VersionReservation(Base):
    """A version number taken before any artifact is uploaded, by one training run.

    Unique per (model, version) and per (model, training key): a run that cannot reserve
    lost the race and uploads nothing. A reservation whose run is no longer running (or
    has none, ``run_id`` NULL after ``retrain gc``) is stale and may be reclaimed by a run
    of the same inputs.
    """

    __tablename__ = "version_reservations"
    __table_args__ = (
        UniqueConstraint("model", "seq"),
        UniqueConstraint("model", "version"),
        UniqueConstraint("model", "training_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(NAME)
    seq: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(VERSION)
    training_key: Mapped[str] = mapped_column(SHA256)
    run_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created_at()


class Champion(Base):
    """The compare-and-swap target: which version serves, and a change counter."""

    __tablename__ = "champions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["model", "version"], ["model_versions.model", "model_versions.version"]
        ),
    )

    model: Mapped[str] = mapped_column(NAME, primary_key=True)
    version: Mapped[str | None] = mapped_column(VERSION)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=text("CURRENT_TIMESTAMP")
    )


class Decision(Base):
    """A promotion decision for a challenger, with every reason named."""

    __tablename__ = "decisions"
    __table_args__ = (
        _one_of("outcome", DECISION_OUTCOMES, "outcome"),
        Index(None, "model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(NAME)
    version: Mapped[str | None] = mapped_column(VERSION)
    champion_version: Mapped[str | None] = mapped_column(VERSION)
    outcome: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[list[str]] = mapped_column(default=list)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = _created_at()


class Ledger(Base):
    """Append-only promotion ledger (UPDATE and DELETE are refused by triggers)."""

    __tablename__ = "ledger"
    __table_args__ = (
        _one_of("action", LEDGER_ACTIONS, "action"),
        Index(None, "model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(NAME)
    action: Mapped[str] = mapped_column(String(16))
    from_version: Mapped[str | None] = mapped_column(VERSION)
    to_version: Mapped[str | None] = mapped_column(VERSION)
    actor: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()


class TrainingRun(Base):
    """One training attempt: what it cost and how it ended."""

    __tablename__ = "training_runs"
    __table_args__ = (
        _one_of("status", RUN_STATUSES, "status"),
        Index(None, "model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(NAME)
    training_key: Mapped[str] = mapped_column(SHA256)
    version: Mapped[str | None] = mapped_column(VERSION)
    status: Mapped[str] = mapped_column(String(16), default="running")
    outcome: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=text("CURRENT_TIMESTAMP")
    )
    finished_at: Mapped[datetime | None] = mapped_column()
    wall_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    cpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    capacity_type: Mapped[str] = mapped_column(
        String(32), default="on-demand", server_default="on-demand"
    )
    instance_type: Mapped[str | None] = mapped_column(String(64))
    cost_usd: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class MonitoringReport(Base):
    """One monitoring run of a champion: drift, matured-label performance, the action."""

    __tablename__ = "monitoring_reports"
    __table_args__ = (
        _one_of("status", MONITORING_STATUSES, "status"),
        _one_of("action", MONITORING_ACTIONS, "action"),
        Index(None, "model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(NAME)
    champion_version: Mapped[str | None] = mapped_column(VERSION)
    dataset_versions: Mapped[dict[str, str]] = mapped_column()
    status: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    drift_detected: Mapped[bool] = mapped_column(Boolean)
    drifted_features: Mapped[list[str]] = mapped_column()
    degraded: Mapped[bool] = mapped_column(Boolean)
    metric: Mapped[str | None] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Float)
    interval_low: Mapped[float | None] = mapped_column(Float)
    interval_high: Mapped[float | None] = mapped_column(Float)
    reference_value: Mapped[float | None] = mapped_column(Float)
    as_of: Mapped[datetime | None] = mapped_column()
    drifted_event: Mapped[bool] = mapped_column(Boolean)
    degraded_event: Mapped[bool] = mapped_column(Boolean)
    report_uri: Mapped[str | None] = mapped_column(Text)
    report_sha256: Mapped[str | None] = mapped_column(SHA256)
    reasons: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = _created_at()
