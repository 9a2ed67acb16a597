"""Flow: the whole retraining loop on sample data, day by day (``retrain quickstart``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import flow

from flows.ingest_dataset import ingest_dataset
from flows.monitor_model import monitor_model
from flows.retrain_model import retrain_model
from schemas.params import IngestParams, MonitorParams, QuickstartParams, RetrainParams
from schemas.settings import load_settings
from tasks.steps.maintenance import describe_champion
from tasks.steps.samples import PIPELINES, SNAPSHOTS, START, land_demo_files, plan_demo

Step = dict[str, Any]


@flow(
    name="quickstart",
    flow_run_name="quickstart-{params.days}-days-seed-{params.seed}",
    log_prints=False,
)
def quickstart(
    params: QuickstartParams, on_step: Callable[[Step], None] | None = None
) -> dict[str, Any]:
    """Land ``params.days`` of sample data (a bad file and a drift per model), then day by day
    ingest, monitor the champion on the new data and retrain every model; ``on_step`` hears
    about each step as it ends. The daily retraining doubles as the one monitoring asks for
    when it sees drift or degradation (the quickstart shows which)."""
    settings = load_settings()
    for snapshot in SNAPSHOTS:
        land_demo_files(snapshot, [START], params.days, params.seed, settings)
        ingest_dataset(IngestParams(dataset=snapshot))
    steps = []
    for batch in plan_demo(params.days):
        step: Step = {"days": [d.isoformat() for d in batch]}
        for p in PIPELINES:
            land_demo_files(p.events, batch, params.days, params.seed, settings)
            ingested = ingest_dataset(IngestParams(dataset=p.events))
            watched = monitor_model(MonitorParams(model=p.model))
            trained = retrain_model(RetrainParams(model=p.model))
            step[p.model] = {"ingest": ingested, "monitor": watched, "train": trained}
        steps.append(step)
        if on_step is not None:
            on_step(step)
    champions = {p.model: describe_champion(p.model, settings) for p in PIPELINES}
    return {"steps": steps, "champions": champions}
