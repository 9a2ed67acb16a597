"""Real services for end-to-end tests: subprocesses in their own session, logs to files,
waits on conditions (never fixed sleeps), and the one way to start a `prefect server`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
# Enqueued runs (deployment concurrency limit) retry every 30 s by default: 3 s in tests.
SLOT_WAIT = "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS"
T = TypeVar("T")
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


@dataclass
class Service:
    """A subprocess started by a test, in its own session, logging to a file."""

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
        # processes the service started belong to its session (pgid == its pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def start(name: str, cmd: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> Service:
    """Start ``cmd`` in its own session with ``env``; its output goes to ``log``."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Service(name, process, log)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(
    what: str, check: Callable[[], T | None], timeout: float, *alive: Service, every: float = 0.5
) -> T:
    """Poll ``check`` until it returns a truthy value; fail with the services' logs."""
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
        time.sleep(every)


BUSY = {429, 502, 503}  # a server that has not done the request and says to try again


def api_request(method: str, url: str, attempts: int = 8, **kwargs: Any) -> httpx.Response:
    """One HTTP request to a Prefect server, resent while the server answers that it is busy
    (503 when its database timed out under the suite's load: nothing was done), waiting its
    Retry-After or a doubling backoff, as Prefect's own client does. Raises for any other
    error status, or when still busy after ``attempts``."""
    kwargs.setdefault("timeout", 10)
    for attempt in range(attempts):
        response = httpx.request(method, url, **kwargs)
        if response.status_code not in BUSY or attempt == attempts - 1:
            break
        wait = response.headers.get("Retry-After", "")
        time.sleep(min(float(wait) if wait.isdigit() else 0.5 * 2**attempt, 5.0))
    response.raise_for_status()
    return response


def base_env(prefect_home: Path) -> dict[str, str]:
    """This process's environment without PREFECT_/RETRAIN_ settings, a new PREFECT_HOME,
    and no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RETRAIN_"))}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="false",
    )
    return env


def healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).json() is True
    except (httpx.HTTPError, ValueError):
        return False


@dataclass(frozen=True)
class PrefectServer:
    """A running `prefect server`: its base URL, API URL and process."""

    url: str
    api: str
    service: Service


@contextlib.contextmanager
def prefect_server(folder: Path, **env: str) -> Iterator[PrefectServer]:
    """`prefect server start` on 127.0.0.1 and a free port, with its own PREFECT_HOME under
    ``folder``; waits for /api/health, stops it by its process group on exit.

    ``env`` adds settings; ``PREFECT_UI_API_URL`` (the UI's API when not on port 4200)
    defaults to this server's API.
    """
    port = free_port()
    url, api = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api"
    server_env = {**base_env(folder / "server-home"), "PREFECT_UI_API_URL": api, **env}
    cmd = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    service = start("prefect server", cmd, server_env, folder / "server.log", cwd=folder)
    try:
        wait_for("the server's /api/health", lambda: healthy(api), 120, service)
        yield PrefectServer(url, api, service)
    finally:
        service.stop()


class Api:
    """The few Prefect API reads the tests need (plain HTTP: no client settings involved)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return api_request("POST", f"{self.url}/{path}", json=body).json()

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


def event_barrier(api: str, timeout: float = 60) -> None:
    """Return once the server's trigger and action services have caught up.

    A probe automation (``do-nothing``) is created last; probe events are sent until its
    action is reported done. The services handle automations, events and actions in
    order, so every automation created and every event sent before the call has been
    evaluated, and its actions (runs started by triggers) taken, when this returns.
    The probe is deleted afterwards: automation counts are as they were.
    """
    probe = f"test.barrier.{time.monotonic_ns()}"
    automation = {
        "name": "test-barrier",
        "trigger": {
            "type": "event",
            "expect": [probe],
            "match": {"prefect.resource.id": probe},
            "posture": "Reactive",
            "threshold": 1,
            "within": 0,
        },
        "actions": [{"type": "do-nothing"}],
    }
    automation_id = api_request("POST", f"{api}/automations/", json=automation).json()["id"]
    done = {
        "filter": {
            "event": {"name": ["prefect.automation.action.triggered"]},
            "resource": {"id": [f"prefect.automation.{automation_id}"]},
        }
    }

    def probe_handled() -> bool:
        event = {
            "id": str(uuid.uuid4()),
            "occurred": datetime.now(UTC).isoformat(),
            "event": probe,
            "resource": {"prefect.resource.id": probe},
        }
        api_request("POST", f"{api}/events", json=[event])
        return bool(api_request("POST", f"{api}/events/filter", json=done).json()["events"])

    try:
        wait_for("the server's trigger and action services to catch up", probe_handled, timeout)
    finally:
        api_request("DELETE", f"{api}/automations/{automation_id}")


def served_counts(prefect_file: Path = ROOT / "deployments" / "prefect.yaml") -> tuple[int, int]:
    """(deployments, automations) that `retrain serve` registers from ``prefect_file``: one
    automation per deployment trigger, plus the crash-recovery automation."""
    from schemas.deployments import load_definitions

    specs = load_definitions(prefect_file)
    return len(specs), sum(len(s.triggers) for s in specs) + 1


def local_cluster() -> Any:
    """A ``distributed.LocalCluster`` as the tests use it: two single-threaded worker
    processes on 127.0.0.1 (its dashboard on any free port); a context manager. The workers
    inherit this process's environment as it is when they start."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )  # fmt: skip
