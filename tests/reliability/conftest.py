"""Fixtures of the fault-injection suite: one ingested template per backend, copied per test.

Ingestion runs once per session (in-process, under Prefect's harness); each test gets a
copy of the template's store and a fresh registry (a copy of the SQLite file, or a new
PostgreSQL database made from the template database), so a test costs only the
``retrain`` processes it starts. Those processes use the harness's API server.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.helpers.samples import relaxed_fraud_spec

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/test"


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Home:
    """One test's state: a store folder, a registry URL, and the environment to run in."""

    root: Path
    database_url: str
    env: dict[str, str]

    @property
    def store(self) -> Path:
        return self.root / "store"


def _admin(sql: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def _seed(root: Path, database_url: str, specs: Path) -> None:
    """Land three days of transactions and ingest them (transactions v1) into ``root``."""
    import datetime as dt

    from flows.ingest_dataset import ingest_dataset
    from schemas.params import IngestParams
    from schemas.settings import Settings
    from tasks.io.landing import write_landing
    from tasks.io.runtime import close_all
    from tasks.samples import sample_files

    settings = Settings(home=root, database_url=database_url, specs_dir=specs)
    files = sample_files("transactions", 3, dt.date(2026, 10, 1), 7, rows_per_day=1200)
    for day, named in files.items():
        write_landing(settings, "transactions", day, named)
    mp = pytest.MonkeyPatch()
    mp.setenv("RETRAIN_HOME", str(root))
    mp.setenv("RETRAIN_DATABASE_URL", database_url)
    mp.setenv("RETRAIN_SPECS_DIR", str(specs))
    try:
        assert ingest_dataset(IngestParams(dataset="transactions"))["version"]["version"] == "v1"
    finally:
        close_all()
        mp.undo()


def _move_uris(url: str, old: str, new: str) -> None:
    """The copied registry names the template's store: point its URIs at the copy."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            for statement in (
                "UPDATE dataset_versions SET manifest_uri = replace(manifest_uri, :old, :new)",
                "UPDATE ingested_files SET uri = replace(uri, :old, :new)",
            ):
                conn.execute(text(statement), {"old": old, "new": new})
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def reliability_specs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reliability-specs")
    (root / "models").mkdir()
    spec = relaxed_fraud_spec()
    spec["lightgbm"]["num_boost_round"] = 30
    (root / "models" / "fraud.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


@pytest.fixture(scope="session")
def templates(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory, reliability_specs: Path
) -> Iterator[dict[str, tuple[Path, str]]]:
    """Ingested templates: backend -> (home folder, registry URL)."""
    made: dict[str, tuple[Path, str]] = {}
    sqlite_root = tmp_path_factory.mktemp("template-sqlite")
    made["sqlite"] = (sqlite_root, f"sqlite:///{sqlite_root / 'registry.db'}")
    _seed(sqlite_root, made["sqlite"][1], reliability_specs)
    name = None
    if postgres_reachable():
        name = f"retrain_tmpl_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}"')
        pg_root = tmp_path_factory.mktemp("template-postgres")
        made["postgres"] = (pg_root, f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}")
        _seed(pg_root, made["postgres"][1], reliability_specs)
    yield made
    if name is not None:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def home(
    request: pytest.FixtureRequest,
    templates: dict[str, tuple[Path, str]],
    reliability_specs: Path,
    tmp_path: Path,
) -> Iterator[Home]:
    """A copy of the backend's template: same store, same registry rows, its own state."""
    from prefect.settings import PREFECT_API_URL

    if request.param not in templates:
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    source, url = templates[request.param]
    root = tmp_path / "home"
    shutil.copytree(source / "store", root / "store")
    name = None
    if request.param == "sqlite":
        shutil.copy2(source / "registry.db", root / "registry.db")
        url = f"sqlite:///{root / 'registry.db'}"
    else:
        name = f"retrain_rel_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[-1]}"')
        url = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    _move_uris(url, (source / "store").as_uri(), (root / "store").as_uri())
    env = {
        **os.environ,
        "RETRAIN_HOME": str(root),
        "RETRAIN_DATABASE_URL": url,
        "RETRAIN_SPECS_DIR": str(reliability_specs),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
    }
    env.pop("RETRAIN_FAULT_AT", None)
    yield Home(root, url, env)
    if name is not None:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def promote_twice(home: Home) -> None:
    """Train fraud v1, land and ingest one more day, train v2: two champions on the ledger."""
    import datetime as dt

    from flows.ingest_dataset import ingest_dataset
    from flows.retrain_model import retrain_model
    from schemas.params import IngestParams, RetrainParams
    from schemas.settings import Settings
    from tasks.io.landing import write_landing
    from tasks.io.runtime import close_all
    from tasks.samples import sample_files

    mp = pytest.MonkeyPatch()
    for name in ("RETRAIN_HOME", "RETRAIN_DATABASE_URL", "RETRAIN_SPECS_DIR"):
        mp.setenv(name, home.env[name])
    specs = Path(home.env["RETRAIN_SPECS_DIR"])
    settings = Settings(home=home.root, database_url=home.database_url, specs_dir=specs)
    try:
        assert retrain_model(RetrainParams(model="fraud"))["outcome"] == "promoted"
        files = sample_files("transactions", 1, dt.date(2026, 10, 4), 8, rows_per_day=1200)
        for day, named in files.items():
            write_landing(settings, "transactions", day, named)
        assert ingest_dataset(IngestParams(dataset="transactions"))["version"]["version"] == "v2"
        second = retrain_model(RetrainParams(model="fraud"))
        assert (second["outcome"], second["version"]) == ("promoted", "v2"), second
    finally:
        close_all()
        mp.undo()
