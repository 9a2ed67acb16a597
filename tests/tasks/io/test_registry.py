"""Registry adapter against real SQLite (tmp_path) and the local PostgreSQL server.

Every test runs on both backends: the invariants (one champion, CAS promotion,
one registration per training key, append-only ledger) must hold on each.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from schemas.errors import LostRaceError, RegistryError
from tasks.io.registry import (
    AlreadyRegisteredError,
    LedgerEntry,
    NewFile,
    NewModelVersion,
    Registry,
)
from tasks.io.registry import models as registry_models

ROOT = Path(__file__).resolve().parents[3]
PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN_URL = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/test"
TABLES = {
    "ingested_files",
    "dataset_versions",
    "model_versions",
    "champions",
    "decisions",
    "ledger",
    "training_runs",
    "monitoring_reports",
    "version_reservations",
}
RACERS = 8


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.integration),
        pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.integration]),
    ]
)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to a fresh, empty registry database (a new PostgreSQL database per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'registry.db'}"
        return
    if not _postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}")
    name = f"retrain_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def registry(url: str) -> Iterator[Registry]:
    reg = Registry.open(url)
    yield reg
    reg.close()


@pytest.fixture
def raw(url: str, registry: Registry) -> Iterator[Engine]:
    """A plain engine on the same (already migrated) database, bypassing the adapter."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    yield engine
    engine.dispose()


def _model(model: str, version: str, key: str | None = None) -> NewModelVersion:
    return NewModelVersion(
        model=model,
        version=version,
        training_key=key or f"key-{model}-{version}",
        dataset_versions={"transactions": "v1"},
        spec_hash="spec",
        params={"num_leaves": 31},
        code_version="abc123",
        artifact_uri=f"models/{model}/{version}/model.txt",
        artifact_sha256="0" * 64,
        metrics={"pr_auc": 0.5},
        eval_fingerprint="f" * 64,
    )


def _register(reg: Registry, model: str, count: int) -> None:
    for seq in range(1, count + 1):
        reg.register_model_version(_model(model, f"v{seq}"))


def _scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _at_once(url: str, count: int, work: Callable[[Registry, int], Any]) -> list[Any]:
    """Run ``work(registry, index)`` in ``count`` threads, each with its own Registry
    (own engine and connections), released together; returns results or errors."""
    registries = [Registry.open(url) for _ in range(count)]
    barrier = threading.Barrier(count)

    def run(index: int) -> Any:
        barrier.wait()
        try:
            return work(registries[index], index)
        except RegistryError as exc:
            return exc

    try:
        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(run, range(count)))
    finally:
        for reg in registries:
            reg.close()


def _race(url: str, model: str, versions: list[str], expected: str | None) -> list[Any]:
    """Promote each of ``versions`` at once, each from its own Registry."""
    return _at_once(
        url,
        len(versions),
        lambda reg, i: reg.promote(model, versions[i], expected, f"run-{versions[i]}", "race"),
    )


def test_first_open_migrates_and_reopen_is_a_noop(url: str) -> None:
    reg = Registry.open(url)
    reg.record_quarantined_file("transactions", "landing/a.csv", "a" * 64, 10, {"rows": 3})
    reg.close()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES | {"alembic_version"}
        assert _scalar(engine, "SELECT version_num FROM alembic_version") == "0003"
        reopened = Registry.open(url)
        assert [f.uri for f in reopened.list_files("transactions")] == ["landing/a.csv"]
        reopened.close()
        assert _scalar(engine, "SELECT count(*) FROM alembic_version") == 1
    finally:
        engine.dispose()


def test_migrations_match_the_declared_tables(raw: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from schemas.registry import Base

    with raw.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_two_processes_open_a_fresh_registry_at_once(url: str) -> None:
    code = (
        "import sys, time\n"
        "from tasks.io.registry import Registry\n"
        "while time.time() < float(sys.argv[2]): time.sleep(0.001)\n"
        "reg = Registry.open(sys.argv[1]); print(reg.next_model_version('fraud')); reg.close()\n"
    )
    start = str(time.time() + 2.0)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url, start],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in results]
    assert [out.strip() for out, _ in results] == ["v1", "v1"]


