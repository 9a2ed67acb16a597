"""Registry adapter (DESIGN section 5): the SQL model and dataset registry.

SQLite (default) or PostgreSQL behind one API. The database enforces the
invariants (one champion per model, one registration per training key, an
append-only ledger); this module opens and migrates the database, runs each
operation in one transaction (``BEGIN IMMEDIATE`` on SQLite, retries on
PostgreSQL serialization failures) and turns every database error into
:class:`RegistryError` or :class:`LostRaceError`. The statements themselves
live in ``tasks.io.registry_queries``.
"""

from __future__ import annotations

import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from schemas import registry as tables
from tasks.errors import LostRaceError, RegistryError
from tasks.io import registry_queries as q
from tasks.io.registry_queries import (
    DatasetVersionRecord,
    DecisionRecord,
    FileRecord,
    LedgerEntry,
    ModelVersionRecord,
    TrainingRunRecord,
)

__all__ = [
    "AlreadyRegisteredError",
    "DatasetVersionRecord",
    "DecisionRecord",
    "FileRecord",
    "LedgerEntry",
    "ModelVersionRecord",
    "NewFile",
    "NewModelVersion",
    "Registry",
    "TrainingRunRecord",
]

T = TypeVar("T")
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_ATTEMPTS = 5
_VERSION = re.compile(r"^v[1-9][0-9]*$")
_PROMOTE_ACTIONS = ("promote", "rollback", "approve")
_FINISHED = ("succeeded", "failed", "skipped")
_WRITE = "retrain_write"  # execution option: this transaction writes (BEGIN IMMEDIATE)
_MIGRATION_LOCK = 0x7265_7472_6169_6E  # pg_advisory_xact_lock key ("retrain")
_MIGRATING = threading.Lock()  # alembic's `context` proxy is process-global


class AlreadyRegisteredError(RegistryError):
    """The same training inputs (model, training key) are already registered."""

    def __init__(self, message: str, existing: ModelVersionRecord | None = None) -> None:
        super().__init__(message)
        self.existing = existing


class _RetryableError(RegistryError):
    """PostgreSQL asked for a retry (serialization failure or deadlock)."""


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


def _summary(exc: BaseException, secret: str | None = None) -> str:
    """The first line of the driver's message, with ``secret`` masked."""
    message = str(getattr(exc, "orig", None) or exc).strip() or type(exc).__name__
    line = message.splitlines()[0]
    return line.replace(secret, "***") if secret else line


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
    dbapi_connection.execute("PRAGMA busy_timeout = 30000")
    dbapi_connection.execute("PRAGMA foreign_keys = ON")
    for attempt in range(1, 201):
        try:
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            # Switching a fresh file to WAL fails at once (no busy wait) while
            # another connection switches it: retry for up to ~30 s.
            if "locked" not in str(exc) or attempt == 200:
                raise
            time.sleep(0.1 * random.random() + 0.05)  # noqa: S311


