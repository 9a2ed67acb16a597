"""End to end: the crash-recovery automation on a real `prefect server`.

`retrain automations` applies deployments/automations.yaml (twice: one automation);
a retrain-fraud run forced to Crashed is re-run through its deployment with the same
parameters and recovery_attempt 1. A run already at max_recoveries crashes: its
re-run (attempt max + 1) is executed and refuses, recording a `skipped` decision.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from schemas.automations import load_automations
from tests.helpers.services import BIN, ROOT, Api, base_env, event_barrier, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def client(prefect_api: str) -> Iterator[Any]:
    """A sync Prefect client of the test server (settings scoped to this test)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings({PREFECT_API_URL: prefect_api}),
        get_client(sync_client=True) as prefect_client,
    ):
        yield prefect_client


def retrain(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "retrain"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done
    return done.stdout


def crash(client: Any, deployment_id: UUID, params: dict[str, Any]) -> UUID:
    """A flow run of the deployment, forced to Crashed as if its node had disappeared."""
    from prefect.states import Crashed

    run = client.create_flow_run_from_deployment(deployment_id, parameters={"params": params})
    client.set_flow_run_state(run.id, Crashed(message="node reclaimed (test)"), force=True)
    return UUID(str(run.id))


def recovery_of(api: Api, deployment: str, seen: set[str]) -> dict[str, Any] | None:
    """The one new flow run of ``deployment`` not in ``seen`` (none yet: None)."""
    new = [r for r in api.runs() if r["deployment"] == deployment and r["id"] not in seen]
    assert len(new) <= 1, new
    return new[0] if new else None


def test_a_crashed_retraining_is_rerun_with_the_same_parameters_up_to_the_max(
    tmp_path: Path, prefect_api: str, client: Any
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from schemas.deployments import load_definitions
    from tasks.io.deployments import build_deployment

    deployments = Path(__file__).resolve().parents[2] / "deployments"
    limit = load_automations(deployments / "automations.yaml").crash_recovery.max_recoveries
    env = {**base_env(tmp_path / "client-home"), "PREFECT_API_URL": prefect_api}
    api = Api(prefect_api)

    # 1. the automation, applied twice by the command users run: one automation
    first = retrain(env, "automations")
    again = retrain(env, "automations")
    assert "automation retrain-crash-recovery: created" in first, first
    assert "automation retrain-crash-recovery: updated" in again, again
    named = [a for a in api.automations() if a["name"] == "retrain-crash-recovery"]
    assert len(named) == 1, named

    # 2. the retrain-fraud deployment as `retrain serve` registers it
    specs = load_definitions(deployments / "prefect.yaml")
    (spec,) = [s for s in specs if s.name == "retrain-fraud"]
    with temporary_settings({PREFECT_API_URL: prefect_api}):
        deployment_id = build_deployment(spec).apply()
    event_barrier(prefect_api)  # the trigger service has loaded the automations

    # 3. an ordinary run crashes: re-run once, same parameters, recovery_attempt 1
    seen = {str(crash(client, deployment_id, {"model": "fraud", "dataset_version": "v3"}))}
    rerun = wait_for("a re-run", lambda: recovery_of(api, "retrain-fraud", seen), 30)
    assert rerun["parameters"] == {
        "params": {"model": "fraud", "dataset_version": "v3", "recovery_attempt": 1}
    }
    assert rerun["state_type"] == "SCHEDULED"
    seen.add(rerun["id"])
    event_barrier(prefect_api)  # the crash event was evaluated: a duplicate re-run shows
    assert recovery_of(api, "retrain-fraud", seen) is None

    # 4. the last allowed re-run crashes too: its re-run is created, and refuses to train
    seen.add(str(crash(client, deployment_id, {"model": "fraud", "recovery_attempt": limit})))
    over = wait_for("one more re-run", lambda: recovery_of(api, "retrain-fraud", seen), 30)
    assert over["parameters"] == {"params": {"model": "fraud", "recovery_attempt": limit + 1}}
    home = tmp_path / "home"
    executed = subprocess.run(
        [str(BIN / "prefect"), "flow-run", "execute", over["id"]],
        cwd=ROOT,
        env={**env, "RETRAIN_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert executed.returncode == 0, executed
    (state,) = [r["state_type"] for r in api.runs() if r["id"] == over["id"]]
    assert state == "COMPLETED"

    from schemas.settings import Settings
    from tasks.io.runtime import close_all, runtime

    try:
        decisions = runtime(Settings(home=home)).registry.list_decisions("fraud")
        (decision,) = decisions
        assert decision.outcome == "skipped"
        assert decision.reasons == [
            f"crash recovery attempt {limit + 1} refused: max_recoveries is {limit}"
            f" (deployments/automations.yaml) and the run crashed {limit + 1} times in a row;"
            " find the cause of the crashes, then run it again by hand"
        ]
    finally:
        close_all()
