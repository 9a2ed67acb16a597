"""End to end: approval through a real server's pause and resume, as the UI form sends it.

The retraining run pauses with the approval form. An accidental Submit (nothing chosen)
and an answer without a name are refused by the server: the run stays paused and nothing
is recorded. A complete answer resumes it and writes the same ledger entry as
`retrain approve --by NAME --comment WHY`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.samples import Landing, relaxed_fraud_spec
from tests.helpers.services import (
    BIN,
    Api,
    api_request,
    base_env,
    emit,
    event_barrier,
    served_counts,
    start,
    wait_for,
)

pytestmark = pytest.mark.e2e

START, SEED, ROWS_PER_DAY, DAYS = dt.date(2026, 10, 1), 7, 1500, 3


def _resume(api: str, run_id: str, answer: dict[str, Any]) -> str:
    response = api_request("POST", f"{api}/flow_runs/{run_id}/resume", json={"run_input": answer})
    return str(response.json()["status"])


def _state(api: str, run_id: str) -> str:
    response = api_request("GET", f"{api}/flow_runs/{run_id}")
    return str(response.json()["state_type"])


def test_an_incomplete_answer_keeps_the_run_paused_and_a_complete_one_is_recorded(
    tmp_path: Path, prefect_api: str
) -> None:
    from tasks.io.runtime import close_all
    from tasks.samples import transaction_files

    spec = relaxed_fraud_spec()
    spec["policy"]["approval"] = {"required": True, "timeout_minutes": 30}
    specs = tmp_path / "specs"
    (specs / "models").mkdir(parents=True)
    (specs / "models" / "fraud.yaml").write_text(yaml.safe_dump(spec), "utf-8")
    landing = Landing(tmp_path / "home", specs)
    files = transaction_files(DAYS, START, SEED, rows_per_day=ROWS_PER_DAY)
    client_env = base_env(tmp_path / "client-home")
    api = Api(prefect_api)
    serve = start(
        "retrain serve",
        [str(BIN / "retrain"), "serve"],
        {
            **client_env,
            "PREFECT_API_URL": prefect_api,
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "RETRAIN_HOME": str(landing.home),
            "RETRAIN_SPECS_DIR": str(specs),
        },
        tmp_path / "serve.log",
    )
    try:
        wait_for(
            "the served deployments and their triggers",
            lambda: (len(api.deployments()), len(api.automations())) == served_counts(),
            90,
            serve,
        )
        event_barrier(prefect_api)
        arrivals = [e for day in sorted(files) for e in landing.drop(day, files[day])]
        emit(prefect_api, client_env, arrivals[-1:])

        def paused() -> str | None:
            runs = [r for r in api.runs() if r["deployment"] == "retrain-fraud"]
            return next((r["id"] for r in runs if r["state_type"] == "PAUSED"), None)

        run_id = wait_for("the retraining run paused for approval", paused, 240, serve)
        registry = landing.registry()
        (pending,) = registry.list_model_versions("fraud")
        assert pending.status == "candidate"

        for incomplete in (
            {},  # Resume, then Submit without touching the form
            {"decision": "reject"},  # no name
            {"decision": "approve", "approver": "  "},
            {"approver": "alice", "comment": "no decision chosen"},
        ):
            assert _resume(prefect_api, run_id, incomplete) == "REJECT", incomplete
            assert _state(prefect_api, run_id) == "PAUSED"
        assert registry.history("fraud") == []
        assert registry.get_model_version("fraud", pending.version).status == "candidate"

        answer = {"decision": "approve", "approver": "alice", "comment": "looks good"}
        assert _resume(prefect_api, run_id, answer) == "ACCEPT"
        wait_for(
            "the approved run to finish",
            lambda: _state(prefect_api, run_id) == "COMPLETED",
            120,
            serve,
        )
        # the same entry `retrain approve fraud VERSION --by alice --comment ...` writes
        (entry,) = registry.history("fraud")
        assert (entry.action, entry.to_version, entry.actor, entry.reason) == (
            "approve", pending.version, "alice", "looks good",
        )  # fmt: skip
        champion = registry.champion("fraud")
        assert champion is not None and champion.version == pending.version
    finally:
        serve.stop()
        close_all()
