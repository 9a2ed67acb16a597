"""What the registry returns and accepts: frozen records, never ORM objects.

Each record mirrors one table of ``schemas/registry.py`` column for column
(``tests/tasks/io/test_registry.py`` checks that they agree); the helpers turn
rows into records inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Executable, insert
from sqlalchemy.dialects import postgresql, sqlite

from schemas.registry import Base

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


@dataclass(frozen=True)
class FileRecord:
    """An ingested landing file (accepted into ``dataset_version`` or quarantined)."""

    id: int
    dataset: str
    uri: str
    sha256: str
    size: int
    status: str
    dataset_version: str | None
    details: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class DatasetVersionRecord:
    """A committed dataset version and its manifest."""

    id: int
    dataset: str
    seq: int
    version: str
    parent_version: str | None
    manifest_uri: str
    manifest_sha256: str
    rows: int
    partitions: int
    created_at: datetime


@dataclass(frozen=True)
class ModelVersionRecord:
    """A registered model version: lineage, artifacts, metrics and status."""

    id: int
    model: str
    seq: int
    version: str
    training_key: str
    dataset_versions: dict[str, str]
    spec_hash: str
    params: dict[str, Any]
    code_version: str
    status: str
    artifact_uri: str
    artifact_sha256: str
    card_uri: str | None
    card_sha256: str | None
    metrics: dict[str, Any]
    eval_fingerprint: str | None
    created_at: datetime


@dataclass(frozen=True)
class DecisionRecord:
    """A promotion decision and every reason for it."""

    id: int
    model: str
    version: str | None
    champion_version: str | None
    outcome: str
    reasons: list[str]
    evidence: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class LedgerEntry:
    """One append-only ledger entry: who moved the champion, from what, to what, why."""

    id: int
    model: str
    action: str
    from_version: str | None
    to_version: str | None
    actor: str
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class TrainingRunRecord:
    """One training attempt with its duration, capacity and cost."""

    id: int
    model: str
    training_key: str
    version: str | None
    status: str
    outcome: str | None
    started_at: datetime
    finished_at: datetime | None
    wall_seconds: float
    cpu_seconds: float
    capacity_type: str
    instance_type: str | None
    cost_usd: float | None
    details: dict[str, Any]


@dataclass(frozen=True)
class ReservationRecord:
    """A version number taken by a training run before it uploads anything."""

    id: int
    model: str
    seq: int
    version: str
    training_key: str
    run_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class MonitoringRecord:
    """One monitoring run of a champion: what it measured and did, and where its report is."""

    id: int
    model: str
    champion_version: str | None
    dataset_versions: dict[str, str]
    status: str
    action: str
    drift_detected: bool
    drifted_features: list[str]
    degraded: bool
    metric: str | None
    value: float | None
    interval_low: float | None
    interval_high: float | None
    reference_value: float | None
    as_of: datetime | None
    drifted_event: bool
    degraded_event: bool
    report_uri: str | None
    report_sha256: str | None
    reasons: list[str]
    created_at: datetime


@dataclass(frozen=True)
class NewFile:
    """A validated landing file to record as accepted into a dataset version."""

    uri: str
    sha256: str
    size: int
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewModelVersion:
    """The fields of a model version to register (it starts as a candidate)."""

    model: str
    version: str
    training_key: str
    dataset_versions: dict[str, str]
    spec_hash: str
    params: dict[str, Any]
    code_version: str
    artifact_uri: str
    artifact_sha256: str
    card_uri: str | None = None
    card_sha256: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    eval_fingerprint: str | None = None


@dataclass(frozen=True)
class NewDecision:
    """A decision to record in the same transaction as the change it explains."""

    model: str
    version: str | None
    champion_version: str | None
    outcome: str
    reasons: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)


def many(conn: Connection, record: type[R], statement: Executable) -> list[R]:
    """Run ``statement`` and return every row as ``record``."""
    names = [f.name for f in fields(record)]
    rows = conn.execute(statement).mappings().all()
    return [record(**{name: row[name] for name in names}) for row in rows]


def first(conn: Connection, record: type[R], statement: Executable) -> R | None:
    """Run ``statement`` and return its first row as ``record`` (or None)."""
    found = many(conn, record, statement)
    return found[0] if found else None


def insert_one(conn: Connection, table: type[Base], record: type[R], values: dict[str, Any]) -> R:
    """Insert one row and return it, as stored, as ``record``."""
    statement = insert(table).values(**values).returning(*table.__table__.columns)
    return many(conn, record, statement)[0]


def insert_ignore(conn: Connection, table: type[Base], values: dict[str, Any]) -> None:
    """Insert one row unless a unique key already holds it (race safe, no error)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())
