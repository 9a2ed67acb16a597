"""End to end: a real `prefect server`, `retrain serve`, landing files and their arrival events.

No human step: an arrival event starts ingestion, whose `retrain.dataset.updated`
starts retraining, and a fraud champion appears. Then a new day's file arrives and
its event is delivered twice: one new dataset version, fraud trained once on it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from tests.flows.conftest import relaxed_fraud_spec

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
START, SEED, ROWS_PER_DAY = dt.date(2026, 10, 1), 7, 1500
BACKFILL_DAYS = 3  # then one new day
SLOT_WAIT = "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS"
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
EMIT = """
import json, sys
from prefect.events import emit_event
for e in json.loads(sys.argv[1]):
    sent = emit_event(
        event=e["event"], resource={"prefect.resource.id": e["resource"]}, payload=e["payload"]
    )
    assert sent is not None, "no events client: is PREFECT_API_URL set?"
"""
T = TypeVar("T")


@dataclass
class Service:
    """A subprocess started by this test, in its own session, logging to a file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return f"--- {self.name} log (last {lines} lines) ---\n" + "\n".join(
            text.splitlines()[-lines:]
        )

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"{self.name} exited with {self.process.returncode}\n{self.tail()}")

    def stop(self) -> None:
        """SIGTERM, a second one (Prefect ignores the first at times), then SIGKILL its group."""
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGTERM, 10)):
            if self.process.poll() is not None:
                break
            self.process.send_signal(sig)
            try:
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        # flow-run processes left by serve belong to its session (pgid == its pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start(name: str, cmd: list[str], env: dict[str, str], log: Path) -> Service:
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Service(name, process, log)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], T | None], timeout: float, *alive: Service) -> T:
    """Poll ``check`` every second until it returns a truthy value; fail with the logs."""
    deadline = time.monotonic() + timeout
    while True:
        for service in alive:
            service.check_alive()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = "\n".join(s.tail() for s in alive)
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")
        time.sleep(1)


def base_env(prefect_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RETRAIN_"))}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="false",
    )
    return env


@pytest.fixture
def prefect_api(tmp_path: Path) -> Iterator[str]:
    """A real `prefect server` on 127.0.0.1 (its own PREFECT_HOME); its API URL."""
    port = free_port()
    # Enqueued runs (deployment concurrency limit) retry every 30 s by default: 3 s here.
    env = {**base_env(tmp_path / "server-home"), SLOT_WAIT: "3"}
    server = start(
        "prefect server",
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        tmp_path / "server.log",
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for("the server's /api/health", lambda: _healthy(api), 120, server)
        yield api
    finally:
        server.stop()


def _healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).json() is True
    except (httpx.HTTPError, ValueError):
        return False


