"""infra/postgres: the owner migrates, the application writes rows and cannot touch the
ledger's protections. Run on the local PostgreSQL server with psql, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

pytestmark = [pytest.mark.postgres, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
HOST, PORT = os.environ.get("RETRAIN_TEST_PG_HOST", "127.0.0.1"), 5432
ADMIN = f"postgresql+psycopg://postgres@{HOST}:{PORT}/test"


def psql(*args: str, database: str = "test") -> subprocess.CompletedProcess[str]:
    cmd = ["psql", "-h", HOST, "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)


@pytest.fixture
def roles() -> Iterator[dict[str, str]]:
    """A database and its owner and application roles, made by infra/postgres/roles.sql."""
    if shutil.which("psql") is None or psql("-c", "select 1").returncode != 0:
        pytest.skip(f"psql or PostgreSQL on {HOST}:{PORT} is not available")
    tag = uuid.uuid4().hex[:10]
    names = {"db": f"retrain_roles_{tag}", "owner": f"owner_{tag}", "app": f"app_{tag}"}
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{names["db"]}"'))
    try:
        made = psql(
            *[f"-v{k}={v}" for k, v in names.items()], "-f", str(ROOT / "infra/postgres/roles.sql")
        )
        assert made.returncode == 0, made.stderr
        yield names
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{names["db"]}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{names["app"]}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{names["owner"]}"'))
        admin.dispose()


def url(role: str, database: str) -> str:
    return f"postgresql://{role}@{HOST}:{PORT}/{database}"


def test_the_app_role_cannot_migrate_and_says_who_can(roles: dict[str, str]) -> None:
    from schemas.errors import RegistryError
    from tasks.io.registry import Registry

    with pytest.raises(RegistryError, match=r"run `retrain migrate` with the owner role"):
        Registry.open(url(roles["app"], roles["db"]))


def test_owner_migrates_app_writes_rows_and_cannot_touch_the_ledger(
    roles: dict[str, str],
) -> None:
    from tasks.io.registry import NewModelVersion, Registry

    Registry.open(url(roles["owner"], roles["db"])).close()
    granted = psql(f"-vapp={roles['app']}", "-f", str(ROOT / "infra/postgres/grants.sql"),
                   database=roles["db"])  # fmt: skip
    assert granted.returncode == 0, granted.stderr

    app = Registry.open(url(roles["app"], roles["db"]))
    app.register_model_version(
        NewModelVersion(
            model="fraud",
            version="v1",
            training_key="k",
            dataset_versions={"t": "v1"},
            spec_hash="s",
            params={},
            code_version="c",
            artifact_uri="file:///m",
            artifact_sha256="0" * 64,
        )
    )
    app.promote("fraud", "v1", None, "ci", "first")
    assert [e.to_version for e in app.history("fraud")] == ["v1"]
    app.close()

    engine = create_engine(
        url(roles["app"], roles["db"]).replace("postgresql://", "postgresql+psycopg://")
    )
    for statement in (
        "DROP TRIGGER ledger_no_update_delete ON ledger",
        "ALTER TABLE ledger DISABLE TRIGGER ALL",
        "UPDATE ledger SET reason = 'edited'",
        "DELETE FROM ledger",
        "TRUNCATE ledger",
        "DROP TABLE model_versions",
    ):
        with (
            engine.connect() as conn,
            pytest.raises(DBAPIError, match=r"(?i)permission denied|must be owner"),
        ):
            conn.execute(text(statement))
    engine.dispose()