def test_threads_open_a_fresh_registry_at_once(url: str) -> None:
    barrier = threading.Barrier(4)

    def open_and_read(_: int) -> str:
        barrier.wait()
        reg = Registry.open(url)
        try:
            return reg.next_dataset_version("transactions")
        finally:
            reg.close()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(open_and_read, range(4))) == ["v1"] * 4


def test_sqlite_parent_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "registry.db"
    Registry.open(f"sqlite:///{path}").close()
    assert path.is_file()


def test_quarantined_file_recording_is_idempotent(registry: Registry) -> None:
    first = registry.record_quarantined_file("transactions", "landing/bad.csv", "b" * 64, 7, {
        "failures": ["amount out of range"]
    })  # fmt: skip
    again = registry.record_quarantined_file("transactions", "landing/bad.csv", "b" * 64, 7, {
        "failures": ["something else"]
    })  # fmt: skip
    assert again == first
    assert first.status == "quarantined"
    assert first.dataset_version is None
    assert first.details == {"failures": ["amount out of range"]}
    assert first.created_at.tzinfo is not None
    assert registry.list_files("transactions") == [first]
    assert registry.find_file("transactions", "landing/bad.csv", "b" * 64) == first
    assert registry.find_file("transactions", "landing/bad.csv", "c" * 64) is None


def _commit(
    reg: Registry, version: str, parent: str | None, files: list[NewFile], dataset: str = "tx"
) -> Any:
    return reg.commit_dataset_version(
        dataset, parent, f"datasets/{dataset}/{version}.json", "m" * 64, 100, 2, files, version
    )


def test_commit_dataset_version_chains_versions_and_records_files(registry: Registry) -> None:
    assert registry.next_dataset_version("tx") == "v1"
    assert registry.latest_dataset_version("tx") is None
    v1 = _commit(registry, "v1", None, [NewFile("l/a.csv", "a" * 64, 1, {"rows": 5})])
    assert registry.next_dataset_version("tx") == "v2"
    v2 = _commit(registry, "v2", "v1", [NewFile("l/b.csv", "b" * 64, 2)])
    assert (v1.seq, v1.parent_version, v2.seq, v2.parent_version) == (1, None, 2, "v1")
    assert registry.latest_dataset_version("tx") == v2
    assert registry.get_dataset_version("tx", "v1") == v1
    assert registry.get_dataset_version("tx", "v9") is None
    assert [v.version for v in registry.list_dataset_versions("tx")] == ["v2", "v1"]
    files = registry.list_files("tx")
    assert [(f.uri, f.status, f.dataset_version) for f in files] == [
        ("l/a.csv", "accepted", "v1"),
        ("l/b.csv", "accepted", "v2"),
    ]
    assert files[0].details == {"rows": 5}
    assert registry.list_dataset_versions("other") == []


def test_commit_with_a_stale_parent_writes_nothing(registry: Registry) -> None:
    _commit(registry, "v1", None, [NewFile("l/a.csv", "a" * 64, 1)])
    _commit(registry, "v2", "v1", [NewFile("l/b.csv", "b" * 64, 1)])
    with pytest.raises(LostRaceError, match="expected latest v1, found v2"):
        _commit(registry, "v2", "v1", [NewFile("l/c.csv", "c" * 64, 1)])
    with pytest.raises(LostRaceError):
        _commit(registry, "v1", None, [NewFile("l/c.csv", "c" * 64, 1)])
    assert [v.version for v in registry.list_dataset_versions("tx")] == ["v2", "v1"]
    assert registry.find_file("tx", "l/c.csv", "c" * 64) is None


def test_commit_with_an_already_recorded_file_writes_nothing(registry: Registry) -> None:
    registry.record_quarantined_file("tx", "l/bad.csv", "q" * 64, 1, {})
    ok = NewFile("l/ok.csv", "o" * 64, 1)
    with pytest.raises(LostRaceError, match=r"l/bad\.csv"):
        _commit(registry, "v1", None, [ok, NewFile("l/bad.csv", "q" * 64, 1)])
    assert registry.list_dataset_versions("tx") == []
    assert registry.find_file("tx", "l/ok.csv", "o" * 64) is None
    _commit(registry, "v1", None, [ok])
    with pytest.raises(LostRaceError, match=r"l/ok\.csv"):
        _commit(registry, "v2", "v1", [ok])
    assert [v.version for v in registry.list_dataset_versions("tx")] == ["v1"]
    # The same URI with different bytes is a different file.
    assert _commit(registry, "v2", "v1", [NewFile("l/ok.csv", "p" * 64, 1)]).version == "v2"