class Api:
    """The few Prefect API reads the test needs (plain HTTP: no client settings involved)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.url}/{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def deployments(self) -> dict[str, str]:
        return {d["id"]: d["name"] for d in self._post("deployments/filter", {})}

    def automations(self) -> list[dict[str, Any]]:
        return list(self._post("automations/filter", {}))

    def runs(self) -> list[dict[str, Any]]:
        """Flow runs started by triggers or by hand (not the cron's future runs)."""
        names = self.deployments()
        return [
            {**r, "deployment": names.get(r["deployment_id"], "?")}
            for r in self._post("flow_runs/filter", {"limit": 200})
            if not r["auto_scheduled"]
        ]


@dataclass(frozen=True)
class Landing:
    """Sample transaction files, dropped into the store as a producer would."""

    home: Path
    specs: Path

    def drop(self, day: dt.date, files: dict[str, bytes]) -> list[dict[str, Any]]:
        """Write one day's files; returns their arrival events (payload: uri, size, etag)."""
        from tasks.io.landing import write_landing
        from tasks.io.runtime import runtime

        settings = self.settings()
        store = runtime(settings).store
        events = []
        for uri in write_landing(settings, "transactions", day, files):
            info = store.head(store.key_of(uri))
            assert info is not None
            events.append(
                {
                    "event": "retrain.data.arrived",
                    "resource": "retrain.dataset.transactions",
                    "payload": {"uri": uri, "size": info.size, "etag": info.etag},
                }
            )
        return events

    def settings(self) -> Any:
        from schemas.settings import Settings

        return Settings(home=self.home, specs_dir=self.specs)

    def registry(self) -> Any:
        from tasks.io.runtime import runtime

        return runtime(self.settings()).registry


def emit(api: str, env: dict[str, str], events: list[dict[str, Any]]) -> None:
    """Emit events with prefect.events.emit_event from a fresh process pointed at ``api``."""
    subprocess.run(
        [str(BIN / "python"), "-c", EMIT, json.dumps(events)],
        env={**env, "PREFECT_API_URL": api},
        check=True,
        timeout=60,
        capture_output=True,
    )


def settled(api: Api, ingest_runs: int) -> list[dict[str, Any]] | None:
    """All runs, once ``ingest_runs`` ingestion runs exist and every run has finished."""
    runs = api.runs()
    ingests = [r for r in runs if r["deployment"] == "ingest-transactions"]
    if len(ingests) < ingest_runs or any(r["state_type"] not in TERMINAL for r in runs):
        return None
    return runs


def test_arrival_events_ingest_then_retrain_and_a_repeated_event_trains_once(
    tmp_path: Path, prefect_api: str
) -> None:
    from tasks.io.runtime import close_all
    from tasks.samples import transaction_files

    specs = tmp_path / "specs"
    (specs / "models").mkdir(parents=True)
    (specs / "models" / "fraud.yaml").write_text(yaml.safe_dump(relaxed_fraud_spec()), "utf-8")
    landing = Landing(tmp_path / "home", specs)
    files = transaction_files(BACKFILL_DAYS + 1, START, SEED, rows_per_day=ROWS_PER_DAY)
    days = sorted(files)
    client_env = base_env(tmp_path / "client-home")
    api = Api(prefect_api)
    serve = start(
        "retrain serve",
        [str(BIN / "retrain"), "serve"],
        {
            **client_env,
            "PREFECT_API_URL": prefect_api,
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "RETRAIN_HOME": str(landing.home),
            "RETRAIN_SPECS_DIR": str(specs),
        },
        tmp_path / "serve.log",
    )
    try:
        wait_for(
            "6 served deployments, their 8 triggers and the crash-recovery automation",
            lambda: len(api.deployments()) == 6 and len(api.automations()) == 9,
            90,
            serve,
        )
        time.sleep(2)  # let the server's trigger service load the new automations

        # 1. the backfill lands, and the last file's arrival is announced: ingestion of
        #    every new file, then retraining
        backfill = [e for day in days[:BACKFILL_DAYS] for e in landing.drop(day, files[day])]
        emit(prefect_api, client_env, backfill[-1:])
        registry = landing.registry()
        first = wait_for(
            "a fraud champion",
            lambda: registry.champion("fraud") and settled(api, 1),
            150,
            serve,
        )
        assert [v.version for v in registry.list_dataset_versions("transactions")] == ["v1"]
        champion = registry.champion("fraud")
        assert champion.dataset_versions == {"transactions": "v1"}
        assert sorted(r["deployment"] for r in first) == ["ingest-transactions", "retrain-fraud"]
        assert {r["state_type"] for r in first} == {"COMPLETED"}, first

        # 2. a new day's file; its arrival event is delivered twice
        (arrival,) = landing.drop(days[BACKFILL_DAYS], files[days[BACKFILL_DAYS]])
        emit(prefect_api, client_env, [arrival, arrival])

        def trained_on_v2() -> list[Any] | None:
            done = settled(api, 3)
            versions = [
                v
                for v in registry.list_model_versions("fraud")
                if v.dataset_versions == {"transactions": "v2"}
            ]
            return versions if done and versions else None

        (challenger,) = wait_for("fraud trained on transactions v2", trained_on_v2, 120, serve)
        time.sleep(3)  # a duplicate run, if any, would show up now
        runs = wait_for("every run finished", lambda: settled(api, 3), 30, serve)

        assert [v.version for v in registry.list_dataset_versions("transactions")] == ["v2", "v1"]
        trained_on = [v.dataset_versions for v in registry.list_model_versions("fraud")]
        assert trained_on.count({"transactions": "v2"}) == 1, trained_on
        deployments = [r["deployment"] for r in runs]
        assert deployments.count("ingest-transactions") == 3, runs
        assert deployments.count("retrain-fraud") == 2, runs
        assert {r["state_type"] for r in runs} == {"COMPLETED"}, runs
        decisions = registry.list_decisions("fraud")
        (decision,) = [d for d in decisions if d.version == challenger.version]
        assert decision.reasons, decision
        now = registry.champion("fraud")
        if decision.outcome == "promoted":
            assert now.version == challenger.version != champion.version
        else:
            assert decision.outcome == "rejected", decision
            assert now.version == champion.version
    finally:
        serve.stop()
        close_all()
