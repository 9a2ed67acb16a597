"""Spec checks against the current data (``retrain spec check``): read-only."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from schemas.settings import Settings
from schemas.specs import load_model_spec
from tasks.core.train.fitting import check_spec_windows, describe
from tasks.io import datasets
from tasks.steps.logs import step_logger

__all__ = ["check_model_windows", "describe"]


@task(cache_policy=NO_CACHE)
def check_model_windows(model: str, settings: Settings) -> dict[str, Any]:
    """Rows and query groups of each window of MODEL's spec on the latest dataset versions,
    whether ``split.min_rows`` holds, and windows that would (``waiting``: no data yet)."""
    spec = load_model_spec(model, settings.specs_dir)
    versions, missing = datasets.resolve_versions(spec.datasets, None, settings)
    out: dict[str, Any] = {"model": model, "dataset_versions": versions}
    if missing is not None:
        return {**out, "waiting": missing}
    events = spec.datasets[0]
    frames = datasets.load_frames({events: versions[events]}, settings, step_logger())
    return {**out, **check_spec_windows(frames[events], spec)}
