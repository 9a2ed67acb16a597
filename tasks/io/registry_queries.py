"""Records and in-transaction statements of the registry adapter.

Every function takes a :class:`sqlalchemy.Connection` already inside the
caller's transaction (see ``tasks.io.registry.Registry``), so several compose
into one atomic unit. Rows come back as frozen dataclass records, never ORM
objects. Refusals raise ``RegistryError``/``LostRaceError``; the caller's
transaction then rolls back and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Executable, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from schemas.registry import (
    Base,
    Champion,
    DatasetVersion,
    Decision,
    IngestedFile,
    Ledger,
    ModelVersion,
    TrainingRun,
    utcnow,
)
from tasks.errors import LostRaceError, RegistryError

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


def find_file(conn: Connection, dataset: str, uri: str, sha256: str) -> FileRecord | None:
    """The file recorded under (dataset, uri, sha256), if any."""
    key = (IngestedFile.dataset == dataset, IngestedFile.uri == uri, IngestedFile.sha256 == sha256)
    return first(conn, FileRecord, select(IngestedFile).where(*key))


def list_files(conn: Connection, dataset: str) -> list[FileRecord]:
    """Every file recorded for ``dataset``, oldest first."""
    statement = select(IngestedFile).where(IngestedFile.dataset == dataset)
    return many(conn, FileRecord, statement.order_by(IngestedFile.id))


def recorded_uris(conn: Connection, dataset: str, keys: Iterable[tuple[str, str]]) -> list[str]:
    """The URIs among ``keys`` ((uri, sha256) pairs) already recorded for ``dataset``."""
    wanted = set(keys)
    statement = select(IngestedFile.uri, IngestedFile.sha256).where(
        IngestedFile.dataset == dataset, IngestedFile.uri.in_(sorted({u for u, _ in wanted}))
    )
    return sorted({row.uri for row in conn.execute(statement) if (row.uri, row.sha256) in wanted})


def dataset_versions(
    conn: Connection, dataset: str, version: str | None = None, limit: int | None = None
) -> list[DatasetVersionRecord]:
    """Versions of ``dataset`` (only ``version`` when given), newest first."""
    statement = select(DatasetVersion).where(DatasetVersion.dataset == dataset)
    if version is not None:
        statement = statement.where(DatasetVersion.version == version)
    statement = statement.order_by(DatasetVersion.seq.desc()).limit(limit)
    return many(conn, DatasetVersionRecord, statement)


def model_versions(
    conn: Connection, model: str, version: str | None = None, training_key: str | None = None
) -> list[ModelVersionRecord]:
    """Versions of ``model`` (filtered by version or training key), newest first."""
    statement = select(ModelVersion).where(ModelVersion.model == model)
    if version is not None:
        statement = statement.where(ModelVersion.version == version)
    if training_key is not None:
        statement = statement.where(ModelVersion.training_key == training_key)
    return many(conn, ModelVersionRecord, statement.order_by(ModelVersion.seq.desc()))


def latest_model_seq(conn: Connection, model: str) -> int:
    """The highest registered sequence number of ``model`` (0 if none)."""
    statement = select(func.max(ModelVersion.seq)).where(ModelVersion.model == model)
    return int(conn.execute(statement).scalar_one_or_none() or 0)


def champion(conn: Connection, model: str) -> ModelVersionRecord | None:
    """The model version of ``model`` whose status is ``champion``."""
    mine = (ModelVersion.model == model, ModelVersion.status == "champion")
    return first(conn, ModelVersionRecord, select(ModelVersion).where(*mine))


def champion_version(conn: Connection, model: str) -> str | None:
    """The version the champions row of ``model`` names (the CAS target)."""
    statement = select(Champion.version).where(Champion.model == model)
    return conn.execute(statement).scalar_one_or_none()


def ledger(conn: Connection, model: str) -> list[LedgerEntry]:
    """The ledger of ``model``, oldest first."""
    return many(conn, LedgerEntry, select(Ledger).where(Ledger.model == model).order_by(Ledger.id))


def decisions(conn: Connection, model: str) -> list[DecisionRecord]:
    """Decisions about ``model``, newest first."""
    statement = select(Decision).where(Decision.model == model).order_by(Decision.id.desc())
    return many(conn, DecisionRecord, statement)


def training_runs(
    conn: Connection, model: str | None = None, run_id: int | None = None
) -> list[TrainingRunRecord]:
    """Training runs (of ``model``, or only ``run_id``), newest first."""
    statement = select(TrainingRun).order_by(TrainingRun.id.desc())
    if model is not None:
        statement = statement.where(TrainingRun.model == model)
    if run_id is not None:
        statement = statement.where(TrainingRun.id == run_id)
    return many(conn, TrainingRunRecord, statement)


def add_dataset_version(
    conn: Connection, values: dict[str, Any], files: list[dict[str, Any]]
) -> DatasetVersionRecord:
    """Insert a dataset version whose parent must still be the latest, with its files.

    Raises:
        LostRaceError: the latest version is not ``values["parent_version"]``, or
            a file is already recorded.
        RegistryError: ``values["version"]`` is not above the parent's.
    """
    dataset, expected = values["dataset"], values["parent_version"]
    found = dataset_versions(conn, dataset, limit=1)
    actual = found[0].version if found else None
    if actual != expected:
        raise LostRaceError(f"dataset {dataset!r}: expected latest {expected}, found {actual}")
    seq = int(str(values["version"]).removeprefix("v") or 0)
    lowest = found[0].seq + 1 if found else 1
    if values["version"] != f"v{seq}" or seq < lowest:
        # a gap above the parent is allowed: a crashed run may have left a manifest there
        raise RegistryError(f"dataset {dataset!r}: {values['version']} is not after v{lowest - 1}")
    taken = recorded_uris(conn, dataset, [(f["uri"], f["sha256"]) for f in files])
    if taken:
        raise LostRaceError(f"dataset {dataset!r}: {taken[0]} is already recorded")
    record = insert_one(conn, DatasetVersion, DatasetVersionRecord, {**values, "seq": seq})
    extra = {"dataset": dataset, "status": "accepted", "dataset_version": values["version"]}
    if files:
        conn.execute(insert(IngestedFile), [{**f, **extra} for f in files])
    return record


def set_candidate_status(conn: Connection, model: str, version: str, status: str) -> None:
    """Move a candidate to ``status`` (a no-op when it already has it).

    Raises:
        RegistryError: unknown version, or it is no longer a candidate.
    """
    found = model_versions(conn, model, version)
    if not found:
        raise RegistryError(f"model {model!r} has no version {version}")
    if found[0].status == status:
        return
    if found[0].status != "candidate":
        raise RegistryError(
            f"model {model!r} {version} is {found[0].status}: only a candidate can become {status}"
        )
    mine = (ModelVersion.model == model, ModelVersion.version == version)
    statement = update(ModelVersion).where(*mine, ModelVersion.status == "candidate")
    if conn.execute(statement.values(status=status)).rowcount != 1:
        raise LostRaceError(f"model {model!r} {version} changed status concurrently")


def swap_champion(conn: Connection, entry: dict[str, Any]) -> LedgerEntry:
    """Compare-and-swap the champion and append the ledger ``entry`` describing it.

    ``entry`` holds model, action, from_version (the expected champion),
    to_version, actor and reason.

    Raises:
        LostRaceError: the champion is no longer ``entry["from_version"]``.
        RegistryError: the target version is unknown or was rejected.
    """
    model, version, expected = entry["model"], entry["to_version"], entry["from_version"]
    found = model_versions(conn, model, version)
    if not found:
        raise RegistryError(f"model {model!r} has no version {version}")
    if found[0].status == "rejected":
        raise RegistryError(f"model {model!r} {version} was rejected: it cannot be promoted")
    insert_ignore(conn, Champion, {"model": model, "version": None, "generation": 0})
    cas = (
        update(Champion)
        .where(Champion.model == model, Champion.version.is_not_distinct_from(expected))
        .values(version=version, generation=Champion.generation + 1, updated_at=utcnow())
    )
    if conn.execute(cas).rowcount != 1:
        actual = champion_version(conn, model)
        raise LostRaceError(f"model {model!r}: expected champion {expected}, found {actual}")
    mine = ModelVersion.model == model
    retire = update(ModelVersion).where(mine, ModelVersion.status == "champion")
    conn.execute(retire.values(status="archived"))
    crown = update(ModelVersion).where(mine, ModelVersion.version == version)
    conn.execute(crown.values(status="champion"))
    return insert_one(conn, Ledger, LedgerEntry, entry)


def close_training_run(conn: Connection, run_id: int, values: dict[str, Any]) -> TrainingRunRecord:
    """Close a running training run with ``values`` and return it.

    Raises:
        RegistryError: the run does not exist or has already finished.
    """
    running = (TrainingRun.id == run_id, TrainingRun.status == "running")
    closed = conn.execute(update(TrainingRun).where(*running).values(**values)).rowcount
    found = training_runs(conn, run_id=run_id)
    if not found:
        raise RegistryError(f"training run {run_id} does not exist")
    if closed != 1:
        raise RegistryError(f"training run {run_id} has already finished ({found[0].status})")
    return found[0]
