"""Flow: the whole retraining loop on sample data, day by day (``retrain quickstart``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import flow

from flows.ingest_dataset import ingest_dataset
from flows.retrain_model import retrain_model
from schemas.params import IngestParams, QuickstartParams, RetrainParams
from schemas.settings import load_settings
from tasks.steps.maintenance import describe_champion
from tasks.steps.samples import PIPELINES, SNAPSHOTS, START, land_demo_files, plan_demo

Step = dict[str, Any]


@flow(name="quickstart", log_prints=False)
def quickstart(
    params: QuickstartParams, on_step: Callable[[Step], None] | None = None
) -> dict[str, Any]:
    """Land ``params.days`` of sample data (a bad file and a drift per model), then ingest and
    retrain every model day by day; ``on_step`` hears about each step as it ends."""
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
            trained = retrain_model(RetrainParams(model=p.model))
            step[p.model] = {"ingest": ingested, "train": trained}
        steps.append(step)
        if on_step is not None:
            on_step(step)
    champions = {p.model: describe_champion(p.model, settings) for p in PIPELINES}
    return {"steps": steps, "champions": champions}
