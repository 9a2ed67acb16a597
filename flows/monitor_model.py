"""Flow: watch a champion: drift against its reference, matured-label performance, the action."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Completed

from schemas.params import MonitorParams
from schemas.settings import load_settings
from tasks.steps.monitor import (
    decide_monitoring,
    load_monitoring_frames,
    measure_recent,
    plan_monitoring,
    publish_monitoring,
)
from tasks.steps.naming import refuse_foreign_target, run_name
from tasks.steps.reports import monitoring_line, publish_monitoring_report


@flow(name="monitor-model", flow_run_name=run_name("monitor", "model"), log_prints=False)
def monitor_model(params: MonitorParams) -> dict[str, Any]:
    """Compare the recent data with the champion's reference, score the champion on the rows
    whose labels matured, then act: ask for a retraining, roll back, or alert.

    A run that cannot compare (no champion, a damaged artifact, an old reference format,
    too little data) reports why; it never reports "no drift" it did not measure.
    """
    refuse_foreign_target("model", params.model)  # a deployment is for one model
    settings = load_settings()
    watch = plan_monitoring(params.model, settings)
    if watch.blocked is not None:
        result = publish_monitoring(watch, None, watch.blocked, settings)
    else:
        frames = load_monitoring_frames(watch, settings)
        measured = measure_recent(watch, frames, settings)
        verdict = decide_monitoring(watch, measured, settings)
        result = publish_monitoring(watch, measured, verdict, settings)
    get_run_logger().info(
        "%s: %s, action %s: %s", params.model, result["status"], result["action"],
        "; ".join(result["reasons"]),
    )  # fmt: skip
    publish_monitoring_report(result)
    return Completed(message=monitoring_line(result), data=result)  # type: ignore[return-value]