def test_racing_dataset_commits_have_exactly_one_winner(url: str, registry: Registry) -> None:
    _commit(registry, "v1", None, [NewFile("l/base.csv", "0" * 64, 1)])
    files = [NewFile(f"l/run{i}.csv", f"{i}" * 64, 1) for i in range(RACERS)]
    results = _at_once(url, RACERS, lambda reg, i: _commit(reg, "v2", "v1", [files[i]]))
    winners = [r for r in results if not isinstance(r, RegistryError)]
    assert len(winners) == 1, results
    assert all(type(r) is LostRaceError for r in results if r not in winners), results
    assert [v.version for v in registry.list_dataset_versions("tx")] == ["v2", "v1"]
    winner = files[results.index(winners[0])]
    assert [f.uri for f in registry.list_files("tx")] == ["l/base.csv", winner.uri]


def test_commit_allows_a_gap_but_never_goes_back(registry: Registry) -> None:
    """A crashed run may leave a manifest under the next number: the next commit skips it."""
    _commit(registry, "v2", None, [])
    with pytest.raises(RegistryError, match="not after v2"):
        _commit(registry, "v2", "v2", [])
    with pytest.raises(RegistryError, match="not after v2"):
        _commit(registry, "v1", "v2", [])
    assert [v.version for v in registry.list_dataset_versions("tx")] == ["v2"]
    assert registry.next_dataset_version("tx") == "v3"


def test_register_the_same_training_key_twice_is_refused(registry: Registry) -> None:
    assert registry.next_model_version("fraud") == "v1"
    first = registry.register_model_version(_model("fraud", "v1", key="k1"))
    assert (first.status, first.seq, first.metrics) == ("candidate", 1, {"pr_auc": 0.5})
    with pytest.raises(AlreadyRegisteredError, match="already registered as v1") as caught:
        registry.register_model_version(_model("fraud", "v2", key="k1"))
    assert caught.value.existing == first
    with pytest.raises(LostRaceError, match="v1 is already taken"):
        registry.register_model_version(_model("fraud", "v1", key="k2"))
    assert [m.version for m in registry.list_model_versions("fraud")] == ["v1"]
    assert registry.find_model_version("fraud", "k1") == first
    assert registry.get_model_version("fraud", "v1") == first
    assert registry.next_model_version("fraud") == "v2"
    # Training keys are per model.
    assert registry.register_model_version(_model("recs", "v1", key="k1")).model == "recs"


def test_promote_is_a_compare_and_swap(registry: Registry) -> None:
    _register(registry, "fraud", 3)
    assert registry.champion("fraud") is None
    entry = registry.promote("fraud", "v1", None, "alice", "first model")
    assert (entry.action, entry.from_version, entry.to_version) == ("promote", None, "v1")
    with pytest.raises(LostRaceError, match="expected champion None, found v1"):
        registry.promote("fraud", "v2", None, "bob", "stale view")
    registry.promote("fraud", "v2", "v1", "bob", "better")
    with pytest.raises(LostRaceError, match="expected champion v1, found v2"):
        registry.promote("fraud", "v3", "v1", "carol", "stale view")
    champion = registry.champion("fraud")
    assert champion is not None
    assert champion.version == "v2"
    statuses = {m.version: m.status for m in registry.list_model_versions("fraud")}
    assert statuses == {"v1": "archived", "v2": "champion", "v3": "candidate"}
    assert [(e.from_version, e.to_version) for e in registry.history("fraud")] == [
        (None, "v1"),
        ("v1", "v2"),
    ]


def test_promote_refuses_unknown_and_rejected_versions(registry: Registry) -> None:
    _register(registry, "fraud", 2)
    registry.set_model_status("fraud", "v2", "rejected")
    with pytest.raises(RegistryError, match="no version v9"):
        registry.promote("fraud", "v9", None, "a", "r")
    with pytest.raises(RegistryError, match="rejected"):
        registry.promote("fraud", "v2", None, "a", "r")
    assert registry.history("fraud") == []
    assert registry.champion("fraud") is None