def _on_sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _create_engine(url: URL) -> Engine:
    """An engine for ``url`` (SQLite gets WAL, a busy timeout and explicit BEGIN)."""
    if url.get_backend_name() == "postgresql":
        if url.get_driver_name() not in ("psycopg", "psycopg2"):
            raise RegistryError(f"unsupported driver {url.drivername!r}: use postgresql://")
        timeout = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
        return create_engine(url, pool_pre_ping=True, connect_args=timeout)
    if url.get_backend_name() != "sqlite":
        raise RegistryError(f"unsupported registry database {url.get_backend_name()!r}")
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _migrate(engine: Engine) -> None:
    """Upgrade to the newest schema, once, even with concurrent openers."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    folder = Path(tables.__file__).resolve().parent / "migrations"
    config.set_main_option("script_location", str(folder).replace("%", "%%"))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    with _MIGRATING, engine.execution_options(**{_WRITE: True}).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_engine(url: str) -> Engine:
    """Create a migrated engine for ``url`` (``postgresql://`` means psycopg 3).

    Raises:
        RegistryError: bad URL, unreachable database or failed migration; the
            message names the URL without its password.
    """
    from alembic.util import CommandError

    try:
        parsed = make_url(url)
    except SQLAlchemyError as exc:  # ArgumentError: not a URL at all
        raise RegistryError("invalid registry URL: use sqlite:///PATH or postgresql://...") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = _create_engine(parsed)
    except (SQLAlchemyError, OSError) as exc:
        raise RegistryError(
            f"cannot open registry {shown}: {_summary(exc, parsed.password)}"
        ) from exc
    try:
        _migrate(engine)
    except (SQLAlchemyError, CommandError) as exc:
        engine.dispose()
        raise RegistryError(
            f"cannot open registry {shown}: {_summary(exc, parsed.password)}"
        ) from exc
    return engine


class Registry:
    """The registry database: files, dataset/model versions, champions, ledger, runs."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine already migrated by :func:`open_engine` (prefer :meth:`open`)."""
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})

    @classmethod
    def open(cls, url: str) -> Registry:
        """Connect to ``url`` and apply pending migrations (see :func:`open_engine`)."""
        return cls(open_engine(url))

    def close(self) -> None:
        """Release every pooled connection."""
        self._engine.dispose()

    @contextmanager
    def _tx(self, action: str, write: bool = False, conflict: str = "") -> Iterator[Connection]:
        """One transaction; database errors become RegistryError/LostRaceError."""
        try:
            with (self._writer if write else self._engine).begin() as conn:
                yield conn
        except IntegrityError as exc:
            if conflict:
                raise LostRaceError(f"{conflict} ({_summary(exc)})") from exc
            raise RegistryError(f"registry refused to {action}: {_summary(exc)}") from exc
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES:
                raise _RetryableError(f"could not {action}: {_summary(exc)}") from exc
            raise RegistryError(f"registry could not {action}: {_summary(exc)}") from exc
        except SQLAlchemyError as exc:
            raise RegistryError(f"registry could not {action}: {_summary(exc)}") from exc

    def _write(self, action: str, work: Callable[[Connection], T], conflict: str = "") -> T:
        """Run ``work`` in one write transaction, retrying serialization failures."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self._tx(action, write=True, conflict=conflict) as conn:
                    return work(conn)
            except _RetryableError as exc:
                if attempt == _ATTEMPTS:
                    raise RegistryError(f"registry gave up after {attempt} tries: {exc}") from exc
                time.sleep(0.02 * 2**attempt * (1 + random.random()))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self, action: str, work: Callable[[Connection], T]) -> T:
        with self._tx(action) as conn:
            return work(conn)

    # files
    def find_file(self, dataset: str, uri: str, sha256: str) -> FileRecord | None:
        """The file recorded under (dataset, uri, sha256), accepted or quarantined."""
        return self._read("find a file", lambda c: q.find_file(c, dataset, uri, sha256))

    def list_files(self, dataset: str) -> list[FileRecord]:
        """Every file recorded for ``dataset``, oldest first."""
        return self._read("list files", lambda c: q.list_files(c, dataset))

    def record_quarantined_file(
        self, dataset: str, uri: str, sha256: str, size: int, details: dict[str, Any]
    ) -> FileRecord:
        """Record a quarantined file; if (dataset, uri, sha256) is known, return that record."""
        key = {"dataset": dataset, "uri": uri, "sha256": sha256}
        row = {**key, "size": size, "status": "quarantined", "details": details}

        def work(conn: Connection) -> FileRecord:
            q.insert_ignore(conn, tables.IngestedFile, row)
            found = q.find_file(conn, **key)
            if found is None:  # pragma: no cover - inserted or already there
                raise RegistryError(f"dataset {dataset!r}: {uri} vanished while recording it")
            return found

        return self._write(f"record quarantined file {uri}", work)

    # dataset versions
    def latest_dataset_version(self, dataset: str) -> DatasetVersionRecord | None:
        """The newest version of ``dataset``, or None before the first commit."""
        found = self._read("read datasets", lambda c: q.dataset_versions(c, dataset, limit=1))
        return found[0] if found else None

    def get_dataset_version(self, dataset: str, version: str) -> DatasetVersionRecord | None:
        """Version ``version`` of ``dataset``, if committed."""
        found = self._read("read datasets", lambda c: q.dataset_versions(c, dataset, version))
        return found[0] if found else None

    def list_dataset_versions(self, dataset: str) -> list[DatasetVersionRecord]:
        """Every version of ``dataset``, newest first."""
        return self._read("list datasets", lambda c: q.dataset_versions(c, dataset))

    def next_dataset_version(self, dataset: str) -> str:
        """The version name the next commit of ``dataset`` will take."""
        latest = self.latest_dataset_version(dataset)
        return f"v{latest.seq + 1 if latest else 1}"

    def commit_dataset_version(
        self,
        dataset: str,
        expected_parent: str | None,
        manifest_uri: str,
        manifest_sha256: str,
        rows: int,
        partitions: int,
        files: list[NewFile],
        version: str,
    ) -> DatasetVersionRecord:
        """Commit ``version`` of ``dataset`` and its accepted files in one transaction.

        Raises:
            LostRaceError: the latest version is not ``expected_parent`` or a file
                is already recorded (nothing is written).
            RegistryError: ``version`` is not the next one, or a file repeats.
        """
        if len({(f.uri, f.sha256) for f in files}) != len(files):
            raise RegistryError(f"dataset {dataset!r}: a file appears twice in {version}")
        values = {
            "dataset": dataset, "version": version, "parent_version": expected_parent,
            "manifest_uri": manifest_uri, "manifest_sha256": manifest_sha256,
            "rows": rows, "partitions": partitions,
        }  # fmt: skip
        accepted = [asdict(f) for f in files]
        conflict = f"dataset {dataset!r}: another run committed {version} or its files first"
        return self._write(
            f"commit {dataset} {version}",
            lambda c: q.add_dataset_version(c, values, accepted),
            conflict,
        )

    # models
    def find_model_version(self, model: str, training_key: str) -> ModelVersionRecord | None:
        """The version of ``model`` trained from ``training_key``, if registered."""
        found = self._read("find a model", lambda c: q.model_versions(c, model, None, training_key))
        return found[0] if found else None

    def get_model_version(self, model: str, version: str) -> ModelVersionRecord | None:
        """Version ``version`` of ``model``, if registered."""
        found = self._read("read models", lambda c: q.model_versions(c, model, version))
        return found[0] if found else None

    def list_model_versions(self, model: str) -> list[ModelVersionRecord]:
        """Every version of ``model``, newest first."""
        return self._read("list models", lambda c: q.model_versions(c, model))

    def next_model_version(self, model: str) -> str:
        """The version name the next registration of ``model`` will take."""
        return f"v{self._read('read models', lambda c: q.latest_model_seq(c, model)) + 1}"

    def register_model_version(self, new: NewModelVersion) -> ModelVersionRecord:
        """Register ``new`` as a candidate.

        Raises:
            AlreadyRegisteredError: (model, training_key) is already registered.
            LostRaceError: another run took ``new.version`` first.
            RegistryError: ``new.version`` is malformed.
        """
        if not _VERSION.match(new.version):
            raise RegistryError(f"invalid version {new.version!r}: expected 'v<n>', n >= 1")
        seq = int(new.version[1:])

        def work(conn: Connection) -> ModelVersionRecord:
            latest = q.latest_model_seq(conn, new.model)
            if seq <= latest:
                raise LostRaceError(f"model {new.model!r}: {new.version} is already taken")
            # A gap is allowed: a crashed run may have left files under the next number.
            values = {**asdict(new), "seq": seq, "status": "candidate"}
            return q.insert_one(conn, tables.ModelVersion, ModelVersionRecord, values)

        existing = self.find_model_version(new.model, new.training_key)
        if existing is None:
            conflict = f"model {new.model!r}: another run registered {new.version} first"
            try:
                return self._write(f"register {new.model} {new.version}", work, conflict)
            except LostRaceError:
                existing = self.find_model_version(new.model, new.training_key)
                if existing is None:
                    raise
        message = f"model {new.model!r}: these inputs are already registered as {existing.version}"
        raise AlreadyRegisteredError(message, existing)

    def set_model_status(self, model: str, version: str, status: str) -> None:
        """Mark a candidate ``rejected`` or ``archived`` (champions change via promote)."""
        if status not in ("rejected", "archived"):
            raise RegistryError(f"status {status!r} refused: use 'rejected' or 'archived'")
        self._write(
            f"set the status of {model} {version}",
            lambda c: q.set_candidate_status(c, model, version, status),
        )

    def reject_version(self, model: str, version: str, actor: str, reason: str) -> LedgerEntry:
        """Reject a candidate after a human answer: status and a `reject` ledger entry, at once.

        The entry's ``to_version`` is the rejected version; the champion does not change.
        """

        def work(conn: Connection) -> LedgerEntry:
            q.set_candidate_status(conn, model, version, "rejected")
            entry = {
                "model": model,
                "action": "reject",
                "from_version": q.champion_version(conn, model),
                "to_version": version,
                "actor": actor,
                "reason": reason,
            }
            return q.insert_one(conn, tables.Ledger, LedgerEntry, entry)

        return self._write(f"reject {model} {version}", work)

    def champion(self, model: str) -> ModelVersionRecord | None:
        """The current champion of ``model``, or None."""
        return self._read("read the champion", lambda c: q.champion(c, model))

    def promote(
        self,
        model: str,
        version: str,
        expected_champion: str | None,
        actor: str,
        reason: str,
        action: str = "promote",
    ) -> LedgerEntry:
        """Make ``version`` the champion if ``expected_champion`` still is (CAS).

        One transaction moves the champions row, archives the previous champion,
        crowns ``version`` and appends the ledger entry.

        Raises:
            LostRaceError: the champion is no longer ``expected_champion``.
            RegistryError: unknown or rejected version, or an invalid action.
        """
        if action not in _PROMOTE_ACTIONS:
            raise RegistryError(f"action {action!r} refused: use one of {_PROMOTE_ACTIONS}")
        if version == expected_champion:
            raise RegistryError(f"model {model!r}: {version} is already the expected champion")
        entry = {
            "model": model, "action": action, "from_version": expected_champion,
            "to_version": version, "actor": actor, "reason": reason,
        }  # fmt: skip
        conflict = f"model {model!r}: another promotion moved the champion first"
        return self._write(
            f"promote {model} {version}", lambda c: q.swap_champion(c, entry), conflict
        )

    def rollback(self, model: str, to_version: str | None, actor: str, reason: str) -> LedgerEntry:
        """Restore a former champion (default: the one before the current) as a new entry.

        Raises:
            RegistryError: no champion, no previous champion, or ``to_version``
                never passed a promotion.
            LostRaceError: the champion moved while rolling back.
        """
        current, entries = self._read(
            "read the ledger", lambda c: (q.champion_version(c, model), q.ledger(c, model))
        )
        if current is None:
            raise RegistryError(f"model {model!r} has no champion to roll back")
        entries = [e for e in entries if e.action in _PROMOTE_ACTIONS]  # not rejections
        target = to_version
        if target is None:
            made = [e for e in entries if e.to_version == current]
            target = made[-1].from_version if made else None
            if target is None:
                raise RegistryError(f"model {model!r}: there is no champion before {current}")
        if target == current:
            raise RegistryError(f"model {model!r}: {target} is already the champion")
        if not any(e.to_version == target for e in entries):
            raise RegistryError(f"model {model!r}: {target} never passed a promotion")
        return self.promote(model, target, current, actor, reason, action="rollback")

    def history(self, model: str) -> list[LedgerEntry]:
        """The promotion ledger of ``model``, oldest first."""
        return self._read("read the ledger", lambda c: q.ledger(c, model))

    # decisions
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
        if outcome not in tables.DECISION_OUTCOMES:
            raise RegistryError(f"outcome {outcome!r} refused: one of {tables.DECISION_OUTCOMES}")
        values = {
            "model": model, "version": version, "champion_version": champion_version,
            "outcome": outcome, "reasons": list(reasons), "evidence": evidence,
        }  # fmt: skip
        return self._write(
            f"record a decision about {model}",
            lambda c: q.insert_one(c, tables.Decision, DecisionRecord, values),
        )

    def list_decisions(self, model: str) -> list[DecisionRecord]:
        """Decisions about ``model``, newest first."""
        return self._read("list decisions", lambda c: q.decisions(c, model))

    # training runs
    def start_training_run(
        self, model: str, training_key: str, capacity_type: str, instance_type: str | None
    ) -> TrainingRunRecord:
        """Record a training run as started now (status ``running``)."""
        values = {
            "model": model, "training_key": training_key, "status": "running",
            "wall_seconds": 0.0, "cpu_seconds": 0.0, "capacity_type": capacity_type,
            "instance_type": instance_type, "details": {},
        }  # fmt: skip
        return self._write(
            f"start a training run of {model}",
            lambda c: q.insert_one(c, tables.TrainingRun, TrainingRunRecord, values),
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
            f"finish training run {run_id}", lambda c: q.close_training_run(c, run_id, values)
        )

    def list_training_runs(self, model: str | None = None) -> list[TrainingRunRecord]:
        """Training runs (of ``model`` when given), newest first."""
        return self._read("list training runs", lambda c: q.training_runs(c, model))
