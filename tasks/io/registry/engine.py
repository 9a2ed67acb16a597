"""The registry database: engine, migrations, and one transaction per operation.

SQLite (default) or PostgreSQL. Every operation runs in one transaction
(``BEGIN IMMEDIATE`` on SQLite writes, retries on PostgreSQL serialization
failures), and every database error becomes :class:`RegistryError` or
:class:`LostRaceError` with a one-line message that never shows a password.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self, TypeVar

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from schemas import registry as tables
from schemas.errors import LostRaceError, RegistryError

T = TypeVar("T")
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock
_ATTEMPTS = 5
_WRITE = "retrain_write"  # execution option: this transaction writes (BEGIN IMMEDIATE)
_MIGRATION_LOCK = 0x7265_7472_6169_6E  # pg_advisory_xact_lock key ("retrain")
_MIGRATING = threading.Lock()  # alembic's `context` proxy is process-global


class _RetryableError(RegistryError):
    """PostgreSQL asked for a retry (serialization failure or deadlock)."""


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
            raise RegistryError(
                f"unsupported driver {url.drivername!r} in RETRAIN_DATABASE_URL: the registry "
                "talks to PostgreSQL through psycopg; write postgresql://USER@HOST:5432/DB"
            )
        timeout = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
        return create_engine(url, pool_pre_ping=True, connect_args=timeout)
    if url.get_backend_name() != "sqlite":
        raise RegistryError(
            f"unsupported registry database {url.get_backend_name()!r} in RETRAIN_DATABASE_URL:"
            " use postgresql://USER@HOST:5432/DB or sqlite:///PATH/registry.db"
        )
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
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    try:
        with _MIGRATING, engine.execution_options(**{_WRITE: True}).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "42501":  # insufficient_privilege
            raise RegistryError(
                f"the registry is at schema {current or 'none'} and this code needs {head}, and"
                " this role may not migrate it: run `retrain migrate` with the owner role's"
                " RETRAIN_DATABASE_URL (infra/postgres/roles.sql)"
            ) from exc
        raise


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


class Database:
    """One registry database: every operation is a read or a write transaction."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine already migrated by :func:`open_engine` (prefer :meth:`open`)."""
        self._engine = engine
        self._writer = engine.execution_options(**{_WRITE: True})

    @classmethod
    def open(cls, url: str) -> Self:
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
