"""Training runs: what each attempt cost and how it ended."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from schemas import registry as tables
from schemas.errors import RegistryError
from schemas.registry import TrainingRun
from tasks.io.registry.engine import Database
from tasks.io.registry.records import TrainingRunRecord, insert_one, many

_KEPT = ("checkpoints", "host", "pid")  # recorded while running, kept when closed
_FINISHED = ("succeeded", "failed", "interrupted", "lost_race", "skipped")


class RunRegistry(Database):
    """Training runs, opened when training starts and closed when it ends."""

    def start_training_run(
        self,
        model: str,
        training_key: str,
        capacity_type: str,
        instance_type: str | None,
        details: dict[str, Any] | None = None,
    ) -> TrainingRunRecord:
        """Record a training run as started now (status ``running``); ``details`` says where
        it runs (host, pid), so a run whose process died can be told from a live one."""
        values = {
            "model": model, "training_key": training_key, "status": "running",
            "wall_seconds": 0.0, "cpu_seconds": 0.0, "capacity_type": capacity_type,
            "instance_type": instance_type, "details": dict(details or {}),
        }  # fmt: skip
        return self._write(
            f"start a training run of {model}",
            lambda c: insert_one(c, tables.TrainingRun, TrainingRunRecord, values),
        )

    def finish_training_run(
        self,
        run_id: int,
        status: str,
        outcome: str | None,
        version: str | None,
        wall_seconds: float,
        cpu_seconds: float,
        cost_usd: float | None,
        details: dict[str, Any],
    ) -> TrainingRunRecord:
        """Close a running training run with its outcome, duration and cost."""
        if status not in _FINISHED:
            raise RegistryError(f"status {status!r} refused: use one of {_FINISHED}")
        values = {
            "status": status, "outcome": outcome, "version": version,
            "finished_at": tables.utcnow(), "wall_seconds": wall_seconds,
            "cpu_seconds": cpu_seconds, "cost_usd": cost_usd, "details": details,
        }  # fmt: skip
        return self._write(
            f"finish training run {run_id}", lambda c: close_training_run(c, run_id, values)
        )

    def note_checkpoint(self, run_id: int, checkpoint: dict[str, Any]) -> None:
        """Record a checkpoint (key, sha256, progress) on a running training run, outside the
        store's checkpoint folder: a damaged ``latest.json`` cannot hide it."""

        def work(conn: Connection) -> None:
            found = training_runs(conn, run_id=run_id)
            if not found:
                raise RegistryError(f"training run {run_id} does not exist")
            details = dict(found[0].details)
            details["checkpoints"] = [*details.get("checkpoints", []), checkpoint]
            conn.execute(
                update(TrainingRun).where(TrainingRun.id == run_id).values(details=details)
            )

        self._write(f"note a checkpoint of training run {run_id}", work)

    def checkpoints(self, model: str, training_key: str) -> list[dict[str, Any]]:
        """Every checkpoint any training run of these inputs recorded, newest run first."""
        runs = self.list_training_runs(model)
        return [
            c
            for r in runs
            if r.training_key == training_key
            for c in r.details.get("checkpoints", [])
        ]

    def get_training_run(self, run_id: int) -> TrainingRunRecord | None:
        """Training run ``run_id``, if it exists."""
        found = self._read("read a training run", lambda c: training_runs(c, run_id=run_id))
        return found[0] if found else None

    def list_training_runs(self, model: str | None = None) -> list[TrainingRunRecord]:
        """Training runs (of ``model`` when given), newest first."""
        return self._read("list training runs", lambda c: training_runs(c, model))


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


def close_training_run(conn: Connection, run_id: int, values: dict[str, Any]) -> TrainingRunRecord:
    """Close a running training run with ``values`` and return it.

    Raises:
        RegistryError: the run does not exist or has already finished.
    """
    before = training_runs(conn, run_id=run_id)
    if before and "details" in values:  # keep what the run recorded while it ran
        kept = {k: v for k, v in before[0].details.items() if k in _KEPT}
        values = {**values, "details": {**kept, **values["details"]}}
    running = (TrainingRun.id == run_id, TrainingRun.status == "running")
    closed = conn.execute(update(TrainingRun).where(*running).values(**values)).rowcount
    found = training_runs(conn, run_id=run_id)
    if not found:
        raise RegistryError(f"training run {run_id} does not exist")
    if closed != 1:
        raise RegistryError(f"training run {run_id} has already finished ({found[0].status})")
    return found[0]
