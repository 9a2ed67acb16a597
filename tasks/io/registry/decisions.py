"""Promotion decisions: every outcome with all of its reasons and evidence."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, select

from schemas import registry as tables
from schemas.errors import RegistryError
from schemas.registry import Decision
from tasks.io.registry.engine import Database
from tasks.io.registry.records import DecisionRecord, NewDecision, insert_one, many


class DecisionRegistry(Database):
    """Decisions about challengers, newest first."""

    def record_decision(
        self,
        model: str,
        version: str | None,
        champion_version: str | None,
        outcome: str,
        reasons: list[str],
        evidence: dict[str, Any],
    ) -> DecisionRecord:
        """Append a promotion decision with its outcome and every reason."""
        new = NewDecision(model, version, champion_version, outcome, list(reasons), evidence)
        return self._write(f"record a decision about {model}", lambda c: insert_decision(c, new))

    def list_decisions(self, model: str) -> list[DecisionRecord]:
        """Decisions about ``model``, newest first."""
        return self._read("list decisions", lambda c: decisions(c, model))


def decisions(conn: Connection, model: str) -> list[DecisionRecord]:
    """Decisions about ``model``, newest first."""
    statement = select(Decision).where(Decision.model == model).order_by(Decision.id.desc())
    return many(conn, DecisionRecord, statement)


def insert_decision(conn: Connection, new: NewDecision) -> DecisionRecord:
    """Append ``new`` inside the caller's transaction.

    Raises:
        RegistryError: an unknown outcome.
    """
    if new.outcome not in tables.DECISION_OUTCOMES:
        raise RegistryError(f"outcome {new.outcome!r} refused: one of {tables.DECISION_OUTCOMES}")
    values = {**asdict(new), "outcome": str(new.outcome)}  # a StrEnum is stored as its value
    return insert_one(conn, tables.Decision, DecisionRecord, values)
