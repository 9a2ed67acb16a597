"""Flow: retrain one model, gate it against the champion, promote it if it passes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow

from schemas.params import RetrainParams
from schemas.settings import load_settings
from tasks.promote import publish, record_skip
from tasks.train import (
    decide,
    evaluate_challenger,
    load_training_frames,
    plan_training,
    train_challenger,
)


@flow(name="retrain-model", log_prints=False)
def retrain_model(params: RetrainParams) -> dict[str, Any]:
    """Plan, train, evaluate on the champion's holdout, decide, publish."""
    settings = load_settings()
    plan = plan_training(params.model, params.dataset_version, settings)
    if plan.skip_reason is not None:
        return asdict(record_skip(plan, plan.skip_reason, settings))
    frames = load_training_frames(plan, settings)
    trained = train_challenger(plan, frames, settings)
    if isinstance(trained, str):
        return asdict(record_skip(plan, trained, settings))
    evidence = evaluate_challenger(plan, trained, settings)
    decision = decide(evidence, plan)
    return asdict(publish(plan, trained, evidence, decision, settings))