def test_set_model_status_only_moves_candidates(registry: Registry) -> None:
    _register(registry, "fraud", 3)
    registry.set_model_status("fraud", "v1", "rejected")
    registry.set_model_status("fraud", "v1", "rejected")  # idempotent
    with pytest.raises(RegistryError, match="only a candidate"):
        registry.set_model_status("fraud", "v1", "archived")
    registry.promote("fraud", "v2", None, "a", "r")
    with pytest.raises(RegistryError, match="only a candidate"):
        registry.set_model_status("fraud", "v2", "archived")
    with pytest.raises(RegistryError, match="refused"):
        registry.set_model_status("fraud", "v3", "champion")
    statuses = {m.version: m.status for m in registry.list_model_versions("fraud")}
    assert statuses == {"v1": "rejected", "v2": "champion", "v3": "candidate"}


def test_database_refuses_a_second_champion_even_bypassing_the_adapter(
    registry: Registry, raw: Engine
) -> None:
    _register(registry, "fraud", 2)
    registry.promote("fraud", "v1", None, "a", "r")
    with pytest.raises(IntegrityError), raw.begin() as conn:
        conn.execute(text("UPDATE model_versions SET status = 'champion' WHERE version = 'v2'"))
    with pytest.raises(IntegrityError), raw.begin() as conn:
        conn.execute(text("UPDATE model_versions SET status = 'champion'"))
    sql = "SELECT count(*) FROM model_versions WHERE status = 'champion'"
    assert _scalar(raw, sql) == 1


def test_database_refuses_ledger_updates_and_deletes(registry: Registry, raw: Engine) -> None:
    _register(registry, "fraud", 1)
    entry = registry.promote("fraud", "v1", None, "alice", "first")
    statements = ["UPDATE ledger SET reason = 'rewritten'", "DELETE FROM ledger"]
    if raw.dialect.name == "postgresql":
        statements.append("TRUNCATE ledger")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), raw.begin() as conn:
            conn.execute(text(statement))
    assert registry.history("fraud") == [entry]


def test_rollback_appends_an_entry_and_restores_the_previous_champion(registry: Registry) -> None:
    _register(registry, "fraud", 3)
    with pytest.raises(RegistryError, match="no champion to roll back"):
        registry.rollback("fraud", None, "ops", "nothing yet")
    first = registry.promote("fraud", "v1", None, "ci", "first")
    with pytest.raises(RegistryError, match="no champion before v1"):
        registry.rollback("fraud", None, "ops", "nothing before")
    second = registry.promote("fraud", "v2", "v1", "ci", "better")
    back = registry.rollback("fraud", None, "ops", "v2 misbehaves")
    assert (back.action, back.from_version, back.to_version) == ("rollback", "v2", "v1")
    assert (back.actor, back.reason) == ("ops", "v2 misbehaves")
    assert registry.history("fraud") == [first, second, back]
    champion = registry.champion("fraud")
    assert champion is not None
    assert champion.version == "v1"
    with pytest.raises(RegistryError, match="v3 never passed a promotion"):
        registry.rollback("fraud", "v3", "ops", "never champion")
    with pytest.raises(RegistryError, match="already the champion"):
        registry.rollback("fraud", "v1", "ops", "no-op")
    forward = registry.rollback("fraud", "v2", "ops", "fixed after all")
    assert (forward.from_version, forward.to_version) == ("v1", "v2")
    statuses = {m.version: m.status for m in registry.list_model_versions("fraud")}
    assert statuses == {"v1": "archived", "v2": "champion", "v3": "candidate"}


def test_racing_first_promotions_have_exactly_one_winner(url: str, registry: Registry) -> None:
    _register(registry, "fraud", RACERS)
    results = _race(url, "fraud", [f"v{seq}" for seq in range(1, RACERS + 1)], None)
    winners = [r for r in results if isinstance(r, LedgerEntry)]
    assert len(winners) == 1, results
    assert all(type(r) is LostRaceError for r in results if r not in winners), results
    _assert_one_champion(registry, "fraud", winners[0].to_version, ledger_size=1)


