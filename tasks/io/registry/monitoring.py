"""Monitoring reports in the registry: every run, and when each event was last emitted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from schemas.errors import RegistryError
from schemas.registry import MONITORING_ACTIONS, MONITORING_STATUSES, MonitoringReport
from tasks.io.registry.engine import Database
from tasks.io.registry.records import MonitoringRecord, insert_one, many

EXCLUDED = ("id", "created_at")  # set by the database


class MonitoringRegistry(Database):
    """Monitoring runs of each model, newest first."""

    def record_monitoring(self, values: dict[str, Any]) -> MonitoringRecord:
        """Append one monitoring run (``values``: the record's fields but id and created_at).

        Raises:
            RegistryError: an unknown status or action.
        """
        if values["status"] not in MONITORING_STATUSES:
            raise RegistryError(f"status {values['status']!r}: one of {MONITORING_STATUSES}")
        if values["action"] not in MONITORING_ACTIONS:
            raise RegistryError(f"action {values['action']!r}: one of {MONITORING_ACTIONS}")
        row = {k: v for k, v in values.items() if k not in EXCLUDED}
        return self._write(
            f"record a monitoring run of {values['model']}",
            lambda c: insert_one(c, MonitoringReport, MonitoringRecord, row),
        )

    def list_monitoring(self, model: str, limit: int | None = None) -> list[MonitoringRecord]:
        """Monitoring runs of ``model``, newest first."""
        return self._read("list monitoring runs", lambda c: monitoring_runs(c, model, limit))


def monitoring_runs(conn: Connection, model: str, limit: int | None) -> list[MonitoringRecord]:
    """Monitoring runs of ``model``, newest first (at most ``limit``)."""
    statement = (
        select(MonitoringReport)
        .where(MonitoringReport.model == model)
        .order_by(MonitoringReport.id.desc())
        .limit(limit)
    )
    return many(conn, MonitoringRecord, statement)
