"""End to end: a drifted day arrives -> ingestion -> monitoring -> retrain.model.drifted ->
retraining, on a real `prefect server` with `retrain serve`.

Retraining here listens to drift only (its retrain.dataset.updated trigger is removed
from a copy of deployments/prefect.yaml), so the retraining run can only come from the
event monitoring emits.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.samples import Landing, relaxed_fraud_spec
from tests.helpers.services import (
    BIN,
    ROOT,
    Api,
    base_env,
    emit,
    event_barrier,
    served_counts,
    settled,
    start,
    wait_for,
)

pytestmark = pytest.mark.e2e
START, SEED, ROWS_PER_DAY, DAYS = dt.date(2026, 10, 1), 7, 1500, 4


def drift_only_deployments(folder: Path) -> Path:
    """A copy of the shipped deployments where retrain-fraud starts on drift alone."""
    folder.mkdir()
    shutil.copy(ROOT / "deployments" / "automations.yaml", folder / "automations.yaml")
    doc = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text("utf-8"))
    (fraud,) = [d for d in doc["deployments"] if d["name"] == "retrain-fraud"]
    fraud["triggers"] = [t for t in fraud["triggers"] if t["expect"] == ["retrain.model.drifted"]]
    path = folder / "prefect.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_a_drifted_day_is_monitored_and_its_drift_event_starts_a_retraining(
    tmp_path: Path, prefect_api: str
) -> None:
    from tasks.io.runtime import close_all
    from tasks.samples import transaction_files

    specs = tmp_path / "specs"
    (specs / "models").mkdir(parents=True)
    (specs / "models" / "fraud.yaml").write_text(yaml.safe_dump(relaxed_fraud_spec()), "utf-8")
    landing = Landing(tmp_path / "home", specs)
    files = transaction_files(DAYS, START, SEED, rows_per_day=ROWS_PER_DAY, drift_from_day=DAYS - 1)
    days = sorted(files)
    client_env = base_env(tmp_path / "client-home")
    home_env = {"RETRAIN_HOME": str(landing.home), "RETRAIN_SPECS_DIR": str(specs)}
    # the champion, before anything is served: ingest the backfill and train (ephemeral API)
    for day in days[:-1]:
        landing.drop(day, files[day])
    for command in (["ingest", "transactions"], ["train", "fraud"]):
        subprocess.run(
            [str(BIN / "retrain"), *command], env={**client_env, **home_env}, check=True,
            capture_output=True, timeout=300,
        )  # fmt: skip
    registry = landing.registry()
    assert registry.champion("fraud").version == "v1"

    prefect_file = drift_only_deployments(tmp_path / "deployments")
    api = Api(prefect_api)
    serve = start(
        "retrain serve",
        [str(BIN / "retrain"), "serve", "--prefect-file", str(prefect_file)],
        {**client_env, **home_env, "PREFECT_API_URL": prefect_api,
         "PREFECT_RUNNER_POLL_FREQUENCY": "1", "PREFECT_LOGGING_LEVEL": "INFO"},
        tmp_path / "serve.log",
    )  # fmt: skip
    try:
        wait_for(
            "the served deployments and their automations",
            lambda: (len(api.deployments()), len(api.automations())) == served_counts(prefect_file),
            90,
            serve,
        )
        event_barrier(prefect_api)

        emit(prefect_api, client_env, landing.drop(days[-1], files[days[-1]]))

        def retrained() -> list[dict[str, Any]] | None:
            runs = settled(api, 1)
            done = runs and any(r["deployment"] == "retrain-fraud" for r in runs)
            return runs if done else None

        runs = wait_for("a retraining started by the drift event", retrained, 240, serve)
        event_barrier(prefect_api)
        runs = wait_for("every run finished", lambda: settled(api, 1), 60, serve)

        by_deployment = sorted(r["deployment"] for r in runs)
        assert by_deployment == ["ingest-transactions", "monitor-fraud", "retrain-fraud"], runs
        assert {r["state_type"] for r in runs} == {"COMPLETED"}, runs
        (watched,) = registry.list_monitoring("fraud")
        assert (watched.status, watched.champion_version) == ("drift", "v1")
        assert watched.drifted_event and {"amount", "channel"} <= set(watched.drifted_features)
        trained_on = [v.dataset_versions for v in registry.list_model_versions("fraud")]
        assert trained_on == [{"transactions": "v2"}, {"transactions": "v1"}]
    finally:
        serve.stop()
        close_all()