def test_racing_promotions_over_a_champion_have_exactly_one_winner(
    url: str, registry: Registry
) -> None:
    _register(registry, "fraud", RACERS + 1)
    registry.promote("fraud", "v1", None, "ci", "first")
    results = _race(url, "fraud", [f"v{seq}" for seq in range(2, RACERS + 2)], "v1")
    winners = [r for r in results if isinstance(r, LedgerEntry)]
    assert len(winners) == 1, results
    assert all(type(r) is LostRaceError for r in results if r not in winners), results
    assert winners[0].from_version == "v1"
    _assert_one_champion(registry, "fraud", winners[0].to_version, ledger_size=2)
    v1 = registry.get_model_version("fraud", "v1")
    assert v1 is not None
    assert v1.status == "archived"


def _assert_one_champion(reg: Registry, model: str, version: str | None, ledger_size: int) -> None:
    champions = [m for m in reg.list_model_versions(model) if m.status == "champion"]
    assert [m.version for m in champions] == [version]
    champion = reg.champion(model)
    assert champion is not None
    assert champion.version == version
    history = reg.history(model)
    assert len(history) == ledger_size
    assert history[-1].to_version == version


class _SerializationFailureError(Exception):
    """What psycopg raises for SQLSTATE 40001 (only ``sqlstate`` matters here)."""

    sqlstate = "40001"


def _serialization_failure() -> OperationalError:
    return OperationalError("UPDATE champions", {}, _SerializationFailureError("conflict"))


