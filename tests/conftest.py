"""Shared fixtures: isolated Prefect home, a fresh retrain home per test, Prefect's harness,
moto's server; and the default marker of tests that declare none."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Prefect: a throwaway Prefect home and no telemetry.
_PREFECT_HOME = tempfile.mkdtemp(prefix="retrain-tests-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
for _var in ("RETRAIN_HOME", "RETRAIN_DATABASE_URL", "RETRAIN_STORE_URL", "RETRAIN_SPECS_DIR"):
    os.environ.pop(_var, None)


MARKERS = ("unit", "integration", "e2e", "postgres")
# Fixtures that reach a real backend: a test using any of them is an integration test.
BACKEND_FIXTURES = frozenset({"prefect_harness", "moto_endpoint", "prefect_api"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests without a marker get one: ``integration`` when they use a real backend, else
    ``unit`` (so ``-m unit`` and ``-m integration`` between them select every test)."""
    for item in items:
        if any(item.get_closest_marker(name) for name in MARKERS):
            continue
        used = set(getattr(item, "fixturenames", ()))
        item.add_marker(pytest.mark.integration if used & BACKEND_FIXTURES else pytest.mark.unit)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness, once per session (it costs ~10 s to start). Runs send no
    heartbeats (as the CLI's local runs): each would hold a run's end up to a second."""
    from prefect.settings import temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(updates={"flows.heartbeat_frequency": None}),
    ):
        yield


@pytest.fixture
def retrain_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh RETRAIN_HOME (SQLite registry + file store) for one test."""
    from tasks.io.runtime import close_all

    home = tmp_path / "home"
    monkeypatch.setenv("RETRAIN_HOME", str(home))
    yield home
    close_all()


@pytest.fixture
def settings(retrain_home: Path):
    """Settings pointing at ``retrain_home``."""
    from schemas.settings import load_settings

    return load_settings()


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's S3/SQS server on 127.0.0.1 (a free port), one per test module."""
    import logging

    from moto.server import ThreadedMotoServer

    # Its request log goes through whatever handlers Prefect installed on the root logger,
    # into the stderr a CLI test captures.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
