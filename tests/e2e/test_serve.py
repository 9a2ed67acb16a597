"""End to end: a real `prefect server`, `retrain serve`, landing files and their arrival events.

No human step: an arrival event starts ingestion, whose `retrain.dataset.updated`
starts retraining, and a fraud champion appears. Then a new day's file arrives and
its event is delivered in a burst (BURST times, as a re-announcing watcher or SQS
redelivery does): one ingestion run takes every file, the runs queued behind it are
cancelled as superseded (at most one more runs and finds nothing), one new dataset
version, fraud trained once on it, and no flood of "Aborted submission" in the serve log.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.samples import Landing, relaxed_fraud_spec
from tests.helpers.services import (
    BIN,
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

START, SEED, ROWS_PER_DAY = dt.date(2026, 10, 1), 7, 1500
BACKFILL_DAYS = 3  # then one new day
BURST = 6  # deliveries of the new day's arrival event


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
            "the served deployments, their triggers and the crash-recovery automation",
            lambda: (len(api.deployments()), len(api.automations())) == served_counts(),
            90,
            serve,
        )
        event_barrier(prefect_api)  # the trigger service has loaded the new automations

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
        started = sorted(r["deployment"] for r in first if r["deployment"] != "monitor-fraud")
        assert started == ["ingest-transactions", "retrain-fraud"]
        assert {r["state_type"] for r in first} == {"COMPLETED"}, first

        # 2. a new day's file; its arrival event is delivered in a burst
        (arrival,) = landing.drop(days[BACKFILL_DAYS], files[days[BACKFILL_DAYS]])
        aborted_before = (tmp_path / "serve.log").read_text().count("Aborted submission")
        emit(prefect_api, client_env, [arrival] * BURST)
        burst = 1 + BURST  # ingestion runs so far: the backfill's, then one per delivery

        def trained_on_v2() -> list[Any] | None:
            done = settled(api, burst)
            versions = [
                v
                for v in registry.list_model_versions("fraud")
                if v.dataset_versions == {"transactions": "v2"}
            ]
            return versions if done and versions else None

        (challenger,) = wait_for("fraud trained on transactions v2", trained_on_v2, 180, serve)
        event_barrier(prefect_api)  # every delivery was evaluated: a duplicate run shows
        runs = wait_for("every run finished", lambda: settled(api, burst), 60, serve)

        assert [v.version for v in registry.list_dataset_versions("transactions")] == ["v2", "v1"]
        trained_on = [v.dataset_versions for v in registry.list_model_versions("fraud")]
        assert trained_on.count({"transactions": "v2"}) == 1, trained_on
        ingests = [r for r in runs if r["deployment"] == "ingest-transactions"]
        assert len(ingests) == burst, ingests
        ran = [r for r in ingests if r["state_type"] == "COMPLETED"]
        superseded = [r for r in ingests if r["state_type"] == "CANCELLED"]
        assert len(ran) + len(superseded) == burst, ingests
        assert len(ran) <= 1 + 2, ran  # the backfill's, the burst's, at most one finding nothing
        for run in superseded:
            assert "superseded by ingest-transactions-" in run["state"]["message"], run
        aborted = (tmp_path / "serve.log").read_text().count("Aborted submission") - aborted_before
        assert aborted <= BURST, aborted  # was several per queued run, polled until its turn
        others = [r for r in runs if r["deployment"] != "ingest-transactions"]
        assert [r["deployment"] for r in others].count("retrain-fraud") == 2, runs
        assert {r["state_type"] for r in others} == {"COMPLETED"}, runs
        decisions = registry.list_decisions("fraud")
        (decision,) = [d for d in decisions if d.version == challenger.version]
        assert decision.reasons, decision
        # the run's final state says what it decided, with the paired interval
        retrains = sorted((r for r in runs if r["deployment"] == "retrain-fraud"),
                          key=lambda r: r["created"])  # fmt: skip
        message = retrains[-1]["state"]["message"]
        assert message.startswith(f"{decision.outcome} {challenger.version}: pr_auc "), message
        assert re.search(r"pr_auc [+-]\d\.\d{4} \[[+-]\d\.\d{4}, [+-]\d\.\d{4}\]", message)
        assert retrains[-1]["name"].startswith("retrain-fraud-"), retrains[-1]["name"]
        now = registry.champion("fraud")
        if decision.outcome == "promoted":
            assert now.version == challenger.version != champion.version
        else:
            assert decision.outcome == "rejected", decision
            assert now.version == champion.version
    finally:
        serve.stop()
        close_all()