def test_promote_retries_serialization_failures(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(registry, "fraud", 2)
    real = registry_models.swap_champion
    failures = iter([True, True])

    def fails_twice(conn: Any, entry: dict[str, Any]) -> LedgerEntry:
        if next(failures, False):
            raise _serialization_failure()
        return real(conn, entry)

    def always_fails(conn: Any, entry: dict[str, Any]) -> LedgerEntry:
        raise _serialization_failure()

    monkeypatch.setattr(registry_models, "swap_champion", fails_twice)
    assert registry.promote("fraud", "v1", None, "ci", "first").to_version == "v1"
    monkeypatch.setattr(registry_models, "swap_champion", always_fails)
    with pytest.raises(RegistryError, match="gave up after 5 tries") as caught:
        registry.promote("fraud", "v2", "v1", "ci", "second")
    assert not isinstance(caught.value, LostRaceError)
    assert [e.to_version for e in registry.history("fraud")] == ["v1"]


def test_a_database_from_newer_code_is_refused(url: str, raw: Engine) -> None:
    with raw.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(RegistryError, match="9999"):
        Registry.open(url)


def test_decisions_are_recorded_newest_first(registry: Registry) -> None:
    skipped = registry.record_decision("fraud", None, None, "skipped", ["no new data"], {})
    rejected = registry.record_decision(
        "fraud", "v2", "v1", "rejected", ["pr_auc below floor", "latency"], {"pr_auc": 0.1}
    )
    assert registry.list_decisions("fraud") == [rejected, skipped]
    assert rejected.reasons == ["pr_auc below floor", "latency"]
    assert rejected.evidence == {"pr_auc": 0.1}
    with pytest.raises(RegistryError, match="outcome 'maybe' refused"):
        registry.record_decision("fraud", "v3", None, "maybe", [], {})
    assert registry.list_decisions("recs") == []


def test_training_runs_are_started_and_finished_once(registry: Registry) -> None:
    run = registry.start_training_run("fraud", "k1", "spot", "m5.large")
    assert (run.status, run.capacity_type, run.finished_at) == ("running", "spot", None)
    done = registry.finish_training_run(
        run.id, "succeeded", "promoted", "v1", 12.5, 40.0, 0.0123, {"rounds": 100}
    )
    assert (done.status, done.outcome, done.version, done.cost_usd) == (
        "succeeded",
        "promoted",
        "v1",
        0.0123,
    )
    assert done.finished_at is not None
    assert done.finished_at.tzinfo == UTC
    assert done.finished_at >= done.started_at
    with pytest.raises(RegistryError, match="already finished"):
        registry.finish_training_run(run.id, "failed", None, None, 1.0, 1.0, None, {})
    with pytest.raises(RegistryError, match="does not exist"):
        registry.finish_training_run(run.id + 100, "failed", None, None, 1.0, 1.0, None, {})
    other = registry.start_training_run("recs", "k2", "on-demand", None)
    assert [r.id for r in registry.list_training_runs()] == [other.id, run.id]
    assert registry.list_training_runs("fraud") == [done]


@pytest.mark.integration
@pytest.mark.parametrize(
    "bad_url",
    ["postgresql://postgres:s3cret-pw@127.0.0.1:1/x", "postgresql://postgres@127.0.0.1:1/x"],
)
def test_unreachable_database_fails_fast_without_leaking_the_password(bad_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(RegistryError) as caught:
        Registry.open(bad_url)
    message = str(caught.value)
    assert time.monotonic() - started < 10
    assert "s3cret-pw" not in message
    assert "127.0.0.1:1/x" in message
    assert "\n" not in message


@pytest.mark.integration
@pytest.mark.parametrize("bad_url", ["not a url", "mysql://u:pw@h/db", "postgresql+asyncpg://h/db"])
def test_invalid_urls_are_refused(bad_url: str) -> None:
    with pytest.raises(RegistryError):
        Registry.open(bad_url)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("record", "table"),
    [
        ("FileRecord", "IngestedFile"),
        ("DatasetVersionRecord", "DatasetVersion"),
        ("ModelVersionRecord", "ModelVersion"),
        ("DecisionRecord", "Decision"),
        ("LedgerEntry", "Ledger"),
        ("TrainingRunRecord", "TrainingRun"),
        ("MonitoringRecord", "MonitoringReport"),
        ("ReservationRecord", "VersionReservation"),
    ],
)
def test_each_record_mirrors_its_table_column_for_column(record: str, table: str) -> None:
    """Records are declared apart from the tables (frozen values, not ORM objects): they agree."""
    from dataclasses import fields

    import schemas.registry as tables
    from tasks.io.registry import records

    columns = [c.name for c in getattr(tables, table).__table__.columns]
    assert [f.name for f in fields(getattr(records, record))] == columns


def test_racing_reservations_give_one_number_per_inputs_and_none_twice(url: str) -> None:
    """Eight runs reserve at once: four on the same inputs, four on inputs of their own."""
    setup = Registry.open(url)
    runs = [setup.start_training_run("fraud", "same", "spot", None).id for _ in range(8)]
    setup.close()
    keys = ["same"] * 4 + [f"own-{i}" for i in range(4)]

    def reserve(reg: Registry, i: int) -> Any:
        for _attempt in range(20):
            try:
                return reg.reserve_version("fraud", keys[i], runs[i])
            except LostRaceError:
                continue
        raise AssertionError("never reserved")

    held = _at_once(url, 8, reserve)

    assert not [h for h in held if isinstance(h, BaseException)], held
    same = {h.version for h in held[:4]}
    assert len(same) == 1, "one version for the same inputs"
    assert len({h.run_id for h in held[:4]}) == 1, "held by one run"
    assert len({h.version for h in held}) == 5, "distinct inputs get distinct numbers"
    reg = Registry.open(url)
    try:
        assert reg.next_model_version("fraud") == "v6"
        assert len(reg.list_reservations("fraud")) == 5
    finally:
        reg.close()


def test_a_reserved_number_is_registered_only_by_its_inputs(registry: Registry) -> None:
    run = registry.start_training_run("fraud", "k1", "spot", None)
    first = registry.reserve_version("fraud", "k1", run.id)
    assert registry.reserve_version("fraud", "k2", run.id).version == "v2"

    with pytest.raises(LostRaceError, match="reserved by another run"):
        registry.register_model_version(_model("fraud", first.version, key="k2"))
    assert registry.register_model_version(_model("fraud", "v2", key="k2")).version == "v2"
    # v1 registers after v2: its number was reserved before
    assert registry.register_model_version(_model("fraud", "v1", key="k1")).version == "v1"
    with pytest.raises(LostRaceError):  # an unreserved registration never takes a reserved one
        registry.register_model_version(_model("fraud", "v2", key="k3"))


def test_a_stale_reservation_moves_once(registry: Registry) -> None:
    dead = registry.start_training_run("fraud", "k1", "spot", None)
    held = registry.reserve_version("fraud", "k1", dead.id)
    registry.finish_training_run(dead.id, "interrupted", None, None, 1.0, 1.0, None, {})
    taker = registry.start_training_run("fraud", "k1", "spot", None)

    assert registry.move_reservation(held, taker.id) is True
    assert registry.move_reservation(held, None) is False, "it moved: the old holder is gone"
    assert registry.find_reservation("fraud", "v1").run_id == taker.id
    assert registry.get_training_run(dead.id).status == "interrupted"
