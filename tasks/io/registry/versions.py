"""Read queries on model versions, the champions row and the ledger (one connection each)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from schemas.registry import Champion, Ledger, ModelVersion
from tasks.io.registry.records import LedgerEntry, ModelVersionRecord, first, many


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
